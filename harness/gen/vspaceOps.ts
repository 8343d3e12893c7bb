/**
 * Resolvers for the virtual-memory invocations: ASID pools (MakePool, Assign), page tables
 * (Map, Unmap), frames (Map, Unmap, the flushes, GetAddress) and page-directory flushes.
 * Mostly they build address spaces that work: a page directory gets an ASID, a page table goes
 * where a directory has none, a frame where its size fits (a page table for small and large
 * pages), a mapped frame is mapped again with other rights; a share of each goes wrong on
 * purpose (unaligned, over the kernel window, over an entry of another size, with a stale or
 * missing ASID) so every decode error is reached. Argument orders follow libsel4.
 */
import type { Cap, Event, MemoryAccessKind, PPtr, VMRights } from "../../model/index.ts"
import {
  InitialSlot, InvocationLabel as L, ObjectType, asidPoolBits, bit, kernelBase, largePageBits, pageBits, pdIndexOf, sectionBits,
  superSectionBits, wordBits,
} from "../../model/index.ts"
import type { KernelState } from "../../spec/index.ts"
import { rootIPCBufferVAddr } from "../../spec/kernel/boot.ts"
import { findPDForASID, resolveVAddr } from "../../spec/kernel/vspace.ts"
import { userVSpaceRoot } from "../../spec/machine/mmu.ts"
import { tcbAt } from "./stateView.ts"
import { hasChildren } from "../../spec/object/cnode.ts"
import type { Ctx, Direct } from "./resolveUtil.ts"
import { directOf, freeSlotPreferRoot, invokeSyscall, pick, prefer, rare, selfCNodeCptr, sys, target } from "./resolveUtil.ts"

type PDCap = Extract<Cap, { tag: "PageDirectoryCap" }>
type FrameCap = Extract<Cap, { tag: "FrameCap" }>

/** The page directory an ASID'd PD cap reaches right now, or undefined (no ASID, or a stale one). */
const liveDirectory = (s: KernelState, c: PDCap): PPtr | undefined => {
  if (c.asid === null) return undefined
  const r = findPDForASID(s, c.asid)
  return r.ok && r.value === c.ptr ? c.ptr : undefined
}

/** Entry `i` of a page directory in the spec state. */
const pdeAt = (s: KernelState, pd: PPtr, i: number) => {
  const o = s.kheap.get(pd)
  return o?.tag === "PageDirectory" ? (i >= pdIndexOf(kernelBase) ? o.kernelPDEs.get(i) : o.pdes.get(i)) : undefined
}

/** The base of the 2^bits-aligned block holding `v`. */
const pageBase = (v: number, bits: number): number => (v - (v % bit(bits))) >>> 0

/** Page-directory caps of the thread that reach their directory through their ASID. */
const workingPDs = (x: Ctx): readonly (Direct & { readonly cap: PDCap })[] =>
  directOf(x.book, "PageDirectoryCap").filter((d) => liveDirectory(x.s, d.cap) !== undefined)

/**
 * The 1 MiB regions (PD indices) the generator maps into: low user memory, away from the kernel
 * window, 16-aligned blocks for super sections further up.
 */
const ptRegions = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
const sectionRegions = [32, 33, 34, 35, 40, 41]
const superRegions = [0x100, 0x110, 0x200]
/** The directory entries one super section takes. */
const sectionsPerSuper = bit(superSectionBits - sectionBits)

/**
 * Of `among`, the mapped frame caps with another cap to their frame in the thread's CSpace: deleting
 * one is not the last cap to the frame, and still unmaps it.
 */
export const sharedMappedFrames = <A extends { readonly cap: Cap; readonly slot: number }>(x: Ctx, among: readonly A[]): readonly A[] =>
  among.filter((l) => {
    const c = l.cap
    return c.tag === "FrameCap" && c.mapped !== null && x.book.direct.some((d) => d.cap.tag === "FrameCap" && d.cap.ptr === c.ptr && d.slot !== l.slot)
  })

