// The security mutants' self-test, shared by two test files (so vitest can run them on both cores):
// each mutant is a plausible kernel bug made in the spec and the impl alike. The impl still refines
// the spec (lockstep refinement and every invariant pass), so only a security check can say the
// spec itself is unsafe. Each must be caught by its own check, with a readable counterexample.
import { describe, expect, it } from "vitest"
import { defaultBootConfig } from "../../model/index.ts"
import { domainsBootConfig } from "../../harness/configs.ts"
import { runCampaign } from "../../harness/lockstep/campaign.ts"
import { describeSecurityFailure, runSecurityCampaign } from "../../harness/security/campaign.ts"
import type { SecurityCheck, SecurityFailure } from "../../harness/security/campaign.ts"
import { loadSystem } from "../../harness/security/system.ts"
import { loadMutant } from "../mutants/build.ts"
import { mutants } from "../mutants/mutants.ts"
import { securityBudget } from "./budget.ts"

export const securityMutants = mutants.filter((m) => m.securityCheck !== undefined)
const b = securityBudget()

/** The self-test of the security mutants whose check is one of `checks`. */
export const describeSecurityMutants = (checks: readonly SecurityCheck[]): void => {
  describe(`every security mutant of ${checks.join(", ")} is caught by its check, and not by lockstep refinement`, () => {
    it("there are at least three per check", () => {
      for (const c of ["pas_refined", "integrity", "nonleakage"]) expect(securityMutants.filter((m) => m.securityCheck === c).length, c).toBeGreaterThanOrEqual(3)
    })
    for (const m of securityMutants.filter((x) => checks.includes(x.securityCheck!))) {
      it(`${m.securityCheck} catches ${m.name}: ${m.breaks}`, async () => {
        const impl = await loadMutant(m)
        let found: SecurityFailure | null = null
        for (const a of m.aim ?? []) {
          const r = runSecurityCampaign(loadSystem(a.system), { seed: b.seed, runs: 100, depth: 60, shrink: false, ...(a.focus !== undefined ? { focus: a.focus } : {}) }, impl)
          found = r.failure
          if (found !== null) break
        }
        expect(found, `${m.name} survived`).not.toBeNull()
        const f = found!
        // The campaign runs lockstep on every trace: the bug is the spec's too, so refinement held up to here.
        expect(f.check, describeSecurityFailure(f)).toBe(m.securityCheck)
        expect(f.step).toBeGreaterThan(0)
        if (f.check === "nonleakage") {
          expect(f.leak.edits.length).toBeGreaterThan(0)
          expect(f.leak.postDiff.length).toBeGreaterThan(0)
        } else if (f.check === "integrity") {
          expect(f.violations[0]!.rule).not.toBe("")
        } else if (f.check === "pas_refined") {
          expect(f.violations[0]!.message).toMatch(/is not in the policy; it comes from/)
        }
        // Lockstep refinement alone, on the general campaign (one domain and three), finds nothing.
        for (const config of [defaultBootConfig, domainsBootConfig]) {
          expect(runCampaign(impl, { config, seed: b.seed, runs: 8, depth: 100, shrink: false }).failure).toBeNull()
        }
      })
    }
  })
}
