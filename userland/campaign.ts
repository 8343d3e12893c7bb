/**
 * The fault-injection campaign: boot the system, let the root task build it, inject faults into
 * the servers at random (seeded) moments, then stop injecting and let it drain; count what
 * happened and check isolation. Runs are independent (each boots afresh) and a share of them run
 * in lockstep with the spec, every step checked for refinement and every kernel invariant.
 *
 * What is counted, from the console lines the programs print (clients judge every reply):
 * faults injected (by kind), fault messages the supervisor received, hung servers it found,
 * restarts; client requests issued, answered correctly, failed with an error the client saw,
 * answered wrongly (a corrupted reply the client caught), answered twice, and lost (still
 * unanswered at the end, after a drain long enough for any restart); a fault is *recovered*
 * when its server answered a request again afterwards, and *unnoticed* when no client saw an
 * error or a wrong answer, or lost a request, before the next fault. Isolation: the memory audit (every word
 * a process stored in its private page reads back unchanged through its own page tables) after
 * every `auditEvery` cycles and at the end, and in lockstep runs the kernel's invariants.
 * @category library
 */
import { processName, servers } from "./layout.ts"
import type { FaultKind } from "./inject.ts"
import { FaultInjector, FaultKinds, prng } from "./inject.ts"
import type { ConsoleRecord, Runtime } from "./runtime.ts"
import type { SystemOptions } from "./system.ts"
import { bootSystem } from "./system.ts"

export interface CampaignOptions {
  readonly seed: number
  /** Faults to inject in all. */
  readonly faults: number
  /** Faults per run (each run boots afresh); default 2000. */
  readonly faultsPerRun?: number
  /** Every Nth run (from the first) runs in lockstep with the spec; 0: none. Default 10. */
  readonly lockstepEvery?: number
  /** Faults a lockstep run injects (checking every step costs about 100 times an impl step); default 40. */
  readonly lockstepFaults?: number
  /** Cycles between injections; default 200. */
  readonly gap?: number
  readonly kinds?: readonly FaultKind[]
  readonly targets?: readonly number[]
  readonly system?: Omit<SystemOptions, "injector" | "lockstep">
  /** Called after each run. */
  readonly onRun?: (r: CampaignReport) => void
  /** Cycles of quiet after the last injection of each run (default `drainCycles`); a request unanswered for two thirds of it at the end is lost. */
  readonly drain?: number
  /** Keep the first run's runtime (its trace and console) for the timeline. */
  readonly keepFirst?: boolean
}

export interface CampaignReport {
  readonly seed: number
  runs: number
  lockstepRuns: number
  cycles: number
  /** Kernel entries and user memory accesses checked against the spec (lockstep runs). */
  checkedSteps: number
  injected: number
  readonly byKind: Record<string, number>
  /** Injections by target. */
  readonly byTarget: Record<string, number>
  faultMessages: number
  hangs: number
  restarts: number
  recovered: number
  /**
   * Faults no client noticed: no request failed, was answered wrongly or was lost between the
   * fault and the next one (each client-visible failure is blamed on the latest fault before it;
   * with faults this close together, an approximation that errs towards "noticed").
   */
  unnoticed: number
  requests: number
  ok: number
  errors: number
  wrong: number
  duplicates: number
  lost: number
  /** Unanswered at the end but younger than the drain: not counted lost. */
  inFlight: number
  readonly integrity: string[]
  readonly kernelFailures: string[]
  readonly setupErrors: string[]
  ms: number
  /** The first run, when `keepFirst`. */
  first: Runtime | null
}

const emptyReport = (seed: number): CampaignReport => ({
  seed, runs: 0, lockstepRuns: 0, cycles: 0, checkedSteps: 0, injected: 0, byKind: Object.fromEntries(FaultKinds.map((k) => [k, 0])),
  byTarget: Object.fromEntries(servers.map((p) => [processName(p), 0])), faultMessages: 0, hangs: 0, restarts: 0, recovered: 0, unnoticed: 0,
  requests: 0, ok: 0, errors: 0, wrong: 0, duplicates: 0, lost: 0, inFlight: 0, integrity: [], kernelFailures: [], setupErrors: [], ms: 0, first: null,
})

/** Cycles of quiet after the last injection: long enough for the watchdog to find a hang and a restart to answer. */
export const drainCycles = 30_000

