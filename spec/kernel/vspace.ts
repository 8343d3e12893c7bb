/**
 * Address spaces on aarch32 (seL4 src/arch/arm/32/kernel/vspace.c; l4v ARM ArchVSpace_A,
 * ArchVSpaceAcc_A, ArchDecode_A, Arch_A; Haskell SEL4/Kernel/VSpace/ARM.lhs): the ASID table and
 * pools, page-directory and page-table walks, mapping and unmapping, the IPC buffer and VSpace-root
 * checks, the decoders of the page-directory, page-table, frame, ASID-control and ASID-pool
 * invocations in the C decoder's check order, and what deleting a VSpace object undoes.
 *
 * kspec keeps no caches, TLB or hardware ASIDs (docs/model-decisions.md): the cache flushes check
 * their arguments and change nothing, and `setVMRoot` has no state to set. Where l4v and C differ
 * kspec follows C: large pages and super sections are 16 identical entries, as the hardware wants.
 * @category objects
 */
import type { Cap, LookupFailure, Mapping, PDE, PPtr, PTE, SlotPtr, SyscallError, VMRights } from "../../model/index.ts"
import {
  InvalidPDE, InvalidPTE, InvocationLabel as L, VMAttr, asidBits, asidHigh, asidHighBits, asidLow, asidLowBits, asidPoolBits, bit,
  isAligned, kernelBase, largePageBits, mask, messageInfo, msgAlignBits, pageBits, pagesPerLargePage, pdIndexBits, pdIndexOf,
  ptIndexBits, ptIndexOf, rightsFromWord, sectionBits, sectionsPerSuperSection, superSectionBits, tcbBuffer, vmAttributesFromWord,
} from "../../model/index.ts"
import type { Result } from "../result.ts"
import { err, ok } from "../result.ts"
import type { KObject, KernelState } from "../state.ts"
import {
  KernelBug, contextWith, getCap, getTcb, mapDelete, mapFrom, mapSet, setCap, setObject, slotOf, tcbWith, updateState, updateTcb,
} from "../state.ts"
import type { MemPtr } from "../machine/memory.ts"
import { lookupTargetSlot } from "./cspace.ts"
import { setThreadState } from "./thread.ts"
import type { InvocationArgs } from "../object/cnode.ts"
import { cteInsert, hasChildren, isFinalCapability } from "../object/cnode.ts"
import { deleteObjects } from "../object/untyped.ts"

const illegal: SyscallError = { tag: "IllegalOperation" }
const truncated: SyscallError = { tag: "TruncatedMessage" }
const invalidCap = (n: number): SyscallError => ({ tag: "InvalidCapability", capability: n })
const invalidArg = (n: number): SyscallError => ({ tag: "InvalidArgument", argument: n })
const failedLookup = (failure: LookupFailure): SyscallError => ({ tag: "FailedLookup", wasSource: false, failure })

export type PageDirectory = Extract<KObject, { tag: "PageDirectory" }>
export type PageTable = Extract<KObject, { tag: "PageTable" }>
export type ASIDPool = Extract<KObject, { tag: "ASIDPool" }>

// ---- kernel heap accessors (l4v ArchVSpaceAcc_A) --------------------------------------------------

/** The page directory at `p`. Mirrors l4v `get_pd`. */
export const getPD = (s: KernelState, p: PPtr): PageDirectory => {
  const o = s.kheap.get(p)
  if (o?.tag !== "PageDirectory") throw new KernelBug(`getPD: no page directory at 0x${p.toString(16)}`)
  return o
}
/** The page table at `p`. Mirrors l4v `get_pt`. */
export const getPT = (s: KernelState, p: PPtr): PageTable => {
  const o = s.kheap.get(p)
  if (o?.tag !== "PageTable") throw new KernelBug(`getPT: no page table at 0x${p.toString(16)}`)
  return o
}
/** The ASID pool at `p`. Mirrors l4v `get_asid_pool`. */
export const getASIDPool = (s: KernelState, p: PPtr): ASIDPool => {
  const o = s.kheap.get(p)
  if (o?.tag !== "ASIDPool") throw new KernelBug(`getASIDPool: no ASID pool at 0x${p.toString(16)}`)
  return o
}

/** The first kernel-window entry of a page directory (0xe00). */
const kernelFirst = pdIndexOf(kernelBase)

/** Entry `i` of a page directory. Mirrors l4v `get_pde`. */
export const getPDE = (s: KernelState, pd: PPtr, i: number): PDE => {
  const o = getPD(s, pd)
  return (i >= kernelFirst ? o.kernelPDEs.get(i) : o.pdes.get(i)) ?? InvalidPDE
}
/** Entry `i` of a page table. Mirrors l4v `get_pte`. */
export const getPTE = (s: KernelState, pt: PPtr, i: number): PTE => getPT(s, pt).ptes.get(i) ?? InvalidPTE

