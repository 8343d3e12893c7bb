import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { defaultBootConfig } from "../../model/index.ts"
import { rawEventArb, runHostile } from "../../harness/gen/hostile.ts"
import { runEvents } from "../../harness/lockstep/runner.ts"
import { realImpl } from "../../harness/lockstep/impls.ts"
import { suiteBudget } from "../refinement/budget.ts"

describe("totality: random raw words never make either layer throw", () => {
  const b = suiteBudget()
  it(`neither layer throws on ${b.runs * 2} traces of raw events, and the impl still refines the spec (seed=${b.seed})`, () => {
    fc.assert(
      fc.property(fc.array(rawEventArb, { minLength: 1, maxLength: 60 }), (events) => {
        const r = runEvents(realImpl, defaultBootConfig, events)
        if (r.failure) throw new Error(JSON.stringify(r.failure))
      }),
      { seed: b.seed, numRuns: b.runs * 2 },
    )
  })

  it("a stream of 20,000 hostile events: no throw, no loop, refinement and every invariant hold (the bench drives 10^7)", () => {
    const r = runHostile(realImpl, defaultBootConfig, { seed: b.seed, events: 20_000, traceLength: 200, fullEvery: 32 })
    expect(r.failures.map((f) => f.description)).toEqual([])
    expect(r.events).toBe(20_000)
  })
})
