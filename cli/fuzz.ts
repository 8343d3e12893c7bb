/**
 * `kspec fuzz`: a time- or run-boxed lockstep campaign on worker threads, aimed with `--focus`,
 * guided by coverage, with a live progress line, a coverage report (what was reached, and which
 * reachable cells never were), JSON-lines statistics, shards for CI matrices, and every
 * counterexample shrunk, saved as a trace file and printed with one replay command.
 *
 * Exit codes: 0 clean, 1 counterexample found or `--min-cover` unmet, 2 bad usage.
 */
import { tmpdir } from "node:os"
import { dirname, join, relative, resolve } from "node:path"
import { Worker } from "node:worker_threads"
import type { BootConfig, Event } from "../model/index.ts"
import { defaultBootConfig } from "../model/index.ts"
import { focusRows } from "../harness/gen/focus.ts"
import { realImpl } from "../harness/lockstep/impls.ts"
import type { ImplUnderTest } from "../harness/lockstep/runner.ts"
import { writeMutant } from "../proofs-tests/mutants/build.ts"
import { mutants } from "../proofs-tests/mutants/mutants.ts"
import { writeFileAtomic } from "../harness/files.ts"
import { loadBootConfigFile, saveTraceFile } from "../harness/trace.ts"
import { regressionsDir as defaultRegressionsDir } from "./check.ts"
import type { Coverage } from "./coverage.ts"
import {
  addCells, cellsBelow, coverageJson, distinctCells, domainsBelow, errorShare, outcomeHistogram, renderDomains, renderMatrix, renderUnreached,
} from "./coverage.ts"
import type { DomainSteps, LoopMessage, LoopParams, PreemptionSteps } from "./fuzzLoop.ts"
import { addPreemption, batchCount, batchRunsFor, longOperationRows, nthBatch, noPreemption, runFuzzLoop } from "./fuzzLoop.ts"
import type { WorkerInput } from "./fuzzWorker.ts"
import { renderTrace } from "./render.ts"
import { showEvent } from "./show.ts"

/** The flags of `kspec fuzz`, decoded (cli/commands.ts). */
export interface FuzzFlags {
  /** Time box in milliseconds, or null with --runs. */
  readonly timeMs: number | null
  /** Traces in the whole campaign (all shards), or null for a time box. */
  readonly runs: number | null
  readonly focus: readonly string[]
  readonly workers: number
  /** 0-based shard index and shard count. */
  readonly shard: { readonly index: number; readonly count: number }
  readonly seed: number | undefined
  readonly json: string | undefined
  readonly stats: string | undefined
  readonly minCover: number | undefined
  readonly emitTest: boolean
  /** A planted mutant to fuzz instead of the impl (a self-test of the fuzzer). */
  readonly mutant: string | undefined
  readonly depth: number
  /** A boot-configuration file (default: the built-in configuration). */
  readonly config?: string | undefined
}

/** Where the output goes. `progress` is the live line's stream (stderr), or null for none. */
export interface FuzzIO {
  readonly log: (s: string) => void
  readonly progress: { readonly write: (s: string) => unknown; readonly isTTY: boolean } | null
}

export interface FuzzOptions {
  /** Run the loop on this thread instead of worker threads (one worker; tests). */
  readonly inProcess?: boolean
  /** The implementation under test, in-process only (default: the real impl, or --mutant). */
  readonly impl?: ImplUnderTest<unknown>
  /** Where counterexamples (and --emit-test tests) are saved (default proofs-tests/regressions). */
  readonly regressionsDir?: string
  /** The boot configuration (default: the --config file's, or the built-in one). */
  readonly config?: BootConfig
  /** Install a SIGINT handler (default: when not in-process). */
  readonly handleSigint?: boolean
}

export interface SavedFailure {
  readonly file: string
  readonly testFile: string | null
  readonly events: readonly Event[]
  readonly description: string
  readonly shrinks: number
  /** False when the campaign was interrupted before the shrink finished. */
  readonly shrunk: boolean
  readonly worker: number
  readonly batch: number
}