/** An extra cap for the vspace argument: mostly a working directory, rarely any cap (errors). */
const vspaceArg = (x: Ctx, w: number, want?: PPtr): number => {
  const pds = workingPDs(x)
  if (rare(w, 12)) return (pick(x.book.direct, w >>> 4) ?? pick(directOf(x.book, "PageDirectoryCap"), w >>> 4))?.cptr ?? w % 256
  if (rare(w >>> 4, 10)) return pick(directOf(x.book, "PageDirectoryCap"), w >>> 8)?.cptr ?? InitialSlot.InitThreadVSpace
  const same = want === undefined ? [] : pds.filter((d) => d.cap.ptr === want)
  return (pick(same, w >>> 8) ?? pick(pds, w >>> 8))?.cptr ?? InitialSlot.InitThreadVSpace
}

/**
 * ASIDPool_Assign (mostly: a directory without an ASID from any pool the thread holds) or
 * ASIDControl_MakePool (a 4 KiB untyped with no children becomes a pool).
 */
export const asidPoolOp = (x: Ctx): Event => {
  const [w0, w1, w2, w3] = x.w as [number, number, number, number]
  const syscall = invokeSyscall(w3)
  if (!isMakePool(w0)) {
    const pools = directOf(x.book, "ASIDPoolCap")
    const pool = pick(pools, w1)?.cptr ?? InitialSlot.InitThreadASIDPool
    const pds = directOf(x.book, "PageDirectoryCap")
    const fresh = pds.filter((d) => d.cap.asid === null)
    const pd = rare(w2, 10) ? pick(x.book.direct, w2 >>> 4) : prefer(fresh, pds, w2 >>> 4, 7, 8)
    return sys(syscall, pool, L.ARMASIDPoolAssign, [], rare(w2 >>> 8, 20) ? [] : [pd?.cptr ?? w2 % 256])
  }
  const ctl = pick(directOf(x.book, "ASIDControlCap"), w1)?.cptr ?? InitialSlot.ASIDControl
  const uts = directOf(x.book, "UntypedCap")
  const pageSized = uts.filter((u) => u.cap.sizeBits === asidPoolBits && !u.cap.isDevice)
  const good = pageSized.filter((u) => !hasChildren(x.s, u.slot))
  // Half the time a 4 KiB untyped in use (a pool made from it, say), if there is one: RevokeFirst.
  const used = (w2 >>> 12) % 2 === 0 ? pageSized.filter((u) => hasChildren(x.s, u.slot)) : []
  const ut = rare(w2, 8) ? pick(x.book.direct, w2 >>> 4) : pick(used, w2 >>> 4) ?? prefer(good, uts, w2 >>> 4, 7, 8)
  const dest = rare(w1 >>> 8, 10) ? pick(x.book.live, w1 >>> 12) : freeSlotPreferRoot(x, w1 >>> 12)
  const [dv, di, dd] = target(dest, w1)
  return sys(syscall, ctl, L.ARMASIDControlMakePool, [di, dd], rare(w3 >>> 4, 20) ? [ut?.cptr ?? 0] : [ut?.cptr ?? w2 % 256, dv])
}

/** Does the ASIDPool op with first selector `w0` make a pool (two times in five) rather than assign an ASID? */
export const isMakePool = (w0: number): boolean => w0 % 5 >= 3

/** The MakePool prerequisite: a 4 KiB RAM untyped with no children, made by retype when there is none. */
export const hasPoolUntyped = (x: Ctx): boolean =>
  directOf(x.book, "UntypedCap").some((u) => u.cap.sizeBits === asidPoolBits && !u.cap.isDevice && !hasChildren(x.s, u.slot))

/** Does the PageTable op with first selector `w0` unmap (one time in three) rather than map? */
export const isPageTableUnmap = (w0: number): boolean => w0 % 3 === 2

/**
 * PageTable_Map (into a region of a working directory with no entry yet, mostly) or, one time in
 * three, PageTable_Unmap (mostly of a mapped table). One time in eight instead a copy of a
 * page-table or page-directory cap (CNode_Copy): it derives only from a mapped table or a
 * directory with an ASID.
 */
