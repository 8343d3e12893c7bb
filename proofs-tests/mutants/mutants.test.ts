import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { defaultBootConfig } from "../../model/index.ts"
import { runCampaign } from "../../harness/lockstep/campaign.ts"
import type { ImplUnderTest } from "../../harness/lockstep/runner.ts"
import { runEvents } from "../../harness/lockstep/runner.ts"
import { suiteBudget } from "../refinement/budget.ts"
import { pingPongRound, pingPongSetup } from "../../harness/scenarios/pingpong.ts"
import { loadMutant } from "./build.ts"
import { mutants } from "./mutants.ts"

/**
 * The default suite's two lockstep checks, with their default budgets: the general campaign
 * (refinement/lockstep.corres.test.ts) and the ping-pong traces that exercise the fastpath
 * (refinement/fastpath.test.ts). A mutant is caught when either finds a failure.
 */
const caughtBy = <K>(impl: ImplUnderTest<K>, b: ReturnType<typeof suiteBudget>): string | null => {
  const r = runCampaign(impl, { config: defaultBootConfig, seed: b.seed, runs: b.runs, depth: b.depth, shrink: false })
  if (r.failure !== null) return "campaign"
  const pp = fc.check(
    fc.property(fc.array(pingPongRound, { minLength: 1, maxLength: 40 }).map((rs) => rs.flat()), (events) =>
      runEvents(impl, defaultBootConfig, [...pingPongSetup(), ...events], { invariants: true }).failure === null),
    { seed: b.seed, numRuns: b.runs, endOnFailure: true },
  )
  return pp.failed ? "ping-pong" : null
}

describe("bug-injection self-test: the default suite catches every mutant", () => {
  const b = suiteBudget()
  it("there are at least 16 mutants", () => expect(mutants.length).toBeGreaterThanOrEqual(16))
  for (const m of mutants) {
    it(`catches ${m.name}: ${m.breaks}`, async () => {
      const impl = await loadMutant(m)
      expect(caughtBy(impl, b), `mutant ${m.name} survived the default budget`).not.toBeNull()
    })
  }
})
