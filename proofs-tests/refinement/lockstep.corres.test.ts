import { describe, expect, it } from "vitest"
import { defaultBootConfig } from "../../model/index.ts"
import { realImpl } from "../../harness/lockstep/impls.ts"
import { defaultCampaign, runCampaign } from "../../harness/lockstep/campaign.ts"
import { suiteBudget } from "./budget.ts"
import { domainsBootConfig } from "../../harness/configs.ts"

describe("lockstep refinement (impl refines spec, invariants hold after every step)", () => {
  // The main job's campaign (kspec check's default), or more with KSPEC_RUNS: the suite is never weaker than `npm start`.
  const b = { ...suiteBudget(), runs: Math.max(suiteBudget().runs, defaultCampaign.runs), depth: Math.max(suiteBudget().depth, defaultCampaign.depth) }
  it(`the impl refines the spec on ${b.runs} random traces of up to ${b.depth} steps (seed=${b.seed})`, () => {
    const r = runCampaign(realImpl, { config: defaultBootConfig, seed: b.seed, runs: b.runs, depth: b.depth })
    if (r.failure) {
      throw new Error(`${r.failure.description}\nminimal trace (${r.failure.events.length} events):\n${JSON.stringify(r.failure.events)}\nreplay: KSPEC_SEED=${b.seed} npm test, or kspec check --seed ${b.seed}`)
    }
    expect(r.steps).toBeGreaterThan(b.runs)
    // The campaign must reach real work, not only error paths.
    const ok = [...r.cells].filter(([k]) => k.endsWith("|Success")).reduce((a, [, n]) => a + n, 0)
    expect(ok / r.steps).toBeGreaterThan(0.3)
  })

  it(`and with three domains under a static schedule, domain time, switches and schedule invocations included (seed=${b.seed})`, () => {
    const r = runCampaign(realImpl, { config: domainsBootConfig, seed: b.seed, runs: b.runs, depth: b.depth })
    if (r.failure) {
      throw new Error(`${r.failure.description}\nminimal trace (${r.failure.events.length} events):\n${JSON.stringify(r.failure.events)}\nreplay: KSPEC_SEED=${b.seed} npm test`)
    }
    const ok = [...r.cells].filter(([k]) => k.endsWith("|Success")).reduce((a, [, n]) => a + n, 0)
    expect(ok / r.steps).toBeGreaterThan(0.3)
    for (const cell of ["Domain_SetSet|Success", "Domain_ScheduleConfigure|Success", "Domain_ScheduleSetStart|Success"]) expect(r.cells.get(cell) ?? 0, cell).toBeGreaterThan(0)
  })
})
