/**
 * The MMU as a user thread meets it: the page directory its accesses translate through (the one
 * seL4's `setVMRoot` loads), the table walk (ARMv7 short descriptors), and the fault status a failed
 * access reports. This is hardware, not kernel code: a translation that succeeds enters no kernel.
 * kspec keeps no TTBR0: the root is worked out at each access, as if `setVMRoot` had just run.
 * @category objects
 */
import type { MemoryAccessKind, PPtr } from "../../model/index.ts"
import {
  FaultStatus, VMAttr, bit, largePageBits, pageBits, pdIndexOf, ptIndexOf, sectionBits, superSectionBits, tcbVTable,
} from "../../model/index.ts"
import type { VMRights } from "../../model/index.ts"
import type { KernelState } from "../state.ts"
import { getCap, slotOf } from "../state.ts"
import { findPDForASID, getPDE, getPTE } from "../kernel/vspace.ts"

/**
 * The page directory thread `t`'s user accesses go through: its VTable cap's directory when that
 * cap has an ASID that still finds it, else the global directory (no user mappings). Mirrors
 * seL4 aarch32 `setVMRoot`.
 */
export const userVSpaceRoot = (s: KernelState, t: PPtr): PPtr => {
  const c = getCap(s, slotOf(t, tcbVTable))
  if (c.tag !== "PageDirectoryCap" || c.asid === null) return s.armGlobalPD
  const found = findPDForASID(s, c.asid)
  return found.ok && found.value === c.ptr ? c.ptr : s.armGlobalPD
}

/** A translated access: the frame and the index of the word (the address rounded down to a word), or the fault status. */
export type Translation =
  | { readonly ok: true; readonly frame: PPtr; readonly word: number }
  | { readonly ok: false; readonly fsr: number }

/** May a user access of `kind` go through an entry with these rights and attributes? */
const permits = (kind: MemoryAccessKind, rights: VMRights, attr: number): boolean =>
  kind === "Write" ? rights === "ReadWrite"
    : rights !== "KernelOnly" && (kind === "Read" || (attr & VMAttr.ExecuteNever) === 0)

/**
 * Walk `pd` for a user access of `kind` at `vaddr`: a section or super section in the directory,
 * a small or large page through a page table. No entry: a translation fault (section or page
 * level); an entry the access may not use (kernel-only, read-only for a write, execute-never for
 * a fetch): a permission fault. A data abort on a write sets WnR.
 */
export const translate = (s: KernelState, pd: PPtr, vaddr: number, kind: MemoryAccessKind): Translation => {
  const wnr = kind === "Write" ? FaultStatus.WnR : 0
  const fault = (status: number): Translation => ({ ok: false, fsr: status | wnr })
  const pde = getPDE(s, pd, pdIndexOf(vaddr))
  let frame: PPtr
  let sizeBits: number
  switch (pde.tag) {
    case "InvalidPDE": return fault(FaultStatus.TranslationSection)
    case "SectionPDE": case "SuperSectionPDE":
      if (!permits(kind, pde.rights, pde.attr)) return fault(FaultStatus.PermissionSection)
      frame = pde.frame
      sizeBits = pde.tag === "SectionPDE" ? sectionBits : superSectionBits
      break
    case "PageTablePDE": {
      const pte = getPTE(s, pde.table, ptIndexOf(vaddr))
      if (pte.tag === "InvalidPTE") return fault(FaultStatus.TranslationPage)
      if (!permits(kind, pte.rights, pte.attr)) return fault(FaultStatus.PermissionPage)
      frame = pte.frame
      sizeBits = pte.tag === "SmallPagePTE" ? pageBits : largePageBits
      break
    }
  }
  return { ok: true, frame, word: (vaddr & (bit(sizeBits) - 1)) >>> 2 }
}
