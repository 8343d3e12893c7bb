/**
 * CNode invocations and the MDB (seL4 src/object/cnode.c): decodeCNodeInvocation and the invokes,
 * cteInsert/cteMove/cteSwap, cteDelete/finaliseSlot/reduceZombie/cteRevoke/emptySlot (preemptible), insertNewCap, setupReplyMaster,
 * isMDBParentOf, isFinalCapability, slotCapLongRunningDelete. The MDB is C's doubly linked list through the slots with the
 * mdbRevocable/mdbFirstBadged bits; a slot's descendants are the run after it on which
 * isMDBParentOf holds.
 * @category objects
 */
import type { Cap } from "../../model/index.ts"
import { InvocationLabel as L, NullCap, bit as BIT, rightsFromWord, tcbCaller, tcbReply, zombieTypeTCB } from "../../model/index.ts"
import { preemptionPoint } from "../model/preemption.ts"
import { getSyscallArg } from "../api/syscall.ts"
import { lookedUpSlot, lookupPivotSlot, lookupSourceSlot, lookupTargetSlot } from "../kernel/cspace.ts"
import { setThreadState } from "../kernel/thread.ts"
import type { Cte, ImplCNode, ImplState, ImplTcb } from "../state.ts"
import {
  EXCEPTION_NONE, EXCEPTION_SYSCALL_ERROR, type Exception, KernelBug, ThreadStateRestart, cnodeSlot, getCNodeImpl, getEndpointImpl,
  extraCapSlot, getTcbImpl, tcbSlot, syscallError,
} from "../state.ts"
import { cancelBadgedSends } from "./endpoint.ts"
import {
  deriveCap, finaliseCap, hasCancelSendRights, isCapRevocable, maskCapRights, postCapDeletion, sameObjectAs, sameRegionAs, updateCapData,
} from "./objecttype.ts"

/**
 * Copy, Mint, Move, Mutate into the target slot `destSlot`: check the source and build the new
 * cap, then (valid) insert or move it.
 *
 * **Errors** (in order): TruncatedMessage (< 4 args or no source root); DeleteFirst (target
 * occupied); source lookup errors; FailedLookup(source, MissingCapability(depth)) (empty source);
 * TruncatedMessage (Copy/Mutate < 5 args, Mint < 6); deriveCap errors; IllegalOperation (NullCap).
 * @refines spec/object/cnode#decodeCNodeCopyMove
 */
function decodeCNodeCopyMove(k: ImplState, invLabel: number, length: number, destSlot: Cte): Exception {
  const srcRootSlot = extraCapSlot(k, 0)
  if (length < 4 || srcRootSlot === null) return syscallError(k, { tag: "TruncatedMessage" })
  const srcIndex = getSyscallArg(k, 2)
  const srcDepth = getSyscallArg(k, 3)
  const srcRoot = srcRootSlot.cap
  let st = ensureEmptySlot(k, destSlot)
  if (st !== EXCEPTION_NONE) return st
  st = lookupSourceSlot(k, srcRoot, srcIndex, srcDepth)
  if (st !== EXCEPTION_NONE) return st
  const srcSlot = lookedUpSlot(k)
  if (srcSlot.cap.tag === "NullCap") {
    k.currentLookupFault = { tag: "MissingCapability", bitsLeft: srcDepth }
    return syscallError(k, { tag: "FailedLookup", wasSource: true, failure: k.currentLookupFault })
  }
  let newCap: Cap
  let isMove: boolean
  switch (invLabel) {
    // Copy: masked rights, derived.
    case L.CNodeCopy: {
      if (length < 5) return syscallError(k, { tag: "TruncatedMessage" })
      const rights = rightsFromWord(getSyscallArg(k, 4))
      const d = deriveCap(k, srcSlot, maskCapRights(rights, srcSlot.cap))
      if (d === null) return EXCEPTION_SYSCALL_ERROR
      newCap = d
      isMove = false
      break
    }
    // Mint: masked rights, new badge or guard, derived.
    case L.CNodeMint: {
      if (length < 6) return syscallError(k, { tag: "TruncatedMessage" })
      const rights = rightsFromWord(getSyscallArg(k, 4))
      const capData = getSyscallArg(k, 5)
      const d = deriveCap(k, srcSlot, updateCapData(false, capData, maskCapRights(rights, srcSlot.cap)))
      if (d === null) return EXCEPTION_SYSCALL_ERROR
      newCap = d
      isMove = false
      break
    }
    // Move: the cap itself.
    case L.CNodeMove:
      newCap = srcSlot.cap
      isMove = true
      break
    // Mutate: the cap with a new guard (badges cannot change).
    default: {
      if (length < 5) return syscallError(k, { tag: "TruncatedMessage" })
      const capData = getSyscallArg(k, 4)
      newCap = updateCapData(true, capData, srcSlot.cap)
      isMove = true
      break
    }
  }
  if (newCap.tag === "NullCap") return syscallError(k, { tag: "IllegalOperation" })
  setThreadState(k, k.curThread, ThreadStateRestart)
  if (isMove) invokeCNodeMove(newCap, srcSlot, destSlot)
  else invokeCNodeInsert(k, newCap, srcSlot, destSlot)
  return EXCEPTION_NONE
}

