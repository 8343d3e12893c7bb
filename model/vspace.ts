/**
 * The vocabulary of aarch32 address spaces (seL4 include/arch/arm/arch/32/mode/object/structures.bf,
 * l4v ARM Arch_Structs_A): page-directory and page-table entries, VM attributes, and the helpers
 * that split a virtual address. Shared by spec and impl; no behaviour beyond arithmetic.
 * @category objects
 */
import type { VMRights } from "./caps.ts"
import { asidLowBits, pageBits, ptIndexBits, sectionBits } from "./constants.ts"
import type { PPtr } from "./objects.ts"

/**
 * VM attribute bits as a user passes them (libsel4 `seL4_ARM_VMAttributes`): bit 0 PageCacheable,
 * bit 1 ParityEnabled, bit 2 ExecuteNever. Mirrors seL4 `vmAttributesFromWord` (the other bits are ignored).
 */
export const VMAttr = { PageCacheable: 1, ParityEnabled: 2, ExecuteNever: 4 } as const
export const vmAttributesFromWord = (w: number): number => w & 7

/**
 * A page-table entry (l4v `pte`). A large page fills 16 consecutive entries, each the same
 * `LargePagePTE`, as the hardware wants them (l4v keeps one "master" entry instead). The frame
 * is the frame object's address: kspec's object pointers are physical addresses.
 */
export type PTE =
  | { readonly tag: "InvalidPTE" }
  | { readonly tag: "SmallPagePTE"; readonly frame: PPtr; readonly attr: number; readonly rights: VMRights }
  | { readonly tag: "LargePagePTE"; readonly frame: PPtr; readonly attr: number; readonly rights: VMRights }

/**
 * A page-directory entry (l4v `pde`): a page table, a 1 MiB section, or one of the 16 identical
 * entries of a 16 MiB super section.
 */
export type PDE =
  | { readonly tag: "InvalidPDE" }
  | { readonly tag: "PageTablePDE"; readonly table: PPtr; readonly attr: number }
  | { readonly tag: "SectionPDE"; readonly frame: PPtr; readonly attr: number; readonly rights: VMRights }
  | { readonly tag: "SuperSectionPDE"; readonly frame: PPtr; readonly attr: number; readonly rights: VMRights }

export const InvalidPTE: PTE = { tag: "InvalidPTE" }
export const InvalidPDE: PDE = { tag: "InvalidPDE" }

/** The page-directory index of a virtual address (its top 12 bits). Mirrors seL4 `lookupPDSlot`'s index. */
export const pdIndexOf = (vaddr: number): number => vaddr >>> sectionBits
/** The page-table index of a virtual address (bits 12..19). Mirrors seL4 `lookupPTSlot`'s index. */
export const ptIndexOf = (vaddr: number): number => (vaddr >>> pageBits) & ((1 << ptIndexBits) - 1)
/** The high 7 bits of an ASID: its pool's index in the ASID table. seL4 `ASID_HIGH`. */
export const asidHigh = (asid: number): number => asid >>> asidLowBits
/** The low 10 bits of an ASID: its index in its pool. seL4 `ASID_LOW`. */
export const asidLow = (asid: number): number => asid & ((1 << asidLowBits) - 1)

/**
 * Fault status values (ARMv7 short-descriptor DFSR/IFSR): translation fault at the first level
 * (no directory entry) or the second (no page-table entry), permission fault on a section or on a
 * page; WnR (bit 11, data aborts only) is set for a write.
 */
export const FaultStatus = { TranslationSection: 0x5, TranslationPage: 0x7, PermissionSection: 0xd, PermissionPage: 0xf, WnR: 0x800 } as const

/** Short readable rendering of an entry, for traces and diffs. */
export const showPDE = (e: PDE): string => {
  const h = (x: number) => `0x${x.toString(16)}`
  switch (e.tag) {
    case "InvalidPDE": return "Invalid"
    case "PageTablePDE": return `PT(${h(e.table)}, attr=${e.attr})`
    case "SectionPDE": return `Section(${h(e.frame)}, ${e.rights}, attr=${e.attr})`
    case "SuperSectionPDE": return `SuperSection(${h(e.frame)}, ${e.rights}, attr=${e.attr})`
  }
}
export const showPTE = (e: PTE): string => {
  const h = (x: number) => `0x${x.toString(16)}`
  switch (e.tag) {
    case "InvalidPTE": return "Invalid"
    case "SmallPagePTE": return `Small(${h(e.frame)}, ${e.rights}, attr=${e.attr})`
    case "LargePagePTE": return `Large(${h(e.frame)}, ${e.rights}, attr=${e.attr})`
  }
}