export interface FuzzResult {
  readonly exitCode: number
  readonly seed: number
  readonly runs: number
  readonly steps: number
  readonly ms: number
  readonly coverage: Coverage
  /** Per domain: steps that ended with one of its threads running, and with it current but idle. */
  readonly domains: readonly DomainSteps[]
  /** The rows the report covers (the focused ones, or all). */
  readonly rows: readonly string[]
  readonly failures: readonly SavedFailure[]
  readonly minCoverMet: boolean
  readonly interrupted: boolean
}

const fmt = (n: number): string => Math.round(n).toLocaleString("en-US")
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`

/** The command line that reproduces a run-boxed campaign. */
export const reproduceCommand = (f: FuzzFlags, seed: number, runs: number): string => [
  "kspec fuzz", `--seed ${seed}`, `--runs ${runs}`, `--workers ${f.workers}`,
  ...(f.shard.count > 1 ? [`--shard ${f.shard.index + 1}/${f.shard.count}`] : []),
  ...(f.focus.length > 0 ? [`--focus ${f.focus.join(" ")}`] : []),
  ...(f.depth !== 150 ? [`--depth ${f.depth}`] : []),
  ...(f.minCover !== undefined ? [`--min-cover ${f.minCover}`] : []),
  ...(f.mutant !== undefined ? [`--mutant ${f.mutant}`] : []),
  ...(f.config !== undefined ? [`--config ${f.config}`] : []),
].join(" ")

/** Traces this shard runs in a run-boxed campaign. */
export const shardRuns = (runs: number, shard: FuzzFlags["shard"]): number => {
  const per = batchRunsFor(runs, shard.count)
  let n = 0
  for (let b = shard.index; b < batchCount(runs, shard.count); b += shard.count) n += Math.min(per, runs - b * per)
  return n
}

/**
 * A small vitest test that replays the trace against the impl: the events inline, one per line
 * with its reading as a comment, so a developer can keep it, trim it and edit it.
 */
export const regressionTestSource = (config: BootConfig, events: readonly Event[], title: string): string => {
  const lines = events.map((e) => `  ${JSON.stringify(e)}, // ${showEvent(e).replace(/\*\//g, "* /")}`)
  return `// Written by \`kspec fuzz --emit-test\`: a counterexample the fuzzer found, replayed in lockstep.
// Keep it, trim it, edit it: it passes once the impl refines the spec on these events again.
import { expect, it } from "vitest"
import { describeFailure, lockstep } from "kspec"
import type { BootConfig, Event } from "kspec"

const config: BootConfig = ${JSON.stringify(config)}

const events: readonly Event[] = [
${lines.join("\n")}
]

it(${JSON.stringify(title)}, () => {
  const failure = lockstep(config).run(events)
  expect(failure === null ? "ok" : describeFailure(failure)).toBe("ok")
})
`
}

// ---- the plan -------------------------------------------------------------------------------------

/** Everything fixed before the first trace runs. */
export interface CampaignPlan {
  readonly flags: FuzzFlags
  readonly seed: number
  readonly config: BootConfig
  /** Where counterexamples go (a mutant's stay out of the regression suite: they fail against the real impl). */
  readonly regressionsDir: string
  readonly inProcess: boolean
  readonly workers: number
  /** The coverage rows the report covers (the focused ones, or all). */
  readonly rows: readonly string[]
  /** Traces this shard runs, or null for a time box. */
  readonly target: number | null
}

