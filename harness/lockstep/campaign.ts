/**
 * A lockstep refinement campaign: fast-check draws traces of choices, each trace runs in
 * lockstep from boot, and the first failing trace is shrunk to a minimal one. The report
 * counts every step's outcome (invocation x result) so a user sees what was exercised.
 */
import fc from "fast-check"
import type { BootConfig, Event } from "../../model/index.ts"
import type { KernelState, Outcome } from "../../spec/index.ts"
import type { Choice, Op } from "../gen/choices.ts"
import { traceArb, weightsFor } from "../gen/choices.ts"
import type { Failure, ImplUnderTest, RestartInfo, RunResult } from "./runner.ts"
import { coverageResult } from "../gen/focus.ts"
import { defaultDeadlineMs, defaultFullEvery, describeFailure, runChoices } from "./runner.ts"

/** `kspec check`'s default campaign, which the suite's lockstep test also runs: at least as strong as the main job. */
export const defaultCampaign = { runs: 500, depth: 150 } as const

/** The share of a campaign's traces drawn with swarm testing; KSPEC_SWARM overrides it. */
export const defaultSwarmShare = Number(process.env.KSPEC_SWARM ?? 0.5)

/** KSPEC_SHRINK=0 reports a campaign's first failing trace as found, unshrunk: mutation runs want only whether a mutant is killed. */
const noShrink = process.env.KSPEC_SHRINK === "0"

/** A campaign's traces: the fixed mix and, for `share` of them, swarm traces. */
export const campaignTraceArb = (depth: number, weights: Readonly<Record<Op, number>> | undefined, share: number): fc.Arbitrary<Choice[]> => {
  const plain = traceArb(depth, weights)
  if (share <= 0) return plain
  const swarm = traceArb(depth, weights, { swarm: true })
  if (share >= 1) return swarm
  const w = Math.round(share * 100)
  return fc.oneof({ arbitrary: plain, weight: 100 - w }, { arbitrary: swarm, weight: w })
}

export interface CampaignOptions {
  readonly config: BootConfig
  readonly seed: number
  readonly runs: number
  /** Longest trace, in steps. */
  readonly depth: number
  /** Op weights (default: `weightsFor(config)`). */
  readonly weights?: Readonly<Record<Op, number>>
  /** The share of traces drawn with swarm testing (see TraceOptions.swarm), 0..1; default `defaultSwarmShare`. */
  readonly swarmShare?: number
  /**
   * Full relation and invariant check every this many steps, incremental checks between (see
   * RunOptions.fullEvery); 0 checks everything after every step. Default `defaultFullEvery`.
   */
  readonly fullEvery?: number
  /** The watchdog on each trace (see RunOptions.deadlineMs); default `defaultDeadlineMs`. */
  readonly deadlineMs?: number
  /** Shrink a failure to a minimal trace (default true). */
  readonly shrink?: boolean
  /** Stop after this many milliseconds (fast-check's interruptAfterTimeLimit). */
  readonly timeLimitMs?: number
  /** Called with each step's outcome, the spec state after it and what it meant for restarts, in the unshrunk runs. */
  readonly onStep?: (outcome: Outcome, spec: KernelState, restart: RestartInfo) => void
  /** Called after each unshrunk run with its number of steps. */
  readonly onRun?: (steps: number) => void
  /** Called once, with the unshrunk trace, when the first failure is found (before shrinking). */
  readonly onFailureFound?: (choices: readonly Choice[], run: RunResult) => void
  /** Called for each candidate trace tried while shrinking. */
  readonly onShrinkStep?: () => void
  /** When it returns true, the remaining runs are skipped (neither run nor counted). */
  readonly stopRuns?: () => boolean
  /** When it returns true, shrinking ends with the smallest failing trace found so far. */
  readonly stopShrink?: () => boolean
}

export interface CampaignFailure {
  readonly choices: readonly Choice[]
  readonly events: readonly Event[]
  readonly failure: Failure
  readonly description: string
  readonly shrinks: number
  /** fast-check's replay path for this seed. */
  readonly path: string
}

export interface CampaignReport {
  readonly seed: number
  readonly runs: number
  readonly steps: number
  readonly ms: number
  /** Count of each `invocation|result` cell over all steps of the unshrunk runs. */
  readonly cells: ReadonlyMap<string, number>
  readonly failure: CampaignFailure | null
}

