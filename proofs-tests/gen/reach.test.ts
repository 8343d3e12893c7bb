import { describe, expect, it } from "vitest"
import { defaultBootConfig } from "../../model/index.ts"
import { domainsBootConfig } from "../../harness/configs.ts"
import { suiteBudget } from "../refinement/budget.ts"
import type { Feature } from "../../harness/gen/reach.ts"
import { features, measureReach } from "../../harness/gen/reach.ts"

/** Fixed, so the coverage counts do not move with KSPEC_SEED. */
const reachSeed = 20261126

/** Every feature but `idle` must hold after at least this many steps, in at least this many traces. */
const minSteps = 10
const minTraces = 3
/** Transitions, counted at the step they happen (a frame remapped, a revoke that tears mappings down, a restarted syscall preempted again), are rarer: this many steps. */
const rareTransitions: ReadonlySet<Feature> = new Set(["remap", "revokeUnmapped", "restartChain"])
const minTransitionSteps = 3

describe("reachability: the generator drives the spec into the IPC slice's and the address spaces' interesting states", () => {
  const b = suiteBudget()
  const r = measureReach({ config: defaultBootConfig, seed: reachSeed, runs: b.runs, depth: b.depth })
  const table = features.map((f) => `${f.padEnd(22)} ${String(r.counts[f]).padStart(6)} steps ${String(r.traceCounts[f]).padStart(3)} traces`).join("\n")

  const goals = features.filter((f): f is Exclude<Feature, "idle"> => f !== "idle")
  // A cyclic Zombie takes a CNode made inside another, then that one's deletion: rarer by nature.
  const fewerTraces: Partial<Record<Feature, number>> = { cyclicZombie: 2 }
  for (const f of goals) {
    it(`reaches ${f} (seed=${reachSeed}, ${b.runs} traces of up to ${b.depth} steps)`, () => {
      expect(r.counts[f], `${f} held after too few steps:\n${table}`).toBeGreaterThanOrEqual(rareTransitions.has(f) ? minTransitionSteps : minSteps)
      expect(r.traceCounts[f], `${f} held in too few traces:\n${table}`).toBeGreaterThanOrEqual(fewerTraces[f] ?? minTraces)
    })
  }

  it("traces stay live: few steps run the idle thread, yet deadlock (everything blocked) is reached", () => {
    expect(r.counts.idle / r.steps, table).toBeLessThan(0.1)
    expect(r.traceCounts.idle, table).toBeGreaterThanOrEqual(1)
    expect(r.traceCounts.idle / r.traces, table).toBeLessThan(0.25)
  })
})

describe("reachability with several domains: threads run in every domain", () => {
  const b = suiteBudget()
  const r = measureReach({ config: domainsBootConfig, seed: reachSeed, runs: b.runs, depth: b.depth })
  const running = r.domainRunning.reduce((a, n) => a + n, 0)
  const table = r.domainRunning.map((n, d) =>
    `domain ${d}: ${n} steps running (${(100 * n / Math.max(1, running)).toFixed(1)}%), ${r.domainRunningTraces[d]} traces, ${r.domainIdle[d]} steps idle`).join("\n")

  for (let d = 0; d < domainsBootConfig.numDomains; d++) {
    it(`threads of domain ${d} run (seed=${reachSeed}, ${b.runs} traces of up to ${b.depth} steps, 3 domains)`, () => {
      // Every domain gets a real share of the steps that run a thread (domain 0, where the root task
      // builds everything, takes most), in several traces.
      expect(r.domainRunning[d]! / running, table).toBeGreaterThan(0.05)
      expect(r.domainRunningTraces[d], table).toBeGreaterThanOrEqual(minTraces)
    })
  }

  it("the domain schedule turns: the idle thread fills empty domains, yet most steps run a thread", () => {
    expect(running / r.steps, table).toBeGreaterThan(0.6)
    // Both schedule invocations succeed, and DomainSet_Set moves threads.
    for (const cell of ["Domain_ScheduleConfigure|Success", "Domain_ScheduleSetStart|Success", "Domain_SetSet|Success"]) {
      const n = [...r.outcomes].filter(([k]) => k.endsWith(cell)).reduce((a, [, c]) => a + c, 0)
      expect(n, cell).toBeGreaterThanOrEqual(minTraces)
    }
    if (process.env.KSPEC_VERBOSE) console.log(table)
  })
})
