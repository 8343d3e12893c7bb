// Security mutants of nonleakage (proofs-tests/security/mutantSuite.ts), and a nonleakage
// counterexample shrunk: the pair, the step and where the observer's views part.
import { expect, it } from "vitest"
import { describeSecurityFailure, runSecurityCampaign } from "../../harness/security/campaign.ts"
import { loadSystem } from "../../harness/security/system.ts"
import { loadMutant } from "../mutants/build.ts"
import { mutants } from "../mutants/mutants.ts"
import { securityBudget } from "./budget.ts"
import { describeSecurityMutants } from "./mutantSuite.ts"

const b = securityBudget()

describeSecurityMutants(["nonleakage"])

it("a nonleakage counterexample, shrunk: the two states, the step and the field where the views part", async () => {
  const impl = await loadMutant(mutants.find((m) => m.name === "sec-poll-without-read")!)
  const r = runSecurityCampaign(loadSystem("pipe"), { seed: b.seed, runs: 100, depth: 60, shrinkLimitMs: 1500 }, impl)
  const f = r.failure
  if (f?.check !== "nonleakage") throw new Error(`expected a leak, got ${f === null ? "none" : describeSecurityFailure(f)}`)
  expect(f.leak.observer).toBe("Sender")
  expect(f.leak.edits.some((e) => e.tag === "NotificationWord")).toBe(true)
  expect(f.leak.postDiff.join("\n")).toMatch(/\(TCB, Sender\)\.tcbContext\.badge/)
  expect(describeSecurityFailure(f)).toMatch(/leaks to Sender/)
})
