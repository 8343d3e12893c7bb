/**
 * Untyped_Retype (seL4 src/object/untyped.c): decode every argument, then carve objects from the
 * untyped's free space and insert their caps as its MDB children.
 * @category objects
 */
import type { Cap, ObjectType } from "../../model/index.ts"
import {
  InvocationLabel, ObjectType as OT, getObjectSize, isFrameType, maxUntypedBits, minUntypedBits, objectTypeCount,
  retypeFanOutLimit, wordBits, bit as BIT,
} from "../../model/index.ts"
import { getSyscallArg } from "../api/syscall.ts"
import { lookedUpSlot, lookupTargetSlot } from "../kernel/cspace.ts"
import { setThreadState } from "../kernel/thread.ts"
import type { Cte, ImplCNode, ImplState } from "../state.ts"
import {
  EXCEPTION_NONE, type Exception, KernelBug, ThreadStateRestart, cnodeCapAt, extraCapSlot, getCNodeImpl, syscallError,
} from "../state.ts"
import { ensureNoChildren } from "./cnode.ts"
import { preemptionPoint } from "../model/preemption.ts"
import { createNewObjects } from "./objecttype.ts"

/** The smallest object size (endpoints and notifications; C `seL4_MinUntypedBits` too): every object base is a multiple. */
const minObjectBits = minUntypedBits

/** C `alignUp` on byte addresses (exact in doubles below 2^53). */
const alignUpBits = (x: number, bits: number): number => {
  const b = BIT(bits)
  return Math.ceil(x / b) * b
}

/** The untyped cap with a new watermark (C `cap_untyped_cap_set_capFreeIndex`). */
const untypedCapWithFreeIndex = (cap: Extract<Cap, { tag: "UntypedCap" }>, freeIndex: number): Cap =>
  ({ tag: "UntypedCap", isDevice: cap.isDevice, ptr: cap.ptr, sizeBits: cap.sizeBits, freeIndex })

/**
 * Decode Untyped_Retype(type, sizeBits, root, nodeIndex, nodeDepth, nodeOffset, nodeWindow) on the
 * untyped cap in `slot` and, when valid, perform it.
 *
 * **Errors** (in order): IllegalOperation (label); TruncatedMessage (< 6 args or no root cap);
 * InvalidArgument(0) (type); RangeError(0, 29) (size); InvalidArgument(1) (CNode of size 0,
 * untyped under 4 bits); destination lookup errors; FailedLookup(dest, MissingCapability(depth))
 * (not a CNode); RangeError(0, 2^r - 1) (offset); RangeError(1, 256) and RangeError(1, 2^r - offset)
 * (window); DeleteFirst (occupied slot); NotEnoughMemory(free bytes); InvalidArgument(1) (kernel
 * object from device memory).
 * @refines spec/object/untyped#decodeUntypedInvocation
 */
export function decodeUntypedInvocation(k: ImplState, invLabel: number, length: number, slot: Cte, cap: Cap): Exception {
  if (cap.tag !== "UntypedCap") throw new KernelBug("decodeUntypedInvocation: invalid cap")
  if (invLabel !== InvocationLabel.UntypedRetype) return syscallError(k, { tag: "IllegalOperation" })
  const rootSlot = extraCapSlot(k, 0)
  if (length < 6 || rootSlot === null) return syscallError(k, { tag: "TruncatedMessage" })
  const newType = getSyscallArg(k, 0)
  const userObjSize = getSyscallArg(k, 1)
  const nodeIndex = getSyscallArg(k, 2)
  const nodeDepth = getSyscallArg(k, 3)
  const nodeOffset = getSyscallArg(k, 4)
  const nodeWindow = getSyscallArg(k, 5)

  // The type must exist.
  if (newType >= objectTypeCount) return syscallError(k, { tag: "InvalidArgument", argument: 0 })
  const t = newType as ObjectType
  const objectSize = getObjectSize(t, userObjSize)
  // The size must be representable.
  if (userObjSize >= wordBits || objectSize > maxUntypedBits) {
    return syscallError(k, { tag: "RangeError", min: 0, max: maxUntypedBits })
  }
  if (t === OT.CNode && userObjSize === 0) return syscallError(k, { tag: "InvalidArgument", argument: 1 })
  if (t === OT.Untyped && userObjSize < minUntypedBits) return syscallError(k, { tag: "InvalidArgument", argument: 1 })

  // The destination CNode: the root cap itself at depth 0, else a slot looked up from it.
  let nodeCap: Cap
  if (nodeDepth === 0) {
    nodeCap = rootSlot.cap
  } else {
    const st = lookupTargetSlot(k, rootSlot.cap, nodeIndex, nodeDepth)
    if (st !== EXCEPTION_NONE) return st
    nodeCap = lookedUpSlot(k).cap
  }
  if (nodeCap.tag !== "CNodeCap") {
    k.currentLookupFault = { tag: "MissingCapability", bitsLeft: nodeDepth }
    return syscallError(k, { tag: "FailedLookup", wasSource: false, failure: k.currentLookupFault })
  }

  // The destination window must lie inside the CNode.
  const nodeSize = BIT(nodeCap.radix)
  if (nodeOffset > nodeSize - 1) return syscallError(k, { tag: "RangeError", min: 0, max: nodeSize - 1 })
  if (nodeWindow < 1 || nodeWindow > retypeFanOutLimit) {
    return syscallError(k, { tag: "RangeError", min: 1, max: retypeFanOutLimit })
  }
  if (nodeWindow > nodeSize - nodeOffset) return syscallError(k, { tag: "RangeError", min: 1, max: nodeSize - nodeOffset })

  // Every destination slot must be empty.
  const destCNode = getCNodeImpl(k, nodeCap.ptr)
  for (let i = nodeOffset; i < nodeOffset + nodeWindow; i++) {
    if (cnodeCapAt(destCNode, i).tag !== "NullCap") return syscallError(k, { tag: "DeleteFirst" })
  }

  // Without children the untyped starts again from its base; with children, from its watermark.
  let freeIndex: number
  let reset: boolean
  if (ensureNoChildren(k, slot) !== EXCEPTION_NONE) {
    freeIndex = cap.freeIndex
    reset = false
  } else {
    freeIndex = 0
    reset = true
  }
  const freeRef = cap.ptr + freeIndex
  const untypedFreeBytes = BIT(cap.sizeBits) - freeIndex
  if (Math.floor(untypedFreeBytes / BIT(objectSize)) < nodeWindow) {
    return syscallError(k, { tag: "NotEnoughMemory", bytesLeft: untypedFreeBytes })
  }

  // Device memory holds only frames and untypeds.
  const deviceMemory = cap.isDevice
  if (deviceMemory && !isFrameType(t) && t !== OT.Untyped) return syscallError(k, { tag: "InvalidArgument", argument: 1 })

  const alignedFreeRef = alignUpBits(freeRef, objectSize)
  setThreadState(k, k.curThread, ThreadStateRestart)
  return invokeUntyped_Retype(k, slot, reset, alignedFreeRef, t, userObjSize, destCNode, nodeOffset, nodeWindow, deviceMemory)
}