/**
 * Revoke, Delete, SaveCaller, CancelBadgedSends on the target slot `destSlot` alone, then (valid)
 * perform it.
 *
 * **Errors**: SaveCaller DeleteFirst (target occupied); CancelBadgedSends IllegalOperation (not an
 * endpoint cap with every right).
 * @refines spec/object/cnode#decodeCNodeSlotOp
 */
function decodeCNodeSlotOp(k: ImplState, invLabel: number, destSlot: Cte): Exception {
  // Revoke: delete every descendant (preemptible).
  if (invLabel === L.CNodeRevoke) {
    setThreadState(k, k.curThread, ThreadStateRestart)
    return invokeCNodeRevoke(k, destSlot)
  }

  // Delete: delete the cap itself (preemptible).
  if (invLabel === L.CNodeDelete) {
    setThreadState(k, k.curThread, ThreadStateRestart)
    return invokeCNodeDelete(k, destSlot)
  }

  // SaveCaller: move the caller's reply cap into an empty slot.
  if (invLabel === L.CNodeSaveCaller) {
    const st = ensureEmptySlot(k, destSlot)
    if (st !== EXCEPTION_NONE) return st
    setThreadState(k, k.curThread, ThreadStateRestart)
    invokeCNodeSaveCaller(k, destSlot)
    return EXCEPTION_NONE
  }

  // CancelBadgedSends: needs an endpoint cap with every right.
  if (invLabel === L.CNodeCancelBadgedSends) {
    const destCap = destSlot.cap
    if (!hasCancelSendRights(destCap)) return syscallError(k, { tag: "IllegalOperation" })
    setThreadState(k, k.curThread, ThreadStateRestart)
    invokeCNodeCancelBadgedSends(k, destCap)
    return EXCEPTION_NONE
  }

  // Unreachable: decodeCNodeInvocation checked the label range.
  return EXCEPTION_NONE
}

/**
 * Rotate into the target slot `destSlot`: src -> dest, pivot -> src (or a swap when src = dest).
 *
 * **Errors** (in order): TruncatedMessage (< 8 args or < 2 extra caps); source, then pivot lookup
 * errors; IllegalOperation (pivot = source or target); DeleteFirst (target occupied, not the
 * source); FailedLookup (empty source, then empty pivot); IllegalOperation (NullCap after either
 * cap-data update).
 * @refines spec/object/cnode#decodeCNodeRotate
 */
