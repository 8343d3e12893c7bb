import { describe, expect, it } from "vitest"
import { checkAll, invariants } from "../../spec/invariants/index.ts"
import { negativeCases } from "./negativeCases.ts"

describe("every invariant has a counterexample", () => {
  it("each registered invariant has a negative case", () => {
    const missing = invariants.map((i) => i.name).filter((n) => negativeCases[n] === undefined)
    expect(missing).toEqual([])
  })
  it("each negative case names a registered invariant", () => {
    const names = new Set(invariants.map((i) => i.name))
    expect(Object.keys(negativeCases).filter((n) => !names.has(n))).toEqual([])
  })
  it("invariant names are unique", () => {
    expect(new Set(invariants.map((i) => i.name)).size).toBe(invariants.length)
  })
})

describe("negative cases", () => {
  for (const inv of invariants) {
    it(`${inv.name} flags its counterexample`, () => {
      const c = negativeCases[inv.name]
      expect(c, `no negative case for ${inv.name}`).toBeDefined()
      if (c === undefined) return
      expect(c.description.length).toBeGreaterThan(0)
      expect(c.description).not.toContain("\n")
      const s = c.state()
      const found = inv.check(s)
      expect(found.length, `${inv.name} did not flag: ${c.description}`).toBeGreaterThan(0)
      for (const v of found) {
        expect(v.invariant).toBe(inv.name)
        // A message names what is wrong: an object or slot address, IRQ control, or the domain schedule.
        expect(v.message).toMatch(/0x[0-9a-f]+|IRQControlCap|domain schedule|work-unit counter/)
        expect(v.message).not.toMatch(/threw/)
      }
      expect(checkAll(s).some((v) => v.invariant === inv.name)).toBe(true)
    })
  }
})