/**
 * Entries `i .. i+count-1` of a page directory set to `pde`; all below the kernel window (every
 * decoder keeps user mappings there). Mirrors l4v `store_pde` over the slots.
 */
export const storePDEs = (s: KernelState, pd: PPtr, i: number, count: number, pde: PDE): KernelState => {
  const o = getPD(s, pd)
  if (i + count > kernelFirst) throw new KernelBug("storePDEs: the kernel window is never written")
  let pdes = o.pdes
  for (let j = i; j < i + count; j++) pdes = pde.tag === "InvalidPDE" ? mapDelete(pdes, j) : mapSet(pdes, j, pde)
  return setObject(s, pd, { tag: "PageDirectory", pdes, kernelPDEs: o.kernelPDEs })
}
/** Entries `i .. i+count-1` of a page table set to `pte`. Mirrors l4v `store_pte` over the slots. */
export const storePTEs = (s: KernelState, pt: PPtr, i: number, count: number, pte: PTE): KernelState => {
  let ptes = getPT(s, pt).ptes
  for (let j = i; j < i + count; j++) ptes = pte.tag === "InvalidPTE" ? mapDelete(ptes, j) : mapSet(ptes, j, pte)
  return setObject(s, pt, { tag: "PageTable", ptes })
}

/**
 * The kernel-window entries of a new page directory (from `kernelBase >> 20` up): the global page
 * directory's, shared as they are (a persistent map: the copy is the same value). Mirrors seL4
 * `copyGlobalMappings` / l4v `copy_global_mappings`.
 */
export const copyGlobalMappings = (s: KernelState): ReadonlyMap<number, PDE> => getPD(s, s.armGlobalPD).kernelPDEs

// ---- walks ------------------------------------------------------------------------------------------

/**
 * The page directory an ASID names: its pool in the ASID table, then the pool's entry. No pool or
 * no entry -> InvalidRoot. Mirrors seL4 `findPDForASID` / l4v `find_pd_for_asid`.
 */
export const findPDForASID = (s: KernelState, asid: number): Result<PPtr, LookupFailure> => {
  const pool = s.armASIDTable.get(asidHigh(asid))
  if (pool === undefined) return err({ tag: "InvalidRoot" })
  const pd = getASIDPool(s, pool).pool.get(asidLow(asid))
  if (pd === undefined) return err({ tag: "InvalidRoot" })
  return ok(pd)
}

/** Where a small or large page's entry goes: the page table and the index in it. */
export interface PTSlot { readonly pt: PPtr; readonly index: number }

/**
 * The page-table slot of `vptr` in `pd`: the PDE must point to a page table, else
 * MissingCapability(20) (the bits a page table resolves). Mirrors seL4 `lookupPTSlot` /
 * l4v `lookup_pt_slot`.
 */
export const lookupPTSlot = (s: KernelState, pd: PPtr, vptr: number): Result<PTSlot, LookupFailure> => {
  const pde = getPDE(s, pd, pdIndexOf(vptr))
  if (pde.tag !== "PageTablePDE") return err({ tag: "MissingCapability", bitsLeft: ptIndexBits + pageBits })
  return ok({ pt: pde.table, index: ptIndexOf(vptr) })
}

/** The frame mapped at an address: its size and base. */
export interface ResolvedFrame { readonly sizeBits: number; readonly base: PPtr }

/**
 * The frame `vaddr` is mapped to in `pd`, if any (sections and super sections in the PD, small
 * and large pages through a page table). Mirrors seL4 `resolveVAddr` / l4v `resolve_vaddr`.
 */
export const resolveVAddr = (s: KernelState, pd: PPtr, vaddr: number): ResolvedFrame | null => {
  const pde = getPDE(s, pd, pdIndexOf(vaddr))
  switch (pde.tag) {
    case "SectionPDE": return { sizeBits: sectionBits, base: pde.frame }
    case "SuperSectionPDE": return { sizeBits: superSectionBits, base: pde.frame }
    case "PageTablePDE": {
      const pte = getPTE(s, pde.table, ptIndexOf(vaddr))
      if (pte.tag === "SmallPagePTE") return { sizeBits: pageBits, base: pte.frame }
      if (pte.tag === "LargePagePTE") return { sizeBits: largePageBits, base: pte.frame }
      return null
    }
    case "InvalidPDE": return null
  }
}

// ---- the IPC buffer and the VSpace root (seL4 vspace.c) ----------------------------------------------

/**
 * The thread's IPC buffer, where the kernel reaches it: through the frame cap in its buffer slot
 * (a non-device frame, read-write; read-only suffices when it only sends), at the buffer address's
 * offset in that frame. Null: no usable buffer. The user's VSpace plays no part. Mirrors seL4
 * `lookupIPCBuffer` / l4v `lookup_ipc_buffer`.
 */