function decodeCNodeRotate(k: ImplState, length: number, destSlot: Cte): Exception {
  const pivotRootSlot = extraCapSlot(k, 0)
  const srcRootSlot = extraCapSlot(k, 1)
  if (length < 8 || pivotRootSlot === null || srcRootSlot === null) return syscallError(k, { tag: "TruncatedMessage" })
  const pivotNewData = getSyscallArg(k, 2)
  const pivotIndex = getSyscallArg(k, 3)
  const pivotDepth = getSyscallArg(k, 4)
  const srcNewData = getSyscallArg(k, 5)
  const srcIndex = getSyscallArg(k, 6)
  const srcDepth = getSyscallArg(k, 7)
  const pivotRoot = pivotRootSlot.cap
  const srcRoot = srcRootSlot.cap
  let st = lookupSourceSlot(k, srcRoot, srcIndex, srcDepth)
  if (st !== EXCEPTION_NONE) return st
  const srcSlot = lookedUpSlot(k)
  st = lookupPivotSlot(k, pivotRoot, pivotIndex, pivotDepth)
  if (st !== EXCEPTION_NONE) return st
  const pivotSlot = lookedUpSlot(k)
  if (pivotSlot === srcSlot || pivotSlot === destSlot) return syscallError(k, { tag: "IllegalOperation" })
  if (srcSlot !== destSlot) {
    st = ensureEmptySlot(k, destSlot)
    if (st !== EXCEPTION_NONE) return st
  }
  if (srcSlot.cap.tag === "NullCap") {
    k.currentLookupFault = { tag: "MissingCapability", bitsLeft: srcDepth }
    return syscallError(k, { tag: "FailedLookup", wasSource: true, failure: k.currentLookupFault })
  }
  if (pivotSlot.cap.tag === "NullCap") {
    k.currentLookupFault = { tag: "MissingCapability", bitsLeft: pivotDepth }
    return syscallError(k, { tag: "FailedLookup", wasSource: false, failure: k.currentLookupFault })
  }
  const newSrcCap = updateCapData(true, srcNewData, srcSlot.cap)
  const newPivotCap = updateCapData(true, pivotNewData, pivotSlot.cap)
  if (newSrcCap.tag === "NullCap") return syscallError(k, { tag: "IllegalOperation" })
  if (newPivotCap.tag === "NullCap") return syscallError(k, { tag: "IllegalOperation" })
  setThreadState(k, k.curThread, ThreadStateRestart)
  invokeCNodeRotate(newSrcCap, newPivotCap, srcSlot, pivotSlot, destSlot)
  return EXCEPTION_NONE
}

/**
 * Decode a CNode invocation (Revoke, Delete, CancelBadgedSends, Copy, Mint, Move, Mutate, Rotate,
 * SaveCaller) and, when it is valid, perform it. All checks come before any change.
 *
 * **Errors** (in order): IllegalOperation (label); TruncatedMessage (< 2 args); destination lookup
 * errors; then per operation, as its decoder (decodeCNodeCopyMove, decodeCNodeRotate,
 * decodeCNodeSlotOp), exactly as seL4's cnode.c.
 * @refines spec/object/cnode#decodeCNodeInvocation
 */
export function decodeCNodeInvocation(k: ImplState, invLabel: number, length: number, cap: Cap): Exception {
  if (invLabel < L.CNodeRevoke || invLabel > L.CNodeSaveCaller) return syscallError(k, { tag: "IllegalOperation" })
  if (length < 2) return syscallError(k, { tag: "TruncatedMessage" })
  const index = getSyscallArg(k, 0)
  const wBits = getSyscallArg(k, 1)
  const st = lookupTargetSlot(k, cap, index, wBits)
  if (st !== EXCEPTION_NONE) return st
  const destSlot = lookedUpSlot(k)
  // Copy, Mint, Move, Mutate: a source slot and a new cap for the destination.
  if (invLabel >= L.CNodeCopy && invLabel <= L.CNodeMutate) return decodeCNodeCopyMove(k, invLabel, length, destSlot)
  // Rotate: src -> dest, pivot -> src (or a swap when src = dest).
  if (invLabel === L.CNodeRotate) return decodeCNodeRotate(k, length, destSlot)
  // Revoke, Delete, SaveCaller, CancelBadgedSends: the target slot alone.
  return decodeCNodeSlotOp(k, invLabel, destSlot)
}

