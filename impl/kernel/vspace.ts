/**
 * Address spaces on aarch32 (seL4 src/arch/arm/32/kernel/vspace.c, non-hypervisor, one core): the
 * ASID table, page-directory and page-table walks over hardware short descriptors, mapping and
 * unmapping, the IPC buffer and VSpace-root checks, and decodeARMMMUInvocation with the perform
 * functions. Entries are 32-bit words in the ARMv7 short-descriptor layout of seL4's
 * structures.bf (`pde_coarse`, `pde_section`, `pte_small`, `pte_large`); kspec's object pointers
 * are physical addresses, so an entry's address is the object's pointer. No caches, TLB or
 * hardware ASIDs are kept: the flushes check their arguments and do nothing.
 * @category objects
 */
import type { Cap, Rights, VMRights } from "../../model/index.ts"
import {
  InvocationLabel as L, VMAttr, asidHigh, asidHighBits, asidLow, asidLowBits, asidPoolBits, kernelBase, largePageBits, mask,
  msgAlignBits, pageBits, pagesPerLargePage, pdIndexOf, ptIndexBits, ptIndexOf, rightsFromWord, sectionBits,
  sectionsPerSuperSection, superSectionBits, tcbBuffer, bit as BIT,
} from "../../model/index.ts"
import { getSyscallArg } from "../api/syscall.ts"
import { lookedUpSlot, lookupTargetSlot } from "./cspace.ts"
import { setThreadState } from "./thread.ts"
import type { Cte, Exception, ImplState, ImplTcb } from "../state.ts"
import {
  EXCEPTION_NONE, ImplASIDPool, ImplFrame, ImplPageDirectory, ImplPageTable, KernelBug, ThreadStateRestart, ThreadStateRunning,
  extraCapSlot, getPageDirectoryImpl, getPageTableImpl, syscallError, tcbSlot,
} from "../state.ts"
import { cteInsert, ensureEmptySlot, ensureNoChildren, isFinalCapability } from "../object/cnode.ts"
import { deleteObjects } from "../object/untyped.ts"
import { bufferView } from "../machine/memory.ts"

// ---- short descriptors (structures.bf, ARMv7 short-descriptor format) --------------------------------

/** `pde_t` tags: bits 1..0. */
export const pde_pde_invalid = 0
export const pde_pde_coarse = 1
export const pde_pde_section = 2
/** `pte_t` kinds: bit 1 set is a small page; bits 1..0 = 01 a large page; 0 invalid. */
export const pte_pte_invalid = 0
export const pte_pte_large = 1
export const pte_pte_small = 2

export const pde_get_pdeType = (w: number): number => w & 3
export const pte_get_pteType = (w: number): number => ((w & 2) !== 0 ? pte_pte_small : (w & 1) !== 0 ? pte_pte_large : pte_pte_invalid)

/** `pde_coarse`: address 31..10, P 9, Domain 8..5, type 01. */
export const pde_pde_coarse_new = (address: number, P: number, domain: number): number =>
  ((address & 0xffff_fc00) | ((P & 1) << 9) | ((domain & 0xf) << 5) | pde_pde_coarse) >>> 0
export const pde_pde_coarse_get_address = (w: number): number => (w & 0xffff_fc00) >>> 0
export const pde_pde_coarse_get_P = (w: number): number => (w >>> 9) & 1

/** `pde_section`: address 31..20, size 18, nG 17, S 16, APX 15, TEX 14..12, AP 11..10, P 9, Domain 8..5, XN 4, C 3, B 2, type 10. */
export const pde_pde_section_new = (
  address: number, size: number, nG: number, S: number, APX: number, TEX: number, AP: number, P: number, domain: number, XN: number,
  C: number, B: number,
): number =>
  ((address & 0xfff0_0000) | ((size & 1) << 18) | ((nG & 1) << 17) | ((S & 1) << 16) | ((APX & 1) << 15) | ((TEX & 7) << 12) |
    ((AP & 3) << 10) | ((P & 1) << 9) | ((domain & 0xf) << 5) | ((XN & 1) << 4) | ((C & 1) << 3) | ((B & 1) << 2) | pde_pde_section) >>> 0
export const pde_pde_section_get_address = (w: number): number => (w & 0xfff0_0000) >>> 0
export const pde_pde_section_get_size = (w: number): number => (w >>> 18) & 1
export const pde_pde_section_get_AP = (w: number): number => (w >>> 10) & 3
export const pde_pde_section_get_P = (w: number): number => (w >>> 9) & 1
export const pde_pde_section_get_XN = (w: number): number => (w >>> 4) & 1
export const pde_pde_section_get_B = (w: number): number => (w >>> 2) & 1

/** `pte_small`: address 31..12, nG 11, S 10, APX 9, TEX 8..6, AP 5..4, C 3, B 2, 1, XN 0. */
export const pte_pte_small_new = (
  address: number, nG: number, S: number, APX: number, TEX: number, AP: number, C: number, B: number, XN: number,
): number =>
  ((address & 0xffff_f000) | ((nG & 1) << 11) | ((S & 1) << 10) | ((APX & 1) << 9) | ((TEX & 7) << 6) | ((AP & 3) << 4) |
    ((C & 1) << 3) | ((B & 1) << 2) | 2 | (XN & 1)) >>> 0