export const pageTableOp = (x: Ctx): Event => {
  const [w0, w1, w2, w3, w4] = x.w as [number, number, number, number, number]
  const syscall = invokeSyscall(w4)
  const pts = directOf(x.book, "PageTableCap")
  if ((w0 >>> 6) % 8 === 7) {
    const src = pick([...pts, ...directOf(x.book, "PageDirectoryCap")], w1)
    const [dv, di, dd] = target(freeSlotPreferRoot(x, w2), w2)
    if (src !== undefined) return sys(syscall, dv, L.CNodeCopy, [di, dd, src.cptr, wordBits, 15], [selfCNodeCptr(x)])
  }
  if (isPageTableUnmap(w0)) {
    // Seldom the root task's own page table (the one under its IPC buffer).
    const spare = rare(w1 >>> 4, 16) ? pts : pts.filter((p) => p.cap.mapped?.vaddr !== pageBase(rootIPCBufferVAddr, sectionBits))
    // Mostly a mapped table, preferably one with entries (Unmap clears it).
    const mapped = spare.filter((p) => p.cap.mapped !== null)
    const full = mapped.filter((p) => { const o = x.s.kheap.get(p.cap.ptr); return o?.tag === "PageTable" && o.ptes.size > 0 })
    const pt = rare(w1, 16) ? pick(x.book.direct, w1 >>> 4) : prefer(full, mapped, w1 >>> 2) ?? prefer(mapped, spare, w1)
    return sys(syscall, pt?.cptr ?? w1 % 256, L.ARMPageTableUnmap, [], [])
  }
  const unmapped = pts.filter((p) => p.cap.mapped === null)
  const pt = rare(w1, 16) ? pick(x.book.direct, w1 >>> 4) : prefer(unmapped, pts, w1, 7, 8)
  // A free region half the time, else a used one (DeleteFirst) in a directory that has one, rarely the kernel window.
  const toUsed = (w3 >>> 4) % 2 === 1
  const busy = toUsed ? workingPDs(x).filter((d) => ptRegions.some((i) => pdeAt(x.s, d.cap.ptr, i) !== undefined)) : []
  // One time in eight a directory cap whose ASID no longer finds it (its pool deleted): FailedLookup or InvalidCapability.
  const stale = (w2 >>> 12) % 8 === 0 ? directOf(x.book, "PageDirectoryCap").filter((d) => d.cap.asid !== null && liveDirectory(x.s, d.cap) === undefined) : []
  const pdCptr = pick(stale, w2 >>> 4)?.cptr ?? pick(busy, w2 >>> 4)?.cptr ?? vspaceArg(x, w2)
  const pdCap = x.book.direct.find((d) => d.cptr === pdCptr)?.cap
  const free = pdCap?.tag === "PageDirectoryCap" ? ptRegions.filter((i) => pdeAt(x.s, pdCap.ptr, i) === undefined) : []
  const used = pdCap?.tag === "PageDirectoryCap" ? ptRegions.filter((i) => pdeAt(x.s, pdCap.ptr, i) !== undefined) : []
  const region = rare(w3, 12) ? pdIndexOf(kernelBase) + (w3 >>> 4) % 16
    : toUsed ? pick(used, w3 >>> 8) ?? pick(ptRegions, w3 >>> 8)! : pick(free, w3 >>> 8) ?? pick(ptRegions, w3 >>> 8)!
  const vaddr = (region * bit(sectionBits) + ((w3 >>> 12) % 256) * bit(pageBits)) >>> 0
  return sys(syscall, pt?.cptr ?? w1 % 256, L.ARMPageTableMap, rare(w4 >>> 4, 20) ? [vaddr] : [vaddr, w2 % 8], rare(w4 >>> 8, 20) ? [] : [pdCptr])
}