/** Fix the seed, the boot configuration (the --config file is read here, once), the workers and the shard's share. */
export const planCampaign = (flags: FuzzFlags, opts: FuzzOptions = {}): CampaignPlan => {
  const inProcess = opts.inProcess === true
  return {
    flags,
    seed: flags.seed ?? Date.now() % 2 ** 31,
    config: opts.config ?? (flags.config === undefined ? defaultBootConfig : loadBootConfigFile(flags.config)),
    regressionsDir: opts.regressionsDir ?? (flags.mutant !== undefined ? join(tmpdir(), "kspec-fuzz-mutant") : defaultRegressionsDir),
    inProcess,
    workers: inProcess ? 1 : flags.workers,
    rows: focusRows(flags.focus),
    target: flags.runs === null ? null : shardRuns(flags.runs, flags.shard),
  }
}

const planLine = (p: CampaignPlan): string => {
  const f = p.flags
  const box = f.runs !== null ? `runs=${f.runs}` : `time=${secs(f.timeMs ?? 0)}`
  return `kspec fuzz: seed=${p.seed} ${box} workers=${p.workers}${f.shard.count > 1 ? ` shard=${f.shard.index + 1}/${f.shard.count}` : ""} depth=${f.depth}` +
    `${f.focus.length > 0 ? ` focus=${f.focus.join(",")}` : ""}${f.mutant !== undefined ? ` mutant=${f.mutant}` : ""}${f.config !== undefined ? ` config=${f.config}` : ""}`
}

// ---- the tally: what the workers reported ------------------------------------------------------------

type Found = Extract<LoopMessage, { type: "found" }>

/** A failing trace to save: shrunk (a worker's "failure"), or as found (a shrink cut short). */
interface Counterexample {
  readonly worker: number
  readonly batch: number
  readonly events: readonly Event[]
  readonly description: string
  readonly shrinks: number
}

/** What the main thread knows of a running campaign, updated by the workers' messages. */
interface Tally {
  readonly t0: number
  /** The process's CPU seconds at t0 (see `cpuSeconds`). */
  readonly cpu0: number
  /** When the first worker was loaded (start-up is not fuzzing). */
  tReady: number | null
  runs: number
  steps: number
  shrinkSteps: number
  readonly perWorkerSteps: number[]
  readonly coverage: Coverage
  readonly domains: DomainSteps[]
  /** Long operations, their preemptions and restarts. */
  readonly preemption: PreemptionSteps
  /** Failures being shrunk, by worker. */
  readonly found: Map<number, Found>
  readonly failures: SavedFailure[]
  interrupted: boolean
  crashed: string | null
}

/** CPU seconds this process has used, on every thread (the workers, the main thread, V8's compiler and collector threads). */
const cpuSeconds = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6 }
/** CPU seconds the process has used since the campaign started (its t0). */
const campaignCpuSeconds = (t: Tally): number => cpuSeconds() - t.cpu0
const newTally = (workers: number, numDomains: number): Tally => ({
  t0: performance.now(), cpu0: cpuSeconds(), tReady: null, runs: 0, steps: 0, shrinkSteps: 0, perWorkerSteps: new Array<number>(workers).fill(0),
  coverage: new Map(), domains: Array.from({ length: numDomains }, () => ({ running: 0, idle: 0 })), preemption: noPreemption(), found: new Map(), failures: [],
  interrupted: false, crashed: null,
})

const elapsed = (t: Tally): number => performance.now() - t.t0
/** Steps per second since the first worker was loaded. */
const rate = (t: Tally): number => (t.tReady === null ? 0 : t.steps / Math.max(0.001, (performance.now() - t.tReady) / 1000))
const failureCount = (t: Tally): number => t.failures.length + t.found.size

/**
 * Fold one worker message into the tally. `stopAll` stops every worker (a failure was found, or
 * the time is up); `save` saves a shrunk counterexample.
 */
