import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { defaultBootConfig } from "../../model/index.ts"
import { defaultCampaign, runCampaign } from "../../harness/lockstep/campaign.ts"
import type { ImplUnderTest } from "../../harness/lockstep/runner.ts"
import { runEvents } from "../../harness/lockstep/runner.ts"
import { suiteBudget } from "../refinement/budget.ts"
import { pingPongRound, pingPongSetup } from "../../harness/scenarios/pingpong.ts"
import { domainsBootConfig } from "../../harness/configs.ts"
import { loadMutant, mutantLayer } from "./build.ts"
import { mutants } from "./mutants.ts"

/**
 * The default suite's lockstep checks, with their default budgets: the general campaign on the
 * default configuration and on three domains (refinement/lockstep.corres.test.ts) and the
 * ping-pong traces that exercise the fastpath (refinement/fastpath.test.ts). A mutant is caught
 * when any finds a failure.
 */
const caughtBy = <K>(impl: ImplUnderTest<K>, b: ReturnType<typeof suiteBudget>): string | null => {
  // The suite's lockstep campaign is kspec check's default (refinement/lockstep.corres.test.ts).
  const runs = Math.max(b.runs, defaultCampaign.runs)
  const r = runCampaign(impl, { config: defaultBootConfig, seed: b.seed, runs, depth: b.depth, shrink: false, deadlineMs: 2000 })
  if (r.failure !== null) return "campaign"
  const pp = fc.check(
    fc.property(fc.array(pingPongRound, { minLength: 1, maxLength: 40 }).map((rs) => rs.flat()), (events) =>
      runEvents(impl, defaultBootConfig, [...pingPongSetup(), ...events], { invariants: true, deadlineMs: 2000 }).failure === null),
    { seed: b.seed, numRuns: b.runs, endOnFailure: true },
  )
  if (pp.failed) return "ping-pong"
  // The campaign's second half: three domains under a static schedule.
  const d = runCampaign(impl, { config: domainsBootConfig, seed: b.seed, runs, depth: b.depth, shrink: false, deadlineMs: 2000 })
  return d.failure !== null ? "domains campaign" : null
}

describe("bug-injection self-test: the default suite catches every mutant", () => {
  const b = suiteBudget()
  // Security mutants are caught by the security checks, not by lockstep (proofs-tests/security/mutants.test.ts).
  const lockstepMutants = mutants.filter((m) => m.securityCheck === undefined)
  it("there are at least 16 mutants", () => expect(lockstepMutants.length).toBeGreaterThanOrEqual(16))
  for (const m of lockstepMutants) {
    it(`catches ${m.name}${mutantLayer(m) === "spec" ? " (a wrong spec)" : ""}: ${m.breaks}`, async () => {
      const impl = await loadMutant(m)
      expect(caughtBy(impl, b), `mutant ${m.name} survived the default budget`).not.toBeNull()
    })
  }
})