/** Where a frame of `sizeBits` can go in directory `pd`: an address it would map at, from the directory's entries. */
const placeFor = (s: KernelState, pd: PPtr, sizeBits: number, w: number): number => {
  if (sizeBits === pageBits || sizeBits === largePageBits) {
    // A region with a page table; a page-aligned (or 64 KiB-aligned) address in it.
    const withPT = ptRegions.concat([pdIndexOf(0x0080_0000)]).filter((i) => pdeAt(s, pd, i)?.tag === "PageTablePDE")
    // One time in eight over an entry of the other kind: a small page on one of a large page's
    // sixteen entries, a large page on a block where a small page sits at any of its sixteen
    // (DeleteFirst either way; the block's first entry is the one a partial check would see).
    if (rare(w >>> 2, 8)) {
      const other = sizeBits === pageBits ? "LargePagePTE" : "SmallPagePTE"
      const used: number[] = []
      for (const i of withPT) {
        const e = pdeAt(s, pd, i)
        const pt = e?.tag === "PageTablePDE" ? s.kheap.get(e.table) : undefined
        if (pt?.tag === "PageTable") for (const [j, p] of pt.ptes) if (p.tag === other) used.push(i * bit(sectionBits) + j * bit(pageBits))
      }
      const v = pick(used, w >>> 5)
      if (v !== undefined) return (sizeBits === pageBits ? v : v - (v % bit(largePageBits))) >>> 0
    }
    const region = pick(withPT, w) ?? pick(ptRegions, w)!
    const slots = bit(sectionBits - sizeBits)
    return (region * bit(sectionBits) + ((w >>> 4) % slots) * bit(sizeBits)) >>> 0
  }
  // One time in eight a section or super section over an entry of another kind (a page table, a
  // section under a super section, a super section's part): DeleteFirst, whichever kind is in the way.
  if (sizeBits >= sectionBits && rare(w >>> 2, 8)) {
    const mine = sizeBits === sectionBits ? "SectionPDE" : "SuperSectionPDE"
    const busy = [...ptRegions, ...sectionRegions, ...superRegions].filter((i) => { const e = pdeAt(s, pd, i); return e !== undefined && e.tag !== mine })
    const i = pick(busy, w >>> 4)
    if (i !== undefined) return ((sizeBits === sectionBits ? i : i - (i % sectionsPerSuper)) * bit(sectionBits)) >>> 0
  }
  if (sizeBits === sectionBits) {
    const free = sectionRegions.filter((i) => { const e = pdeAt(s, pd, i); return e === undefined || e.tag === "SectionPDE" })
    return ((pick(free, w) ?? pick(sectionRegions, w)!) * bit(sectionBits)) >>> 0
  }
  return (pick(superRegions, w)! * bit(sectionBits)) >>> 0
}

/**
 * Page_Map: an unmapped frame where its size fits in a working directory (mostly), a mapped one
 * again at its own place with other rights (a third), or errors now and then: a misaligned or
 * kernel-window address, a mapped frame moved elsewhere, a small page where there is no page
 * table. One time in three it makes a copy of a mapped frame instead (CNode_Copy: the copy is
 * unmapped), so the frame can be shared with another address space, and one time in six it
 * deletes the mapped cap of a shared frame (which unmaps the frame).
 */
