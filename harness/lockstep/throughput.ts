/**
 * Lockstep checking throughput, for `kspec bench`: run recorded choice traces in lockstep (impl
 * step, spec step, relation, invariants) with full or incremental checking and report steps per
 * second and the mean heap size. Timing only; never asserted in tests.
 */
import type { BootConfig } from "../../model/index.ts"
import type { Choice } from "../gen/choices.ts"
import { realImpl } from "./impls.ts"
import { runChoices } from "./runner.ts"

export interface ThroughputResult {
  readonly steps: number
  readonly ms: number
  readonly stepsPerSecond: number
  /** Mean number of heap objects over the steps. */
  readonly meanObjects: number
  readonly failures: number
}

/** Lockstep steps per second over `traces` from `config`; `fullEvery` 0 checks everything after every step. */
export const lockstepThroughput = (config: BootConfig, traces: readonly (readonly Choice[])[], fullEvery: number): ThroughputResult => {
  let steps = 0
  let objects = 0
  let failures = 0
  const t0 = performance.now()
  for (const t of traces) {
    const r = runChoices(realImpl, config, t, { fullEvery, onStep: () => { steps++ } })
    objects += r.spec.kheap.size * r.outcomes.length
    if (r.failure !== null) failures++
  }
  const ms = performance.now() - t0
  return { steps, ms, stepsPerSecond: (steps / ms) * 1000, meanObjects: steps === 0 ? 0 : objects / steps, failures }
}
