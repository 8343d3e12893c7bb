/**
 * Address-space states the random campaign reaches seldom, each the start of a family of traces:
 * a thread whose VTable cap went stale when its ASID was given to another directory (the pool
 * deleted and made again). Its accesses must go through the global directory, and fault; every
 * invocation that names the stale directory, or a frame or table whose mapping went with the ASID,
 * must answer as seL4 does; the impl must agree step by step, on the scenarios and on random
 * traces from them. And a directory's cache operations on ranges at the kernel window's edge.
 */
import { describe, expect, it } from "vitest"
import type { Event } from "../../model/index.ts"
import { InitialSlot, ObjectType, kernelBase, pageBits, tcbVTable } from "../../model/index.ts"
import type { KernelState } from "../../spec/index.ts"
import { getCap, slotOf } from "../../spec/state.ts"
import { findPDForASID } from "../../spec/kernel/vspace.ts"
import { loadWord } from "../../spec/machine/memory.ts"
import { userVSpaceRoot } from "../../spec/machine/mmu.ts"
import {
  seL4_ARM_Default_VMAttributes, seL4_ARM_PageDirectory_Clean_Data, seL4_ARM_PageTable_Map, seL4_ARM_PageTable_Unmap, seL4_ARM_Page_Clean_Data,
  seL4_ARM_Page_Map, seL4_ARM_Page_Unmap, seL4_ReadWrite, seL4_Yield, writeWord,
} from "../../harness/builders.ts"
import { retypeOne } from "../../harness/scenarios/retype.ts"
import { threadState } from "../../harness/query.ts"
import { AsidReuseSlots as S, asidReuseSetup, asidReuseVAddr } from "../../harness/scenarios/asidReuse.ts"
import { suiteBudget } from "./budget.ts"
import { expectLockstep, lockstepFrom, objectOf, specRun } from "./scenario.ts"

const run = (events: readonly Event[]): KernelState => specRun(events).state

