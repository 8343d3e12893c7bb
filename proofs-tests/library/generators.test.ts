// The generators a user composes: "any trace, then my invocation" in a few lines, aimed by name.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { choiceArbFor, focusNames, lockstep, traceArb, traceArbFor } from "kspec"
import { rowOf } from "../../harness/gen/focus.ts"

describe("choiceArbFor / traceArbFor", () => {
  it("any trace, then TCB_SetTLSBase: a few aimed choices make that invocation, and lockstep holds", () => {
    let hit = 0
    fc.assert(fc.property(traceArb(30), fc.array(choiceArbFor("TCB_SetTLSBase"), { minLength: 4, maxLength: 4 }), (trace, aimed) => {
      const h = lockstep()
      for (const t of trace) h.stepChoice(t)
      const rows = aimed.map((c) => h.stepChoice(c)).map((r) => (r.outcome === undefined ? "" : rowOf(r.outcome)))
      expect(h.failure).toBeNull()
      if (rows.includes("TCB_SetTLSBase")) hit++
    }), { numRuns: 60, seed: 5 })
    // A choice resolves to a prerequisite (another thread) first when the state lacks it, and to
    // an interrupt while the idle thread runs: nearly every run still gets there.
    expect(hit).toBeGreaterThan(50)
  })

  it("a focused trace leans on its names", () => {
    const count = (arb: fc.Arbitrary<readonly { op: string }[]>) =>
      fc.sample(arb, { numRuns: 50, seed: 9 }).flat().filter((c) => c.op === "Signal" || c.op === "Wait" || c.op === "Poll").length
    expect(count(traceArbFor(50, "NotificationCap"))).toBeGreaterThan(3 * count(traceArb(50)))
  })

  it("an unknown name is refused with the names it could be", () => {
    expect(() => choiceArbFor("TCB_SetTLSBaes")).toThrow(/unknown name "TCB_SetTLSBaes"/)
    expect(focusNames).toContain("TCB_SetTLSBase")
  })
})
