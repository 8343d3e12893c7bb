/**
 * Untyped memory: Untyped_Retype (seL4 src/object/untyped.c, A/Decode_A
 * `decode_untyped_invocation`, A/Retype_A). Objects are carved from the untyped's free region,
 * each aligned to its size; memory is reused only once the untyped has no children left.
 * @category objects
 */
import type { Cap, ObjectType, PPtr, SlotPtr, SyscallError } from "../../model/index.ts"
import {
  InvocationLabel as L, ObjectType as OT, alignUp, bit, getObjectSize, isFrameType, maxUntypedBits, minUntypedBits, objectTypeCount, retypeFanOutLimit, wordBits,
} from "../../model/index.ts"
import type { Result } from "../result.ts"
import { err, ok } from "../result.ts"
import type { KernelState } from "../state.ts"
import { KernelBug, getCap, mapDelete, mapSet, setAdd, setCap, setObject, slotOf, updateState } from "../state.ts"
import type { Preemptible } from "../model/preemption.ts"
import { notPreempted, preemptionPoint } from "../model/preemption.ts"
import { lookupTargetSlot } from "../kernel/cspace.ts"
import type { InvocationArgs } from "./cnode.ts"
import { ensureEmptySlot, hasChildren } from "./cnode.ts"
import { createObject } from "./objecttype.ts"

/** A checked Untyped_Retype, ready to perform. */
export interface RetypeInvocation {
  readonly slot: SlotPtr
  /** The untyped has no children: its memory is wiped and reused from the start. */
  readonly reset: boolean
  /** Where the first object goes: the free point aligned to the object size. */
  readonly base: PPtr
  readonly type: ObjectType
  readonly userSize: number
  readonly destCNode: PPtr
  readonly destOffset: number
  readonly count: number
  readonly isDevice: boolean
}

/**
 * Check an Untyped_Retype(type, size, root, index, depth, offset, num), reading only.
 *
 * **Rights**: none (an untyped cap carries none).
 *
 * **Errors**, in seL4's order: another label -> IllegalOperation; fewer than 6 words or no root
 * cap -> TruncatedMessage; type >= 11 -> InvalidArgument(0); size >= 32 or object size > 29 ->
 * RangeError(0, 29); a CNode of size 0 or an untyped under 4 bits -> InvalidArgument(1); the
 * destination CNode's lookup (depth 0 means the root cap itself) -> FailedLookup errors; not a
 * CNode cap -> FailedLookup(dest, MissingCapability(depth)); offset beyond the CNode ->
 * RangeError(0, 2^radix - 1); num outside 1..256 -> RangeError(1, 256); window past the end ->
 * RangeError(1, 2^radix - offset); an occupied slot in the window -> DeleteFirst; not enough free
 * memory -> NotEnoughMemory(free bytes); a device untyped asked for a kernel object ->
 * InvalidArgument(1).
 *
 * Mirrors seL4 `decodeUntypedInvocation`.
 */
export const decodeUntypedInvocation = (
  s: KernelState, slot: SlotPtr, cap: Extract<Cap, { tag: "UntypedCap" }>, a: InvocationArgs,
): Result<RetypeInvocation, SyscallError> => {
  const { label, args, extraCaps } = a
  if (label !== L.UntypedRetype) return err({ tag: "IllegalOperation" })
  const root = extraCaps[0]
  if (args.length < 6 || root === undefined) return err({ tag: "TruncatedMessage" })
  const [newType, userSize, nodeIndex, nodeDepth, nodeOffset, nodeWindow] = args as [number, number, number, number, number, number]
  if (newType >= objectTypeCount) return err({ tag: "InvalidArgument", argument: 0 })
  const type = newType as ObjectType
  const objSize = getObjectSize(type, userSize)
  if (userSize >= wordBits || objSize > maxUntypedBits) return err({ tag: "RangeError", min: 0, max: maxUntypedBits })
  if (type === OT.CNode && userSize === 0) return err({ tag: "InvalidArgument", argument: 1 })
  if (type === OT.Untyped && userSize < minUntypedBits) return err({ tag: "InvalidArgument", argument: 1 })

  let nodeCap: Cap = root
  if (nodeDepth !== 0) {
    const lu = lookupTargetSlot(s, root, nodeIndex, nodeDepth)
    if (!lu.ok) return lu
    nodeCap = getCap(s, lu.value)
  }
  if (nodeCap.tag !== "CNodeCap") {
    return err({ tag: "FailedLookup", wasSource: false, failure: { tag: "MissingCapability", bitsLeft: nodeDepth } })
  }
  const nodeSize = bit(nodeCap.radix)
  if (nodeOffset > nodeSize - 1) return err({ tag: "RangeError", min: 0, max: nodeSize - 1 })
  if (nodeWindow < 1 || nodeWindow > retypeFanOutLimit) return err({ tag: "RangeError", min: 1, max: retypeFanOutLimit })
  if (nodeWindow > nodeSize - nodeOffset) return err({ tag: "RangeError", min: 1, max: nodeSize - nodeOffset })
  for (let i = nodeOffset; i < nodeOffset + nodeWindow; i++) {
    const e = ensureEmptySlot(s, slotOf(nodeCap.ptr, i))
    if (!e.ok) return e
  }
  // With no children left the untyped starts over from its base; otherwise from its free index.
  const reset = !hasChildren(s, slot)
  const freeIndex = reset ? 0 : cap.freeIndex
  const freeBytes = bit(cap.sizeBits) - freeIndex
  if (Math.floor(freeBytes / bit(objSize)) < nodeWindow) return err({ tag: "NotEnoughMemory", bytesLeft: freeBytes })
  if (cap.isDevice && !isFrameType(type) && type !== OT.Untyped) return err({ tag: "InvalidArgument", argument: 1 })
  return ok({
    slot, reset, base: alignUp(cap.ptr + freeIndex, objSize), type, userSize, destCNode: nodeCap.ptr,
    destOffset: nodeOffset, count: nodeWindow, isDevice: cap.isDevice,
  })
}

