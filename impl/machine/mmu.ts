/**
 * The MMU as a user thread meets it (hardware, not kernel code): the page directory its accesses
 * go through (the one `setVMRoot` would load; kspec keeps no TTBR0), and the ARMv7 short-descriptor
 * table walk over the hardware words, with the rights the entry's AP and XN bits give a user.
 * A walk allocates nothing: it returns the frame and leaves the word index (or, on a fault, the
 * fault status) in `mmuResult`.
 * @category objects
 */
import type { MemoryAccessKind } from "../../model/index.ts"
import { FaultStatus, asidHigh, asidLow, largePageBits, pageBits, pdIndexOf, ptIndexOf, sectionBits, superSectionBits, tcbVTable } from "../../model/index.ts"
import type { ImplPageDirectory, ImplState, ImplTcb } from "../state.ts"
import { ImplFrame, KernelBug, getPageTableImpl, tcbSlot } from "../state.ts"
import {
  pde_get_pdeType, pde_pde_coarse_get_address, pde_pde_coarse, pde_pde_invalid, pde_pde_section_get_AP, pde_pde_section_get_XN,
  pde_pde_section_get_address, pde_pde_section_get_size, pte_get_AP, pte_get_pteType, pte_pte_invalid, pte_pte_large_get_XN,
  pte_pte_large_get_address, pte_pte_small, pte_pte_small_get_XN, pte_pte_small_get_address,
} from "../kernel/vspace.ts"

/** What the last `translate` found: the word's index in the frame, or the fault status. */
export const mmuResult = { word: 0, fsr: 0 }

/**
 * The page directory thread `thread`'s user accesses go through: its VTable cap's directory when
 * the cap's ASID still finds it, else the global directory.
 * @refines spec/machine/mmu#userVSpaceRoot
 */
export function userVSpaceRoot(k: ImplState, thread: ImplTcb): ImplPageDirectory {
  const cap = tcbSlot(thread, tcbVTable).cap
  if (cap.tag !== "PageDirectoryCap" || cap.asid === null) return k.armKSGlobalPD
  const pool = k.armKSASIDTable[asidHigh(cap.asid)] ?? null
  const pd = pool === null ? null : pool.array[asidLow(cap.asid)] ?? null
  return pd !== null && pd.base === cap.ptr ? pd : k.armKSGlobalPD
}

/** May a user access of `kind` use an entry with access bits `ap` and execute-never bit `xn`? (AP 3: read-write, 2: read-only, 1: kernel only.) */
const permits = (kind: MemoryAccessKind, ap: number, xn: number): boolean =>
  kind === "Write" ? ap === 3 : ap >= 2 && (kind === "Read" || xn === 0)

/**
 * Walk `pd` for a user access of `kind` at `vaddr`. Returns the frame, with the word's index in
 * `mmuResult.word`; or null, with the fault status in `mmuResult.fsr` (translation fault at the
 * section or page level, permission fault on a section or a page; WnR for a write).
 * @refines spec/machine/mmu#translate
 */
export function translate(k: ImplState, pd: ImplPageDirectory, vaddr: number, kind: MemoryAccessKind): ImplFrame | null {
  const wnr = kind === "Write" ? FaultStatus.WnR : 0
  const pde = pd.pd[pdIndexOf(vaddr)]!
  const type = pde_get_pdeType(pde)
  let base: number
  let sizeBits: number
  if (type === pde_pde_invalid || type === 3) {
    mmuResult.fsr = FaultStatus.TranslationSection | wnr
    return null
  }
  if (type === pde_pde_coarse) {
    const pt = getPageTableImpl(k, pde_pde_coarse_get_address(pde))
    const pte = pt.pt[ptIndexOf(vaddr)]!
    const pteType = pte_get_pteType(pte)
    if (pteType === pte_pte_invalid) {
      mmuResult.fsr = FaultStatus.TranslationPage | wnr
      return null
    }
    const small = pteType === pte_pte_small
    if (!permits(kind, pte_get_AP(pte), small ? pte_pte_small_get_XN(pte) : pte_pte_large_get_XN(pte))) {
      mmuResult.fsr = FaultStatus.PermissionPage | wnr
      return null
    }
    base = small ? pte_pte_small_get_address(pte) : pte_pte_large_get_address(pte)
    sizeBits = small ? pageBits : largePageBits
  } else {
    if (!permits(kind, pde_pde_section_get_AP(pde), pde_pde_section_get_XN(pde))) {
      mmuResult.fsr = FaultStatus.PermissionSection | wnr
      return null
    }
    const superSection = pde_pde_section_get_size(pde) === 1
    base = superSection ? (pde_pde_section_get_address(pde) & 0xff00_0000) >>> 0 : pde_pde_section_get_address(pde)
    sizeBits = superSection ? superSectionBits : sectionBits
  }
  const frame = k.objects.lookup(base)
  if (!(frame instanceof ImplFrame)) throw new KernelBug("translate: a user mapping names no frame")
  mmuResult.word = (vaddr & ((1 << sizeBits) - 1)) >>> 2
  return frame
}