const collectProgress = (p: CampaignPlan, t: Tally, m: LoopMessage, stopAll: () => void, save: (c: Counterexample, shrunk: boolean) => void): void => {
  switch (m.type) {
    case "progress":
      t.runs += m.runs
      t.steps += m.steps
      t.perWorkerSteps[m.worker] = (t.perWorkerSteps[m.worker] ?? 0) + m.steps
      addCells(t.coverage, m.cells)
      m.domains.forEach((d, i) => { const at = t.domains[i]; if (at !== undefined) { at.running += d.running; at.idle += d.idle } })
      addPreemption(t.preemption, m.preemption)
      if (p.flags.timeMs !== null && elapsed(t) >= p.flags.timeMs) stopAll()
      break
    case "found":
      t.found.set(m.worker, m)
      stopAll()
      break
    case "shrink":
      t.shrinkSteps += m.steps
      break
    case "failure":
      t.found.delete(m.worker)
      save(m, true)
      break
    case "done":
      break
    case "ready":
      t.tReady ??= performance.now()
      break
  }
}

// ---- saving counterexamples -----------------------------------------------------------------------

/** Save a counterexample as a trace file (and, with --emit-test, a vitest test), both atomically. */
const saveCounterexample = (p: CampaignPlan, m: Counterexample, shrunk: boolean): SavedFailure => {
  const base = `fuzz-seed${p.seed}-batch${m.batch}`
  const file = join(p.regressionsDir, `${base}.json`)
  const note = `${shrunk ? "" : "unshrunk (interrupted): "}${m.description.split("\n")[0] ?? ""}`
  saveTraceFile(file, { config: p.config, events: m.events, seed: p.seed, note })
  let testFile: string | null = null
  if (p.flags.emitTest) {
    testFile = join(p.regressionsDir, `${base}.test.ts`)
    writeFileAtomic(testFile, regressionTestSource(p.config, m.events, `fuzz seed ${p.seed} batch ${m.batch}: ${note}`))
  }
  return { file, testFile, events: m.events, description: m.description, shrinks: m.shrinks, shrunk, worker: m.worker, batch: m.batch }
}

// ---- progress: the live line and the statistics file ------------------------------------------------

interface ProgressDisplay {
  /** Redraw the live line if due (or now, with `force`); print the plain line and a statistics line every `tickMs`. */
  readonly draw: (force?: boolean) => void
  readonly clear: () => void
  /** Append a statistics line (JSON lines, --stats), the last one marked final. */
  readonly statsLine: (final: boolean) => void
}

const progressDisplay = (p: CampaignPlan, t: Tally, io: FuzzIO): ProgressDisplay => {
  const { flags, workers, target } = p
  // The statistics file is rewritten whole (atomically) at every line: a reader sees whole lines.
  const stats: string[] = []
  if (flags.stats !== undefined) writeFileAtomic(resolve(flags.stats), "")
  const statsLine = (final: boolean) => {
    if (flags.stats === undefined) return
    stats.push(`${JSON.stringify({
      t: Number((elapsed(t) / 1000).toFixed(2)), runs: t.runs, steps: t.steps, stepsPerSec: Math.round(rate(t)), cpuSeconds: Number(campaignCpuSeconds(t).toFixed(2)), distinctCells: distinctCells(t.coverage),
      outcomes: outcomeHistogram(t.coverage), errorShare: Number(errorShare(t.coverage).toFixed(4)), shrinkSteps: t.shrinkSteps, failures: failureCount(t),
      ...(final ? { final: true, interrupted: t.interrupted } : {}),
    })}\n`)
    writeFileAtomic(resolve(flags.stats), stats.join(""))
  }
  const fraction = () => Math.min(1, target !== null ? t.runs / Math.max(1, target) : elapsed(t) / Math.max(1, flags.timeMs ?? 1))
  const status = () => {
    if (t.tReady === null) return `starting ${workers} worker${workers === 1 ? "" : "s"}  ${secs(elapsed(t))}`
    const n = failureCount(t)
    return `${fmt(t.steps)} steps  ${fmt(rate(t))} steps/s  ${distinctCells(t.coverage)} outcomes  ${n} failure${n === 1 ? "" : "s"}` +
      `  ${target !== null ? `${fmt(t.runs)}/${fmt(target)} traces` : `${fmt(t.runs)} traces`}  ${secs(elapsed(t))}${t.shrinkSteps > 0 ? `  shrink ${t.shrinkSteps}` : ""}`
  }
  const tty = io.progress?.isTTY === true
  let lastDraw = 0
  let lastTick = performance.now()
  const draw = (force = false) => {
    const now = performance.now()
    if (io.progress !== null && tty && (force || now - lastDraw >= 150)) {
      const width = 24
      const done = Math.round(fraction() * width)
      io.progress.write(`\r[${"#".repeat(done)}${".".repeat(width - done)}] ${String(Math.floor(fraction() * 100)).padStart(3)}%  ${status()}\x1b[K`)
      lastDraw = now
    }
    if (now - lastTick >= tickMs) {
      lastTick = now
      if (io.progress !== null && !tty) io.progress.write(`fuzz: ${status()}\n`)
      statsLine(false)
    }
  }
  const clear = () => { if (io.progress !== null && tty) io.progress.write("\r\x1b[K") }
  return { draw, clear, statsLine }
}