export const mapFrameOp = (x: Ctx): Event => {
  const [w0, w1, w2, w3, w4, w5] = x.w as [number, number, number, number, number, number]
  const syscall = invokeSyscall(w5)
  const frames = directOf(x.book, "FrameCap")
  const mapped = frames.filter((f) => f.cap.mapped !== null)
  // Share: copy a mapped frame's cap (CNode_Copy with all rights, a quarter of the time with Read
  // only: a read-only frame cap, whose mappings are read-only whatever rights Page_Map asks for)
  // into a free slot; mostly not the root's IPC buffer, whose cap the generator seldom deletes.
  if (w0 % 3 === 2 && mapped.length > 0) {
    const src = prefer(mapped.filter((f) => f.cptr !== InitialSlot.InitThreadIPCBuffer), mapped, w1, 7, 8)!
    const dest = freeSlotPreferRoot(x, w2)
    const [dv, di, dd] = target(dest, w2)
    return sys(syscall, dv, L.CNodeCopy, [di, dd, src.cptr, wordBits, (w1 >>> 14) % 4 === 0 ? 2 : 15], [selfCNodeCptr(x)])
  }
  // Unshare, one time in six: the holder of a shared frame's mapped cap deletes it (the frame is unmapped).
  const shared = w0 % 6 === 1 ? sharedMappedFrames(x, mapped) : []
  if (shared.length > 0) return sys(syscall, selfCNodeCptr(x), L.CNodeDelete, [pick(shared, w1)!.cptr, wordBits], [])
  // Remaps leave the root task's IPC buffer alone but now and then (a read-only buffer faults its stores).
  const remappable = rare(w2 >>> 20, 16) ? mapped : mapped.filter((f) => f.cptr !== InitialSlot.InitThreadIPCBuffer)
  const remap = w0 % 3 === 0 && remappable.length > 0
  // An unmapped frame: a quarter of the time a copy of a mapped one (a share), a quarter of the
  // time one bigger than 4 KiB (a large page, mostly), if there is one.
  const unmapped = frames.filter((f) => f.cap.mapped === null)
  const kind = (w1 >>> 8) % 4
  const copies = kind === 0 ? unmapped.filter((f) => mapped.some((m) => m.cap.ptr === f.cap.ptr)) : []
  const bigs = kind % 2 === 1 ? unmapped.filter((f) => f.cap.sizeBits !== pageBits) : []
  // Each size present (large page, section, super section) as likely as the others.
  const bigSize = pick([...new Set(bigs.map((f) => f.cap.sizeBits))].sort((a, b) => a - b), w1 >>> 10)
  const big = pick(bigs.filter((f) => f.cap.sizeBits === bigSize), w1 >>> 12)
  const frame = rare(w1, 16) ? pick(x.book.direct, w1 >>> 4) : remap ? pick(remappable, w1) : pick(copies, w1) ?? big ?? prefer(unmapped, frames, w1, 7, 8)
  const fc = frame?.cap.tag === "FrameCap" ? frame.cap as FrameCap : undefined
  // Rights: mostly read-write, sometimes read-only or none.
  const rights = w4 % 4 === 0 ? 2 : w4 % 8 === 1 ? 0 : 3
  const attr = (w4 >>> 3) % 8
  if (fc !== undefined && fc.mapped !== null && !rare(w2, 6)) {
    // Map again where it is: the directory with its ASID.
    const pd = directOf(x.book, "PageDirectoryCap").find((d) => d.cap.asid === fc.mapped!.asid)
    return sys(syscall, frame!.cptr, L.ARMPageMap, [fc.mapped.vaddr, rights, attr], [pd?.cptr ?? vspaceArg(x, w3)])
  }
  const size = fc?.sizeBits ?? pageBits
  // A small or large page wants a directory with a page table: mostly one that has one.
  const withPT = size === pageBits || size === largePageBits
    ? workingPDs(x).filter((d) => ptRegions.concat([pdIndexOf(0x0080_0000)]).some((i) => pdeAt(x.s, d.cap.ptr, i)?.tag === "PageTablePDE"))
    : []
  // A copy of a mapped frame (a share) goes mostly to another directory than the one it is mapped in.
  const mappedIn = new Set(fc === undefined ? [] : frames.filter((f) => f.cap.ptr === fc.ptr && f.cap.mapped !== null).map((f) => f.cap.mapped!.asid))
  const candidates = withPT.length > 0 ? withPT : size === pageBits || size === largePageBits ? [] : workingPDs(x)
  const elsewhere = candidates.filter((d) => !mappedIn.has(d.cap.asid!))
  // Half the other maps go into the mapping thread's own directory, when it can take the frame:
  // the thread's own memory accesses then go through every kind of mapping (most directories
  // are other threads' and their frames mostly small).
  const own = candidates.filter((d) => d.cap.ptr === userVSpaceRoot(x.s, x.t))
  const pdCptr = (w3 >>> 20) % 4 === 0 ? vspaceArg(x, w3)
    : (w3 >>> 22) % 2 === 0 && own.length > 0 && !mappedIn.has(own[0]!.cap.asid!) ? own[0]!.cptr
    : (pick(mappedIn.size > 0 && elsewhere.length > 0 ? elsewhere : candidates, w3 >>> 8)?.cptr ?? vspaceArg(x, w3))
  const pdCap = x.book.direct.find((d) => d.cptr === pdCptr)?.cap
  let vaddr = pdCap?.tag === "PageDirectoryCap" ? placeFor(x.s, pdCap.ptr, size, w2) : (w2 << pageBits) >>> 0
  if (rare(w2 >>> 8, 8)) vaddr = (vaddr + 0x200) >>> 0
  else if (rare(w2 >>> 12, 16)) vaddr = (kernelBase - (size === superSectionBits ? 0 : bit(pageBits))) >>> 0
  else if (rare(w2 >>> 16, 12)) vaddr = ((20 + (w2 >>> 20) % 8) * bit(sectionBits)) >>> 0
  return sys(syscall, frame?.cptr ?? w1 % 256, L.ARMPageMap, rare(w5 >>> 4, 24) ? [vaddr, rights] : [vaddr, rights, attr], rare(w5 >>> 8, 24) ? [] : [pdCptr])
}

