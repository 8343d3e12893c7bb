/**
 * Shared helpers of the invariant checks: object sizes, cap ranges and classes, a sorted index of
 * the heap, CDT ancestry, and hex renderings for messages. Not re-exported by the barrel.
 * @category invariants
 */
import type { Cap, PPtr, SlotPtr } from "../../model/index.ts"
import {
  asidPoolBits, bit, endpointBits, hex, notificationBits, pageDirBits, pageTableBits, slotBits, tcbBits, tcbCNodeEntries, zombieTypeTCB,
} from "../../model/index.ts"
import type { KObject, KernelState } from "../state.ts"

/** Size bits of a heap object (l4v `obj_bits`; seL4 `getObjectSize`). */
export const objBits = (o: KObject): number => {
  switch (o.tag) {
    case "TCB": return tcbBits
    case "Endpoint": return endpointBits
    case "Notification": return notificationBits
    case "CNode": return o.radix + slotBits
    case "Frame": return o.sizeBits
    case "PageTable": return pageTableBits
    case "PageDirectory": return pageDirBits
    case "ASIDPool": return asidPoolBits
  }
}

/**
 * The object a cap names (l4v `obj_ref_of`), or null for caps that name none (untyped included,
 * and a cap of no known kind, which only a corrupted state holds). A Zombie names the CNode or TCB
 * it is emptying (its first slot is the object's address).
 */
export const capObjRef = (c: Cap): PPtr | null => {
  switch (c.tag) {
    case "EndpointCap": case "NotificationCap": case "CNodeCap": case "ThreadCap":
    case "FrameCap": case "PageTableCap": case "PageDirectoryCap": case "ASIDPoolCap": case "ZombieCap":
      return c.ptr
    case "ReplyCap": return c.tcb
    case "NullCap": case "UntypedCap": case "DomainCap": case "IRQControlCap": case "IRQHandlerCap": case "ASIDControlCap":
      return null
    default:
      return null
  }
}

/** Size bits of the memory a cap covers (l4v `cap_bits`); 0 for caps that cover none. */
export const capBits = (c: Cap): number => {
  switch (c.tag) {
    case "UntypedCap": return c.sizeBits
    case "EndpointCap": return endpointBits
    case "NotificationCap": return notificationBits
    case "CNodeCap": return c.radix + slotBits
    case "ThreadCap": case "ReplyCap": return tcbBits
    case "FrameCap": return c.sizeBits
    case "PageTableCap": return pageTableBits
    case "PageDirectoryCap": return pageDirBits
    case "ASIDPoolCap": return asidPoolBits
    case "ZombieCap": return c.zombieType === zombieTypeTCB ? tcbBits : c.zombieType + slotBits
    case "NullCap": case "DomainCap": case "IRQControlCap": case "IRQHandlerCap": case "ASIDControlCap": return 0
  }
}

/** A half-open address range [lo, hi); empty when lo >= hi. */
export interface Range { readonly lo: number; readonly hi: number }
export const emptyRange: Range = { lo: 0, hi: 0 }
export const isEmpty = (r: Range): boolean => r.lo >= r.hi
export const rangeSubset = (a: Range, b: Range): boolean => isEmpty(a) || (a.lo >= b.lo && a.hi <= b.hi)
export const rangesMeet = (a: Range, b: Range): boolean => !isEmpty(a) && !isEmpty(b) && a.lo < b.hi && b.lo < a.hi
export const showRange = (r: Range): string => (isEmpty(r) ? "{}" : `[${hex(r.lo)}, ${hex(r.hi)})`)

/** l4v `untyped_range`: [ptr, ptr + 2^sizeBits) of an untyped cap, empty for every other cap. */
export const untypedRange = (c: Cap): Range =>
  c.tag === "UntypedCap" ? { lo: c.ptr, hi: c.ptr + bit(c.sizeBits) } : emptyRange

/** l4v `usable_untyped_range`: the part of an untyped above its watermark, [ptr + freeIndex, end). */
export const usableUntypedRange = (c: Cap): Range =>
  c.tag === "UntypedCap" && c.freeIndex < bit(c.sizeBits)
    ? { lo: c.ptr + c.freeIndex, hi: c.ptr + bit(c.sizeBits) }
    : emptyRange

/**
 * A cap's range: its untyped range, or the whole range of the object it names (seL4's
 * `sameRegionAs` regions; l4v `cap_range` uses the object's base only). Empty for caps that
 * name no memory.
 */
export const capRange = (c: Cap): Range => {
  if (c.tag === "UntypedCap") return untypedRange(c)
  const p = capObjRef(c)
  return p === null ? emptyRange : { lo: p, hi: p + bit(capBits(c)) }
}

/**
 * l4v `cap_class`: caps to memory are Physical, reply caps are classed by their thread, the
 * rest (domain, IRQ control and handler caps) are Other.
 */
export const capClass = (c: Cap): string => {
  switch (c.tag) {
    case "UntypedCap": case "EndpointCap": case "NotificationCap": case "CNodeCap": case "ThreadCap":
    case "FrameCap": case "PageTableCap": case "PageDirectoryCap": case "ASIDPoolCap": case "ZombieCap":
      return "Physical"
    case "ReplyCap": return `Reply(${hex(c.tcb)})`
    case "NullCap": case "DomainCap": case "IRQControlCap": case "IRQHandlerCap": case "ASIDControlCap": return "Other"
  }
}

