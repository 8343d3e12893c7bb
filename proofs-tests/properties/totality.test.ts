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

describe("kspec hostile", () => {
  it("reports a run clean, and saves a failing trace that kspec replay reproduces", async () => {
    const { mkdtempSync, readdirSync } = await import("node:fs")
    const { tmpdir } = await import("node:os")
    const { join } = await import("node:path")
    const { runHostileCommand } = await import("../../cli/hostile.ts")
    const lines: string[] = []
    const io = { log: (l: string) => { lines.push(l) }, progress: null }
    const dir = mkdtempSync(join(tmpdir(), "kspec-hostile-"))
    expect(runHostileCommand({ events: 2_000, seed: 5, traceLength: 100, config: undefined, json: undefined }, io, dir)).toBe(0)
    expect(lines.at(-1)).toBe("no exception, no loop, no divergence, no broken invariant")
    expect(readdirSync(dir)).toEqual([])
    // A planted bug the raw words reach: the failing trace is saved and replays to the same failure.
    const { loadMutant } = await import("../mutants/build.ts")
    const { mutants } = await import("../mutants/mutants.ts")
    const { loadTraceFile } = await import("../../harness/trace.ts")
    const impl = await loadMutant(mutants.find((m) => m.name === "lookup-ignores-guard")!)
    expect(runHostileCommand({ events: 2_000, seed: 5, traceLength: 100, config: undefined, json: undefined }, io, dir, impl)).toBe(1)
    const saved = readdirSync(dir)
    expect(saved.length).toBeGreaterThan(0)
    expect(lines.some((l) => l.startsWith("replay: kspec replay "))).toBe(true)
    const t = loadTraceFile(join(dir, saved[0]!))
    expect(runEvents(impl, t.config, t.events).failure).not.toBeNull()
    expect(runEvents(realImpl, t.config, t.events).failure).toBeNull()
  })
})