/** Preemptible. @refines spec/object/cnode#invokeCNode */
export function invokeCNodeRevoke(k: ImplState, destSlot: Cte): Exception {
  return cteRevoke(k, destSlot)
}

/** Preemptible. @refines spec/object/cnode#invokeCNode */
export function invokeCNodeDelete(k: ImplState, destSlot: Cte): Exception {
  return cteDelete(k, destSlot, true)
}

/** Restart the senders with the cap's badge (badge 0: nothing). @refines spec/object/cnode#invokeCNode */
export function invokeCNodeCancelBadgedSends(k: ImplState, cap: Cap): void {
  if (cap.tag !== "EndpointCap") throw new KernelBug("invokeCNodeCancelBadgedSends: not an endpoint cap")
  if (cap.badge !== 0) cancelBadgedSends(k, getEndpointImpl(k, cap.ptr), cap.badge)
}

/** @refines spec/object/cnode#invokeCNode */
export function invokeCNodeInsert(k: ImplState, cap: Cap, srcSlot: Cte, destSlot: Cte): void {
  cteInsert(k, cap, srcSlot, destSlot)
}

/** @refines spec/object/cnode#invokeCNode */
export function invokeCNodeMove(cap: Cap, srcSlot: Cte, destSlot: Cte): void {
  cteMove(cap, srcSlot, destSlot)
}

/** @refines spec/object/cnode#invokeCNode */
export function invokeCNodeRotate(cap1: Cap, cap2: Cap, slot1: Cte, slot2: Cte, slot3: Cte): void {
  if (slot1 === slot3) {
    cteSwap(cap1, slot1, cap2, slot2)
  } else {
    cteMove(cap2, slot2, slot3)
    cteMove(cap1, slot1, slot2)
  }
}

/**
 * Move the current thread's caller (reply) cap into `destSlot`; nothing if there is none.
 * @refines spec/object/cnode#invokeCNode
 */
export function invokeCNodeSaveCaller(k: ImplState, destSlot: Cte): void {
  const srcSlot = tcbSlot(k.curThread, tcbCaller)
  const cap = srcSlot.cap
  switch (cap.tag) {
    case "NullCap":
      break
    case "ReplyCap":
      if (!cap.isMaster) cteMove(cap, srcSlot, destSlot)
      break
    default:
      throw new KernelBug("caller capability must be null or reply")
  }
}

// ---- the MDB ------------------------------------------------------------------------------------

/**
 * Copying an untyped cap over the same region marks the source full, so it cannot be retyped twice.
 * @refines spec/object/cnode#setUntypedCapAsFull
 */
export function setUntypedCapAsFull(srcCap: Cap, newCap: Cap, srcSlot: Cte): void {
  if (srcCap.tag === "UntypedCap" && newCap.tag === "UntypedCap") {
    if (srcCap.ptr === newCap.ptr && srcCap.sizeBits === newCap.sizeBits) {
      const cur = srcSlot.cap
      if (cur.tag === "UntypedCap") {
        srcSlot.cap = { tag: "UntypedCap", isDevice: cur.isDevice, ptr: cur.ptr, sizeBits: cur.sizeBits, freeIndex: BIT(srcCap.sizeBits) }
      }
    }
  }
}

/**
 * Put `newCap` into the empty `destSlot` right after `srcSlot` in the MDB, revocable (and first
 * badged) iff `isCapRevocable`.
 * @refines spec/object/cnode#cteInsert
 */
