/**
 * One fuzz worker's loop, the same in a worker thread and in-process: run the batches this
 * worker owns, each a short lockstep campaign whose seed derives from the master seed and the
 * batch number, with weights recomputed from this worker's coverage before every batch; report
 * steps, cells, failures and shrink steps through `post`.
 *
 * Batches are numbered 0, 1, 2, ... over the whole campaign; shard i of n (0-based) owns the
 * batches b with b % n == i, and worker w of k in a shard owns every k-th of those, from its
 * w-th: so shards and workers run disjoint seed sequences and together cover every batch once.
 */
import type { BootConfig, Event } from "../model/index.ts"
import type { Op } from "../harness/gen/choices.ts"
import { weightsFor } from "../harness/gen/choices.ts"
import { coverageResult, focusRows, focusWeights, guidedWeights, rowOf } from "../harness/gen/focus.ts"
import { batchSeed, runCampaign } from "../harness/lockstep/campaign.ts"
import { runningDomain } from "../harness/gen/reach.ts"
import type { ImplUnderTest } from "../harness/lockstep/runner.ts"
import type { CellCount, Coverage } from "./coverage.ts"
import { addCell, cellList } from "./coverage.ts"

/** Traces per batch: weights are recomputed between batches. */
export const maxBatchRuns = 25

export interface LoopParams {
  readonly config: BootConfig
  readonly seed: number
  /** Total traces in the campaign (all shards), or null for a time box. */
  readonly runs: number | null
  readonly depth: number
  readonly focus: readonly string[]
  /** Goal per cell for the guidance (the --min-cover N, or 1). */
  readonly goal: number
  readonly shard: { readonly index: number; readonly count: number }
  readonly worker: { readonly index: number; readonly count: number }
}

/** What a worker reports. */
export type LoopMessage =
  | {
    readonly type: "progress"; readonly worker: number; readonly runs: number; readonly steps: number; readonly cells: readonly CellCount[]
    /** Per domain: steps that ended with a thread of the domain running, and with the domain current and only idle to run. */
    readonly domains: readonly DomainSteps[]
    readonly preemption: PreemptionSteps
  }
  | { readonly type: "found"; readonly worker: number; readonly batch: number; readonly events: readonly Event[]; readonly description: string }
  | { readonly type: "shrink"; readonly worker: number; readonly steps: number }
  | {
    readonly type: "failure"; readonly worker: number; readonly batch: number; readonly batchSeed: number; readonly events: readonly Event[]
    readonly description: string; readonly shrinks: number
  }
  | { readonly type: "done"; readonly worker: number; readonly runs: number; readonly steps: number }
  /** The worker is loaded and starts its first batch. */
  | { readonly type: "ready"; readonly worker: number }

/** Steps that ended with a thread of a domain running, and with the domain current but nothing to run. */
export interface DomainSteps { running: number; idle: number }

/** The operations seL4 preempts: CNode_Delete, CNode_Revoke, and Untyped_Retype (when it resets its untyped). */
export const longOperationRows = ["CNode_Delete", "CNode_Revoke", "Untyped_Retype"] as const
export type LongOperation = (typeof longOperationRows)[number]

/**
 * Long operations and their preemptions, per operation: first runs that got past decoding
 * (`ops`) and those a preemption stopped (`preempted`); then runs again of a preempted syscall
 * (`restarts`), and the most preemptions one syscall met in a row (`maxChain`: the longest chain
 * of restarts).
 */
export interface PreemptionSteps {
  readonly ops: Record<LongOperation, number>
  readonly preempted: Record<LongOperation, number>
  restarts: number
  maxChain: number
}
const zeroPerOp = (): Record<LongOperation, number> => ({ CNode_Delete: 0, CNode_Revoke: 0, Untyped_Retype: 0 })
export const noPreemption = (): PreemptionSteps => ({ ops: zeroPerOp(), preempted: zeroPerOp(), restarts: 0, maxChain: 0 })
/** Add `d` into `t`. */
export const addPreemption = (t: PreemptionSteps, d: PreemptionSteps): void => {
  for (const r of longOperationRows) {
    t.ops[r] += d.ops[r]
    t.preempted[r] += d.preempted[r]
  }
  t.restarts += d.restarts
  t.maxChain = Math.max(t.maxChain, d.maxChain)
}
const isLongOperation = (row: string): row is LongOperation => (longOperationRows as readonly string[]).includes(row)

/** Stop signals, shared with the main thread: [0] no new runs, [1] end shrinking now. */
export type StopFlags = Int32Array

/** The seed of batch `b` (harness/lockstep/campaign.ts). */
export { batchSeed }

/** Traces per batch for a campaign of `runs` traces over `shards` shards (independent of the worker count). */
export const batchRunsFor = (runs: number | null, shards: number): number =>
  runs === null ? maxBatchRuns : Math.max(1, Math.min(maxBatchRuns, Math.ceil(runs / (8 * shards))))