// ---- running the workers --------------------------------------------------------------------------

/** The running workers: stop flags shared with them, and their threads (for a second Ctrl-C). */
interface Workers {
  /** [0] no new runs, [1] end shrinking now. */
  readonly stop: Int32Array
  readonly threads: Worker[]
}

/**
 * Each worker's young generation (V8's nursery, where a step's short-lived values are made), in MiB:
 * the spec's persistent maps make most of a step's garbage, and with V8's default nursery a worker
 * spent about 8% of its thread in the scavenger. At 192 MiB (a semi-space of 64 MiB), `kspec fuzz`
 * ran 10% more steps a second with 1 worker and with 2 (30 s campaigns in turns, second halves:
 * 12.0-13.2k against 11.2-11.5k steps/s for 1 worker, 19.9-20.5k against 18.2-18.5k for 2), for
 * at most that much more memory per worker.
 */
export const workerYoungGenerationMb = 192

/**
 * Run the fuzz loop on worker threads (or on this thread, in-process) until every worker is done;
 * each message goes to `onMessage`. A worker that crashes is reported in `tally.crashed` and stops the others.
 */
const runWorkers = async (p: CampaignPlan, opts: FuzzOptions, w: Workers, t: Tally, onMessage: (m: LoopMessage) => void): Promise<void> => {
  const { flags } = p
  const params = (index: number): LoopParams => ({
    config: p.config, seed: p.seed, runs: flags.runs, depth: flags.depth, focus: flags.focus, goal: flags.minCover ?? 1,
    shard: flags.shard, worker: { index, count: p.workers },
  })
  if (p.inProcess) {
    const impl = opts.impl ?? (realImpl as ImplUnderTest<unknown>)
    await runFuzzLoop(impl, params(0), w.stop, onMessage, () => new Promise((r) => setImmediate(r)))
    return
  }
  const mutant = flags.mutant === undefined ? undefined : mutants.find((m) => m.name === flags.mutant)
  const mutantBuild = mutant === undefined ? undefined : writeMutant(mutant)
  // From the sources, the worker registers tsx first; from the kspec bundle, it is the bundle's own entry.
  const boot = import.meta.url.endsWith(".ts") ? new URL("./fuzzWorkerBoot.mjs", import.meta.url) : new URL("./fuzzWorker.js", import.meta.url)
  await Promise.all(Array.from({ length: p.workers }, (_, i) => new Promise<void>((res) => {
    // Workers with no batch to run (more workers than batches) are not started.
    if (flags.runs !== null && nthBatch(flags.shard, { index: i, count: p.workers }, 0) >= batchCount(flags.runs, flags.shard.count)) { res(); return }
    const input: WorkerInput = { params: params(i), stop: w.stop.buffer as SharedArrayBuffer, ...(mutantBuild !== undefined ? { mutant: mutantBuild } : {}) }
    const thread = new Worker(boot, { workerData: input, resourceLimits: { maxYoungGenerationSizeMb: workerYoungGenerationMb } })
    w.threads.push(thread)
    thread.on("message", onMessage)
    thread.on("error", (e) => { t.crashed = `worker ${i}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`; Atomics.store(w.stop, 0, 1) })
    thread.on("exit", () => res())
  })))
}