export const lookupIPCBuffer = (s: KernelState, isReceiver: boolean, t: PPtr): MemPtr | null => {
  const c = getCap(s, slotOf(t, tcbBuffer))
  if (c.tag !== "FrameCap" || c.isDevice) return null
  if (!(c.vmRights === "ReadWrite" || (!isReceiver && c.vmRights === "ReadOnly"))) return null
  return { frame: c.ptr, word: (getTcb(s, t).tcbIPCBuffer & mask(c.sizeBits)) >>> 2 }
}

/**
 * Can this cap serve as an IPC buffer at `vptr`? It must be a non-device frame cap and the address
 * aligned to 2^msgAlignBits. Mirrors seL4 aarch32 `checkValidIPCBuffer`.
 */
export const checkValidIPCBuffer = (vptr: number, cap: Cap): Result<void, SyscallError> => {
  if (cap.tag !== "FrameCap") return err(illegal)
  if (cap.isDevice) return err(illegal)
  if (!isAligned(vptr, msgAlignBits)) return err({ tag: "AlignmentError" })
  return ok(undefined)
}

/**
 * Can this cap be a thread's VSpace root? A page-directory cap with an ASID.
 * Mirrors seL4 aarch32 `isValidVTableRoot` / l4v `is_valid_vtable_root`.
 */
export const isValidVTableRoot = (cap: Cap): boolean => cap.tag === "PageDirectoryCap" && cap.asid !== null

// ---- unmapping and deletion --------------------------------------------------------------------------

/**
 * The page directory `pt` is mapped in at `vaddr` under `asid`, if that mapping is still current.
 * Mirrors seL4 `pageTableMapped` / l4v `page_table_mapped`.
 */
export const pageTableMapped = (s: KernelState, asid: number, vaddr: number, pt: PPtr): PPtr | null => {
  const pd = findPDForASID(s, asid)
  if (!pd.ok) return null
  const pde = getPDE(s, pd.value, pdIndexOf(vaddr))
  return pde.tag === "PageTablePDE" && pde.table === pt ? pd.value : null
}

/** Remove a page table from its page directory, if it is still there. Mirrors seL4 `unmapPageTable`. */
export const unmapPageTable = (s: KernelState, asid: number, vaddr: number, pt: PPtr): KernelState => {
  const pd = pageTableMapped(s, asid, vaddr, pt)
  return pd === null ? s : storePDEs(s, pd, pdIndexOf(vaddr), 1, InvalidPDE)
}

/**
 * Remove a frame's mapping at (`asid`, `vptr`) if the entries there still map this frame with this
 * size; otherwise (a stale cap: the ASID, page table or entry is gone or maps something else) do
 * nothing. A large page clears its 16 page-table entries, a super section its 16 directory entries.
 * Mirrors seL4 `unmapPage` / l4v `unmap_page`.
 */
export const unmapPage = (s: KernelState, sizeBits: number, asid: number, vptr: number, frame: PPtr): KernelState => {
  const pd = findPDForASID(s, asid)
  if (!pd.ok) return s
  switch (sizeBits) {
    case pageBits: case largePageBits: {
      const slot = lookupPTSlot(s, pd.value, vptr)
      if (!slot.ok) return s
      const pte = getPTE(s, slot.value.pt, slot.value.index)
      const want = sizeBits === pageBits ? "SmallPagePTE" : "LargePagePTE"
      if (pte.tag !== want || pte.frame !== frame) return s
      return storePTEs(s, slot.value.pt, slot.value.index, sizeBits === pageBits ? 1 : pagesPerLargePage, InvalidPTE)
    }
    default: {
      const i = pdIndexOf(vptr)
      const pde = getPDE(s, pd.value, i)
      const want = sizeBits === sectionBits ? "SectionPDE" : "SuperSectionPDE"
      if (pde.tag !== want || pde.frame !== frame) return s
      return storePDEs(s, pd.value, i, sizeBits === sectionBits ? 1 : sectionsPerSuperSection, InvalidPDE)
    }
  }
}

/**
 * A page directory loses its ASID: the pool entry is cleared if it still names this directory.
 * Mirrors seL4 `deleteASID` / l4v `delete_asid` (flushes and the VM root: no state in kspec).
 */
export const deleteASID = (s: KernelState, asid: number, pd: PPtr): KernelState => {
  const poolPtr = s.armASIDTable.get(asidHigh(asid))
  if (poolPtr === undefined) return s
  const pool = getASIDPool(s, poolPtr)
  if (pool.pool.get(asidLow(asid)) !== pd) return s
  return setObject(s, poolPtr, { tag: "ASIDPool", pool: mapDelete(pool.pool, asidLow(asid)) })
}