export const pte_pte_small_get_address = (w: number): number => (w & 0xffff_f000) >>> 0
export const pte_pte_small_get_XN = (w: number): number => w & 1

/** `pte_large`: address 31..16, XN 15, TEX 14..12, nG 11, S 10, APX 9, AP 5..4, C 3, B 2, 0, reserved 1. */
export const pte_pte_large_new = (
  address: number, XN: number, TEX: number, nG: number, S: number, APX: number, AP: number, C: number, B: number,
): number =>
  ((address & 0xffff_0000) | ((XN & 1) << 15) | ((TEX & 7) << 12) | ((nG & 1) << 11) | ((S & 1) << 10) | ((APX & 1) << 9) |
    ((AP & 3) << 4) | ((C & 1) << 3) | ((B & 1) << 2) | 1) >>> 0
export const pte_pte_large_get_address = (w: number): number => (w & 0xffff_0000) >>> 0
export const pte_pte_large_get_XN = (w: number): number => (w >>> 15) & 1
/** AP and B sit at the same bits in small and large PTEs. */
export const pte_get_AP = (w: number): number => (w >>> 4) & 3
export const pte_get_B = (w: number): number => (w >>> 2) & 1

/** C `APFromVMRights` (non-hypervisor): KernelOnly 1, ReadOnly 2, ReadWrite 3. */
export const APFromVMRights = (r: VMRights): number => (r === "KernelOnly" ? 1 : r === "ReadOnly" ? 2 : 3)
/** The VM rights of an AP field (the inverse of APFromVMRights; AP 0, no access, is never written). */
export const vmRightsFromAP = (ap: number): VMRights => (ap === 3 ? "ReadWrite" : ap === 2 ? "ReadOnly" : "KernelOnly")

/**
 * A user PTE for a small or large page: not global, cacheable as TEX=5/B=1 (else strongly ordered,
 * shared), the AP of the rights, XN as asked. C `makeUserPTE`.
 */
export function makeUserPTE(large: boolean, paddr: number, cacheable: boolean, nonexecutable: boolean, vmRights: VMRights): number {
  const ap = APFromVMRights(vmRights)
  const xn = nonexecutable ? 1 : 0
  if (!large) return cacheable ? pte_pte_small_new(paddr, 1, 0, 0, 5, ap, 0, 1, xn) : pte_pte_small_new(paddr, 1, 1, 0, 0, ap, 0, 0, xn)
  return cacheable ? pte_pte_large_new(paddr, xn, 5, 1, 0, 0, ap, 0, 1) : pte_pte_large_new(paddr, xn, 0, 1, 1, 0, ap, 0, 0)
}

/** A user PDE for a section or super section. C `makeUserPDE`. */
export function makeUserPDE(superSection: boolean, paddr: number, parity: boolean, cacheable: boolean, nonexecutable: boolean, vmRights: VMRights): number {
  const ap = APFromVMRights(vmRights)
  const size = superSection ? 1 : 0
  const p = parity ? 1 : 0
  const xn = nonexecutable ? 1 : 0
  return cacheable
    ? pde_pde_section_new(paddr, size, 1, 0, 0, 5, ap, p, 0, xn, 0, 1)
    : pde_pde_section_new(paddr, size, 1, 1, 0, 0, ap, p, 0, xn, 0, 0)
}

// ---- the IPC buffer and the VSpace root ---------------------------------------------------------------

/**
 * The thread's IPC buffer as the kernel reaches it: through the non-device frame cap in its buffer
 * slot (ReadWrite, or ReadOnly when the kernel only reads it, `isReceiver` false), at the buffer
 * address's offset in that frame; a 128-word view (element i is seL4_IPCBuffer word i), or null.
 * @refines spec/kernel/vspace#lookupIPCBuffer
 */
export function lookupIPCBuffer(k: ImplState, isReceiver: boolean, thread: ImplTcb): Uint32Array | null {
  const cap = tcbSlot(thread, tcbBuffer).cap
  if (cap.tag !== "FrameCap") return null
  if (cap.isDevice) return null
  if (!(cap.vmRights === "ReadWrite" || (!isReceiver && cap.vmRights === "ReadOnly"))) return null
  const frame = k.objects.lookup(cap.ptr)
  if (!(frame instanceof ImplFrame)) throw new KernelBug("lookupIPCBuffer: the buffer cap names no frame")
  return bufferView(frame, (thread.tcbIPCBuffer & mask(cap.sizeBits)) >>> 2)
}

/**
 * Only a non-device frame can be an IPC buffer, at a 2^9-aligned address.
 * @refines spec/kernel/vspace#checkValidIPCBuffer
 */