/** Ctrl-C: the first stops the workers cleanly (the report is still printed), a second at once. Returns the uninstaller. */
const handleCtrlC = (t: Tally, w: Workers, clear: () => void, log: (s: string) => void): (() => void) => {
  const onSigint = () => {
    if (t.interrupted) { for (const th of w.threads) void th.terminate(); return }
    t.interrupted = true
    Atomics.store(w.stop, 0, 1)
    Atomics.store(w.stop, 1, 1)
    clear()
    log("interrupted: stopping the workers (Ctrl-C again to stop at once)")
  }
  process.on("SIGINT", onSigint)
  return () => { process.off("SIGINT", onSigint) }
}

// ---- the report -----------------------------------------------------------------------------------

interface CoverageVerdict {
  readonly cj: ReturnType<typeof coverageJson>
  readonly minCoverMet: boolean
  readonly below: ReturnType<typeof cellsBelow>
}

/** Print the summary, the coverage matrix, the cells never reached and the --min-cover verdict. */
const reportCoverage = (p: CampaignPlan, t: Tally, ms: number, fuzzSecs: number, log: (s: string) => void): CoverageVerdict => {
  const { flags, workers, rows } = p
  const { coverage } = t
  log("")
  log(`${t.interrupted ? "interrupted after" : "ran"} ${fmt(t.runs)} traces, ${fmt(t.steps)} steps in ${secs(ms)}, ${secs(ms - fuzzSecs * 1000)} of it start-up (${fmt(t.steps / fuzzSecs)} steps/s on ${workers} worker${workers === 1 ? "" : "s"}` +
    `${workers > 1 ? `: ${t.perWorkerSteps.map((s) => fmt(s / fuzzSecs)).join(" + ")}` : ""}; ${(campaignCpuSeconds(t) / Math.max(0.001, ms / 1000)).toFixed(1)} CPU cores busy); ` +
    `${(100 * errorShare(coverage)).toFixed(1)}% of steps took an error path`)
  if (flags.runs === null) log(`runs done: ${t.runs} (a time-boxed campaign; to repeat a fixed amount, use --runs)`)
  const cj = coverageJson(coverage, rows)
  log(`coverage${flags.focus.length > 0 ? ` of ${flags.focus.join(", ")}` : ""}: ${cj.reachedCells} of ${cj.reachableCells} reachable cells reached, in ${rows.length} rows (${distinctCells(coverage)} distinct outcomes in all)`)
  log("")
  log(renderMatrix(coverage, rows))
  log("")
  log("  n  times reached    0  reachable, never reached    (blank)  not reachable    n!  reached but not in the reachable table")
  const unreached = renderUnreached(coverage, rows)
  log("")
  log(unreached.length === 0 ? "every reachable cell was reached" : `never reached (${cj.unreached.length} cells):`)
  for (const l of unreached) log(`  ${l}`)
  if (cj.unexpected.length > 0) log(`reached outside the reachable table: ${cj.unexpected.map((u) => `${u.row} ${u.outcome} (${u.count})`).join(", ")}`)

  // Long operations: how many a preemption stopped, and how far restarts chained.
  const pr = t.preemption
  const share = (n: number, of: number) => `${(100 * n / Math.max(1, of)).toFixed(1)}%`
  const ops = longOperationRows.reduce((a, r) => a + pr.ops[r], 0)
  const preempted = longOperationRows.reduce((a, r) => a + pr.preempted[r], 0)
  log("")
  log(`preemption: ${fmt(preempted)} of ${fmt(ops)} long operations preempted (${share(preempted, ops)}: ` +
    `${longOperationRows.map((r) => `${r} ${fmt(pr.preempted[r])} of ${fmt(pr.ops[r])}`).join(", ")}); ${fmt(pr.restarts)} restarts, ` +
    `the longest chain ${pr.maxChain} preemption${pr.maxChain === 1 ? "" : "s"} of one syscall`)

  // With several domains: how the running steps shared out among them.
  if (t.domains.length > 1) {
    log("")
    for (const l of renderDomains(t.domains)) log(l)
  }

  const below = flags.minCover === undefined ? [] : cellsBelow(coverage, rows, flags.minCover)
  const domainsShort = flags.minCover === undefined ? [] : domainsBelow(t.domains, flags.minCover)
  const minCoverMet = below.length === 0 && domainsShort.length === 0
  if (flags.minCover !== undefined) {
    log("")
    const domainsNote = t.domains.length > 1 ? `, and every domain's threads ran at least ${flags.minCover} times` : ""
    log(minCoverMet ? `--min-cover ${flags.minCover}: met (every reachable cell of ${flags.focus.length > 0 ? "the focused rows" : "every row"} reached at least ${flags.minCover} times${domainsNote})`
      : below.length === 0 ? `--min-cover ${flags.minCover}: NOT met, threads of domain${domainsShort.length > 1 ? "s" : ""} ${domainsShort.join(", ")} ran fewer than ${flags.minCover} times`
        : `--min-cover ${flags.minCover}: NOT met, ${below.length} of ${cj.reachableCells} reachable cells below ${flags.minCover}: ${below.slice(0, 30).map((b) => `${b.row} ${b.outcome} (${b.count})`).join(", ")}${below.length > 30 ? ", ..." : ""}` +
          `${domainsShort.length > 0 ? `; threads of domain${domainsShort.length > 1 ? "s" : ""} ${domainsShort.join(", ")} ran fewer than ${flags.minCover} times` : ""}`)
  }
  return { cj, minCoverMet, below }
}