/**
 * Reset an untyped with no children, preemptibly: the objects in its region are gone, then its
 * memory is cleared chunk by chunk from the top of the used part down, the watermark falling to
 * each chunk's start, with a preemption point after each (C `resetUntypedCap`).
 * @refines spec/object/untyped#resetUntypedCap
 */
export function resetUntypedCap(k: ImplState, srcSlot: Cte): Exception {
  const prevCap = srcSlot.cap
  if (prevCap.tag !== "UntypedCap") throw new KernelBug("resetUntypedCap: not an untyped cap")
  const blockSize = prevCap.sizeBits
  const chunk = k.resetChunkBits
  let offset = prevCap.freeIndex
  if (offset === 0) return EXCEPTION_NONE
  // C clears the memory; the objects that lived in it are gone.
  deleteObjects(k, prevCap.ptr, blockSize)
  if (prevCap.isDevice || blockSize < chunk) {
    srcSlot.cap = untypedCapWithFreeIndex(prevCap, 0)
  } else {
    for (offset = Math.floor((offset - 1) / BIT(chunk)) * BIT(chunk); offset !== -BIT(chunk); offset -= BIT(chunk)) {
      srcSlot.cap = untypedCapWithFreeIndex(prevCap, offset)
      const status = preemptionPoint(k)
      if (status !== EXCEPTION_NONE) return status
    }
  }
  return EXCEPTION_NONE
}

/**
 * Every object in [base, base + 2^bits) leaves the object table (C zeroes the memory). Every
 * object is aligned to its size, at least 2^minObjectBits: probing each such address in the region
 * finds them all. Probe when the region has fewer such addresses than the table has objects, else
 * scan the table: min(objects, region / 16) either way, never the whole table for a small region
 * in a big state.
 * @refines spec/object/untyped#deleteObjects
 */
export function deleteObjects(k: ImplState, base: number, bits: number): void {
  const top = base + BIT(bits)
  if (BIT(bits - minObjectBits) < k.objects.size) {
    for (let p = base; p < top; p += BIT(minObjectBits)) k.objects.delete(p)
  } else {
    for (const p of k.objects.keys()) {
      if (p >= base && p < top) k.objects.delete(p)
    }
  }
}

/**
 * Reset the untyped if asked (preemptible), then carve `destLength` objects from `retypeBase`, move
 * the watermark past them, insert their caps.
 * @refines spec/object/untyped#invokeUntypedRetype
 */
export function invokeUntyped_Retype(
  k: ImplState, srcSlot: Cte, reset: boolean, retypeBase: number, newType: ObjectType, userSize: number,
  destCNode: ImplCNode, destOffset: number, destLength: number, deviceMemory: boolean,
): Exception {
  const cap0 = srcSlot.cap
  if (cap0.tag !== "UntypedCap") throw new KernelBug("invokeUntyped_Retype: not an untyped cap")
  const regionBase = cap0.ptr
  if (reset) {
    const status = resetUntypedCap(k, srcSlot)
    if (status !== EXCEPTION_NONE) return status
  }
  const objectSize = getObjectSize(newType, userSize)
  const freeRef = retypeBase + destLength * BIT(objectSize)
  const cap = srcSlot.cap
  if (cap.tag !== "UntypedCap") throw new KernelBug("invokeUntyped_Retype: not an untyped cap")
  srcSlot.cap = untypedCapWithFreeIndex(cap, freeRef - regionBase)
  createNewObjects(k, newType, srcSlot, destCNode, destOffset, destLength, retypeBase, userSize, deviceMemory, objectSize)
  return EXCEPTION_NONE
}