export function checkValidIPCBuffer(k: ImplState, vptr: number, cap: Cap): Exception {
  if (cap.tag !== "FrameCap") return syscallError(k, { tag: "IllegalOperation" })
  if (cap.isDevice) return syscallError(k, { tag: "IllegalOperation" })
  if ((vptr & mask(msgAlignBits)) !== 0) return syscallError(k, { tag: "AlignmentError" })
  return EXCEPTION_NONE
}

/**
 * A VSpace root is a page-directory cap with an ASID.
 * @refines spec/kernel/vspace#isValidVTableRoot
 */
export const isValidVTableRoot = (cap: Cap): boolean => cap.tag === "PageDirectoryCap" && cap.asid !== null

/**
 * C `maskVMRights` (ARM 32; write-only is not supported).
 * @refines spec/kernel/vspace#maskVMRights
 */
export function maskVMRights(vm: VMRights, r: Rights): VMRights {
  const canRead = (r & 2) !== 0
  if (vm === "ReadOnly" && canRead) return "ReadOnly"
  if (vm === "ReadWrite" && canRead) return (r & 1) !== 0 ? "ReadWrite" : "ReadOnly"
  return "KernelOnly"
}

// ---- walks ------------------------------------------------------------------------------------------------

/**
 * The page directory of `asid`, or null with InvalidRoot in `currentLookupFault`.
 * @refines spec/kernel/vspace#findPDForASID
 */
export function findPDForASID(k: ImplState, asid: number): ImplPageDirectory | null {
  const poolPtr = k.armKSASIDTable[asidHigh(asid)] ?? null
  if (poolPtr === null) {
    k.currentLookupFault = invalidRoot
    return null
  }
  const pd = poolPtr.array[asidLow(asid)] ?? null
  if (pd === null) {
    k.currentLookupFault = invalidRoot
    return null
  }
  return pd
}

const invalidRoot = { tag: "InvalidRoot" } as const
const missingPT = { tag: "MissingCapability", bitsLeft: ptIndexBits + pageBits } as const

/**
 * The page table holding `vptr`'s PTE (the index is `ptIndexOf(vptr)`), or null with
 * MissingCapability(20) in `currentLookupFault` when the PDE is no page table.
 * @refines spec/kernel/vspace#lookupPTSlot
 */
export function lookupPTSlot(k: ImplState, pd: ImplPageDirectory, vptr: number): ImplPageTable | null {
  const pde = pd.pd[pdIndexOf(vptr)]!
  if (pde_get_pdeType(pde) !== pde_pde_coarse) {
    k.currentLookupFault = missingPT
    return null
  }
  return getPageTableImpl(k, pde_pde_coarse_get_address(pde))
}

/** C `resolve_ret_t`: the frame an address is mapped to. */
export interface ResolveRet { frameBase: number; frameSize: number; valid: boolean }

/**
 * The frame `vaddr` is mapped to in `pd` (size bits and base), or `valid: false`.
 * @refines spec/kernel/vspace#resolveVAddr
 */
export function resolveVAddr(k: ImplState, pd: ImplPageDirectory, vaddr: number): ResolveRet {
  const pde = pd.pd[pdIndexOf(vaddr)]!
  switch (pde_get_pdeType(pde)) {
    case pde_pde_section:
      return { frameBase: pde_pde_section_get_address(pde), frameSize: pde_pde_section_get_size(pde) !== 0 ? superSectionBits : sectionBits, valid: true }
    case pde_pde_coarse: {
      const pte = getPageTableImpl(k, pde_pde_coarse_get_address(pde)).pt[ptIndexOf(vaddr)]!
      switch (pte_get_pteType(pte)) {
        case pte_pte_small: return { frameBase: pte_pte_small_get_address(pte), frameSize: pageBits, valid: true }
        case pte_pte_large: return { frameBase: pte_pte_large_get_address(pte), frameSize: largePageBits, valid: true }
        default: break
      }
      break
    }
    default: break
  }
  return { frameBase: 0, frameSize: 0, valid: false }
}

/**
 * Copy the global page directory's kernel-window entries into a new page directory.
 * @refines spec/kernel/vspace#copyGlobalMappings
 */
export function copyGlobalMappings(k: ImplState, newPD: ImplPageDirectory): void {
  const global = k.armKSGlobalPD.pd
  // One block copy of the kernel window (C's loop over the same entries).
  const from = pdIndexOf(kernelBase)
  newPD.pd.set(global.subarray(from, Math.min(global.length, newPD.pd.length)), from)
}

// ---- unmapping and deletion ---------------------------------------------------------------------------

/**
 * The page directory `pt` is mapped in at `vaddr` under `asid`, or null.
 * @refines spec/kernel/vspace#pageTableMapped
 */
export function pageTableMapped(k: ImplState, asid: number, vaddr: number, pt: ImplPageTable): ImplPageDirectory | null {
  const pd = findPDForASID(k, asid)
  if (pd === null) return null
  const pde = pd.pd[pdIndexOf(vaddr)]!
  if (pde_get_pdeType(pde) === pde_pde_coarse && pde_pde_coarse_get_address(pde) === pt.base) return pd
  return null
}