// ---- heap index ---------------------------------------------------------------------------------

/** The heap sorted by base address, with each object's end and a running maximum of ends. */
export interface HeapIndex {
  readonly bases: readonly number[]
  readonly objs: readonly KObject[]
  readonly ends: readonly number[]
  /** Index of the object with the largest end among 0..i. */
  readonly maxEndAt: readonly number[]
}

const heapIndexCache = new WeakMap<KernelState, HeapIndex>()

/** The sorted heap index of a state, computed once per state object (states are immutable). */
export const heapIndex = (s: KernelState): HeapIndex => {
  const cached = heapIndexCache.get(s)
  if (cached !== undefined) return cached
  const entries = [...s.kheap.entries()].sort((a, b) => a[0] - b[0])
  const bases = entries.map(([p]) => p)
  const objs = entries.map(([, o]) => o)
  const ends = entries.map(([p, o]) => p + bit(objBits(o)))
  const maxEndAt: number[] = []
  for (let i = 0; i < ends.length; i++) {
    const prev = i === 0 ? -1 : maxEndAt[i - 1]!
    maxEndAt.push(prev >= 0 && ends[prev]! >= ends[i]! ? prev : i)
  }
  const ix: HeapIndex = { bases, objs, ends, maxEndAt }
  heapIndexCache.set(s, ix)
  return ix
}

/** The number of sorted entries below `x` (the first index whose value is >= x). */
export const lowerBound = (xs: readonly number[], x: number): number => {
  let lo = 0
  let hi = xs.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (xs[mid]! < x) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** The objects whose ranges hold `addr` (more than one only when objects overlap), nearest base first. */
export const objectsContaining = (ix: HeapIndex, addr: number): readonly { base: PPtr; obj: KObject }[] => {
  const out: { base: PPtr; obj: KObject }[] = []
  for (let j = lowerBound(ix.bases, addr + 1) - 1; j >= 0 && ix.ends[ix.maxEndAt[j]!]! > addr; j--) {
    if (ix.ends[j]! > addr) out.push({ base: ix.bases[j]!, obj: ix.objs[j]! })
  }
  return out
}

/** The objects whose ranges meet `r`, as sorted-index positions. */
export const objectsMeeting = (ix: HeapIndex, r: Range): readonly number[] => {
  if (isEmpty(r)) return []
  const out: number[] = []
  const first = lowerBound(ix.bases, r.lo)
  // Objects that start below r but reach into it: walk back while the running maximum end does.
  for (let j = first - 1; j >= 0 && ix.ends[ix.maxEndAt[j]!]! > r.lo; j--) {
    if (ix.ends[j]! > r.lo) out.push(j)
  }
  for (let j = first; j < ix.bases.length && ix.bases[j]! < r.hi; j++) out.push(j)
  return out
}

// ---- slots --------------------------------------------------------------------------------------

/** Where a slot lives: the cap table holding it and its index there, if it is a real slot. */
export type SlotHome =
  | { readonly kind: "CNode"; readonly base: PPtr; readonly index: number; readonly radix: number }
  | { readonly kind: "TCB"; readonly base: PPtr; readonly index: number }
  | { readonly kind: "none"; readonly reason: string }

export const slotHome = (ix: HeapIndex, slot: SlotPtr): SlotHome => {
  // Where objects overlap (pspace_distinct reports it), prefer a cap table among them.
  const holders = objectsContaining(ix, slot)
  const home = holders.find((h) => h.obj.tag === "CNode" || h.obj.tag === "TCB") ?? holders[0]
  if (home === undefined) return { kind: "none", reason: "no object holds that address" }
  const off = slot - home.base
  if (off % bit(slotBits) !== 0) {
    return { kind: "none", reason: `it is not slot-aligned inside the ${home.obj.tag} at ${hex(home.base)}` }
  }
  const index = off / bit(slotBits)
  if (home.obj.tag === "CNode") return { kind: "CNode", base: home.base, index, radix: home.obj.radix }
  if (home.obj.tag === "TCB") {
    if (index < tcbCNodeEntries) return { kind: "TCB", base: home.base, index }
    return { kind: "none", reason: `it is index ${index} of the TCB at ${hex(home.base)}, which has ${tcbCNodeEntries} slots` }
  }
  return { kind: "none", reason: `it lies inside the ${home.obj.tag} at ${hex(home.base)}, which holds no caps` }
}

/** `slot 0x… (CNode 0x…[i])` or `slot 0x… (TCB 0x…[i])`: a slot named with its home when it has one. */
export const showSlot = (s: KernelState, slot: SlotPtr): string => {
  const h = slotHome(heapIndex(s), slot)
  return h.kind === "none" ? `slot ${hex(slot)}` : `slot ${hex(slot)} (${h.kind} ${hex(h.base)}[${h.index}])`
}

// ---- CDT ----------------------------------------------------------------------------------------

/** Is `p` a strict descendant of `ancestor` in the CDT (l4v `p ∈ descendants_of ancestor`)? Safe on loops. */
export const isDescendant = (s: KernelState, p: SlotPtr, ancestor: SlotPtr): boolean => {
  let cur = s.cdt.get(p)
  for (let steps = 0; cur !== undefined && steps <= s.cdt.size; steps++) {
    if (cur === ancestor) return true
    cur = s.cdt.get(cur)
  }
  return false
}

export { hex }