/**
 * An ASID pool goes: if the ASID table still names it, its entry is cleared (every ASID in it
 * stops naming its directory). Mirrors seL4 `deleteASIDPool` / l4v `delete_asid_pool`.
 */
export const deleteASIDPool = (s: KernelState, asidBase: number, pool: PPtr): KernelState => {
  if ((asidBase & mask(asidLowBits)) !== 0) throw new KernelBug("ASID pool's base must be aligned")
  if (s.armASIDTable.get(asidHigh(asidBase)) !== pool) return s
  return updateState(s, { armASIDTable: mapDelete(s.armASIDTable, asidHigh(asidBase)) })
}

// ---- mapping ------------------------------------------------------------------------------------------

/** Entries a frame mapping writes: `count` identical entries from `index` of one table. */
export type MappingEntries =
  | { readonly kind: "PTE"; readonly table: PPtr; readonly index: number; readonly count: number; readonly entry: PTE }
  | { readonly kind: "PDE"; readonly table: PPtr; readonly index: number; readonly count: number; readonly entry: PDE }

/**
 * The entries that map a frame of `sizeBits` at `vaddr` in `pd`, checked safe to write: small and
 * large pages need a page table there (FailedLookup(dest, MissingCapability(20))); a small page may
 * replace an invalid or small entry, a large page invalid or large ones, a section an invalid entry
 * or a section, a super section invalid entries or super sections; anything else -> DeleteFirst.
 * Mirrors seL4 `createSafeMappingEntries_PTE` / `_PDE` (l4v `create_mapping_entries` +
 * `ensure_safe_mapping`).
 */
export const createSafeMappingEntries = (
  s: KernelState, base: PPtr, vaddr: number, sizeBits: number, rights: VMRights, attr: number, pd: PPtr,
): Result<MappingEntries, SyscallError> => {
  switch (sizeBits) {
    case pageBits: case largePageBits: {
      const slot = lookupPTSlot(s, pd, vaddr)
      if (!slot.ok) return err(failedLookup(slot.error))
      const small = sizeBits === pageBits
      const count = small ? 1 : pagesPerLargePage
      const pteAttr = attr & (VMAttr.PageCacheable | VMAttr.ExecuteNever)
      const entry: PTE = small ? { tag: "SmallPagePTE", frame: base, attr: pteAttr, rights } : { tag: "LargePagePTE", frame: base, attr: pteAttr, rights }
      // A small page cannot land inside a large one; a large page cannot cover small ones.
      for (let i = 0; i < count; i++) {
        const old = getPTE(s, slot.value.pt, slot.value.index + i)
        if (old.tag === (small ? "LargePagePTE" : "SmallPagePTE")) return err({ tag: "DeleteFirst" })
      }
      return ok({ kind: "PTE", table: slot.value.pt, index: slot.value.index, count, entry })
    }
    default: {
      const section = sizeBits === sectionBits
      const count = section ? 1 : sectionsPerSuperSection
      const index = pdIndexOf(vaddr)
      const entry: PDE = section ? { tag: "SectionPDE", frame: base, attr, rights } : { tag: "SuperSectionPDE", frame: base, attr, rights }
      // Only invalid entries or entries of the same size may be replaced.
      for (let i = 0; i < count; i++) {
        const old = getPDE(s, pd, index + i)
        if (old.tag !== "InvalidPDE" && old.tag !== entry.tag) return err({ tag: "DeleteFirst" })
      }
      return ok({ kind: "PDE", table: pd, index, count, entry })
    }
  }
}

/** The VM rights a user word asks for, cut to the cap's. Mirrors seL4 ARM `maskVMRights`. */
export const maskVMRights = (vm: VMRights, r: number): VMRights => {
  const canRead = (r & 2) !== 0
  if (vm === "ReadOnly" && canRead) return "ReadOnly"
  if (vm === "ReadWrite" && canRead) return (r & 1) !== 0 ? "ReadWrite" : "ReadOnly"
  return "KernelOnly"
}

/** Is `w` aligned to a frame of `sizeBits`? Mirrors seL4 `checkVPAlignment`. */
const checkVPAlignment = (sizeBits: number, w: number): boolean => isAligned(w, sizeBits)

// ---- invocations: decode ----------------------------------------------------------------------------

/** What a VSpace invocation decodes to (l4v `arch_invocation`, kspec's part). */
export type ArchInvocation =
  // A cache flush: kspec has no caches, so nothing to do once the arguments are checked.
  | { readonly tag: "Flush" }
  | { readonly tag: "PageTableMap"; readonly cap: Cap; readonly slot: SlotPtr; readonly pde: PDE; readonly pd: PPtr; readonly index: number }
  | { readonly tag: "PageTableUnmap"; readonly slot: SlotPtr }
  | { readonly tag: "PageMap"; readonly cap: Cap; readonly slot: SlotPtr; readonly entries: MappingEntries }
  | { readonly tag: "PageUnmap"; readonly slot: SlotPtr }
  | { readonly tag: "PageGetAddr"; readonly paddr: number }
  | { readonly tag: "MakePool"; readonly frame: PPtr; readonly slot: SlotPtr; readonly parent: SlotPtr; readonly base: number }
  | { readonly tag: "Assign"; readonly asid: number; readonly pool: PPtr; readonly pdSlot: SlotPtr }