/**
 * Remove a page table from its page directory, if it is still there.
 * @refines spec/kernel/vspace#unmapPageTable
 */
export function unmapPageTable(k: ImplState, asid: number, vaddr: number, pt: ImplPageTable): void {
  const pd = pageTableMapped(k, asid, vaddr, pt)
  if (pd !== null) pd.pd[pdIndexOf(vaddr)] = 0
}

/**
 * Remove a frame's mapping if the entries at (asid, vptr) still map it with its size.
 * @refines spec/kernel/vspace#unmapPage
 */
export function unmapPage(k: ImplState, pageSize: number, asid: number, vptr: number, pptr: number): void {
  const pd = findPDForASID(k, asid)
  if (pd === null) return
  switch (pageSize) {
    case pageBits: {
      const pt = lookupPTSlot(k, pd, vptr)
      if (pt === null) return
      const i = ptIndexOf(vptr)
      const pte = pt.pt[i]!
      if (pte_get_pteType(pte) !== pte_pte_small) return
      if (pte_pte_small_get_address(pte) !== pptr) return
      pt.pt[i] = 0
      break
    }
    case largePageBits: {
      const pt = lookupPTSlot(k, pd, vptr)
      if (pt === null) return
      const i = ptIndexOf(vptr)
      const pte = pt.pt[i]!
      if (pte_get_pteType(pte) !== pte_pte_large) return
      if (pte_pte_large_get_address(pte) !== pptr) return
      for (let j = 0; j < pagesPerLargePage; j++) pt.pt[i + j] = 0
      break
    }
    case sectionBits: {
      const i = pdIndexOf(vptr)
      const pde = pd.pd[i]!
      if (pde_get_pdeType(pde) !== pde_pde_section) return
      if (pde_pde_section_get_size(pde) !== 0) return
      if (pde_pde_section_get_address(pde) !== pptr) return
      pd.pd[i] = 0
      break
    }
    case superSectionBits: {
      const i = pdIndexOf(vptr)
      const pde = pd.pd[i]!
      if (pde_get_pdeType(pde) !== pde_pde_section) return
      if (pde_pde_section_get_size(pde) !== 1) return
      if (pde_pde_section_get_address(pde) !== pptr) return
      for (let j = 0; j < sectionsPerSuperSection; j++) pd.pd[i + j] = 0
      break
    }
    default:
      throw new KernelBug("Invalid ARM page type")
  }
}

/**
 * A page directory loses its ASID (if the pool still names it).
 * @refines spec/kernel/vspace#deleteASID
 */
export function deleteASID(k: ImplState, asid: number, pd: ImplPageDirectory): void {
  const poolPtr = k.armKSASIDTable[asidHigh(asid)] ?? null
  if (poolPtr !== null && poolPtr.array[asidLow(asid)] === pd) poolPtr.array[asidLow(asid)] = null
}

/**
 * An ASID pool leaves the ASID table (if the table still names it).
 * @refines spec/kernel/vspace#deleteASIDPool
 */
export function deleteASIDPool(k: ImplState, asidBase: number, pool: ImplASIDPool): void {
  // Haskell error: "ASID pool's base must be aligned"
  if ((asidBase & mask(asidLowBits)) !== 0) throw new KernelBug("ASID pool's base must be aligned")
  if (k.armKSASIDTable[asidHigh(asidBase)] === pool) k.armKSASIDTable[asidHigh(asidBase)] = null
}

// ---- mapping --------------------------------------------------------------------------------------------

/** What createSafeMappingEntries found: the table, the first index and how many entries, and the entry. */
let mapTable: ImplPageTable | ImplPageDirectory | null = null
let mapIndex = 0
let mapLength = 0
let mapEntry = 0

/**
 * The PTEs that map a small or large page at `vaddr` (in module state: table, index, length,
 * entry). FailedLookup(dest) with MissingCapability(20) without a page table; DeleteFirst over an
 * entry of the other size.
 * @refines spec/kernel/vspace#createSafeMappingEntries
 */
export function createSafeMappingEntries_PTE(
  k: ImplState, base: number, vaddr: number, frameSize: number, vmRights: VMRights, attr: number, pd: ImplPageDirectory,
): Exception {
  const large = frameSize === largePageBits
  mapEntry = makeUserPTE(large, base, (attr & VMAttr.PageCacheable) !== 0, (attr & VMAttr.ExecuteNever) !== 0, vmRights)
  mapLength = large ? pagesPerLargePage : 1
  const pt = lookupPTSlot(k, pd, vaddr)
  if (pt === null) return syscallError(k, { tag: "FailedLookup", wasSource: false, failure: k.currentLookupFault })
  mapTable = pt
  mapIndex = ptIndexOf(vaddr)
  for (let i = 0; i < mapLength; i++) {
    if (pte_get_pteType(pt.pt[mapIndex + i]!) === (large ? pte_pte_small : pte_pte_large)) return syscallError(k, { tag: "DeleteFirst" })
  }
  return EXCEPTION_NONE
}

