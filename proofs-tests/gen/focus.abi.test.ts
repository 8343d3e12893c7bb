import { describe, expect, it } from "vitest"
import { abi } from "../../model/abi.ts"
import { errorNames } from "../../model/index.ts"
import { reachableOutcomes } from "../../harness/gen/focus.ts"

// The two tables that say what an invocation can end in agree: every error the ABI table lists
// for an object method (and does not mark unreachable) is a reachable cell of the fuzz coverage
// report, and the other way round.
describe("the ABI table and the fuzz coverage table agree", () => {
  for (const e of abi.filter((x) => x.kind === "invocation" && x.label !== undefined)) {
    it(e.name, () => {
      const reachable = reachableOutcomes[e.name]
      expect(reachable, `${e.name} has no row in reachableOutcomes`).toBeDefined()
      const errors = new Set(e.errors.filter((x) => x.unreachable === undefined).map((x) => x.error))
      const reachableErrors = reachable!.filter((o) => (errorNames as readonly string[]).includes(o))
      expect([...errors].sort()).toEqual([...new Set(reachableErrors)].sort())
    })
  }
})