/** Page_Unmap: mostly a mapped frame (half the time a big one), seldom the root task's IPC buffer. */
export const unmapFrameOp = (x: Ctx): Event => {
  const [w0, w1] = x.w as [number, number]
  const frames = directOf(x.book, "FrameCap")
  const spare = rare(w1 >>> 4, 16) ? frames : frames.filter((c) => c.cptr !== InitialSlot.InitThreadIPCBuffer)
  const mapped = spare.filter((c) => c.cap.mapped !== null)
  // Half the time a large page or a super section, whose 16 entries all go.
  const big = (w1 >>> 8) % 2 === 0 ? mapped.filter((c) => c.cap.sizeBits === largePageBits || c.cap.sizeBits === superSectionBits) : []
  const f = rare(w0, 16) ? pick(x.book.direct, w0 >>> 4) : pick(big, w0) ?? prefer(mapped, spare, w0)
  return sys(invokeSyscall(w1), f?.cptr ?? w0 % 256, L.ARMPageUnmap, [], [])
}

/** A flush range inside a frame of `sizeBits`: mostly a valid [start, end), sometimes empty, reversed or past the frame. */
const flushRange = (sizeBits: number, w: number): [number, number] => {
  const size = bit(sizeBits)
  const start = (w >>> 4) % size
  const r = w % 16
  if (r === 15) return [start, start]
  if (r === 14) return [start, size + 4]
  return [start, Math.min(size, start + 1 + ((w >>> 8) % 256))]
}

/** The frame flushes (mostly of a mapped frame) and GetAddress. */
export const frameOtherOp = (x: Ctx): Event => {
  const [w0, w1, w2, w3] = x.w as [number, number, number, number]
  const syscall = invokeSyscall(w3)
  const frames = directOf(x.book, "FrameCap")
  const f = rare(w0, 16) ? pick(x.book.direct, w0 >>> 4) : prefer(frames.filter((c) => c.cap.mapped !== null), frames, w0)
  const cptr = f?.cptr ?? w0 % 256
  if (w1 % 4 === 3) return sys(syscall, cptr, L.ARMPageGetAddress, [], [])
  const label = L.ARMPageClean_Data + (w1 >>> 2) % 4
  const [start, end] = flushRange(f?.cap.tag === "FrameCap" ? f.cap.sizeBits : pageBits, w2)
  return sys(syscall, cptr, label, rare(w2 >>> 16, 20) ? [start] : [start, end], [])
}

/** A page-directory flush: mostly a range inside a mapped frame of a working directory. */
export const pdFlushOp = (x: Ctx): Event => {
  const [w0, w1, w2, w3] = x.w as [number, number, number, number]
  const pds = directOf(x.book, "PageDirectoryCap")
  const working = workingPDs(x)
  const pd = rare(w0, 16) ? pick(x.book.direct, w0 >>> 4) : prefer(working, pds, w0, 7, 8)
  const label = L.ARMPDClean_Data + w1 % 4
  let start = (w2 << pageBits) >>> 0
  const c = pd?.cap
  if (c?.tag === "PageDirectoryCap" && x.s.kheap.get(c.ptr)?.tag === "PageDirectory") {
    // Somewhere mapped, mostly: the first mapped address among the generator's regions.
    const candidates = [...ptRegions, pdIndexOf(0x0080_0000), ...sectionRegions, ...superRegions].map((i) => i * bit(sectionBits))
    const hit = candidates.find((v) => resolveVAddr(x.s, c.ptr, v) !== null)
    if (hit !== undefined && w2 % 4 !== 3) start = hit
  }
  const r = w3 % 16
  const end = r === 15 ? start : r === 14 ? (start + bit(superSectionBits)) >>> 0 : r === 13 ? kernelBase + 4 : (start + 1 + ((w3 >>> 4) % 4096)) >>> 0
  return sys(invokeSyscall(w3 >>> 8), pd?.cptr ?? w0 % 256, label, rare(w2 >>> 8, 20) ? [start] : [start, end], [])
}

/** A page (or section) a directory maps for the user: its address, size, the kind of entry, rights and execute-never bit. */
interface UserPage { readonly vaddr: number; readonly sizeBits: number; readonly kind: string; readonly rights: VMRights; readonly xn: boolean }

