/**
 * `kspec fuzz`: a time- or run-boxed lockstep campaign on worker threads, aimed with `--focus`,
 * guided by coverage, with a live progress line, a coverage report (what was reached, and which
 * reachable cells never were), JSON-lines statistics, shards for CI matrices, and every
 * counterexample shrunk, saved as a trace file and printed with one replay command.
 *
 * Exit codes: 0 clean, 1 counterexample found or `--min-cover` unmet, 2 bad usage.
 */
import { appendFileSync, mkdirSync, renameSync, writeFileSync } from "node:fs"
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
import type { FuzzFlags } from "./args.ts"
import { regressionsDir as defaultRegressionsDir, saveTrace } from "./check.ts"
import type { Coverage } from "./coverage.ts"
import { addCells, cellsBelow, coverageJson, distinctCells, errorShare, outcomeHistogram, renderMatrix, renderUnreached } from "./coverage.ts"
import type { LoopMessage, LoopParams } from "./fuzzLoop.ts"
import { batchCount, batchRunsFor, nthBatch, runFuzzLoop } from "./fuzzLoop.ts"
import type { WorkerInput } from "./fuzzWorker.ts"
import { renderTrace } from "./render.ts"
import { showEvent } from "./show.ts"
import { projectRoot } from "../harness/paths.ts"

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
].join(" ")

/** Traces this shard runs in a run-boxed campaign. */
export const shardRuns = (runs: number, shard: FuzzFlags["shard"]): number => {
  const per = batchRunsFor(runs, shard.count)
  let n = 0
  for (let b = shard.index; b < batchCount(runs, shard.count); b += shard.count) n += Math.min(per, runs - b * per)
  return n
}

/** Write a file atomically (a temporary file, then rename). */
const writeAtomic = (file: string, text: string): void => {
  mkdirSync(dirname(file), { recursive: true })
  const tmp = `${file}.tmp-${process.pid}`
  writeFileSync(tmp, text)
  renameSync(tmp, file)
}

/**
 * A small vitest test that replays the trace against the impl: the events inline, one per line
 * with its reading as a comment, so a developer can keep it, trim it and edit it.
 */
export const regressionTestSource = (testFile: string, config: BootConfig, events: readonly Event[], title: string): string => {
  const src = projectRoot
  let rel = relative(dirname(testFile), src).split("\\").join("/")
  if (!rel.startsWith(".")) rel = rel === "" ? "." : `./${rel}`
  const lines = events.map((e) => `  ${JSON.stringify(e)}, // ${showEvent(e).replace(/\*\//g, "* /")}`)
  return `// Written by \`kspec fuzz --emit-test\`: a counterexample the fuzzer found, replayed in lockstep.
// Keep it, trim it, edit it: it passes once the impl refines the spec on these events again.
import { expect, it } from "vitest"
import type { BootConfig, Event } from "${rel}/model/index.ts"
import { describeFailure, runEvents } from "${rel}/harness/lockstep/runner.ts"
import { realImpl } from "${rel}/harness/lockstep/impls.ts"

const config: BootConfig = ${JSON.stringify(config)}

const events: readonly Event[] = [
${lines.join("\n")}
]

it(${JSON.stringify(title)}, () => {
  const r = runEvents(realImpl, config, events)
  expect(r.failure === null ? "ok" : describeFailure(r.failure)).toBe("ok")
})
`
}

