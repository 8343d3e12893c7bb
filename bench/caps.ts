/**
 * Benchmark: impl against spec on a mixed workload, the lockstep generator's default mix of
 * every syscall and invocation (CSpace operations, thread setup, IPC, notifications, IRQs,
 * faults and their error paths). The workload is recorded once as concrete events (resolved
 * against the spec), then replayed by each layer; the figures are ns per kernel entry and their
 * ratio, measured in one run.
 *
 * Only kernel entries are timed: booting is not. The spec's initial state is booted once before
 * the timer starts (it is immutable, so every trace replays from the same value); impl kernels
 * are mutable, so a fresh one per trace is booted before each timed rep, outside the timed region.
 * Each layer first runs the workload for at least `100 * reps` ms, so the figures are of JIT-warm
 * code (the impl's many rarely-taken paths need a few hundred thousand entries to get there).
 */
import fc from "fast-check"
import type { Event } from "../model/index.ts"
import { defaultBootConfig } from "../model/index.ts"
import type { KernelState } from "../spec/index.ts"
import { boot, step, stepWithOutcome } from "../spec/index.ts"
import { Kernel } from "../impl/index.ts"
import { resolveChoice, traceArb } from "../harness/gen/choices.ts"
import { interleavedMediansNs, warmUp } from "./timing.ts"

export interface CapBenchResult {
  readonly entries: number
  readonly specNsPerEntry: number
  readonly implNsPerEntry: number
  readonly ratio: number
}

/** Record `traces` traces of up to `depth` steps whose thread stays alive, as concrete events. */
export const recordWorkload = (traces: number, depth: number, seed: number): Event[][] =>
  fc.sample(traceArb(depth), { numRuns: traces, seed }).map((choices) => {
    let s = boot(defaultBootConfig)
    const evs: Event[] = []
    for (const c of choices) {
      if (s.curThread === s.idleThread) break
      const e = resolveChoice(s, c)
      s = stepWithOutcome(s, e).state
      evs.push(e)
    }
    return evs
  })

export const runCapBench = (traces = 40, depth = 200, seed = 7, reps = 5): CapBenchResult => {
  // Events as plain JSON data, as a trace file holds them (the generator's objects come in many
  // shapes; both layers replay the same copies).
  const work = JSON.parse(JSON.stringify(recordWorkload(traces, depth, seed))) as Event[][]
  const entries = work.reduce((a, w) => a + w.length, 0)
  const s0: KernelState = boot(defaultBootConfig)
  const specRun = (): void => { for (const w of work) { let s = s0; for (const e of w) s = step(s, e) } }
  const bootAll = (): Kernel[] => work.map(() => Kernel.boot(defaultBootConfig))
  const implRun = (ks: Kernel[]): void => {
    for (let i = 0; i < work.length; i++) { const k = ks[i]!; for (const e of work[i]!) k.step(e) }
  }
  // Warm up each, then time them in turns (five impl runs to each spec run, 8 * reps rounds) and
  // take each one's median: both over the same seconds, so the ratio holds while the machine's
  // speed drifts (timed one after the other, it ranged 8x-20x on one machine from run to run;
  // in turns, 13.6x-16.8x).
  warmUp(bootAll, implRun, 100 * reps)
  warmUp(() => undefined, specRun, 100 * reps)
  const { a: implNs, b: specNs } = interleavedMediansNs(bootAll, implRun, specRun, reps * 8, 5)
  return { entries, specNsPerEntry: specNs / entries, implNsPerEntry: implNs / entries, ratio: specNs / implNs }
}
