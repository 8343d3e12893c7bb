import { describe, expect, it } from "vitest"
import { RightW, defaultBootConfig } from "../../model/index.ts"
import { checkAll, invariants } from "../../spec/invariants/index.ts"
import { boot } from "../../spec/kernel/boot.ts"
import { setCap, slotOf } from "../../spec/state.ts"
import { ipcScenario, scenarioBreaks } from "./ipcStates.ts"

const byName = new Map(invariants.map((i) => [i.name, i]))

describe("the IPC scenario (every blocking state, bound notifications, faults, an IRQ binding)", () => {
  it("satisfies invs", () => {
    expect(checkAll(ipcScenario()).map((v) => `${v.invariant}: ${v.message}`)).toEqual([])
  })

  for (const b of scenarioBreaks) {
    it(`${b.invariant} flags: ${b.description}`, () => {
      const inv = byName.get(b.invariant)
      expect(inv, `no invariant named ${b.invariant}`).toBeDefined()
      const found = inv!.check(b.state())
      expect(found.length, `${b.invariant} did not flag: ${b.description}`).toBeGreaterThan(0)
      for (const v of found) {
        expect(v.message).toMatch(/0x[0-9a-f]+/)
        expect(v.message).not.toMatch(/threw/)
      }
    })
  }

  it("no check throws on any variant", () => {
    for (const b of scenarioBreaks) {
      for (const v of checkAll(b.state())) expect(v.message, `${b.description}`).not.toMatch(/the check itself threw/)
    }
  })

  it("valid_irq_node flags a cap in the node slot of a line past numIRQs", () => {
    const config = { ...defaultBootConfig, numIRQs: 20 }
    const s0 = boot(config)
    expect(checkAll(s0)).toEqual([])
    const s = setCap(s0, slotOf(s0.irqNode, 25), { tag: "NotificationCap", ptr: s0.irqNode, badge: 0, rights: RightW })
    expect(byName.get("valid_irq_node")!.check(s).some((v) => v.message.includes("IRQ 25 does not exist"))).toBe(true)
  })
})