/** Run a fuzz campaign. The CLI and the tests both call this. */
export const runFuzz = async (flags: FuzzFlags, io: FuzzIO, opts: FuzzOptions = {}): Promise<FuzzResult> => {
  const seed = flags.seed ?? Date.now() % 2 ** 31
  const config = opts.config ?? defaultBootConfig
  // A mutant's counterexamples fail against the real impl: they stay out of the regression suite.
  const regDir = opts.regressionsDir ?? (flags.mutant !== undefined ? join(tmpdir(), "kspec-fuzz-mutant") : defaultRegressionsDir)
  const inProcess = opts.inProcess === true
  const workers = inProcess ? 1 : flags.workers
  const rows = focusRows(flags.focus)
  const { log } = io
  const box = flags.runs !== null ? `runs=${flags.runs}` : `time=${secs(flags.timeMs ?? 0)}`
  log(`kspec fuzz: seed=${seed} ${box} workers=${workers}${flags.shard.count > 1 ? ` shard=${flags.shard.index + 1}/${flags.shard.count}` : ""} depth=${flags.depth}` +
    `${flags.focus.length > 0 ? ` focus=${flags.focus.join(",")}` : ""}${flags.mutant !== undefined ? ` mutant=${flags.mutant}` : ""}`)
  if (flags.runs !== null) log(`reproduce: ${reproduceCommand({ ...flags, workers }, seed, flags.runs)}`)

  const stop = new Int32Array(new SharedArrayBuffer(8))
  const coverage: Coverage = new Map()
  const t0 = performance.now()
  const deadline = flags.timeMs === null ? Infinity : t0 + flags.timeMs
  const target = flags.runs === null ? null : shardRuns(flags.runs, flags.shard)
  const perWorkerSteps = new Array<number>(workers).fill(0)
  let runs = 0
  let steps = 0
  let shrinkSteps = 0
  let interrupted = false
  let doneCount = 0
  const found = new Map<number, Extract<LoopMessage, { type: "found" }>>()
  const failures: SavedFailure[] = []
  const stopAll = () => Atomics.store(stop, 0, 1)

  // ---- saving counterexamples ----
  const save = (m: { worker: number; batch: number; events: readonly Event[]; description: string; shrinks: number }, shrunk: boolean) => {
    const base = `fuzz-seed${seed}-batch${m.batch}`
    const file = join(regDir, `${base}.json`)
    const note = `${shrunk ? "" : "unshrunk (interrupted): "}${m.description.split("\n")[0] ?? ""}`
    saveTrace(file, config, m.events, seed, note)
    let testFile: string | null = null
    if (flags.emitTest) {
      testFile = join(regDir, `${base}.test.ts`)
      writeAtomic(testFile, regressionTestSource(testFile, config, m.events, `fuzz seed ${seed} batch ${m.batch}: ${note}`))
    }
    failures.push({ file, testFile, events: m.events, description: m.description, shrinks: m.shrinks, shrunk, worker: m.worker, batch: m.batch })
  }

  // ---- progress and statistics ----
  const elapsed = () => performance.now() - t0
  // Steps per second from the moment the first worker was loaded (start-up is not fuzzing).
  let tReady: number | null = null
  const rate = () => (tReady === null ? 0 : steps / Math.max(0.001, (performance.now() - tReady) / 1000))
  const failureCount = () => failures.length + [...found.keys()].length
  const statsLine = (final: boolean) => {
    if (flags.stats === undefined) return
    appendFileSync(flags.stats, `${JSON.stringify({
      t: Number((elapsed() / 1000).toFixed(2)), runs, steps, stepsPerSec: Math.round(rate()), distinctCells: distinctCells(coverage),
      outcomes: outcomeHistogram(coverage), errorShare: Number(errorShare(coverage).toFixed(4)), shrinkSteps, failures: failureCount(),
      ...(final ? { final: true, interrupted } : {}),
    })}\n`)
  }
  if (flags.stats !== undefined) { mkdirSync(dirname(resolve(flags.stats)), { recursive: true }); writeFileSync(flags.stats, "") }
  const fraction = () => Math.min(1, target !== null ? runs / Math.max(1, target) : elapsed() / Math.max(1, flags.timeMs ?? 1))
  const status = () => tReady === null ? `starting ${workers} worker${workers === 1 ? "" : "s"}  ${secs(elapsed())}` :
    `${fmt(steps)} steps  ${fmt(rate())} steps/s  ${distinctCells(coverage)} outcomes  ${failureCount()} failure${failureCount() === 1 ? "" : "s"}` +
    `  ${target !== null ? `${fmt(runs)}/${fmt(target)} traces` : `${fmt(runs)} traces`}  ${secs(elapsed())}${shrinkSteps > 0 ? `  shrink ${shrinkSteps}` : ""}`
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
  const clearLine = () => { if (io.progress !== null && tty) io.progress.write("\r\x1b[K") }

  // ---- messages from the loop ----
  const onMessage = (m: LoopMessage) => {
    switch (m.type) {
      case "progress":
        runs += m.runs
        steps += m.steps
        perWorkerSteps[m.worker] = (perWorkerSteps[m.worker] ?? 0) + m.steps
        addCells(coverage, m.cells)
        if (performance.now() >= deadline) stopAll()
        break
      case "found":
        found.set(m.worker, m)
        stopAll()
        break
      case "shrink":
        shrinkSteps += m.steps
        break
      case "failure":
        found.delete(m.worker)
        save(m, true)
        break
      case "done":
        doneCount++
        break
      case "ready":
        tReady ??= performance.now()
        break
    }
    draw()
  }

  // ---- Ctrl-C ----
  let workerThreads: Worker[] = []
  const onSigint = () => {
    if (interrupted) { for (const w of workerThreads) void w.terminate(); return }
    interrupted = true
    Atomics.store(stop, 0, 1)
    Atomics.store(stop, 1, 1)
    clearLine()
    log("interrupted: stopping the workers (Ctrl-C again to stop at once)")
  }
  const sigint = opts.handleSigint ?? !inProcess
  if (sigint) process.on("SIGINT", onSigint)
  const timer = setInterval(() => { if (performance.now() >= deadline) stopAll(); draw() }, tty ? 200 : 500)
  const deadlineTimer = Number.isFinite(deadline) ? setTimeout(stopAll, Math.max(0, deadline - performance.now())) : undefined

  const params = (index: number): LoopParams => ({
    config, seed, runs: flags.runs, depth: flags.depth, focus: flags.focus, goal: flags.minCover ?? 1,
    shard: flags.shard, worker: { index, count: workers },
  })
  let crashed: string | null = null
  try {
    if (inProcess) {
      const impl = opts.impl ?? (realImpl as ImplUnderTest<unknown>)
      await runFuzzLoop(impl, params(0), stop, onMessage, () => new Promise((r) => setImmediate(r)))
    } else {
      const mutant = flags.mutant === undefined ? undefined : mutants.find((m) => m.name === flags.mutant)
      const mutantEntry = mutant === undefined ? undefined : writeMutant(mutant)
      // From the sources, the worker registers tsx first; from the kspec bundle, it is the bundle's own entry.
      const boot = import.meta.url.endsWith(".ts") ? new URL("./fuzzWorkerBoot.mjs", import.meta.url) : new URL("./fuzzWorker.js", import.meta.url)
      await Promise.all(Array.from({ length: workers }, (_, i) => new Promise<void>((res) => {
        // Workers with no batch to run (more workers than batches) are not started.
        if (flags.runs !== null && nthBatch(flags.shard, { index: i, count: workers }, 0) >= batchCount(flags.runs, flags.shard.count)) { doneCount++; res(); return }
        const input: WorkerInput = { params: params(i), stop: stop.buffer as SharedArrayBuffer, ...(mutantEntry !== undefined ? { mutantEntry } : {}) }
        const w = new Worker(boot, { workerData: input })
        workerThreads.push(w)
        w.on("message", onMessage)
        w.on("error", (e) => { crashed = `worker ${i}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`; stopAll() })
        w.on("exit", () => res())
      })))
    }
  } finally {
    clearInterval(timer)
    if (deadlineTimer !== undefined) clearTimeout(deadlineTimer)
    if (sigint) process.off("SIGINT", onSigint)
    workerThreads = []
  }
  // Failures whose shrink was cut short (Ctrl-C a second time, or a crash): keep them unshrunk.
  for (const m of found.values()) save({ ...m, shrinks: 0 }, false)
  found.clear()
  const ms = elapsed()
  draw(true)
  clearLine()
  statsLine(true)

  // ---- the report ----
  log("")
  const fuzzSecs = Math.max(0.001, (tReady === null ? 0 : performance.now() - tReady) / 1000)
  log(`${interrupted ? "interrupted after" : "ran"} ${fmt(runs)} traces, ${fmt(steps)} steps in ${secs(ms)}, ${secs(ms - fuzzSecs * 1000)} of it start-up (${fmt(steps / fuzzSecs)} steps/s on ${workers} worker${workers === 1 ? "" : "s"}` +
    `${workers > 1 ? `: ${perWorkerSteps.map((s) => fmt(s / fuzzSecs)).join(" + ")}` : ""}); ${(100 * errorShare(coverage)).toFixed(1)}% of steps took an error path`)
  if (flags.runs === null) log(`runs done: ${runs} (a time-boxed campaign; to repeat a fixed amount, use --runs)`)
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

  let minCoverMet = true
  const below = flags.minCover === undefined ? [] : cellsBelow(coverage, rows, flags.minCover)
  if (flags.minCover !== undefined) {
    minCoverMet = below.length === 0
    log("")
    log(minCoverMet ? `--min-cover ${flags.minCover}: met (every reachable cell of ${flags.focus.length > 0 ? "the focused rows" : "every row"} reached at least ${flags.minCover} times)`
      : `--min-cover ${flags.minCover}: NOT met, ${below.length} of ${cj.reachableCells} reachable cells below ${flags.minCover}: ${below.slice(0, 30).map((b) => `${b.row} ${b.outcome} (${b.count})`).join(", ")}${below.length > 30 ? ", ..." : ""}`)
  }

  for (const f of failures) {
    log("")
    log(`COUNTEREXAMPLE (worker ${f.worker}, batch ${f.batch}) ${f.shrunk ? `after ${f.shrinks} shrinks` : "not shrunk (interrupted)"}: ${f.events.length} events`)
    // The same readable lines `kspec replay` prints (objects numbered, caps resolved, results).
    const lines = renderTrace(config, f.events)
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
  if (crashed !== null) log(`a worker crashed: ${crashed}`)

  if (flags.json !== undefined) {
    writeAtomic(resolve(flags.json), `${JSON.stringify({
      kspec: "fuzz-report", seed, runs, steps, ms: Math.round(ms), stepsPerSec: Math.round(steps / fuzzSecs), workers,
      shard: `${flags.shard.index + 1}/${flags.shard.count}`, focus: flags.focus, depth: flags.depth, interrupted,
      reproduce: flags.runs !== null ? reproduceCommand({ ...flags, workers }, seed, flags.runs) : null,
      coverage: cj,
      outcomes: outcomeHistogram(coverage), errorShare: errorShare(coverage), shrinkSteps,
      minCover: flags.minCover === undefined ? null : { n: flags.minCover, met: minCoverMet, below },
      failures: failures.map((f) => ({ file: f.file, testFile: f.testFile, events: f.events.length, shrunk: f.shrunk, shrinks: f.shrinks, description: f.description })),
    }, null, 1)}\n`)
  }
  if (failures.length === 0 && crashed === null) log(minCoverMet ? "\nno counterexample" : "\nno counterexample, but the coverage goal was not met")
  const exitCode = failures.length > 0 || crashed !== null || !minCoverMet ? 1 : 0
  return { exitCode, seed, runs, steps, ms, coverage, rows, failures, minCoverMet, interrupted }
}

/** Statistics lines and the plain (non-TTY) progress line, every this many milliseconds. */
const tickMs = 2000
