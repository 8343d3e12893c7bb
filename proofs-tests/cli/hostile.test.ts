// kspec hostile, the command: a clean run says so and saves nothing; a planted bug the raw words
// reach is saved as a trace that kspec replay reproduces. (A test of the tool, so it stays out of
// the mutation suite: a planted mutant's text is not found in Stryker's instrumented sources.)
import { describe, expect, it } from "vitest"
import { runEvents } from "../../harness/lockstep/runner.ts"
import { realImpl } from "../../harness/lockstep/impls.ts"

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