export function cteInsert(_k: ImplState, newCap: Cap, srcSlot: Cte, destSlot: Cte): void {
  const srcCap = srcSlot.cap
  const newCapIsRevocable = isCapRevocable(newCap, srcCap)
  // Haskell error: "cteInsert to non-empty destination"
  if (destSlot.cap.tag !== "NullCap") throw new KernelBug("cteInsert to non-empty destination")
  // Haskell error: "cteInsert: mdb entry must be empty"
  if (destSlot.next !== null || destSlot.prev !== null) throw new KernelBug("cteInsert: mdb entry must be empty")
  setUntypedCapAsFull(srcCap, newCap, srcSlot)
  const next = srcSlot.next
  destSlot.cap = newCap
  destSlot.prev = srcSlot
  destSlot.next = next
  destSlot.revocable = newCapIsRevocable
  destSlot.firstBadged = newCapIsRevocable
  srcSlot.next = destSlot
  if (next !== null) next.prev = destSlot
}

/**
 * Move a cap and its MDB node from `srcSlot` to the empty `destSlot`.
 * @refines spec/object/cnode#cteMove
 */
export function cteMove(newCap: Cap, srcSlot: Cte, destSlot: Cte): void {
  // Haskell error: "cteMove to non-empty destination"
  if (destSlot.cap.tag !== "NullCap") throw new KernelBug("cteMove to non-empty destination")
  // Haskell error: "cteMove: mdb entry must be empty"
  if (destSlot.next !== null || destSlot.prev !== null) throw new KernelBug("cteMove: mdb entry must be empty")
  const prev = srcSlot.prev
  const next = srcSlot.next
  destSlot.cap = newCap
  destSlot.prev = prev
  destSlot.next = next
  destSlot.revocable = srcSlot.revocable
  destSlot.firstBadged = srcSlot.firstBadged
  srcSlot.cap = NullCap
  srcSlot.prev = null
  srcSlot.next = null
  srcSlot.revocable = false
  srcSlot.firstBadged = false
  if (prev !== null) prev.next = destSlot
  if (next !== null) next.prev = destSlot
}

/**
 * Exchange two slots' caps and MDB positions.
 * @refines spec/object/cnode#cteSwap
 */
export function cteSwap(cap1: Cap, slot1: Cte, cap2: Cap, slot2: Cte): void {
  slot1.cap = cap2
  slot2.cap = cap1
  // slot1's node moves to slot2: repoint its neighbours.
  const prev1 = slot1.prev, next1 = slot1.next, rev1 = slot1.revocable, fb1 = slot1.firstBadged
  if (prev1 !== null) prev1.next = slot2
  if (next1 !== null) next1.prev = slot2
  const prev2 = slot2.prev, next2 = slot2.next, rev2 = slot2.revocable, fb2 = slot2.firstBadged
  slot1.prev = prev2
  slot1.next = next2
  slot1.revocable = rev2
  slot1.firstBadged = fb2
  slot2.prev = prev1
  slot2.next = next1
  slot2.revocable = rev1
  slot2.firstBadged = fb1
  // slot2's old node now lives in slot1: repoint its neighbours (read from slot1, as C does).
  if (slot1.prev !== null) slot1.prev.next = slot1
  if (slot1.next !== null) slot1.next.prev = slot1
}

/**
 * Delete every descendant of `slot` (the run after it on which isMDBParentOf holds), nearest
 * first, with a preemption point after each. The cap in `slot` itself stays.
 * @refines spec/object/cnode#cteRevoke
 */
export function cteRevoke(k: ImplState, slot: Cte): Exception {
  for (let next = slot.next; next !== null && isMDBParentOf(slot, next); next = slot.next) {
    let status = cteDelete(k, next, true)
    if (status !== EXCEPTION_NONE) return status
    status = preemptionPoint(k)
    if (status !== EXCEPTION_NONE) return status
  }
  return EXCEPTION_NONE
}