describe("a VTable cap whose ASID was given to another directory", () => {
  it("the setup leaves the thread's directory cap stale: its ASID finds the other directory, so the thread runs in the global one", () => {
    const s = run(asidReuseSetup())
    const thread = objectOf(s, S.thread)
    const vt = getCap(s, slotOf(thread, tcbVTable))
    expect(vt.tag).toBe("PageDirectoryCap")
    if (vt.tag !== "PageDirectoryCap" || vt.asid === null) throw new Error("the thread's VTable cap has no ASID")
    expect(vt.ptr).toBe(objectOf(s, S.oldPD))
    const found = findPDForASID(s, vt.asid)
    expect(found.ok && found.value).toBe(objectOf(s, S.newPD))
    expect(userVSpaceRoot(s, thread)).toBe(s.armGlobalPD)
  })

  it("its store faults (translation) and writes nothing; the impl agrees at every step", () => {
    const setup = asidReuseSetup()
    const s0 = run(setup)
    const thread = objectOf(s0, S.thread)
    const page = objectOf(s0, S.page)
    const events: Event[] = [...setup, seL4_Yield(), writeWord(asidReuseVAddr + 8, 0x1234)]
    const s = run(events)
    // The thread ran (the root yielded to its equal), faulted, and with no fault handler stopped.
    expect(threadState(s, thread)?.tag).toBe("Inactive")
    expect(loadWord(s, page, 2)).toBe(0)
    expectLockstep(events)
  })

  it("with a page mapped at that address in the directory that now has its ASID, the store still faults: a stale cap never reaches another address space", () => {
    const setup = asidReuseSetup()
    const [otherPT, otherPage] = [142, 143]
    const events: Event[] = [
      ...setup,
      retypeOne(ObjectType.PageTable, 0, otherPT),
      retypeOne(ObjectType.SmallPage, pageBits, otherPage),
      seL4_ARM_PageTable_Map(otherPT, S.newPD, asidReuseVAddr, seL4_ARM_Default_VMAttributes),
      seL4_ARM_Page_Map(otherPage, S.newPD, asidReuseVAddr, seL4_ReadWrite, seL4_ARM_Default_VMAttributes),
      seL4_Yield(),
      writeWord(asidReuseVAddr + 8, 0x1234),
    ]
    const { results, state: s } = specRun(events)
    expect(results.slice(setup.length, setup.length + 4)).toEqual(["Success", "Success", "Success", "Success"])
    expect(threadState(s, objectOf(s, S.thread))?.tag).toBe("Inactive")
    expect(loadWord(s, objectOf(s, otherPage), 2)).toBe(0)
    expectLockstep(events)
  })

  const b = suiteBudget()
  it(`and random traces from there (seed=${b.seed})`, () => lockstepFrom(asidReuseSetup(), b.seed, 12))

  // The old directory's cap names an ASID whose pool is gone (after the delete), then one that
  // finds the other directory (after the pool is made again and its ASID given out). seL4 answers
  // every invocation that names the directory by that cap with FailedLookup, then with
  // InvalidCapability; a frame cap whose mapping went with the ASID is unmapped or flushed as seL4 has it.
  const setup = asidReuseSetup()
  const poolGone = setup.slice(0, -2)
  const [freePT, freePage] = [140, 141]
  const elsewhere = asidReuseVAddr + 0x0010_0000
  it.each([
    { state: "the pool gone", prefix: poolGone, expected: "FailedLookup" },
    { state: "the ASID given to another directory", prefix: setup, expected: "InvalidCapability" },
  ])("with $state, mapping or flushing through the stale directory cap fails with $expected; the impl agrees at every step", ({ prefix, expected }) => {
    const named = [
      seL4_ARM_PageTable_Map(freePT, S.oldPD, elsewhere, seL4_ARM_Default_VMAttributes),
      seL4_ARM_Page_Map(freePage, S.oldPD, elsewhere, seL4_ReadWrite, seL4_ARM_Default_VMAttributes),
      // The mapped page again, at its own address (a remap with other rights).
      seL4_ARM_Page_Map(S.page, S.oldPD, asidReuseVAddr, seL4_ReadWrite, seL4_ARM_Default_VMAttributes),
      seL4_ARM_PageDirectory_Clean_Data(S.oldPD, asidReuseVAddr, asidReuseVAddr + 0x1000),
    ]
    // Through the caps whose mappings the ASID carried: seL4 reads the mapping through the ASID.
    const mapped = [seL4_ARM_Page_Clean_Data(S.page, 0, 0x100), seL4_ARM_Page_Unmap(S.page), seL4_ARM_PageTable_Unmap(S.pt)]
    const events = [...prefix, retypeOne(ObjectType.PageTable, 0, freePT), retypeOne(ObjectType.SmallPage, pageBits, freePage), ...named, ...mapped]
    const { results } = specRun(events)
    const tail = results.slice(prefix.length + 2)
    expect(tail.slice(0, named.length)).toEqual(named.map(() => expected))
    expect(tail.slice(named.length)).toEqual([expected, "Success", "Success"])
    expectLockstep(events)
  })
})

describe("a page directory's cache operations at the kernel window's edge", () => {
  // seL4 decodeARMPageDirectoryInvocation: end <= start is InvalidArgument(1); a range that starts at
  // or reaches past kernelBase is IllegalOperation (before the ASID is looked at); the last user
  // page, with nothing mapped there, flushes nothing and succeeds.
  const pd = InitialSlot.InitThreadVSpace
  it.each([
    { start: kernelBase - 0x1000, end: kernelBase, expected: "Success" },
    { start: kernelBase - 0x1000, end: kernelBase + 1, expected: "IllegalOperation" },
    { start: kernelBase - 1, end: kernelBase + 0x1000, expected: "IllegalOperation" },
    { start: kernelBase, end: kernelBase + 0x1000, expected: "IllegalOperation" },
    { start: 0xffff_f000, end: 0xffff_ffff, expected: "IllegalOperation" },
    { start: kernelBase, end: kernelBase, expected: "InvalidArgument" },
  ])("[$start, $end) is $expected; the impl agrees", ({ start, end, expected }) => {
    const events = [seL4_ARM_PageDirectory_Clean_Data(pd, start, end)]
    expect(specRun(events).results).toEqual([expected])
    expectLockstep(events)
  })
})