const isPDFlush = (label: number): boolean => label >= L.ARMPDClean_Data && label <= L.ARMPDUnify_Instruction
const isPageFlush = (label: number): boolean => label >= L.ARMPageClean_Data && label <= L.ARMPageUnify_Instruction

/** `vaddr` rounded down to a frame of `sizeBits`. Mirrors seL4 `pageBase`. */
const pageBase = (vaddr: number, sizeBits: number): number => (vaddr - (vaddr % bit(sizeBits))) >>> 0

/**
 * PageDirectory Clean_Data / Invalidate_Data / CleanInvalidate_Data / Unify_Instruction(start, end).
 * In order: another label -> IllegalOperation; fewer than 2 words -> TruncatedMessage; end <= start ->
 * InvalidArgument(1); start or end past `kernelBase` -> IllegalOperation; no ASID -> InvalidCapability(0);
 * the ASID finds no directory -> FailedLookup(dest, InvalidRoot); another directory ->
 * InvalidCapability(0); nothing mapped at start -> success, nothing to do; the range crosses the
 * frame at start -> RangeError(start, end of that frame). Mirrors seL4 `decodeARMPageDirectoryInvocation`.
 */
export const decodeARMPageDirectoryInvocation = (s: KernelState, cap: Extract<Cap, { tag: "PageDirectoryCap" }>, a: InvocationArgs): Result<ArchInvocation, SyscallError> => {
  if (!isPDFlush(a.label)) return err(illegal)
  if (a.args.length < 2) return err(truncated)
  const start = a.args[0]!
  const end = a.args[1]!
  if (end <= start) return err(invalidArg(1))
  if (start >= kernelBase || end > kernelBase) return err(illegal)
  if (cap.asid === null) return err(invalidCap(0))
  const found = findPDForASID(s, cap.asid)
  if (!found.ok) return err(failedLookup(found.error))
  if (found.value !== cap.ptr) return err(invalidCap(0))
  const frame = resolveVAddr(s, cap.ptr, start)
  // Nothing mapped at start: no stale data to flush, and no error either.
  if (frame === null) return ok({ tag: "Flush" })
  if (pageBase(start, frame.sizeBits) !== pageBase(end - 1, frame.sizeBits)) {
    return err({ tag: "RangeError", min: start, max: (pageBase(start, frame.sizeBits) + mask(frame.sizeBits)) >>> 0 })
  }
  return ok({ tag: "Flush" })
}

/**
 * PageTable Map(vspace; vaddr, attr) and Unmap. Unmap: another cap to the table exists ->
 * RevokeFirst. Map, in order: another label -> IllegalOperation; fewer than 2 words or no extra cap ->
 * TruncatedMessage; the table already mapped -> InvalidCapability(0); the extra cap not a page
 * directory with an ASID -> InvalidCapability(1); vaddr in the kernel window -> InvalidArgument(0); the
 * ASID finds no directory -> FailedLookup(dest, InvalidRoot), another one -> InvalidCapability(1); the
 * directory entry in use -> DeleteFirst. Mirrors seL4 `decodeARMPageTableInvocation`.
 */
export const decodeARMPageTableInvocation = (
  s: KernelState, cap: Extract<Cap, { tag: "PageTableCap" }>, slot: SlotPtr, a: InvocationArgs,
): Result<ArchInvocation, SyscallError> => {
  if (a.label === L.ARMPageTableUnmap) return isFinalCapability(s, slot) ? ok({ tag: "PageTableUnmap", slot }) : err({ tag: "RevokeFirst" })
  if (a.label !== L.ARMPageTableMap) return err(illegal)
  const pdCap = a.extraCaps[0]
  if (a.args.length < 2 || pdCap === undefined) return err(truncated)
  if (cap.mapped !== null) return err(invalidCap(0))
  const vaddr = a.args[0]!
  const attr = vmAttributesFromWord(a.args[1]!)
  if (pdCap.tag !== "PageDirectoryCap" || pdCap.asid === null) return err(invalidCap(1))
  if (vaddr >= kernelBase) return err(invalidArg(0))
  const found = findPDForASID(s, pdCap.asid)
  if (!found.ok) return err(failedLookup(found.error))
  if (found.value !== pdCap.ptr) return err(invalidCap(1))
  const index = pdIndexOf(vaddr)
  if (getPDE(s, pdCap.ptr, index).tag !== "InvalidPDE") return err({ tag: "DeleteFirst" })
  const pde: PDE = { tag: "PageTablePDE", table: cap.ptr, attr: attr & VMAttr.ParityEnabled }
  // The cap keeps the 1 MiB-aligned address (C's capPTMappedAddress holds its top 12 bits).
  const mapped: Mapping = { asid: pdCap.asid, vaddr: pageBase(vaddr, sectionBits) }
  return ok({ tag: "PageTableMap", cap: { ...cap, mapped }, slot, pde, pd: pdCap.ptr, index })
}