/**
 * Delete the cap in `slot`: finalise it, then empty the slot (an exposed slot always; an
 * unexposed one unless it now holds a cyclic Zombie). Preemptible.
 * @refines spec/object/cnode#cteDelete
 */
export function cteDelete(k: ImplState, slot: Cte, exposed: boolean): Exception {
  const status = finaliseSlot(k, slot, exposed)
  if (status !== EXCEPTION_NONE) return status
  if (exposed || k.finaliseSlotSuccess) emptySlot(k, slot, k.finaliseSlotCleanupInfo)
  return EXCEPTION_NONE
}

/**
 * Is finalisation done: a NullCap, or a Zombie with no slots left but the one it sits in?
 * @refines spec/object/cnode#capRemovable
 */
function capRemovable(cap: Cap, slot: Cte): boolean {
  switch (cap.tag) {
    case "NullCap":
      return true
    case "ZombieCap":
      return cap.number === 0 || (cap.number === 1 && slot.addr === cap.ptr)
    default:
      throw new KernelBug("finaliseCap should only return Zombie or NullCap")
  }
}

/** @refines spec/object/cnode#capCyclicZombie */
function capCyclicZombie(cap: Cap, slot: Cte): boolean {
  return cap.tag === "ZombieCap" && cap.ptr === slot.addr
}

/**
 * Finalise the cap in `slot` until it is removable: a Zombie is reduced one slot at a time with a
 * preemption point after each. Results in `k.finaliseSlotSuccess` / `k.finaliseSlotCleanupInfo`
 * (C's `finaliseSlot_ret_t`), valid when it returns EXCEPTION_NONE.
 * @refines spec/object/cnode#finaliseSlot
 */
function finaliseSlot(k: ImplState, slot: Cte, immediate: boolean): Exception {
  while (slot.cap.tag !== "NullCap") {
    const final = isFinalCapability(slot)
    const fcRet = finaliseCap(k, slot.cap, final)
    if (capRemovable(fcRet.remainder, slot)) {
      k.finaliseSlotSuccess = true
      k.finaliseSlotCleanupInfo = fcRet.cleanupInfo
      return EXCEPTION_NONE
    }
    slot.cap = fcRet.remainder
    if (!immediate && capCyclicZombie(fcRet.remainder, slot)) {
      k.finaliseSlotSuccess = false
      k.finaliseSlotCleanupInfo = fcRet.cleanupInfo
      return EXCEPTION_NONE
    }
    let status = reduceZombie(k, slot, immediate)
    if (status !== EXCEPTION_NONE) return status
    status = preemptionPoint(k)
    if (status !== EXCEPTION_NONE) return status
  }
  k.finaliseSlotSuccess = true
  k.finaliseSlotCleanupInfo = NullCap
  return EXCEPTION_NONE
}

/** Slot `i` of the table a Zombie is emptying (C `ptr[i]` on the Zombie's `cte_t *`). */
function zombieSlot(k: ImplState, z: Extract<Cap, { tag: "ZombieCap" }>, i: number): Cte {
  if (z.zombieType === zombieTypeTCB) return tcbSlot(getTcbImpl(k, z.ptr), i)
  return cnodeSlot(getCNodeImpl(k, z.ptr), i)
}

/**
 * Reduce the Zombie in `slot` by one: exposed, delete its last slot (unexposed) and count one
 * fewer; unexposed, swap it into its table's first slot.
 * @refines spec/object/cnode#reduceZombie
 */