/**
 * The PDEs that map a section or super section at `vaddr`. DeleteFirst over a page table or an
 * entry of the other size.
 * @refines spec/kernel/vspace#createSafeMappingEntries
 */
export function createSafeMappingEntries_PDE(
  k: ImplState, base: number, vaddr: number, frameSize: number, vmRights: VMRights, attr: number, pd: ImplPageDirectory,
): Exception {
  const superSection = frameSize === superSectionBits
  mapEntry = makeUserPDE(superSection, base, (attr & VMAttr.ParityEnabled) !== 0, (attr & VMAttr.PageCacheable) !== 0,
    (attr & VMAttr.ExecuteNever) !== 0, vmRights)
  mapTable = pd
  mapIndex = pdIndexOf(vaddr)
  mapLength = superSection ? sectionsPerSuperSection : 1
  for (let i = 0; i < mapLength; i++) {
    const cur = pd.pd[mapIndex + i]!
    const t = pde_get_pdeType(cur)
    if (t !== pde_pde_invalid && (t !== pde_pde_section || pde_pde_section_get_size(cur) !== (superSection ? 1 : 0))) {
      return syscallError(k, { tag: "DeleteFirst" })
    }
  }
  return EXCEPTION_NONE
}

// ---- invocations ---------------------------------------------------------------------------------------

/** C `pageBase`. */
const pageBase = (vaddr: number, sizeBits: number): number => (vaddr - (vaddr % BIT(sizeBits))) >>> 0

const isPDFlushLabel = (l: number): boolean => l >= L.ARMPDClean_Data && l <= L.ARMPDUnify_Instruction
const isPageFlushLabel = (l: number): boolean => l >= L.ARMPageClean_Data && l <= L.ARMPageUnify_Instruction

/**
 * PD Clean/Invalidate/CleanInvalidate/Unify: check the range and the directory, then (kspec keeps
 * no caches) nothing to do.
 * @refines spec/kernel/vspace#decodeARMPageDirectoryInvocation
 */
export function decodeARMPageDirectoryInvocation(k: ImplState, invLabel: number, length: number, cap: Cap): Exception {
  if (!isPDFlushLabel(invLabel)) return syscallError(k, { tag: "IllegalOperation" })
  if (length < 2) return syscallError(k, { tag: "TruncatedMessage" })
  const start = getSyscallArg(k, 0)
  const end = getSyscallArg(k, 1)
  if (end <= start) return syscallError(k, { tag: "InvalidArgument", argument: 1 })
  if (start >= kernelBase || end > kernelBase) return syscallError(k, { tag: "IllegalOperation" })
  if (cap.tag !== "PageDirectoryCap" || cap.asid === null) return syscallError(k, { tag: "InvalidCapability", capability: 0 })
  const pd = getPageDirectoryImpl(k, cap.ptr)
  const found = findPDForASID(k, cap.asid)
  if (found === null) return syscallError(k, { tag: "FailedLookup", wasSource: false, failure: k.currentLookupFault })
  if (found !== pd) return syscallError(k, { tag: "InvalidCapability", capability: 0 })
  const r = resolveVAddr(k, pd, start)
  if (!r.valid) {
    setThreadState(k, k.curThread, ThreadStateRestart)
    return EXCEPTION_NONE
  }
  if (pageBase(start, r.frameSize) !== pageBase(end - 1, r.frameSize)) {
    return syscallError(k, { tag: "RangeError", min: start, max: (pageBase(start, r.frameSize) + mask(r.frameSize)) >>> 0 })
  }
  setThreadState(k, k.curThread, ThreadStateRestart)
  return performPDFlush()
}

/** Flush the caches for a range: kspec has none. @refines spec/kernel/vspace#performARMMMUInvocation */
function performPDFlush(): Exception { return EXCEPTION_NONE }

/**
 * PageTable Map and Unmap, in C's check order.
 * @refines spec/kernel/vspace#decodeARMPageTableInvocation
 */