/**
 * Frame invocations. Map(vspace; vaddr, rights, attr), in order: fewer than 3 words or no extra cap
 * -> TruncatedMessage; the extra cap not a page directory with an ASID -> InvalidCapability(1); a
 * mapped frame under another ASID -> InvalidCapability(1), at another address -> InvalidArgument(0);
 * an unmapped frame reaching the kernel window -> InvalidArgument(0); the ASID finds no directory ->
 * FailedLookup(dest, InvalidRoot), another one -> InvalidCapability(1); vaddr not aligned to the frame
 * -> AlignmentError; then `createSafeMappingEntries`' errors. Unmap never fails. Clean_Data,
 * Invalidate_Data, CleanInvalidate_Data, Unify_Instruction(start, end), offsets in the frame: fewer
 * than 2 words -> TruncatedMessage; not mapped -> IllegalOperation; its ASID finds no directory ->
 * FailedLookup(dest, InvalidRoot); end <= start -> InvalidArgument(1); the mapping stale ->
 * InvalidCapability(0); past the frame -> InvalidArgument(0). GetAddress never fails. Another label
 * -> IllegalOperation. Mirrors seL4 `decodeARMFrameInvocation`.
 */
export const decodeARMFrameInvocation = (s: KernelState, cap: Extract<Cap, { tag: "FrameCap" }>, slot: SlotPtr, a: InvocationArgs): Result<ArchInvocation, SyscallError> => {
  const label = a.label
  if (label === L.ARMPageMap) {
    const pdCap = a.extraCaps[0]
    if (a.args.length < 3 || pdCap === undefined) return err(truncated)
    const vaddr = a.args[0]!
    const rightsMask = a.args[1]!
    const attr = vmAttributesFromWord(a.args[2]!)
    if (pdCap.tag !== "PageDirectoryCap" || pdCap.asid === null) return err(invalidCap(1))
    const asid = pdCap.asid
    if (cap.mapped !== null) {
      // A mapped frame may only be mapped again where it is (with other rights, say).
      if (cap.mapped.asid !== asid) return err(invalidCap(1))
      if (cap.mapped.vaddr !== vaddr) return err(invalidArg(0))
    } else if (vaddr + bit(cap.sizeBits) - 1 >= kernelBase) {
      return err(invalidArg(0))
    }
    const found = findPDForASID(s, asid)
    if (!found.ok) return err(failedLookup(found.error))
    if (found.value !== pdCap.ptr) return err(invalidCap(1))
    const rights = maskVMRights(cap.vmRights, rightsFromWord(rightsMask))
    if (!checkVPAlignment(cap.sizeBits, vaddr)) return err({ tag: "AlignmentError" })
    const entries = createSafeMappingEntries(s, cap.ptr, vaddr, cap.sizeBits, rights, attr, pdCap.ptr)
    if (!entries.ok) return entries
    return ok({ tag: "PageMap", cap: { ...cap, mapped: { asid, vaddr } }, slot, entries: entries.value })
  }
  if (label === L.ARMPageUnmap) return ok({ tag: "PageUnmap", slot })
  if (isPageFlush(label)) {
    if (a.args.length < 2) return err(truncated)
    if (cap.mapped === null) return err(illegal)
    const found = findPDForASID(s, cap.mapped.asid)
    if (!found.ok) return err(failedLookup(found.error))
    const start = a.args[0]!
    const end = a.args[1]!
    if (end <= start) return err(invalidArg(1))
    // The cap's mapping must still be the one in the directory.
    const frame = resolveVAddr(s, found.value, cap.mapped.vaddr)
    if (frame === null || frame.sizeBits !== cap.sizeBits || frame.base !== cap.ptr) return err(invalidCap(0))
    if (start >= bit(cap.sizeBits) || end > bit(cap.sizeBits)) return err(invalidArg(0))
    return ok({ tag: "Flush" })
  }
  if (label === L.ARMPageGetAddress) return ok({ tag: "PageGetAddr", paddr: cap.ptr })
  return err(illegal)
}

/**
 * ASIDControl MakePool(untyped, root; index, depth), in order: another label -> IllegalOperation;
 * fewer than 2 words or 2 extra caps -> TruncatedMessage; every pool in use -> DeleteFirst; the
 * first extra cap not a RAM untyped of exactly 4 KiB -> InvalidCapability(1); the untyped has
 * children -> RevokeFirst; the destination lookup's errors; the destination occupied -> DeleteFirst.
 * Mirrors the ASIDControl case of seL4 `decodeARMMMUInvocation` / l4v `arch_decode_invocation`.
 */
