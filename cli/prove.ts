/**
 * `kspec prove`: bounded exhaustive checking (harness/prove/). Prints the plan, a live progress
 * line (a bar on a terminal, a plain line every 2 s otherwise) and, as TLC does, the states
 * generated, the distinct states, the depth, the queue, the rate and the collision estimate,
 * then the statement of what was proved. A counterexample is the shortest (BFS): it is printed in
 * seL4 terms and saved as a trace file `kspec replay` runs.
 *
 * Exit codes: 0 proved in the scope, 1 a counterexample or not proved (stopped by --max-states or
 * Ctrl-C; a crashed worker), 2 bad usage or a bad scope file.
 */
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import type { ProveResult, SearchProgress } from "../harness/prove/index.ts"
import { describeAlphabet, invariantCount, prove, resolveScope } from "../harness/prove/index.ts"
import { saveTraceFile } from "../harness/trace.ts"
import { describeFailure } from "../harness/lockstep/runner.ts"
import { writeFileAtomic } from "../harness/files.ts"
import { writeMutant } from "../proofs-tests/mutants/build.ts"
import { mutants } from "../proofs-tests/mutants/mutants.ts"
import { regressionsDir as defaultRegressionsDir } from "./check.ts"
import { renderTrace } from "./render.ts"

/** The flags of `kspec prove`, decoded (cli/commands.ts). */
export interface ProveFlags {
  /** A named scope or a scope file. */
  readonly config: string
  readonly depth: number | undefined
  readonly maxStates: number | undefined
  readonly workers: number
  readonly shard: { readonly index: number; readonly count: number } | undefined
  readonly symmetry: boolean
  readonly implState: boolean
  readonly mutant: string | undefined
  readonly json: string | undefined
}

export interface ProveIO {
  readonly log: (s: string) => void
  readonly progress: { readonly write: (s: string) => unknown; readonly isTTY: boolean } | null
}

export interface ProveCliOptions {
  /** Where a counterexample is saved (default proofs-tests/regressions; a mutant's go to the temporary directory). */
  readonly regressionsDir?: string
  /** Install a SIGINT handler (default true). */
  readonly handleSigint?: boolean
}

