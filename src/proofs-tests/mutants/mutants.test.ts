import { describe, expect, it } from "vitest"
import { defaultBootConfig } from "../../model/index.ts"
import { runCampaign } from "../lockstep/campaign.ts"
import { suiteBudget } from "../refinement/budget.ts"
import { loadMutant } from "./build.ts"
import { mutants } from "./mutants.ts"

describe("bug-injection self-test: the default suite catches every mutant", () => {
  const b = suiteBudget()
  it("there are at least 6 mutants", () => expect(mutants.length).toBeGreaterThanOrEqual(6))
  for (const m of mutants) {
    it(`catches ${m.name}: ${m.breaks}`, async () => {
      const impl = await loadMutant(m)
      const r = runCampaign(impl, { config: defaultBootConfig, seed: b.seed, runs: b.runs, depth: b.depth, shrink: false })
      expect(r.failure, `mutant ${m.name} survived ${r.steps} steps`).not.toBeNull()
    })
  }
})
