/**
 * TCB queue operations, extra-cap lookup and message-register writes (seL4 src/object/tcb.c,
 * include/object/tcb.h): ready queues with the two-level priority bitmap, endpoint queues
 * threaded through `tcbEPNext`/`tcbEPPrev`, `lookupExtraCaps`, `setMR`.
 * @category scheduling
 */
import { msgMaxExtraCaps, nMsgRegisters, wordRadix } from "../../model/index.ts"
import { messageInfoFromWord } from "../../model/index.ts"
import { lookupSlot } from "../kernel/cspace.ts"
import type { ImplState, ImplTcb } from "../state.ts"
import { EXCEPTION_NONE, type Exception, l2BitmapSize, readyQueuesIndex } from "../state.ts"

// ---- the priority bitmap ------------------------------------------------------------------------

/** C `invert_l1index`. */
const invertL1Index = (l1index: number): number => l2BitmapSize - 1 - l1index

/** @refines spec/object/tcb#tcbSchedEnqueue (C addToBitmap) */
function addToBitmap(k: ImplState, dom: number, prio: number): void {
  const l1index = prio >>> wordRadix
  const inv = invertL1Index(l1index)
  k.readyQueuesL1Bitmap[dom] = (k.readyQueuesL1Bitmap[dom]! | (1 << l1index)) >>> 0
  const i2 = dom * l2BitmapSize + inv
  k.readyQueuesL2Bitmap[i2] = (k.readyQueuesL2Bitmap[i2]! | (1 << (prio & 31))) >>> 0
}

/** @refines spec/object/tcb#tcbSchedDequeue (C removeFromBitmap) */
function removeFromBitmap(k: ImplState, dom: number, prio: number): void {
  const l1index = prio >>> wordRadix
  const inv = invertL1Index(l1index)
  const i2 = dom * l2BitmapSize + inv
  k.readyQueuesL2Bitmap[i2] = (k.readyQueuesL2Bitmap[i2]! & ~(1 << (prio & 31))) >>> 0
  if (k.readyQueuesL2Bitmap[i2] === 0) {
    k.readyQueuesL1Bitmap[dom] = (k.readyQueuesL1Bitmap[dom]! & ~(1 << l1index)) >>> 0
  }
}

/**
 * The highest priority with a non-empty ready queue in `dom`. The L1 bitmap must be non-zero.
 * @refines spec/kernel/thread#chooseThread (C getHighestPrio)
 */
export function getHighestPrio(k: ImplState, dom: number): number {
  const l1 = k.readyQueuesL1Bitmap[dom]!
  const l1index = 31 - Math.clz32(l1)
  const l2 = k.readyQueuesL2Bitmap[dom * l2BitmapSize + invertL1Index(l1index)]!
  const l2index = 31 - Math.clz32(l2)
  return (l1index << wordRadix) | l2index
}

/** Is `prio` at least the highest ready priority of `dom`? C `isHighestPrio`. */
export function isHighestPrio(k: ImplState, dom: number, prio: number): boolean {
  return k.readyQueuesL1Bitmap[dom] === 0 || prio >= getHighestPrio(k, dom)
}

// ---- ready queues -------------------------------------------------------------------------------

/**
 * Put a thread at the head of its ready queue, unless it is already queued.
 * @refines spec/object/tcb#tcbSchedEnqueue
 */
export function tcbSchedEnqueue(k: ImplState, tcb: ImplTcb): void {
  if (tcb.tcbQueued) return
  const idx = readyQueuesIndex(tcb.tcbDomain, tcb.tcbPriority)
  const head = k.readyQueueHead[idx]!
  if (head === null) {
    addToBitmap(k, tcb.tcbDomain, tcb.tcbPriority)
    k.readyQueueEnd[idx] = tcb
  } else {
    head.tcbSchedPrev = tcb
  }
  tcb.tcbSchedPrev = null
  tcb.tcbSchedNext = head
  k.readyQueueHead[idx] = tcb
  tcb.tcbQueued = true
}

/**
 * Put a thread at the tail of its ready queue, unless it is already queued.
 * @refines spec/object/tcb#tcbSchedAppend
 */
