// The three security checks in the suite: pas_refined, integrity and nonleakage after every step of
// random traces, on the spec and on the impl's abstraction, for the built-in systems and for random
// labelled systems. The real kernel passes every check.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { describeSecurityFailure, runSecurityCampaign } from "../../harness/security/campaign.ts"
import type { SecurityReport } from "../../harness/security/campaign.ts"
import { randomSystemArb } from "../../harness/security/random.ts"
import { buildSystem, builtinSystems, loadSystem } from "../../harness/security/system.ts"
import { securityBudget } from "./budget.ts"

const b = securityBudget()
const clean = (r: SecurityReport): string => (r.failure === null ? "clean" : describeSecurityFailure(r.failure))

describe("the security checks hold of the real kernel", () => {
  for (const name of builtinSystems) {
    it(`on ${name}: pas_refined, integrity and nonleakage after every step, spec and impl`, () => {
      const sys = loadSystem(name)
      const r = runSecurityCampaign(sys, { seed: b.seed, runs: b.runs, depth: b.depth })
      expect(clean(r)).toBe("clean")
      const c = r.stats.checks
      expect(r.stats.steps).toBeGreaterThan(b.runs)
      for (const check of ["pas_refined", "integrity", "nonleakage"] as const) expect(c[check].steps, check).toBe(r.stats.steps)
      for (const check of ["pas_refined", "integrity"] as const) expect(c[check].implSteps, `${check} on the impl`).toBeGreaterThan(0)
      // Two of the systems have labels no other label may affect: their pairs are checked, on both layers.
      if (name !== "client-server") {
        expect(c.nonleakage.pairs).toBeGreaterThan(r.stats.steps / 2)
        expect(c.nonleakage.implPairs).toBeGreaterThan(0)
      }
    })
  }
  it("on random labelled systems (two to four partitions, random channels, the policy closed from the initial authority)", () => {
    const files = fc.sample(randomSystemArb, { numRuns: b.randomSystems, seed: b.seed })
    let pairs = 0
    for (const f of files) {
      const sys = buildSystem(f)
      const r = runSecurityCampaign(sys, { seed: b.seed, runs: b.randomRuns, depth: b.depth })
      expect(clean(r), f.summary).toBe("clean")
      pairs += r.stats.checks.nonleakage.pairs
    }
    expect(pairs).toBeGreaterThan(0)
  })
})