/** Print each counterexample as `kspec replay` would, where it was saved, and the replay command for the shortest. */
const reportCounterexamples = (p: CampaignPlan, failures: readonly SavedFailure[], log: (s: string) => void): void => {
  for (const f of failures) {
    log("")
    log(`COUNTEREXAMPLE (worker ${f.worker}, batch ${f.batch}) ${f.shrunk ? `after ${f.shrinks} shrinks` : "not shrunk (interrupted)"}: ${f.events.length} events`)
    // The same readable lines `kspec replay` prints (objects numbered, caps resolved, results).
    const lines = renderTrace(p.config, f.events)
    lines.slice(0, 60).forEach((line) => log(line))
    if (lines.length > 60) log(`  ... ${lines.length - 60} more`)
    log("")
    log(f.description)
    log(`saved: ${relative(process.cwd(), f.file)}${f.testFile !== null ? ` and ${relative(process.cwd(), f.testFile)}` : ""}`)
  }
  if (failures.length > 0) {
    const best = [...failures].sort((a, b) => a.events.length - b.events.length)[0]!
    log("")
    log(`replay: kspec replay ${relative(process.cwd(), best.file)}`)
  }
}

/** The --json report, written atomically. */
const writeJsonReport = (file: string, p: CampaignPlan, t: Tally, ms: number, fuzzSecs: number, v: CoverageVerdict): void => {
  const { flags, workers } = p
  writeFileAtomic(resolve(file), `${JSON.stringify({
    kspec: "fuzz-report", seed: p.seed, runs: t.runs, steps: t.steps, ms: Math.round(ms), stepsPerSec: Math.round(t.steps / fuzzSecs), workers,
    shard: `${flags.shard.index + 1}/${flags.shard.count}`, focus: flags.focus, depth: flags.depth, config: flags.config ?? null, interrupted: t.interrupted,
    reproduce: flags.runs !== null ? reproduceCommand({ ...flags, workers }, p.seed, flags.runs) : null,
    coverage: v.cj,
    domains: t.domains.map((d, domain) => ({ domain, running: d.running, idle: d.idle })),
    preemption: t.preemption,
    outcomes: outcomeHistogram(t.coverage), errorShare: errorShare(t.coverage), shrinkSteps: t.shrinkSteps,
    minCover: flags.minCover === undefined ? null : { n: flags.minCover, met: v.minCoverMet, below: v.below },
    failures: t.failures.map((f) => ({ file: f.file, testFile: f.testFile, events: f.events.length, shrunk: f.shrunk, shrinks: f.shrinks, description: f.description })),
  }, null, 1)}\n`)
}