function reduceZombie(k: ImplState, slot: Cte, immediate: boolean): Exception {
  const z = slot.cap
  if (z.tag !== "ZombieCap") throw new KernelBug("reduceZombie: expected a Zombie")
  const ptr = z.ptr
  const n = z.number
  const type = z.zombieType
  // Haskell error: "reduceZombie: expected unremovable zombie"
  if (n === 0) throw new KernelBug("reduceZombie: expected unremovable zombie")
  if (immediate) {
    const endSlot = zombieSlot(k, z, n - 1)
    const status = cteDelete(k, endSlot, false)
    if (status !== EXCEPTION_NONE) return status
    const now = slot.cap
    switch (now.tag) {
      case "NullCap":
        break
      case "ZombieCap":
        if (now.ptr === ptr && now.number === n && now.zombieType === type) {
          // Haskell error: the end slot must be empty now.
          if (endSlot.cap.tag !== "NullCap") throw new KernelBug("reduceZombie: end slot not emptied")
          slot.cap = { tag: "ZombieCap", ptr, zombieType: type, number: n - 1 }
        } else if (!(now.ptr === slot.addr && ptr !== slot.addr)) {
          // Haskell error: "Expected new Zombie to be self-referential."
          throw new KernelBug("Expected new Zombie to be self-referential.")
        }
        break
      default:
        throw new KernelBug("Expected recursion to result in Zombie.")
    }
  } else {
    // Haskell error: "Cyclic zombie passed to unexposed reduceZombie"
    if (ptr === slot.addr) throw new KernelBug("Cyclic zombie passed to unexposed reduceZombie")
    const first = zombieSlot(k, z, 0)
    const there = first.cap
    // Haskell error: "Moving self-referential Zombie aside."
    if (there.tag === "ZombieCap" && there.ptr === first.addr) throw new KernelBug("Moving self-referential Zombie aside.")
    capSwapForDelete(first, slot)
  }
  return EXCEPTION_NONE
}

/**
 * Swap two slots' caps and MDB nodes (nothing if they are one slot).
 * @refines spec/object/cnode#capSwapForDelete
 */
export function capSwapForDelete(slot1: Cte, slot2: Cte): void {
  if (slot1 === slot2) return
  cteSwap(slot1.cap, slot1, slot2.cap, slot2)
}

/**
 * Delete a cap whose finalisation is immediate (reply caps, notification caps in the IRQ node):
 * no preemption point.
 * @refines spec/object/cnode#cteDeleteOne
 */
export function cteDeleteOne(k: ImplState, slot: Cte): void {
  if (slot.cap.tag === "NullCap") return
  const final = isFinalCapability(slot)
  const fcRet = finaliseCap(k, slot.cap, final)
  // Haskell error: "cteDeleteOne: cap should be removable"
  if (!capRemovable(fcRet.remainder, slot) || fcRet.cleanupInfo.tag !== "NullCap") throw new KernelBug("cteDeleteOne: cap should be removable")
  emptySlot(k, slot, NullCap)
}

/**
 * A cteDelete that cannot preempt (the cap is no long-running deletion: the TCB decoders check
 * `slotCapLongRunningDelete` first).
 * @refines spec/object/cnode#cteDeleteNonPreemptible
 */
export function cteDeleteNonPreemptible(k: ImplState, slot: Cte): void {
  if (cteDelete(k, slot, true) !== EXCEPTION_NONE) throw new KernelBug("cteDelete: a short deletion was preempted")
}

/**
 * Unlink a slot from the MDB (its firstBadged bit passes to its successor) and clear it, then do
 * what finalisation left for after (`cleanupInfo`: an IRQ line goes inactive).
 * @refines spec/object/cnode#emptySlot
 */
export function emptySlot(k: ImplState, slot: Cte, cleanupInfo: Cap): void {
  if (slot.cap.tag === "NullCap") return
  const prev = slot.prev
  const next = slot.next
  if (prev !== null) prev.next = next
  if (next !== null) {
    next.prev = prev
    next.firstBadged = next.firstBadged || slot.firstBadged
  }
  slot.cap = NullCap
  slot.prev = null
  slot.next = null
  slot.revocable = false
  slot.firstBadged = false
  postCapDeletion(k, cleanupInfo)
}