export function decodeARMPageTableInvocation(k: ImplState, invLabel: number, length: number, cte: Cte, cap: Cap): Exception {
  if (cap.tag !== "PageTableCap") throw new KernelBug("decodeARMPageTableInvocation: not a page-table cap")
  if (invLabel === L.ARMPageTableUnmap) {
    if (!isFinalCapability(cte)) return syscallError(k, { tag: "RevokeFirst" })
    setThreadState(k, k.curThread, ThreadStateRestart)
    return performPageTableInvocationUnmap(k, cte)
  }
  if (invLabel !== L.ARMPageTableMap) return syscallError(k, { tag: "IllegalOperation" })
  const pdSlot = extraCapSlot(k, 0)
  if (length < 2 || pdSlot === null) return syscallError(k, { tag: "TruncatedMessage" })
  if (cap.mapped !== null) return syscallError(k, { tag: "InvalidCapability", capability: 0 })
  const vaddr = getSyscallArg(k, 0)
  const attr = getSyscallArg(k, 1) & 7
  const pdCap = pdSlot.cap
  if (pdCap.tag !== "PageDirectoryCap" || pdCap.asid === null) return syscallError(k, { tag: "InvalidCapability", capability: 1 })
  const pd = getPageDirectoryImpl(k, pdCap.ptr)
  const asid = pdCap.asid
  if (vaddr >= kernelBase) return syscallError(k, { tag: "InvalidArgument", argument: 0 })
  const found = findPDForASID(k, asid)
  if (found === null) return syscallError(k, { tag: "FailedLookup", wasSource: false, failure: k.currentLookupFault })
  if (found !== pd) return syscallError(k, { tag: "InvalidCapability", capability: 1 })
  const pdIndex = pdIndexOf(vaddr)
  if (pde_get_pdeType(pd.pd[pdIndex]!) !== pde_pde_invalid) return syscallError(k, { tag: "DeleteFirst" })
  const pde = pde_pde_coarse_new(cap.ptr, (attr & VMAttr.ParityEnabled) !== 0 ? 1 : 0, 0)
  const newCap: Cap = { tag: "PageTableCap", ptr: cap.ptr, mapped: { asid, vaddr: pageBase(vaddr, sectionBits) } }
  setThreadState(k, k.curThread, ThreadStateRestart)
  return performPageTableInvocationMap(newCap, cte, pde, pd, pdIndex)
}

/** Install the page table: the cap records the mapping, the PDE points to the table. @refines spec/kernel/vspace#performARMMMUInvocation */
function performPageTableInvocationMap(cap: Cap, ctSlot: Cte, pde: number, pd: ImplPageDirectory, pdIndex: number): Exception {
  ctSlot.cap = cap
  pd.pd[pdIndex] = pde
  return EXCEPTION_NONE
}

/** Unmap the page table if mapped, clear it, and record no mapping. @refines spec/kernel/vspace#performARMMMUInvocation */
function performPageTableInvocationUnmap(k: ImplState, ctSlot: Cte): Exception {
  const cap = ctSlot.cap
  if (cap.tag !== "PageTableCap") throw new KernelBug("performPageTableInvocationUnmap: not a page-table cap")
  if (cap.mapped !== null) {
    const pt = getPageTableImpl(k, cap.ptr)
    unmapPageTable(k, cap.mapped.asid, cap.mapped.vaddr, pt)
    pt.pt.fill(0)
  }
  ctSlot.cap = { tag: "PageTableCap", ptr: cap.ptr, mapped: null }
  return EXCEPTION_NONE
}

/**
 * Frame Map, Unmap, the four flushes and GetAddress, in C's check order.
 * @refines spec/kernel/vspace#decodeARMFrameInvocation
 */
export function decodeARMFrameInvocation(k: ImplState, invLabel: number, length: number, cte: Cte, cap: Cap, call: boolean): Exception {
  if (cap.tag !== "FrameCap") throw new KernelBug("decodeARMFrameInvocation: not a frame cap")
  if (invLabel === L.ARMPageMap) {
    const pdSlot = extraCapSlot(k, 0)
    if (length < 3 || pdSlot === null) return syscallError(k, { tag: "TruncatedMessage" })
    const vaddr = getSyscallArg(k, 0)
    const wRightsMask = getSyscallArg(k, 1)
    const attr = getSyscallArg(k, 2) & 7
    const pdCap = pdSlot.cap
    const frameSize = cap.sizeBits
    if (pdCap.tag !== "PageDirectoryCap" || pdCap.asid === null) return syscallError(k, { tag: "InvalidCapability", capability: 1 })
    const pd = getPageDirectoryImpl(k, pdCap.ptr)
    const asid = pdCap.asid
    if (cap.mapped !== null) {
      if (cap.mapped.asid !== asid) return syscallError(k, { tag: "InvalidCapability", capability: 1 })
      if (cap.mapped.vaddr !== vaddr) return syscallError(k, { tag: "InvalidArgument", argument: 0 })
    } else if (vaddr + BIT(frameSize) - 1 >= kernelBase) {
      return syscallError(k, { tag: "InvalidArgument", argument: 0 })
    }
    const found = findPDForASID(k, asid)
    if (found === null) return syscallError(k, { tag: "FailedLookup", wasSource: false, failure: k.currentLookupFault })
    if (found !== pd) return syscallError(k, { tag: "InvalidCapability", capability: 1 })
    const vmRights = maskVMRights(cap.vmRights, rightsFromWord(wRightsMask))
    if ((vaddr & mask(frameSize)) !== 0) return syscallError(k, { tag: "AlignmentError" })
    const newCap: Cap = { tag: "FrameCap", ptr: cap.ptr, sizeBits: frameSize, vmRights: cap.vmRights, isDevice: cap.isDevice, mapped: { asid, vaddr } }
    const st = frameSize === pageBits || frameSize === largePageBits
      ? createSafeMappingEntries_PTE(k, cap.ptr, vaddr, frameSize, vmRights, attr, pd)
      : createSafeMappingEntries_PDE(k, cap.ptr, vaddr, frameSize, vmRights, attr, pd)
    if (st !== EXCEPTION_NONE) return st
    setThreadState(k, k.curThread, ThreadStateRestart)
    return performPageInvocationMap(newCap, cte)
  }
  if (invLabel === L.ARMPageUnmap) {
    setThreadState(k, k.curThread, ThreadStateRestart)
    return performPageInvocationUnmap(k, cte)
  }
  if (isPageFlushLabel(invLabel)) {
    if (length < 2) return syscallError(k, { tag: "TruncatedMessage" })
    if (cap.mapped === null) return syscallError(k, { tag: "IllegalOperation" })
    const pd = findPDForASID(k, cap.mapped.asid)
    if (pd === null) return syscallError(k, { tag: "FailedLookup", wasSource: false, failure: k.currentLookupFault })
    const start = getSyscallArg(k, 0)
    const end = getSyscallArg(k, 1)
    if (end <= start) return syscallError(k, { tag: "InvalidArgument", argument: 1 })
    const pageSize = BIT(cap.sizeBits)
    const r = resolveVAddr(k, pd, cap.mapped.vaddr)
    if (!r.valid || r.frameSize !== cap.sizeBits || r.frameBase !== cap.ptr) return syscallError(k, { tag: "InvalidCapability", capability: 0 })
    if (start >= pageSize || end > pageSize) return syscallError(k, { tag: "InvalidArgument", argument: 0 })
    setThreadState(k, k.curThread, ThreadStateRestart)
    return performPageFlush()
  }
  if (invLabel === L.ARMPageGetAddress) {
    setThreadState(k, k.curThread, ThreadStateRestart)
    return performPageGetAddress(k, cap.ptr, call)
  }
  return syscallError(k, { tag: "IllegalOperation" })
}