/** The pages directory `pd` maps below the kernel window (one per entry: a super section's 16 sections, a large page's 16 pages). */
const userPages = (s: KernelState, pd: PPtr): UserPage[] => {
  const o = s.kheap.get(pd)
  if (o?.tag !== "PageDirectory") return []
  const out: UserPage[] = []
  for (const [i, e] of o.pdes) {
    if (e.tag === "SectionPDE" || e.tag === "SuperSectionPDE") {
      out.push({ vaddr: (i * bit(sectionBits)) >>> 0, sizeBits: sectionBits, kind: e.tag, rights: e.rights, xn: (e.attr & 4) !== 0 })
    } else if (e.tag === "PageTablePDE") {
      const pt = s.kheap.get(e.table)
      if (pt?.tag !== "PageTable") continue
      for (const [j, p] of pt.ptes) {
        if (p.tag === "InvalidPTE") continue
        out.push({ vaddr: (i * bit(sectionBits) + j * bit(pageBits)) >>> 0, sizeBits: pageBits, kind: p.tag, rights: p.rights, xn: (p.attr & 4) !== 0 })
      }
    }
  }
  return out
}

/**
 * A page, each kind of mapping (small page, large page, section, super section) present as
 * likely as the others: a large page has sixteen entries and small pages are most of the rest,
 * so picking among entries would seldom reach the others.
 */
const pickByKind = (pages: readonly UserPage[], w: number): UserPage | undefined => {
  const kind = pick([...new Set(pages.map((p) => p.kind))].sort(), w)
  return pick(pages.filter((p) => p.kind === kind), w >>> 2)
}

/** Does an access of `kind` go through a page with these rights? */
const allows = (kind: MemoryAccessKind, p: UserPage): boolean =>
  kind === "Write" ? p.rights === "ReadWrite" : p.rights !== "KernelOnly" && (kind === "Read" || !p.xn)

/**
 * MemoryAccess: the current thread reads, writes or jumps to an address (reads and writes two
 * times in five each). Mostly a word its VSpace maps with the rights the access needs: one of the
 * first 64 words of a mapped page (so threads sharing a frame meet in it) or of its IPC buffer.
 * Sometimes an address that faults: a mapped page the access may not use (a write to a read-only
 * page, a jump to an execute-never one), a page table's empty entry, a region with no entry, the
 * kernel window, or any word.
 */
export const memoryOp = (x: Ctx): Event => {
  const [w0, w1, w2, w3] = x.w as [number, number, number, number]
  const kind = (["Read", "Write", "Read", "Write", "Execute"] as const)[w0 % 5]!
  const pages = userPages(x.s, userVSpaceRoot(x.s, x.t))
  const usable = pages.filter((p) => allows(kind, p))
  const word = 4 * ((w2 >>> 4) % 64)
  const r = w1 % 16
  let vaddr: number
  if (r < 9 && usable.length > 0) vaddr = pickByKind(usable, w1 >>> 4)!.vaddr + word
  else if (r < 11) vaddr = (tcbAt(x.s, x.t)?.tcbIPCBuffer ?? rootIPCBufferVAddr) + 4 * ((w2 >>> 4) % 128)
  else if (r < 13 && pages.length > usable.length) vaddr = pickByKind(pages.filter((p) => !allows(kind, p)), w1 >>> 4)!.vaddr + word
  else if (r === 13) {
    // An empty entry of a page table the directory has, or a region with no entry at all.
    const pts = pages.filter((p) => p.sizeBits === pageBits)
    const pt = pick(pts, w1 >>> 4)
    vaddr = pt !== undefined && (w2 & 1) === 0 ? ((pt.vaddr & ~(bit(sectionBits) - 1)) + ((w2 >>> 1) % 256) * bit(pageBits)) >>> 0 : ((40 + (w2 >>> 1) % 8) * bit(sectionBits)) >>> 0
  } else if (r === 14) vaddr = (kernelBase + (w2 << 2)) >>> 0
  else vaddr = (w2 * 65_537 + w3) >>> 0
  return kind === "Write" ? { tag: "MemoryAccess", kind, vaddr: vaddr >>> 0, value: w3 % 4 === 0 ? 0 : w3 } : { tag: "MemoryAccess", kind, vaddr: vaddr >>> 0 }
}

/**
 * A read, write or jump through a mapping bigger than a small page (a large page, a section, a
 * super section) of the thread's own address space, each kind as likely as the others, three
 * times in four one the access may use; `undefined` when it maps none. Big frames are mapped
 * into many directories, and a thread's accesses mostly meet small pages, so without this the
 * translation of the big kinds (their rights and execute-never bits) is rarely exercised.
 */