/**
 * Put a freshly created object's cap into slot `index` of `destCNode`, right after its parent
 * untyped in the MDB, revocable and first-badged (C `mdb_node_new(next, true, true, parent)`).
 * @refines spec/object/untyped#invokeUntypedRetype
 */
export function insertNewCap(parent: Cte, destCNode: ImplCNode, index: number, cap: Cap): void {
  const slot = cnodeSlot(destCNode, index)
  const next = parent.next
  slot.cap = cap
  slot.prev = parent
  slot.next = next
  slot.revocable = true
  slot.firstBadged = true
  if (next !== null) next.prev = slot
  parent.next = slot
}

/**
 * Give a thread its master reply cap if its reply slot is empty (an original singleton).
 * @refines spec/object/cnode#setupReplyMaster
 */
export function setupReplyMaster(thread: ImplTcb): void {
  const slot = tcbSlot(thread, tcbReply)
  if (slot.cap.tag === "NullCap") {
    slot.cap = { tag: "ReplyCap", tcb: thread.base, isMaster: true, canGrant: true }
    slot.prev = null
    slot.next = null
    slot.revocable = true
    slot.firstBadged = true
  }
}

/**
 * Is `b` a descendant of `a`? `a` must be revocable and cover b's region; a badged EP/notification
 * cap parents only same-badge caps that do not start a new badge (not firstBadged).
 * (impl-only: the spec keeps the CDT explicitly; the relation reads it off the MDB with its own isMDBParentOf)
 */
export function isMDBParentOf(a: Cte, b: Cte): boolean {
  if (!a.revocable) return false
  const ca = a.cap, cb = b.cap
  if (!sameRegionAs(ca, cb)) return false
  switch (ca.tag) {
    case "EndpointCap":
    case "NotificationCap": {
      if (ca.badge === 0) return true
      const bBadge = cb.tag === "EndpointCap" || cb.tag === "NotificationCap" ? cb.badge : 0
      return ca.badge === bBadge && !b.firstBadged
    }
    default:
      return true
  }
}

/**
 * RevokeFirst if `slot` has an MDB child.
 * @refines spec/object/cnode#hasChildren
 */
export function ensureNoChildren(k: ImplState, slot: Cte): Exception {
  const next = slot.next
  if (next !== null && isMDBParentOf(slot, next)) return syscallError(k, { tag: "RevokeFirst" })
  return EXCEPTION_NONE
}

/**
 * DeleteFirst if `slot` is occupied.
 * @refines spec/object/cnode#ensureEmptySlot
 */
export function ensureEmptySlot(k: ImplState, slot: Cte): Exception {
  if (slot.cap.tag !== "NullCap") return syscallError(k, { tag: "DeleteFirst" })
  return EXCEPTION_NONE
}

/**
 * Is this the last cap to its object? Only the MDB neighbours are checked: caps to one object are
 * contiguous in the list.
 * @refines spec/object/cnode#isFinalCapability
 */
export function isFinalCapability(cte: Cte): boolean {
  const prev = cte.prev
  const prevIsSameObject = prev !== null && sameObjectAs(prev.cap, cte.cap)
  if (prevIsSameObject) return false
  const next = cte.next
  if (next === null) return true
  return !sameObjectAs(cte.cap, next.cap)
}

/**
 * Would deleting the cap in `slot` be a long-running (preemptible) operation: is it the final cap
 * to a TCB or CNode, or a Zombie? C `slotCapLongRunningDelete` (src/object/cnode.c).
 * @refines spec/object/cnode#slotCapLongRunningDelete
 */
export function slotCapLongRunningDelete(slot: Cte): boolean {
  const cap = slot.cap
  if (cap.tag === "NullCap") return false
  if (!isFinalCapability(slot)) return false
  return cap.tag === "ThreadCap" || cap.tag === "CNodeCap" || cap.tag === "ZombieCap"
}