/**
 * Write the entries createSafeMappingEntries chose (all the same entry; 16 for a large page or a
 * super section) and record the mapping in the cap.
 * @refines spec/kernel/vspace#performARMMMUInvocation
 */
function performPageInvocationMap(cap: Cap, ctSlot: Cte): Exception {
  ctSlot.cap = cap
  const t = mapTable
  if (t === null) throw new KernelBug("performPageInvocationMap: no entries")
  const entries = t instanceof ImplPageTable ? t.pt : t.pd
  for (let i = 0; i < mapLength; i++) entries[mapIndex + i] = mapEntry
  mapTable = null
  return EXCEPTION_NONE
}

/** Unmap the frame if its cap says it is mapped, and record no mapping. @refines spec/kernel/vspace#performARMMMUInvocation */
function performPageInvocationUnmap(k: ImplState, ctSlot: Cte): Exception {
  const cap = ctSlot.cap
  if (cap.tag !== "FrameCap") throw new KernelBug("performPageInvocationUnmap: not a frame cap")
  if (cap.mapped !== null) unmapPage(k, cap.sizeBits, cap.mapped.asid, cap.mapped.vaddr, cap.ptr)
  ctSlot.cap = { tag: "FrameCap", ptr: cap.ptr, sizeBits: cap.sizeBits, vmRights: cap.vmRights, isDevice: cap.isDevice, mapped: null }
  return EXCEPTION_NONE
}

/** Flush a frame's caches: kspec has none. @refines spec/kernel/vspace#performARMMMUInvocation */
function performPageFlush(): Exception { return EXCEPTION_NONE }

/**
 * Reply the frame's physical address to a Call (MR0, label 0, badge 0); the caller runs on.
 * @refines spec/kernel/vspace#performPageGetAddress
 */
function performPageGetAddress(k: ImplState, paddr: number, call: boolean): Exception {
  const thread = k.curThread
  if (call) {
    thread.badge = 0
    thread.mrs[0] = paddr >>> 0
    thread.msgInfo = 1
  }
  setThreadState(k, thread, ThreadStateRunning)
  return EXCEPTION_NONE
}

/**
 * Give the directory in `pdCapSlot` the ASID, and the pool the directory.
 * @refines spec/kernel/vspace#performARMMMUInvocation
 */
function performASIDPoolInvocation(asid: number, pool: ImplASIDPool, pdCapSlot: Cte, pd: ImplPageDirectory): Exception {
  const cap = pdCapSlot.cap
  if (cap.tag !== "PageDirectoryCap") throw new KernelBug("performASIDPoolInvocation: not a page-directory cap")
  pdCapSlot.cap = { tag: "PageDirectoryCap", ptr: cap.ptr, asid }
  pool.array[asidLow(asid)] = pd
  return EXCEPTION_NONE
}

/**
 * Turn the 4 KiB untyped into an ASID pool: wipe it, mark it full, insert the pool cap as its
 * child and enter the pool in the ASID table.
 * @refines spec/kernel/vspace#performASIDControlInvocation
 */