export const decodeARMASIDControlInvocation = (s: KernelState, a: InvocationArgs): Result<ArchInvocation, SyscallError> => {
  if (a.label !== L.ARMASIDControlMakePool) return err(illegal)
  const u = a.extraCaps[0]
  const parent = a.extraSlots[0]
  const root = a.extraCaps[1]
  if (a.args.length < 2 || u === undefined || parent === undefined || root === undefined) return err(truncated)
  const index = a.args[0]!
  const depth = a.args[1]!
  // The first free pool.
  let i = 0
  while (i < bit(asidHighBits) && s.armASIDTable.has(i)) i++
  if (i === bit(asidHighBits)) return err({ tag: "DeleteFirst" })
  const base = i << asidLowBits
  if (u.tag !== "UntypedCap" || u.sizeBits !== asidPoolBits || u.isDevice) return err(invalidCap(1))
  if (hasChildren(s, parent)) return err({ tag: "RevokeFirst" })
  const dest = lookupTargetSlot(s, root, index, depth)
  if (!dest.ok) return dest
  if (getCap(s, dest.value).tag !== "NullCap") return err({ tag: "DeleteFirst" })
  return ok({ tag: "MakePool", frame: u.ptr, slot: dest.value, parent, base })
}

/**
 * ASIDPool Assign(vspace), in order: another label -> IllegalOperation; no extra cap ->
 * TruncatedMessage; the cap not a page directory without an ASID -> InvalidCapability(1); the pool's
 * entry in the ASID table empty -> FailedLookup(dest, InvalidRoot), or another pool ->
 * InvalidCapability(0); every ASID of the pool in use (ASID 0 never counts as free) -> DeleteFirst.
 * Mirrors the ASIDPool case of seL4 `decodeARMMMUInvocation` / l4v `arch_decode_invocation`.
 */
export const decodeARMASIDPoolInvocation = (s: KernelState, cap: Extract<Cap, { tag: "ASIDPoolCap" }>, a: InvocationArgs): Result<ArchInvocation, SyscallError> => {
  if (a.label !== L.ARMASIDPoolAssign) return err(illegal)
  const pdCap = a.extraCaps[0]
  const pdSlot = a.extraSlots[0]
  if (pdCap === undefined || pdSlot === undefined) return err(truncated)
  if (pdCap.tag !== "PageDirectoryCap" || pdCap.asid !== null) return err(invalidCap(1))
  const poolPtr = s.armASIDTable.get(asidHigh(cap.asidBase))
  if (poolPtr === undefined) return err(failedLookup({ tag: "InvalidRoot" }))
  if (poolPtr !== cap.ptr) return err(invalidCap(0))
  const pool = getASIDPool(s, poolPtr).pool
  // The first free ASID.
  let i = 0
  while (i < bit(asidLowBits) && (cap.asidBase + i === 0 || pool.has(i))) i++
  if (i === bit(asidLowBits)) return err({ tag: "DeleteFirst" })
  return ok({ tag: "Assign", asid: cap.asidBase + i, pool: poolPtr, pdSlot })
}

// ---- invocations: perform ---------------------------------------------------------------------------

/**
 * Reply the frame's physical address to a Call (badge 0, one word, label 0); the caller runs on.
 * kspec's object pointers are physical addresses. Mirrors seL4 `performPageGetAddress`.
 */
const performPageGetAddress = (s: KernelState, t: PPtr, paddr: number, isCall: boolean): KernelState => {
  const s1 = isCall
    ? updateTcb(s, t, (tcb) => {
      const mrs = tcb.tcbContext.mrs.slice()
      mrs[0] = paddr >>> 0
      return tcbWith(tcb, { tcbContext: contextWith(tcb.tcbContext, { badge: 0, mrs, msgInfo: messageInfo(0, 1) }) })
    })
    : s
  return setThreadState(s1, t, { tag: "Running" })
}

/**
 * Make the pool: the untyped's memory is wiped and used up, an ASID pool object takes its place,
 * its cap goes into the destination as a child of the untyped, and the ASID table names it.
 * Mirrors seL4 `performASIDControlInvocation` / l4v `perform_asid_control_invocation`.
 */