/** Number of batches of a run-boxed campaign. */
export const batchCount = (runs: number, shards: number): number => Math.ceil(runs / batchRunsFor(runs, shards))

/** The k-th batch (0-based) of a worker in a shard. */
export const nthBatch = (shard: LoopParams["shard"], worker: LoopParams["worker"], k: number): number =>
  shard.index + shard.count * (worker.index + worker.count * k)

/** Who owns batch `b`: its shard and, within the shard, its worker. */
export const batchOwner = (b: number, shards: number, workers: number): { shard: number; worker: number } =>
  ({ shard: b % shards, worker: Math.floor(b / shards) % workers })

/**
 * Run the loop. `stop` is polled between traces (it is the shared stop flags in a worker, or
 * the main thread's own). `yieldEvery` lets an in-process run give the event loop a turn
 * between batches (for Ctrl-C and the progress timer).
 */
export const runFuzzLoop = async <K>(
  impl: ImplUnderTest<K>, p: LoopParams, stop: StopFlags, post: (m: LoopMessage) => void, yieldEvery?: () => Promise<void>,
): Promise<void> => {
  const rows = focusRows(p.focus)
  const base: Record<Op, number> = p.focus.length === 0 ? { ...weightsFor(p.config) } : focusWeights(rows, weightsFor(p.config))
  const coverage: Coverage = new Map()
  const batchRuns = batchRunsFor(p.runs, p.shard.count)
  const total = p.runs === null ? Infinity : batchCount(p.runs, p.shard.count)
  const w = p.worker.index
  let runs = 0
  let steps = 0
  post({ type: "ready", worker: w })
  for (let k = 0; ; k++) {
    const b = nthBatch(p.shard, p.worker, k)
    if (b >= total || Atomics.load(stop, 0) !== 0) break
    const n = p.runs === null ? batchRuns : Math.min(batchRuns, p.runs - b * batchRuns)
    const weights = guidedWeights(base, coverage, rows, p.goal)
    const delta: Coverage = new Map()
    const dDomains: DomainSteps[] = Array.from({ length: p.config.numDomains }, () => ({ running: 0, idle: 0 }))
    const dPreempt = noPreemption()
    let dSteps = 0
    let dRuns = 0
    let shrinkSteps = 0
    const flush = () => {
      if (dRuns === 0 && dSteps === 0) return
      post({ type: "progress", worker: w, runs: dRuns, steps: dSteps, cells: cellList(delta), domains: dDomains.map((d) => ({ ...d })), preemption: structuredClone(dPreempt) })
      Object.assign(dPreempt, noPreemption())
      delta.clear()
      for (const d of dDomains) { d.running = 0; d.idle = 0 }
      dSteps = 0
      dRuns = 0
    }
    const seed = batchSeed(p.seed, b)
    const r = runCampaign(impl, {
      config: p.config, seed, runs: n, depth: p.depth, weights,
      onStep: (o, spec, restart) => {
        const row = rowOf(o)
        const result = coverageResult(o, restart)
        addCell(coverage, row, result)
        addCell(delta, row, result)
        if (restart.restarted) dPreempt.restarts++
        else if (isLongOperation(row) && (o.result === "Success" || o.result === "Inactive" || o.result === "Preempted")) {
          dPreempt.ops[row]++
          if (o.result === "Preempted") dPreempt.preempted[row]++
        }
        if (restart.chain > dPreempt.maxChain) dPreempt.maxChain = restart.chain
        dSteps++
        const d = runningDomain(spec)
        const at = dDomains[d ?? spec.curDomain]
        if (at !== undefined) { if (d !== undefined) at.running++; else at.idle++ }
      },
      onRun: () => { runs++; dRuns++; flush() },
      onFailureFound: (_c, run) => {
        post({ type: "found", worker: w, batch: b, events: run.events, description: run.failure === null ? "" : describe(run) })
      },
      onShrinkStep: () => { if (++shrinkSteps % 20 === 0) post({ type: "shrink", worker: w, steps: 20 }) },
      stopRuns: () => Atomics.load(stop, 0) !== 0,
      stopShrink: () => Atomics.load(stop, 1) !== 0,
    })
    steps += r.steps
    flush()
    if (shrinkSteps % 20 !== 0) post({ type: "shrink", worker: w, steps: shrinkSteps % 20 })
    if (r.failure !== null) {
      post({ type: "failure", worker: w, batch: b, batchSeed: seed, events: r.failure.events, description: r.failure.description, shrinks: r.failure.shrinks })
      break
    }
    if (yieldEvery !== undefined) await yieldEvery()
  }
  post({ type: "done", worker: w, runs, steps })
}

const describe = (run: { readonly failure: unknown; readonly events: readonly Event[] }): string =>
  `a failing trace of ${run.events.length} events (shrinking)`