// ---- the campaign ---------------------------------------------------------------------------------

/**
 * Run a fuzz campaign: plan it, run the workers while collecting their progress, save the
 * counterexamples, then report coverage and counterexamples (and the --json report). The CLI and
 * the tests both call this. A bad --config file throws a ConfigFileError before anything runs.
 */
export const runFuzz = async (flags: FuzzFlags, io: FuzzIO, opts: FuzzOptions = {}): Promise<FuzzResult> => {
  const p = planCampaign(flags, opts)
  const { log } = io
  log(planLine(p))
  if (flags.runs !== null) log(`reproduce: ${reproduceCommand({ ...flags, workers: p.workers }, p.seed, flags.runs)}`)

  const t = newTally(p.workers, p.config.numDomains)
  const w: Workers = { stop: new Int32Array(new SharedArrayBuffer(8)), threads: [] }
  const stopAll = () => Atomics.store(w.stop, 0, 1)
  const display = progressDisplay(p, t, io)
  const save = (c: Counterexample, shrunk: boolean) => { t.failures.push(saveCounterexample(p, c, shrunk)) }
  const onMessage = (m: LoopMessage) => { collectProgress(p, t, m, stopAll, save); display.draw() }

  const uninstall = (opts.handleSigint ?? !p.inProcess) ? handleCtrlC(t, w, display.clear, log) : () => {}
  const deadline = flags.timeMs === null ? Infinity : t.t0 + flags.timeMs
  const timer = setInterval(() => { if (performance.now() >= deadline) stopAll(); display.draw() }, io.progress?.isTTY === true ? 200 : 500)
  const deadlineTimer = Number.isFinite(deadline) ? setTimeout(stopAll, Math.max(0, deadline - performance.now())) : undefined
  try {
    await runWorkers(p, opts, w, t, onMessage)
  } finally {
    clearInterval(timer)
    if (deadlineTimer !== undefined) clearTimeout(deadlineTimer)
    uninstall()
    w.threads.length = 0
  }
  // Failures whose shrink was cut short (Ctrl-C a second time, or a crash): keep them unshrunk.
  for (const m of t.found.values()) save({ ...m, shrinks: 0 }, false)
  t.found.clear()
  const ms = elapsed(t)
  display.draw(true)
  display.clear()
  display.statsLine(true)

  const fuzzSecs = Math.max(0.001, (t.tReady === null ? 0 : performance.now() - t.tReady) / 1000)
  const verdict = reportCoverage(p, t, ms, fuzzSecs, log)
  reportCounterexamples(p, t.failures, log)
  if (t.crashed !== null) log(`a worker crashed: ${t.crashed}`)
  if (flags.json !== undefined) writeJsonReport(flags.json, p, t, ms, fuzzSecs, verdict)
  if (t.failures.length === 0 && t.crashed === null) log(verdict.minCoverMet ? "\nno counterexample" : "\nno counterexample, but the coverage goal was not met")
  const exitCode = t.failures.length > 0 || t.crashed !== null || !verdict.minCoverMet ? 1 : 0
  return { exitCode, seed: p.seed, runs: t.runs, steps: t.steps, ms, coverage: t.coverage, domains: t.domains, rows: p.rows, failures: t.failures, minCoverMet: verdict.minCoverMet, interrupted: t.interrupted }
}

/** Statistics lines and the plain (non-TTY) progress line, every this many milliseconds. */
const tickMs = 2000