export const runCampaign = <K>(impl: ImplUnderTest<K>, o: CampaignOptions): CampaignReport => {
  const cells = new Map<string, number>()
  let steps = 0
  let runs = 0
  let shrinking = false
  const t0 = performance.now()
  let last: RunResult | null = null
  // The slowest passing trace: once a trace has hung, shrinking stops its candidates after 50
  // times that (at least 1 s), not after the whole deadline, so a loop shrinks in seconds; a
  // candidate counts as failing only if it hangs in the same phase, and the shrunk trace is
  // confirmed under the whole deadline (a candidate slowed by a busy machine is no loop).
  let slowest = 0
  const fullDeadline = o.deadlineMs ?? defaultDeadlineMs
  let deadlineMs = fullDeadline
  let first: { readonly choices: readonly Choice[]; readonly run: RunResult } | null = null
  const prop = fc.property(campaignTraceArb(o.depth, o.weights ?? weightsFor(o.config), o.swarmShare ?? defaultSwarmShare), (choices) => {
    // A skipped candidate passes: skipped runs find nothing, and an ended shrink keeps the
    // smallest trace that really failed.
    if (shrinking ? o.stopShrink?.() === true : o.stopRuns?.() === true) return true
    if (shrinking) o.onShrinkStep?.()
    const fullEvery = o.fullEvery ?? defaultFullEvery
    const t = performance.now()
    const r = runChoices(impl, o.config, choices, shrinking ? { fullEvery, deadlineMs } : {
      fullEvery,
      deadlineMs,
      onStep: (out, _ev, spec, restart) => {
        const k = `${out.invocation}|${coverageResult(out, restart)}`
        cells.set(k, (cells.get(k) ?? 0) + 1)
        o.onStep?.(out, spec, restart)
      },
    })
    if (!shrinking) { runs++; steps += r.outcomes.length; o.onRun?.(r.outcomes.length) }
    if (r.failure === null && !shrinking) slowest = Math.max(slowest, performance.now() - t)
    if (r.failure !== null && shrinking && first?.run.failure?.kind === "nontermination" &&
      (r.failure.kind !== "nontermination" || r.failure.phase !== first.run.failure.phase)) return true
    if (r.failure !== null) {
      if (!shrinking) {
        o.onFailureFound?.(choices, r)
        first = { choices, run: r }
        if (r.failure.kind === "nontermination") deadlineMs = Math.min(deadlineMs, Math.max(1000, 50 * slowest))
      }
      shrinking = true
      last = r
    }
    return r.failure === null
  })
  const details = fc.check(prop, {
    seed: o.seed, numRuns: o.runs, endOnFailure: o.shrink === false || noShrink,
    ...(o.timeLimitMs !== undefined ? { interruptAfterTimeLimit: o.timeLimitMs, markInterruptAsFailure: false } : {}),
  })
  const ms = performance.now() - t0
  if (!details.failed || details.counterexample === null) return { seed: o.seed, runs, steps, ms, cells, failure: null }
  let choices = details.counterexample[0] as Choice[]
  // Re-run the minimal trace to get its events and failure (a loop: under the whole deadline).
  let r = runChoices(impl, o.config, choices, { deadlineMs: fullDeadline })
  if (r.failure === null && first !== null) ({ choices, run: r } = first as { choices: Choice[]; run: RunResult })
  const f = r.failure ?? (last as RunResult | null)?.failure
  if (f === undefined || f === null) return { seed: o.seed, runs, steps, ms, cells, failure: null }
  return {
    seed: o.seed, runs, steps, ms, cells,
    failure: { choices, events: r.events, failure: f, description: describeFailure(f), shrinks: details.numShrinks, path: details.counterexamplePath ?? "" },
  }
}

/** The seed of batch `b` of a campaign from `seed` (a 32-bit mix: batches draw unrelated traces). */
export const batchSeed = (seed: number, b: number): number => {
  let h = (seed ^ Math.imul(b + 1, 0x9e3779b9)) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0
  return ((h ^ (h >>> 16)) >>> 0) % 2 ** 31
}
