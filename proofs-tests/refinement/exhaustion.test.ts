/**
 * Tables that run full. Random traces never fill a kernel table of 128 entries (the ASID table) or
 * 1,024 (an ASID pool: the default configuration's memory holds about 65 page directories), so the
 * error a full table gives (and the last entry before it) is reached here by a scenario, in
 * lockstep: impl and spec step by step, every invariant checked.
 */
import { describe, expect, it } from "vitest"
import type { BootConfig, Event } from "../../model/index.ts"
import { InitialSlot, ObjectType, asidHighBits, asidLowBits, defaultBootConfig } from "../../model/index.ts"
import { bootInfo } from "../../spec/kernel/boot.ts"
import { seL4_ARM_ASIDControl_MakePool, seL4_ARM_ASIDPool_Assign, seL4_Untyped_Retype } from "../../harness/builders.ts"
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

  it("an ASID pool: 1,024 page directories take every ASID of a new pool, one more is DeleteFirst (impl and spec agree)", () => {
    // 1,025 page directories of 16 KiB need 16 MiB and more: a 32 MiB RAM region, a 4,096-slot root CNode.
    const config: BootConfig = { ...defaultBootConfig, rootCNodeBits: 12, memory: [{ base: 0x2000_0000, size: 0x0200_0000, isDevice: false }] }
    const info = bootInfo(config)
    const asids = 2 ** asidLowBits
    // Root slots: the pool's untyped, the pool, then the page directories.
    const poolUntyped = info.empty.start
    const pool = poolUntyped + 1
    const pds = pool + 1
    expect(pds + asids + 1).toBeLessThan(info.empty.end)
    const setup: Event[] = [
      seL4_Untyped_Retype(info.untyped.start, ObjectType.Untyped, 12, InitialSlot.InitThreadCNode, 0, 0, poolUntyped, 1),
      seL4_ARM_ASIDControl_MakePool(InitialSlot.ASIDControl, poolUntyped, InitialSlot.InitThreadCNode, pool, 32),
      // At most 256 objects a call (seL4's CONFIG_RETYPE_FAN_OUT_LIMIT).
      ...Array.from({ length: Math.ceil((asids + 1) / 256) }, (_, k) =>
        seL4_Untyped_Retype(info.untyped.start, ObjectType.PageDirectory, 0, InitialSlot.InitThreadCNode, 0, 0, pds + 256 * k, Math.min(256, asids + 1 - 256 * k))),
    ]
    // Unlike pool 0, whose ASID 0 is never given out, a new pool gives out all 1,024 of its ASIDs.
    const assigns = Array.from({ length: asids + 1 }, (_, i) => seL4_ARM_ASIDPool_Assign(pool, pds + i))
    const { results, state: s } = specRun([...setup, ...assigns], config)
    expect(results.slice(0, setup.length + asids)).toEqual(Array.from({ length: setup.length + asids }, () => "Success"))
    expect(results.at(-1)).toBe("DeleteFirst")
    const made = s.kheap.get([...s.armASIDTable.values()].at(-1)!)
    expect(made?.tag === "ASIDPool" ? made.pool.size : -1).toBe(asids)
    // In lockstep, checked incrementally as campaigns check (the trace ends with a full check): in
    // full after every step, 2,000 steps at over 1,000 objects take minutes.
    expectLockstep([...setup, ...assigns], config, 256)
  }, 120_000)
})
