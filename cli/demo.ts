/**
 * `kspec demo`: run the user-level system of userland/ with a fault-injection campaign, print
 * the campaign's table, and write the HTML page (the system, the timeline, a fault and its
 * recovery). Exit 0 when isolation held (no request lost or answered twice, no memory-integrity
 * violation, no kernel failure), 1 otherwise.
 */
import { relative } from "node:path"
import { Worker } from "node:worker_threads"
import { writeFileAtomic } from "../harness/files.ts"
import type { CampaignOptions, CampaignReport, PlannedRun } from "../userland/campaign.ts"
import { mergeReport, newReport, planRuns, runOnce } from "../userland/campaign.ts"
import { demoPage, summaryRows } from "../userland/html.ts"
import { servers } from "../userland/layout.ts"
import type { RestartPolicy } from "../userland/servers/supervisor.ts"
import { defaultPolicy } from "../userland/servers/supervisor.ts"
import type { CommandIO } from "./command.ts"
import type { DemoWorkerInput, DemoWorkerMessage } from "./demoWorker.ts"

export interface DemoFlags {
  readonly faults: number
  readonly seed: number | undefined
  readonly clients: number
  readonly html: string
  readonly lockstepEvery: number
  readonly policy: string
  /** Threads running the campaign's runs (the first run, the one pictured, in the main thread). */
  readonly workers: number
}

const policyOf = (p: string): RestartPolicy =>
  p === "fresh" || p === "kept" ? Object.fromEntries(servers.map((s) => [s, p])) as RestartPolicy : defaultPolicy

/** The command line that repeats a demo. */
export const demoCommand = (f: DemoFlags, seed: number): string =>
  `kspec demo --seed ${seed} --faults ${f.faults} --clients ${f.clients}${f.lockstepEvery !== 50 ? ` --lockstep-every ${f.lockstepEvery}` : ""}${f.policy !== "default" ? ` --policy ${f.policy}` : ""}`

/** Did isolation hold? */
export const isolationHeld = (r: CampaignReport): boolean =>
  r.lost === 0 && r.duplicates === 0 && r.integrity.length === 0 && r.kernelFailures.length === 0 && r.setupErrors.length === 0

/**
 * The campaign: run 0 (the one the page pictures, in lockstep unless --lockstep-every 0) in this
 * thread, the other runs spread over `workers` threads (in this thread too when 1). The plan, so
 * every count, does not depend on the number of threads.
 */
export const runDemoCampaign = async (o: CampaignOptions, workers: number, onRun: (r: CampaignReport) => void): Promise<CampaignReport> => {
  const t0 = Date.now()
  const plan = planRuns(o)
  const report = newReport(o.seed)
  const progress = () => { report.ms = Date.now() - t0; onRun(report) }
  const rest = plan.slice(1)
  const shares: PlannedRun[][] = Array.from({ length: Math.max(1, workers) }, () => [])
  rest.forEach((r, i) => shares[i % shares.length]!.push(r))
  const threads = workers <= 1 ? [] : shares.filter((s) => s.length > 0).map((runs) => {
    const boot = import.meta.url.endsWith(".ts") ? new URL("./demoWorkerBoot.mjs", import.meta.url) : new URL("./demoWorker.js", import.meta.url)
    const { onRun: _o, ...options } = o
    const w = new Worker(boot, { workerData: { options, runs } satisfies DemoWorkerInput })
    return new Promise<void>((resolve, reject) => {
      w.on("message", (m: DemoWorkerMessage) => { if (m.tag === "run") { mergeReport(report, m.report); progress() } })
      w.on("error", reject)
      w.on("exit", () => resolve())
    })
  })
  const first = plan[0]
  if (first !== undefined) {
    report.first = runOnce(first.seed, first.faults, o, first.lockstep, report, true)
    progress()
  }
  if (workers <= 1) {
    for (const run of rest) {
      if (report.setupErrors.length > 0) break
      runOnce(run.seed, run.faults, o, run.lockstep, report)
      progress()
    }
  }
  await Promise.all(threads)
  report.ms = Date.now() - t0
  return report
}

export const runDemo = async (f: DemoFlags, io: CommandIO): Promise<number> => {
  const seed = f.seed ?? (Date.now() % 2 ** 31)
  io.log(`kspec demo: seed=${seed} faults=${f.faults} clients=${f.clients} workers=${f.workers} (1 run in ${f.lockstepEvery} in lockstep with the spec), restart policy: ${f.policy === "default" ? "drivers fresh, name and file servers keep their state" : f.policy}`)
  const r = await runDemoCampaign({ seed, faults: f.faults, lockstepEvery: f.lockstepEvery, system: { clients: f.clients, policy: policyOf(f.policy) } }, f.workers,
    (p) => io.log(`  run ${p.runs}${p.runs === 1 && p.lockstepRuns === 1 ? " (lockstep)" : ""}: ${p.injected.toLocaleString("en-US")}/${f.faults.toLocaleString("en-US")} faults, ${p.restarts.toLocaleString("en-US")} restarts, ${Math.round(p.injected / Math.max(0.001, p.ms / 1000)).toLocaleString("en-US")} faults/s`))
  io.log("")
  const rows = summaryRows(r)
  const w = Math.max(...rows.map(([k]) => k.length))
  for (const [k, v] of rows) io.log(`${k.padEnd(w)}  ${v}`)
  for (const e of [...r.setupErrors, ...r.kernelFailures, ...r.integrity.slice(0, 10)]) io.log(`  ! ${e}`)
  const ok = isolationHeld(r)
  io.log("")
  io.log(ok ? "isolation held: every request answered or failed with an error the client saw, none twice; no private word changed behind its owner; no kernel failure"
    : "ISOLATION FAILED (see above)")
  writeFileAtomic(f.html, demoPage(r, r.first, f.clients, demoCommand(f, seed)))
  io.log(`page: ${relative(process.cwd(), f.html) || f.html}`)
  io.log(`rerun: ${demoCommand(f, seed)}`)
  return ok ? 0 : 1
}