/**
 * Every object in [base, base + 2^bits) leaves the heap (the memory is wiped). Mirrors l4v
 * `delete_objects` (seL4's C zeroes the memory; the objects in it are gone).
 */
export const deleteObjects = (s: KernelState, base: PPtr, bits: number): KernelState => {
  const end = base + bit(bits)
  let kheap = s.kheap
  for (const p of s.kheap.keys()) if (p >= base && p < end) kheap = mapDelete(kheap, p)
  return kheap === s.kheap ? s : updateState(s, { kheap })
}

/**
 * Wipe an untyped with no children, preemptibly: every object in its range leaves the heap at
 * once (l4v `delete_objects`), then its memory is cleared in chunks of 2^resetChunkBits bytes from
 * the top of the used part down, the free index falling to the start of each chunk, with a
 * preemption point after each. A preempted reset leaves the free index at the last chunk cleared;
 * the restarted retype resets from there. A free index of 0 needs nothing; device memory and an
 * untyped smaller than a chunk are reset at once. Mirrors seL4 `resetUntypedCap` / l4v
 * `reset_untyped_cap`.
 */
export const resetUntypedCap = (s: KernelState, slot: SlotPtr): Preemptible => {
  const cap = getCap(s, slot)
  if (cap.tag !== "UntypedCap") throw new KernelBug("resetUntypedCap: not an untyped cap")
  if (cap.freeIndex === 0) return notPreempted(s)
  const s1 = deleteObjects(s, cap.ptr, cap.sizeBits)
  const chunk = s.resetChunkBits
  // Device memory is not cleared; a small untyped is cleared in one go.
  if (cap.isDevice || cap.sizeBits < chunk) return notPreempted(setCap(s1, slot, { ...cap, freeIndex: 0 }))
  // Chunk by chunk, from the one holding the last used byte down to the base. Only the kernel
  // runs between two chunks, so the free index is written once, where the loop stops.
  let st = s1
  for (let offset = Math.floor((cap.freeIndex - 1) / bit(chunk)) * bit(chunk); offset >= 0; offset -= bit(chunk)) {
    const p = preemptionPoint(st)
    st = p.state
    if (p.preempted || offset === 0) return { state: setCap(st, slot, { ...cap, freeIndex: offset }), preempted: p.preempted }
  }
  throw new KernelBug("resetUntypedCap: the chunk loop ends at offset 0")
}

/**
 * Perform a checked retype: reset if asked (preemptible: a preempted reset ends the invocation,
 * to be restarted), advance the free index past the new objects, then create each object and
 * insert its cap, an original child of the untyped, into the window in index order (each new cap
 * becomes the untyped's first child). Mirrors seL4 `invokeUntyped_Retype` / l4v `invoke_untyped`.
 */
export const invokeUntypedRetype = (s0: KernelState, inv: RetypeInvocation): Preemptible => {
  let s = s0
  if (inv.reset) {
    const r = resetUntypedCap(s0, inv.slot)
    if (r.preempted) return r
    s = r.state
  }
  const ut = getCap(s, inv.slot)
  if (ut.tag !== "UntypedCap") return notPreempted(s)
  const objSize = getObjectSize(inv.type, inv.userSize)
  const end = inv.base + inv.count * bit(objSize)
  s = setCap(s, inv.slot, { ...ut, freeIndex: end - ut.ptr })
  for (let i = 0; i < inv.count; i++) {
    const p = inv.base + i * bit(objSize)
    const { obj, cap } = createObject(s, inv.type, p, inv.userSize, inv.isDevice)
    if (obj !== null) s = setObject(s, p, obj)
    const dest = slotOf(inv.destCNode, inv.destOffset + i)
    s = setCap(s, dest, cap)
    s = updateState(s, {
      cdt: mapSet(s.cdt, dest, inv.slot),
      cdtList: mapSet(s.cdtList, inv.slot, [dest, ...(s.cdtList.get(inv.slot) ?? [])]),
      isOriginal: setAdd(s.isOriginal, dest),
    })
  }
  return notPreempted(s)
}
