/**
 * Benchmark: impl against spec on a mixed workload, the lockstep generator's default mix of
 * every syscall and invocation (CSpace operations, thread setup, IPC, notifications, IRQs,
 * faults and their error paths). The workload is recorded once
 * as concrete events (resolved against the spec), then replayed from boot by each layer; the
 * figures are ns per kernel entry and their ratio, measured in one run.
 */
import fc from "fast-check"
import type { Event } from "../src/model/index.ts"
import { defaultBootConfig } from "../src/model/index.ts"
import { boot, step, stepWithOutcome } from "../src/spec/index.ts"
import { Kernel } from "../src/impl/index.ts"
import { resolveChoice, traceArb } from "../src/proofs-tests/gen/choices.ts"
import { medianNs } from "./timing.ts"

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
  const specRun = () => { for (const w of work) { let s = boot(defaultBootConfig); for (const e of w) s = step(s, e) } }
  const implRun = () => { for (const w of work) { const k = Kernel.boot(defaultBootConfig); for (const e of w) k.step(e) } }
  // Warm up both, then take the median of `reps` timed runs each (the impl's run is short: it gets
  // more warm-up and 5x the reps, so a collection of the spec's garbage does not dominate it).
  specRun()
  for (let i = 0; i < 5; i++) implRun()
  const specNs = medianNs(specRun, reps)
  const implNs = medianNs(implRun, reps * 5)
  return { entries, specNsPerEntry: specNs / entries, implNsPerEntry: implNs / entries, ratio: specNs / implNs }
}
