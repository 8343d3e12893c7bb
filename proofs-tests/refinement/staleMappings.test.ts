/**
 * Unmapping must touch only the mapping the frame cap made. seL4's unmapPage re-reads the entry
 * at the cap's recorded address and leaves it alone unless it still maps that frame at that size
 * (a cap's mapping goes stale when its page table is unmapped and another takes its place), and
 * a super section's (a large page's) unmap clears its 16 entries and not the 17th. Random traces rarely build
 * either, so two scenarios do, in lockstep, with what seL4 leaves behind asserted on the spec.
 */
import { describe, expect, it } from "vitest"
import type { Event } from "../../model/index.ts"
import { InitialSlot, ObjectType, defaultBootConfig, largePageBits, pdIndexOf, ptIndexOf, sectionBits, superSectionBits } from "../../model/index.ts"
import type { KernelState } from "../../spec/index.ts"
import { boot } from "../../spec/index.ts"
import { bootInfo } from "../../spec/kernel/boot.ts"
import {
  seL4_ARM_Default_VMAttributes, seL4_ARM_PageTable_Map, seL4_ARM_PageTable_Unmap, seL4_ARM_Page_Map, seL4_ARM_Page_Unmap, seL4_ReadWrite,
  seL4_Untyped_Retype,
} from "../../harness/builders.ts"
import { capAt } from "../../harness/query.ts"
import { retypeOne } from "../../harness/scenarios/retype.ts"
import { expectLockstep, specRun } from "./scenario.ts"

const root = InitialSlot.InitThreadCNode
const vspace = InitialSlot.InitThreadVSpace
const info = bootInfo(defaultBootConfig)
/** A user address on a super-section boundary, clear of the root task's own mappings. */
const V = 0x0800_0000

/** Run `events` on the spec (each must succeed) and in lockstep; the spec's final state. */
const run = (events: readonly Event[]): KernelState => {
  const { results, state } = specRun(events)
  expect(results.map((r, i) => `${i}: ${r}`)).toEqual(results.map((_, i) => `${i}: Success`))
  expectLockstep(events)
  return state
}

/** The root task's page directory object. */
const rootPD = (s: KernelState) => {
  const c = capAt(s, s.curThread, vspace)
  const o = c?.tag === "PageDirectoryCap" ? s.kheap.get(c.ptr) : undefined
  if (o?.tag !== "PageDirectory") throw new Error("no root page directory")
  return o
}

describe("unmapping touches only the frame's own mapping", () => {
  it.each([
    { kind: "large page", type: ObjectType.LargePage, entries: 16, pte: "LargePagePTE" },
    { kind: "small page", type: ObjectType.SmallPage, entries: 1, pte: "SmallPagePTE" },
  ])("a stale $kind cap (its page table replaced, another $kind at its address) unmaps nothing", ({ type, entries, pte: pteTag }) => {
    const [pt1, pt2, frame1, frame2] = [info.empty.start, info.empty.start + 1, info.empty.start + 2, info.empty.start + 3]
    const retype = (type: number, slot: number) => retypeOne(type, 0, slot)
    const s = run([
      retype(ObjectType.PageTable, pt1), retype(ObjectType.PageTable, pt2),
      retype(type, frame1), retype(type, frame2),
      seL4_ARM_PageTable_Map(pt1, vspace, V, seL4_ARM_Default_VMAttributes),
      seL4_ARM_Page_Map(frame1, vspace, V, seL4_ReadWrite, seL4_ARM_Default_VMAttributes),
      // The page table goes; the first frame's cap still records its mapping at V.
      seL4_ARM_PageTable_Unmap(pt1),
      seL4_ARM_PageTable_Map(pt2, vspace, V, seL4_ARM_Default_VMAttributes),
      seL4_ARM_Page_Map(frame2, vspace, V, seL4_ReadWrite, seL4_ARM_Default_VMAttributes),
      seL4_ARM_Page_Unmap(frame1),
    ])
    // The second frame's entries are still there.
    const pde = rootPD(s).pdes.get(pdIndexOf(V))
    expect(pde?.tag).toBe("PageTablePDE")
    const pt = pde?.tag === "PageTablePDE" ? s.kheap.get(pde.table) : undefined
    expect(pt?.tag === "PageTable" ? Array.from({ length: entries }, (_, j) => pt.ptes.get(ptIndexOf(V) + j)?.tag) : []).toEqual(new Array(entries).fill(pteTag))
  })

  it("a super section's unmap clears its 16 entries and leaves the section mapped just above it", () => {
    // The device untyped of 16 MiB holds the super section; the first untyped (1 MiB) the section.
    const s0 = boot(defaultBootConfig)
    const device = Array.from({ length: info.untyped.end - info.untyped.start }, (_, i) => info.untyped.start + i)
      .find((c) => { const u = capAt(s0, s0.curThread, c); return u?.tag === "UntypedCap" && u.sizeBits === superSectionBits })!
    const [superSection, section] = [info.empty.start, info.empty.start + 1]
    const s = run([
      seL4_Untyped_Retype(device, ObjectType.SuperSection, 0, root, 0, 0, superSection, 1),
      retypeOne(ObjectType.Section, 0, section),
      seL4_ARM_Page_Map(superSection, vspace, V, seL4_ReadWrite, seL4_ARM_Default_VMAttributes),
      seL4_ARM_Page_Map(section, vspace, V + 2 ** superSectionBits, seL4_ReadWrite, seL4_ARM_Default_VMAttributes),
      seL4_ARM_Page_Unmap(superSection),
    ])
    const pdes = rootPD(s).pdes
    expect(Array.from({ length: 17 }, (_, j) => pdes.get(pdIndexOf(V) + j)?.tag ?? "InvalidPDE"))
      .toEqual([...new Array(16).fill("InvalidPDE"), "SectionPDE"])
    expect(pdIndexOf(V + 2 ** superSectionBits) - pdIndexOf(V)).toBe(2 ** (superSectionBits - sectionBits))
  })

  it("a large page's unmap clears its 16 entries and leaves the small page mapped just above it", () => {
    const [pt, large, small] = [info.empty.start, info.empty.start + 1, info.empty.start + 2]
    const s = run([
      retypeOne(ObjectType.PageTable, 0, pt), retypeOne(ObjectType.LargePage, 0, large), retypeOne(ObjectType.SmallPage, 0, small),
      seL4_ARM_PageTable_Map(pt, vspace, V, seL4_ARM_Default_VMAttributes),
      seL4_ARM_Page_Map(large, vspace, V, seL4_ReadWrite, seL4_ARM_Default_VMAttributes),
      seL4_ARM_Page_Map(small, vspace, V + 2 ** largePageBits, seL4_ReadWrite, seL4_ARM_Default_VMAttributes),
      seL4_ARM_Page_Unmap(large),
    ])
    const pde = rootPD(s).pdes.get(pdIndexOf(V))
    const table = pde?.tag === "PageTablePDE" ? s.kheap.get(pde.table) : undefined
    expect(table?.tag === "PageTable" ? Array.from({ length: 17 }, (_, j) => table.ptes.get(ptIndexOf(V) + j)?.tag ?? "InvalidPTE") : [])
      .toEqual([...new Array(16).fill("InvalidPTE"), "SmallPagePTE"])
    expect(ptIndexOf(V + 2 ** largePageBits) - ptIndexOf(V)).toBe(16)
  })
})