const fmt = (n: number): string => Math.round(n).toLocaleString("en-US")
const secs = (ms: number): string => (ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`)
/** A probability as TLC prints it: 3.1E-11. */
const sci = (p: number): string => (p === 0 ? "0" : p.toExponential(1).toUpperCase().replace("E+", "E").replace(/E(-?)0*(\d)/, "E$1$2"))

/** The counterexample's trace file name. */
const traceName = (scope: string, depth: number): string => `prove-${scope.replace(/[^A-Za-z0-9_-]/g, "_")}-depth${depth}.json`

/** Run `kspec prove`; returns the exit code. A bad --config throws a ScopeFileError (exit 2 in main). */
export const runProve = async (f: ProveFlags, io: ProveIO, opts: ProveCliOptions = {}): Promise<number> => {
  const { log } = io
  const spec = resolveScope(f.config)
  const depth = f.depth ?? spec.depth
  const mutant = f.mutant === undefined ? undefined : mutants.find((m) => m.name === f.mutant)
  // A lockstep mutant patches one layer: prove loads that layer's entry (impl, or a spec the real impl is checked against).
  const build = mutant === undefined ? undefined : writeMutant(mutant)
  const implEntry = build?.impl ?? build?.spec
  const implEntryLayer: "impl" | "spec" = build?.impl !== undefined ? "impl" : "spec"
  const irqs = spec.irqs.map((q) => q.irq)
  log(`kspec prove: configuration ${spec.name} (${spec.description}), depth ${depth}, ${f.workers} worker${f.workers === 1 ? "" : "s"}` +
    `${f.shard !== undefined ? `, shard ${f.shard.index + 1}/${f.shard.count}` : ""}${f.maxStates !== undefined ? `, at most ${fmt(f.maxStates)} states` : ""}` +
    `, symmetry ${f.symmetry ? "on" : "off"}, states keyed by ${f.implState ? "(spec state, impl state)" : "spec state"}${mutant !== undefined ? `, mutant ${mutant.name}` : ""}`)
  for (const line of describeAlphabet(spec.alphabet, irqs)) log(`alphabet: ${line}`)
  log(`checks: the refinement relation and the frame condition on every edge; ${invariantCount()} invariants on every state`)

  // Progress: a bar on a terminal, a plain line every 2 s in a pipe or CI.
  const t0 = performance.now()
  const tty = io.progress?.isTTY === true
  let lastDraw = 0
  let lastLine = t0
  const status = (p: SearchProgress): string =>
    `depth ${p.level}  ${fmt(p.generated)} generated  ${fmt(p.distinct)} distinct  ${fmt(p.queue)} queue  ${fmt(p.distinct / Math.max(0.001, p.ms / 1000))} distinct/s  ${secs(p.ms)}`
  const onProgress = (p: SearchProgress): void => {
    const now = performance.now()
    if (io.progress === null) return
    if (tty && now - lastDraw >= 150) {
      // The bar is the current level's progress: the number of levels is not known before the end.
      const width = 20
      const done = Math.round((1 - p.levelLeft / Math.max(1, p.levelSize)) * width)
      io.progress.write(`\r[${"#".repeat(done)}${".".repeat(width - done)}] ${status(p)}\x1b[K`)
      lastDraw = now
    } else if (!tty && now - lastLine >= 2000) {
      io.progress.write(`prove: ${status(p)}\n`)
      lastLine = now
    }
  }
  let interrupted = false
  const onSigint = () => { interrupted = true }
  if (opts.handleSigint ?? true) process.on("SIGINT", onSigint)
  let r: ProveResult
  try {
    r = await prove({
      scope: spec, depth, symmetry: f.symmetry, implState: f.implState, workers: f.workers,
      ...(f.maxStates !== undefined ? { maxStates: f.maxStates } : {}),
      ...(f.shard !== undefined ? { shard: f.shard } : {}),
      ...(implEntry !== undefined ? { implEntry, implEntryLayer } : {}),
      onProgress, stop: () => interrupted,
    })
  } catch (e) {
    // A worker that crashed (or a kernel layer that cannot be copied): a failed check, not bad usage.
    if (!(e instanceof Error) || !/^(a prove worker crashed|kspec prove cannot copy)/.test(e.message)) throw e
    log(`kspec prove: ${e.message.split("\n")[0]}`)
    return 1
  } finally {
    if (opts.handleSigint ?? true) process.off("SIGINT", onSigint)
    if (tty && io.progress !== null) io.progress.write("\r\x1b[K")
  }
  const ms = performance.now() - t0
  const s = r.stats
  log("")
  log(interrupted ? `interrupted after ${secs(ms)}` : `finished in ${secs(ms)}`)
  log(`${fmt(s.generated)} states generated, ${fmt(s.distinct)} distinct states found, ${fmt(s.queue)} states left on queue.`)
  log(`the depth of the complete state graph search is ${r.depthChecked < 0 ? 0 : r.depthChecked}${r.exhausted ? " (a fixpoint: no new state below it)" : ""}; distinct states by depth: ${s.levels.map(fmt).join(", ")}`)
  if (f.implState) log(`distinct spec states: ${fmt(s.specDistinct)} (the rest differ only in the impl's own state)`)
  const searchSecs = Math.max(0.001, s.ms / 1000)
  log(`${fmt(s.distinct / searchSecs)} distinct states/s, ${fmt(s.generated / searchSecs)} edges/s on ${f.workers} worker${f.workers === 1 ? "" : "s"}`)
  log(`fingerprints: 64-bit, ${(s.tableBytes / 2 ** 20).toFixed(1)} MiB of table; the probability that a collision hid a state (calculated, optimistic): ${sci(r.collisionProbability)}`)
  if (r.split !== null) log(`shard ${f.shard!.index + 1}/${f.shard!.count}: split at depth ${r.split.level}, kept ${fmt(r.split.kept)} of its ${fmt(r.split.of)} states`)
  else if (f.shard !== undefined && f.shard.count > 1) log(`shard ${f.shard.index + 1}/${f.shard.count}: the search ended before a level was large enough to split, so this shard checked everything`)
  log("")

  let saved: string | null = null
  if (r.failure !== null) {
    const events = r.counterexampleEvents!
    const setup = r.scope.setup.length
    log(`COUNTEREXAMPLE of depth ${r.failure.depth} (the shortest, by breadth-first search), after the ${setup} set-up events:`)
    const lines = renderTrace(r.scope.config, events)
    for (const line of lines.slice(setup)) log(line)
    log("")
    log(describeFailure(r.failure.failure))
    const dir = opts.regressionsDir ?? (mutant !== undefined ? join(tmpdir(), "kspec-prove-mutant") : defaultRegressionsDir)
    saved = join(dir, traceName(spec.name, r.failure.depth))
    saveTraceFile(saved, { config: r.scope.config, events, note: `kspec prove --config ${spec.name}: ${describeFailure(r.failure.failure).split("\n")[0]}` })
    log("")
    log(`saved: ${relative(process.cwd(), saved)}`)
    log(`replay: kspec replay ${relative(process.cwd(), saved)}`)
  } else {
    log(r.status === "proved" ? `PROVED: ${r.statement}` : r.statement)
  }
  if (f.json !== undefined) {
    writeFileAtomic(f.json, `${JSON.stringify({
      kspec: "prove-report", config: spec.name, depth, workers: f.workers, shard: f.shard === undefined ? null : `${f.shard.index + 1}/${f.shard.count}`,
      symmetry: f.symmetry, implState: f.implState, mutant: f.mutant ?? null, status: r.status, exhausted: r.exhausted, depthChecked: r.depthChecked,
      statement: r.statement, stats: s, ms: Math.round(ms), collisionProbability: r.collisionProbability, split: r.split,
      counterexample: r.failure === null ? null : { depth: r.failure.depth, kind: r.failure.failure.kind, file: saved, description: describeFailure(r.failure.failure) },
      outcomes: Object.fromEntries(r.outcomes),
    }, null, 1)}\n`)
  }
  return r.status === "proved" ? 0 : 1
}