export function tcbSchedAppend(k: ImplState, tcb: ImplTcb): void {
  if (tcb.tcbQueued) return
  const idx = readyQueuesIndex(tcb.tcbDomain, tcb.tcbPriority)
  const end = k.readyQueueEnd[idx]!
  if (end === null) {
    addToBitmap(k, tcb.tcbDomain, tcb.tcbPriority)
    k.readyQueueHead[idx] = tcb
  } else {
    end.tcbSchedNext = tcb
  }
  tcb.tcbSchedPrev = end
  tcb.tcbSchedNext = null
  k.readyQueueEnd[idx] = tcb
  tcb.tcbQueued = true
}

/**
 * Take a thread out of its ready queue, if it is queued.
 * @refines spec/object/tcb#tcbSchedDequeue
 */
export function tcbSchedDequeue(k: ImplState, tcb: ImplTcb): void {
  if (!tcb.tcbQueued) return
  const idx = readyQueuesIndex(tcb.tcbDomain, tcb.tcbPriority)
  const before = tcb.tcbSchedPrev
  const after = tcb.tcbSchedNext
  if (before === null) k.readyQueueHead[idx] = after
  else before.tcbSchedNext = after
  if (after === null) k.readyQueueEnd[idx] = before
  else after.tcbSchedPrev = before
  tcb.tcbSchedPrev = null
  tcb.tcbSchedNext = null
  tcb.tcbQueued = false
  if (k.readyQueueHead[idx] === null) removeFromBitmap(k, tcb.tcbDomain, tcb.tcbPriority)
}

// ---- endpoint / notification queues -------------------------------------------------------------

/** A queue threaded through `tcbEPNext`/`tcbEPPrev` (C `tcb_queue_t`), as a reusable record. */
export interface TcbQueue { head: ImplTcb | null; end: ImplTcb | null }

/** @refines spec/object/endpoint#sendIPC (C tcbEPAppend) */
export function tcbEPAppend(tcb: ImplTcb, q: TcbQueue): void {
  if (q.head === null) q.head = tcb
  else q.end!.tcbEPNext = tcb
  tcb.tcbEPPrev = q.end
  tcb.tcbEPNext = null
  q.end = tcb
}

/** @refines spec/object/endpoint#cancelIPC (C tcbEPDequeue) */
export function tcbEPDequeue(tcb: ImplTcb, q: TcbQueue): void {
  if (tcb.tcbEPPrev !== null) tcb.tcbEPPrev.tcbEPNext = tcb.tcbEPNext
  else q.head = tcb.tcbEPNext
  if (tcb.tcbEPNext !== null) tcb.tcbEPNext.tcbEPPrev = tcb.tcbEPPrev
  else q.end = tcb.tcbEPPrev
  tcb.tcbEPPrev = null
  tcb.tcbEPNext = null
}

// ---- extra caps and message registers -----------------------------------------------------------

/**
 * Look up the extra caps named in the sender's IPC buffer into `currentExtraCaps`. Without a buffer
 * there are none. A failed lookup sets `currentFault` to a CapFault on that cptr.
 * @refines spec/object/tcb#lookupExtraCaps
 */
export function lookupExtraCaps(k: ImplState, thread: ImplTcb, hasBuffer: boolean, info: number): Exception {
  const refs = k.currentExtraCaps
  if (!hasBuffer) {
    refs[0] = null
    return EXCEPTION_NONE
  }
  const length = messageInfoFromWord(info).extraCaps
  let i = 0
  for (; i < length; i++) {
    const cptr = thread.extraCaps[i]!
    const st = lookupSlot(k, thread, cptr)
    if (st !== EXCEPTION_NONE) {
      k.currentFault = { tag: "CapFault", address: cptr, inReceivePhase: false, failure: k.currentLookupFault }
      return st
    }
    refs[i] = k.lookupSlotResult
  }
  if (i < msgMaxExtraCaps) refs[i] = null
  return EXCEPTION_NONE
}

/**
 * Write message register `offset`; past the CPU registers only when the receive buffer exists.
 * Returns the message length so far: `offset + 1`, or `n_msgRegisters` when the word was dropped.
 * @refines spec/object/tcb#setMR
 */
export function setMR(receiver: ImplTcb, hasReceiveBuffer: boolean, offset: number, reg: number): number {
  if (offset >= nMsgRegisters) {
    if (hasReceiveBuffer) {
      receiver.mrs[offset] = reg >>> 0
      return offset + 1
    }
    return nMsgRegisters
  }
  receiver.mrs[offset] = reg >>> 0
  return offset + 1
}