function performASIDControlInvocation(k: ImplState, frame: number, slot: Cte, parent: Cte, asidBase: number): Exception {
  const ut = parent.cap
  if (ut.tag !== "UntypedCap") throw new KernelBug("performASIDControlInvocation: parent must be an untyped cap")
  deleteObjects(k, frame, asidPoolBits)
  parent.cap = { tag: "UntypedCap", isDevice: ut.isDevice, ptr: ut.ptr, sizeBits: ut.sizeBits, freeIndex: BIT(ut.sizeBits) }
  const pool = new ImplASIDPool(frame)
  k.objects.set(frame, pool)
  cteInsert(k, { tag: "ASIDPoolCap", ptr: frame, asidBase }, parent, slot)
  // Haskell error: "ASID pool's base must be aligned"
  if ((asidBase & mask(asidLowBits)) !== 0) throw new KernelBug("ASID pool's base must be aligned")
  k.armKSASIDTable[asidHigh(asidBase)] = pool
  return EXCEPTION_NONE
}

/**
 * Decode (and perform) an invocation of a page directory, page table, frame, ASID control or ASID
 * pool cap. Errors land in `k.currentSyscallError`.
 * @refines spec/kernel/vspace#decodeARMMMUInvocation
 */
export function decodeARMMMUInvocation(k: ImplState, invLabel: number, length: number, cte: Cte, cap: Cap, call: boolean): Exception {
  switch (cap.tag) {
    case "PageDirectoryCap":
      return decodeARMPageDirectoryInvocation(k, invLabel, length, cap)
    case "PageTableCap":
      return decodeARMPageTableInvocation(k, invLabel, length, cte, cap)
    case "FrameCap":
      return decodeARMFrameInvocation(k, invLabel, length, cte, cap, call)
    // ASIDControl MakePool(untyped, root; index, depth).
    case "ASIDControlCap": {
      if (invLabel !== L.ARMASIDControlMakePool) return syscallError(k, { tag: "IllegalOperation" })
      const parentSlot = extraCapSlot(k, 0)
      const rootSlot = parentSlot === null ? null : extraCapSlot(k, 1)
      if (length < 2 || parentSlot === null || rootSlot === null) return syscallError(k, { tag: "TruncatedMessage" })
      const index = getSyscallArg(k, 0)
      const depth = getSyscallArg(k, 1)
      const untyped = parentSlot.cap
      const root = rootSlot.cap
      // The first free pool.
      let i = 0
      while (i < BIT(asidHighBits) && k.armKSASIDTable[i] !== null) i++
      if (i === BIT(asidHighBits)) return syscallError(k, { tag: "DeleteFirst" })
      const asidBase = i << asidLowBits
      if (untyped.tag !== "UntypedCap" || untyped.sizeBits !== asidPoolBits || untyped.isDevice) {
        return syscallError(k, { tag: "InvalidCapability", capability: 1 })
      }
      let st = ensureNoChildren(k, parentSlot)
      if (st !== EXCEPTION_NONE) return st
      const frame = untyped.ptr
      st = lookupTargetSlot(k, root, index, depth)
      if (st !== EXCEPTION_NONE) return st
      const destSlot = lookedUpSlot(k)
      st = ensureEmptySlot(k, destSlot)
      if (st !== EXCEPTION_NONE) return st
      setThreadState(k, k.curThread, ThreadStateRestart)
      return performASIDControlInvocation(k, frame, destSlot, parentSlot, asidBase)
    }
    // ASIDPool Assign(vspace).
    case "ASIDPoolCap": {
      if (invLabel !== L.ARMASIDPoolAssign) return syscallError(k, { tag: "IllegalOperation" })
      const pdCapSlot = extraCapSlot(k, 0)
      if (pdCapSlot === null) return syscallError(k, { tag: "TruncatedMessage" })
      const pdCap = pdCapSlot.cap
      if (pdCap.tag !== "PageDirectoryCap" || pdCap.asid !== null) return syscallError(k, { tag: "InvalidCapability", capability: 1 })
      const pool = k.armKSASIDTable[asidHigh(cap.asidBase)] ?? null
      if (pool === null) {
        k.currentLookupFault = invalidRoot
        return syscallError(k, { tag: "FailedLookup", wasSource: false, failure: k.currentLookupFault })
      }
      if (pool.base !== cap.ptr) return syscallError(k, { tag: "InvalidCapability", capability: 0 })
      // The first free ASID (ASID 0 is never given out).
      const base = cap.asidBase
      let i = 0
      while (i < BIT(asidLowBits) && (base + i === 0 || pool.array[i] !== null)) i++
      if (i === BIT(asidLowBits)) return syscallError(k, { tag: "DeleteFirst" })
      setThreadState(k, k.curThread, ThreadStateRestart)
      return performASIDPoolInvocation(base + i, pool, pdCapSlot, getPageDirectoryImpl(k, pdCap.ptr))
    }
    default:
      throw new KernelBug("Invalid ARM arch cap type")
  }
}