/** One run: boot, build, inject `faults` faults, drain, audit. Adds its counts to `into`. */
export const runOnce = (seed: number, faults: number, o: CampaignOptions, lockstep: boolean, into: CampaignReport, keep = false): Runtime => {
  const rng = prng(seed)
  const gap = o.gap ?? 200
  const injector = new FaultInjector({ rng, gap, ...(o.kinds ? { kinds: o.kinds } : {}), ...(o.targets ? { targets: o.targets } : {}) })
  injector.enabled = false
  injector.limit = faults
  const rt = bootSystem({ ...o.system, lockstep, injector: injector.hook, traceLimit: keep ? o.system?.traceLimit ?? 20_000 : 0 })
  const outstanding = new Map<number, { seq: number; cycle: number }>()
  const pendingRecovery = new Map<number, number>()
  // Did a client notice the latest fault (an error or a wrong answer since it was injected)? null: none injected yet.
  let noticed: boolean | null = null
  let ready = false
  rt.onConsole = (r: ConsoleRecord) => {
    switch (r.kind) {
      case "request": into.requests++; outstanding.set(r.pid, { seq: r.words[0]!, cycle: r.cycle }); break
      case "ok": case "error": case "wrong": {
        if (r.kind === "ok") into.ok++; else if (r.kind === "error") into.errors++; else into.wrong++
        if (r.kind !== "ok" && noticed !== null) noticed = true
        if (outstanding.get(r.pid)?.seq === r.words[0]) outstanding.delete(r.pid)
        break
      }
      case "duplicate": into.duplicates++; break
      case "fault": into.faultMessages++; break
      case "hang": into.hangs++; break
      case "restart": into.restarts++; break
      case "injected": if (noticed === false) into.unnoticed++; noticed = false; into.injected++; into.byTarget[processName(r.pid)]!++; pendingRecovery.set(r.pid, (pendingRecovery.get(r.pid) ?? 0) + 1); break
      case "served": { const n = pendingRecovery.get(r.pid); if (n !== undefined) { into.recovered += n; pendingRecovery.delete(r.pid) } break }
      case "ready": ready = true; injector.enabled = true; break
      case "setup-error": into.setupErrors.push(rt.text.join("; ")); break
      default: break
    }
  }
  const start = rt.cycle
  const budget = (faults + 2) * gap * 60
  while (rt.failure === null && injector.injected < faults && rt.cycle - start < budget && into.setupErrors.length === 0) {
    rt.run(2000)
    if (ready) rt.audit()
  }
  injector.enabled = false
  const drain = o.drain ?? drainCycles
  rt.run(drain)
  const fin = rt.machine.finish()
  if (fin !== null && rt.failure === null) rt.failure = fin
  rt.audit()
  for (const [, req] of outstanding) { if (rt.cycle - req.cycle >= (2 * drain) / 3) { into.lost++; noticed = noticed === null ? null : true } else into.inFlight++ }
  if ((noticed as boolean | null) === false) into.unnoticed++
  for (const [k, n] of injector.byKind) into.byKind[k] = (into.byKind[k] ?? 0) + n
  into.integrity.push(...rt.integrity)
  if (rt.failure !== null) into.kernelFailures.push(`seed ${seed}: ${rt.failure}`)
  into.cycles += rt.cycle
  into.checkedSteps += rt.machine.checkedSteps
  into.runs++
  if (lockstep) into.lockstepRuns++
  return rt
}

/** The run seeds of a campaign: run i's seed, from the campaign's. */
export const runSeed = (seed: number, i: number): number => (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(i + 1, 0xc2b2ae35)) >>> 0

/** One run of a campaign's plan. */
export interface PlannedRun { readonly index: number; readonly seed: number; readonly faults: number; readonly lockstep: boolean }

/**
 * The runs of a campaign: run i has its own seed (from the campaign's), runs in lockstep when i is
 * a multiple of `lockstepEvery` (then injecting `lockstepFaults`), else injects `faultsPerRun`,
 * until the faults add up. The plan does not depend on how many threads run it.
 */
export const planRuns = (o: CampaignOptions): readonly PlannedRun[] => {
  const per = Math.max(1, o.faultsPerRun ?? 2000)
  const every = o.lockstepEvery ?? 10
  const out: PlannedRun[] = []
  for (let i = 0, left = o.faults; left > 0; i++) {
    const lockstep = every > 0 && i % every === 0
    const faults = Math.min(lockstep ? Math.max(1, o.lockstepFaults ?? 40) : per, left)
    out.push({ index: i, seed: runSeed(o.seed, i), faults, lockstep })
    left -= faults
  }
  return out
}

/** A fresh report, for one thread's share of a campaign. */
export const newReport = (seed: number): CampaignReport => emptyReport(seed)

/** Add `from`'s counts to `into` (a worker's share into the campaign's). */
export const mergeReport = (into: CampaignReport, from: Omit<CampaignReport, "first">): void => {
  for (const k of ["runs", "lockstepRuns", "cycles", "checkedSteps", "injected", "faultMessages", "hangs", "restarts", "recovered", "unnoticed", "requests", "ok", "errors", "wrong", "duplicates", "lost", "inFlight"] as const) into[k] += from[k]
  for (const [k, n] of Object.entries(from.byKind)) into.byKind[k] = (into.byKind[k] ?? 0) + n
  for (const [k, n] of Object.entries(from.byTarget)) into.byTarget[k] = (into.byTarget[k] ?? 0) + n
  into.integrity.push(...from.integrity)
  into.kernelFailures.push(...from.kernelFailures)
  into.setupErrors.push(...from.setupErrors)
}

/** A whole campaign, in this thread. */
export const runCampaign = (o: CampaignOptions): CampaignReport => {
  const t0 = Date.now()
  const report = emptyReport(o.seed)
  for (const run of planRuns(o)) {
    const rt = runOnce(run.seed, run.faults, o, run.lockstep, report, run.index === 0 && o.keepFirst === true)
    if (run.index === 0 && o.keepFirst === true) report.first = rt
    report.ms = Date.now() - t0
    o.onRun?.(report)
    if (report.setupErrors.length > 0) break
  }
  report.ms = Date.now() - t0
  return report
}

/** The share of faults recovered, in percent. */
export const recoveredShare = (r: CampaignReport): number => (r.injected === 0 ? 100 : (100 * r.recovered) / r.injected)

