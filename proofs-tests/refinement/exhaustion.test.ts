/**
 * Tables that run full. Random traces never fill a kernel table of 128 entries, so the error a
 * full table gives (and the last entry before it) is reached here by a scenario, in lockstep:
 * impl and spec step by step, every invariant checked.
 */
import { describe, expect, it } from "vitest"
import type { Event } from "../../model/index.ts"
import { InitialSlot, ObjectType, asidHighBits, defaultBootConfig } from "../../model/index.ts"
import { bootInfo } from "../../spec/kernel/boot.ts"
import { seL4_ARM_ASIDControl_MakePool, seL4_Untyped_Retype } from "../../harness/builders.ts"
import { expectLockstep, specRun } from "./scenario.ts"

describe("kernel tables filled to the last entry", () => {
  it("the ASID table: 127 pools join the root's, the 128th is the last, one more is DeleteFirst (impl and spec agree)", () => {
    const info = bootInfo(defaultBootConfig)
    const pools = 2 ** asidHighBits
    // Untypeds of 4 KiB, one per pool to make plus one, in free root slots; a CNode for the pool caps.
    const untypeds = info.empty.start
    const cnode = untypeds + pools
    expect(cnode).toBeLessThan(info.empty.end)
    const setup: Event[] = [
      seL4_Untyped_Retype(info.untyped.start, ObjectType.Untyped, 12, InitialSlot.InitThreadCNode, 0, 0, untypeds, pools),
      seL4_Untyped_Retype(info.untyped.start, ObjectType.CNode, asidHighBits, InitialSlot.InitThreadCNode, 0, 0, cnode, 1),
    ]
    // Boot gave the root task pool 0; one MakePool per free entry, then one more.
    const makes = Array.from({ length: pools }, (_, i) => seL4_ARM_ASIDControl_MakePool(InitialSlot.ASIDControl, untypeds + i, cnode, i, asidHighBits))
    const { results, state: s } = specRun([...setup, ...makes])
    expect(results.slice(0, setup.length + pools - 1).every((x) => x === "Success")).toBe(true)
    expect(results.at(-1)).toBe("DeleteFirst")
    expect(s.armASIDTable.size).toBe(pools)
    expectLockstep([...setup, ...makes])
  })
})