export const bigPageAccess = (x: Ctx): Event | undefined => {
  const [w0, w1, w2, w3] = x.w as [number, number, number, number]
  const big = userPages(x.s, userVSpaceRoot(x.s, x.t)).filter((p) => p.kind !== "SmallPagePTE")
  if (big.length === 0) return undefined
  const kind = (["Read", "Write", "Execute"] as const)[w0 % 3]!
  const usable = big.filter((p) => allows(kind, p))
  const page = pickByKind(w1 % 4 !== 3 && usable.length > 0 ? usable : big, w1 >>> 2)!
  const vaddr = (page.vaddr + 4 * ((w2 >>> 4) % 64)) >>> 0
  return kind === "Write" ? { tag: "MemoryAccess", kind, vaddr, value: w3 } : { tag: "MemoryAccess", kind, vaddr }
}

/**
 * The next step towards an address space of the thread's own beside the root task's: a directory
 * with an ASID, a page table mapped in it, a small page mapped through that table (make the
 * directory, assign it an ASID, make the table, map it, copy the cap of a page another directory
 * maps (three times in four; else make a page), map it). `undefined` when
 * there is one already (or `retype` has nothing to make from). Shared frames, remaps and the
 * flushes then have a second address space to work in.
 */
export const nextAddressSpaceStep = (x: Ctx, retype: (type: number) => Event): Event | undefined => {
  const syscall = invokeSyscall(x.w[5]!)
  const rootPD = findPDForASID(x.s, 1)
  const pds = workingPDs(x).filter((d) => !rootPD.ok || d.cap.ptr !== rootPD.value)
  const withPage = pds.find((d) => ptRegions.some((i) => {
    const e = pdeAt(x.s, d.cap.ptr, i)
    if (e?.tag !== "PageTablePDE") return false
    const pt = x.s.kheap.get(e.table)
    return pt?.tag === "PageTable" && pt.ptes.size > 0
  }))
  if (withPage !== undefined) return undefined
  const pd = pick(pds, x.w[0]!)
  if (pd === undefined) {
    const fresh = directOf(x.book, "PageDirectoryCap").find((d) => d.cap.asid === null)
    if (fresh === undefined) return retype(ObjectType.PageDirectory)
    const pool = directOf(x.book, "ASIDPoolCap")[0]?.cptr ?? InitialSlot.InitThreadASIDPool
    return sys(syscall, pool, L.ARMASIDPoolAssign, [], [fresh.cptr])
  }
  const region = ptRegions.find((i) => pdeAt(x.s, pd.cap.ptr, i)?.tag === "PageTablePDE")
  if (region === undefined) {
    const pt = directOf(x.book, "PageTableCap").find((d) => d.cap.mapped === null)
    if (pt === undefined) return retype(ObjectType.PageTable)
    // Any address in the table's region will do (the cap records the region's).
    const at = (ptRegions[x.w[1]! % ptRegions.length]! * bit(sectionBits) + ((x.w[1]! >>> 4) % 256) * bit(pageBits)) >>> 0
    return sys(syscall, pt.cptr, L.ARMPageTableMap, [at, 3], [pd.cptr])
  }
  // The page: mostly a frame another directory maps too (a copy of its cap), so the two share it.
  const frames = directOf(x.book, "FrameCap").filter((d) => d.cap.sizeBits === pageBits)
  const mappedElsewhere = frames.filter((d) => d.cap.mapped !== null && d.cap.mapped.asid !== pd.cap.asid)
  const unmapped = frames.filter((d) => d.cap.mapped === null)
  const share = x.w[4]! % 4 !== 0
  const frame = share ? unmapped.find((d) => mappedElsewhere.some((m) => m.cap.ptr === d.cap.ptr)) ?? (mappedElsewhere.length === 0 ? unmapped[0] : undefined) : unmapped[0]
  if (frame === undefined) {
    const src = share ? pick(mappedElsewhere, x.w[4]! >>> 2) : undefined
    if (src === undefined) return retype(ObjectType.SmallPage)
    const [dv, di, dd] = target(freeSlotPreferRoot(x, x.w[6]!), x.w[6]!)
    return sys(syscall, dv, L.CNodeCopy, [di, dd, src.cptr, wordBits, 15], [selfCNodeCptr(x)])
  }
  const vaddr = (region * bit(sectionBits) + (x.w[2]! % 256) * bit(pageBits)) >>> 0
  return sys(syscall, frame.cptr, L.ARMPageMap, [vaddr, 3, x.w[3]! % 8], [pd.cptr])
}