const performASIDControlInvocation = (s0: KernelState, frame: PPtr, slot: SlotPtr, parent: SlotPtr, base: number): KernelState => {
  let s = deleteObjects(s0, frame, asidPoolBits)
  const ut = getCap(s, parent)
  if (ut.tag !== "UntypedCap") throw new KernelBug("performASIDControlInvocation: parent must be an untyped cap")
  s = setCap(s, parent, { ...ut, freeIndex: bit(ut.sizeBits) })
  s = setObject(s, frame, { tag: "ASIDPool", pool: mapFrom([]) })
  s = cteInsert(s, { tag: "ASIDPoolCap", ptr: frame, asidBase: base }, parent, slot)
  if ((base & mask(asidLowBits)) !== 0) throw new KernelBug("ASID pool's base must be aligned")
  return updateState(s, { armASIDTable: mapSet(s.armASIDTable, asidHigh(base), frame) })
}

/**
 * Perform a decoded VSpace invocation for the caller `t` (already Restart); it cannot fail.
 * Mirrors seL4 `performPageTableInvocation*`, `performPageInvocation*`, `performPDFlush`,
 * `performPageFlush`, `performASIDControlInvocation`, `performASIDPoolInvocation` / l4v
 * `arch_perform_invocation`.
 */
export const performARMMMUInvocation = (s: KernelState, inv: ArchInvocation, t: PPtr, isCall: boolean): KernelState => {
  switch (inv.tag) {
    // A cache operation: nothing kspec keeps changes.
    case "Flush": return s
    // Install the page table in the directory; its cap records where.
    case "PageTableMap": return storePDEs(setCap(s, inv.slot, inv.cap), inv.pd, inv.index, 1, inv.pde)
    // Take the table out of its directory and clear it; its cap records no mapping.
    case "PageTableUnmap": {
      const cap = getCap(s, inv.slot)
      if (cap.tag !== "PageTableCap") throw new KernelBug("performPageTableInvocationUnmap: not a page-table cap")
      let s1 = s
      if (cap.mapped !== null) {
        s1 = unmapPageTable(s1, cap.mapped.asid, cap.mapped.vaddr, cap.ptr)
        s1 = setObject(s1, cap.ptr, { tag: "PageTable", ptes: mapFrom([]) })
      }
      return setCap(s1, inv.slot, { ...cap, mapped: null })
    }
    // Write the entries (16 for a large page or super section); the cap records the mapping.
    case "PageMap": {
      const s1 = setCap(s, inv.slot, inv.cap)
      const e = inv.entries
      return e.kind === "PTE" ? storePTEs(s1, e.table, e.index, e.count, e.entry) : storePDEs(s1, e.table, e.index, e.count, e.entry)
    }
    // Remove the mapping if the cap's record is still current; the cap records none.
    case "PageUnmap": {
      const cap = getCap(s, inv.slot)
      if (cap.tag !== "FrameCap") throw new KernelBug("performPageInvocationUnmap: not a frame cap")
      const s1 = cap.mapped === null ? s : unmapPage(s, cap.sizeBits, cap.mapped.asid, cap.mapped.vaddr, cap.ptr)
      return setCap(s1, inv.slot, { ...cap, mapped: null })
    }
    case "PageGetAddr": return performPageGetAddress(s, t, inv.paddr, isCall)
    case "MakePool": return performASIDControlInvocation(s, inv.frame, inv.slot, inv.parent, inv.base)
    // The directory's cap gets the ASID, and the pool names the directory.
    case "Assign": {
      const pdCap = getCap(s, inv.pdSlot)
      if (pdCap.tag !== "PageDirectoryCap") throw new KernelBug("performASIDPoolInvocation: not a page-directory cap")
      const pool = getASIDPool(s, inv.pool)
      const s1 = setCap(s, inv.pdSlot, { ...pdCap, asid: inv.asid })
      return setObject(s1, inv.pool, { tag: "ASIDPool", pool: mapSet(pool.pool, asidLow(inv.asid), pdCap.ptr) })
    }
  }
}


/** The virtual-memory caps: the ones `decodeARMMMUInvocation` decodes. */
export type ArchCap = Extract<Cap, { tag: "FrameCap" | "PageTableCap" | "PageDirectoryCap" | "ASIDControlCap" | "ASIDPoolCap" }>

/**
 * Decode an invocation of a virtual-memory cap, reading only: each cap type's decoder above.
 * Mirrors seL4 `decodeARMMMUInvocation` (reached through `Arch_decodeInvocation`) / l4v
 * `arch_decode_invocation`.
 */
export const decodeARMMMUInvocation = (s: KernelState, cap: ArchCap, slot: SlotPtr, a: InvocationArgs): Result<ArchInvocation, SyscallError> => {
  switch (cap.tag) {
    case "PageDirectoryCap": return decodeARMPageDirectoryInvocation(s, cap, a)
    case "PageTableCap": return decodeARMPageTableInvocation(s, cap, slot, a)
    case "FrameCap": return decodeARMFrameInvocation(s, cap, slot, a)
    case "ASIDControlCap": return decodeARMASIDControlInvocation(s, a)
    case "ASIDPoolCap": return decodeARMASIDPoolInvocation(s, cap, a)
  }
}
