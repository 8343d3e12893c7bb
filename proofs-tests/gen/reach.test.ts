import { describe, expect, it } from "vitest"
import { defaultBootConfig } from "../../model/index.ts"
import { suiteBudget } from "../refinement/budget.ts"
import type { Feature } from "../../harness/gen/reach.ts"
import { features, measureReach } from "../../harness/gen/reach.ts"

/** Fixed, so the coverage counts do not move with KSPEC_SEED. */
const reachSeed = 20261126

/** Every feature but `idle` must hold after at least this many steps, in at least this many traces. */
const minSteps = 10
const minTraces = 3
/** The address-space transitions (a step that remaps a frame, a revoke that tears mappings down) are rarer: this many steps. */
const rareTransitions: ReadonlySet<Feature> = new Set(["remap", "revokeUnmapped"])
const minTransitionSteps = 3

describe("reachability: the generator drives the spec into the IPC slice's and the address spaces' interesting states", () => {
  const b = suiteBudget()
  const r = measureReach({ config: defaultBootConfig, seed: reachSeed, runs: b.runs, depth: b.depth })
  const table = features.map((f) => `${f.padEnd(22)} ${String(r.counts[f]).padStart(6)} steps ${String(r.traceCounts[f]).padStart(3)} traces`).join("\n")

  const goals = features.filter((f): f is Exclude<Feature, "idle"> => f !== "idle")
  for (const f of goals) {
    it(`reaches ${f} (seed=${reachSeed}, ${b.runs} traces of up to ${b.depth} steps)`, () => {
      expect(r.counts[f], `${f} held after too few steps:\n${table}`).toBeGreaterThanOrEqual(rareTransitions.has(f) ? minTransitionSteps : minSteps)
      expect(r.traceCounts[f], `${f} held in too few traces:\n${table}`).toBeGreaterThanOrEqual(minTraces)
    })
  }

  it("traces stay live: few steps run the idle thread, yet deadlock (everything blocked) is reached", () => {
    expect(r.counts.idle / r.steps, table).toBeLessThan(0.1)
    expect(r.traceCounts.idle, table).toBeGreaterThanOrEqual(1)
    expect(r.traceCounts.idle / r.traces, table).toBeLessThan(0.25)
  })
})
