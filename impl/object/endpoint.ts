/**
 * Endpoints (seL4 src/object/endpoint.c, non-MCS): sendIPC, receiveIPC, doNBRecvFailedTransfer;
 * cancelIPC, cancelAllIPC, cancelBadgedSends; replyFromKernel_error/_success_empty; the
 * performInvocation_Endpoint/_Notification/_Reply entries (objecttype.c). The message transfer
 * itself is in kernel/ipcTransfer.ts.
 *
 * Nothing on the IPC path allocates: thread states come from the TCB's preallocated records and
 * queue edits reuse one scratch record.
 * @category objects
 */
import type { Cap } from "../../model/index.ts"
import { RightG, errorCode, tcbReply } from "../../model/index.ts"
import { setMRs_lookup_failure } from "../api/faults.ts"
import { doIPCTransfer, doReplyTransfer, setMR, setupCallerCap } from "../kernel/ipcTransfer.ts"
import { possibleSwitchTo, rescheduleRequired, scheduleTCB, setThreadState, tcbSchedEnqueue } from "../kernel/thread.ts"
import { lookupIPCBuffer } from "../kernel/vspace.ts"
import { miNew } from "../machine/registerset.ts"
import type { Cte, Exception, ImplEndpoint, ImplNotification, ImplState, ImplTcb } from "../state.ts"
import {
  EXCEPTION_NONE, KernelBug, ThreadStateInactive, ThreadStateRestart, ThreadStateRunning, getEndpointImpl, getNotificationImpl, tcbSlot,
} from "../state.ts"
import { cteDeleteOne } from "./cnode.ts"
import { completeSignal, cancelSignal, sendSignal } from "./notification.ts"

// ---- endpoint / notification queues -------------------------------------------------------------

/** A queue threaded through `tcbEPNext`/`tcbEPPrev` (C `tcb_queue_t`), as a reusable record. */
export interface TcbQueue { head: ImplTcb | null; end: ImplTcb | null }

/** Append `tcb` to the queue `q`. C `tcbEPAppend`. @refines spec/object/endpoint#enqueue */
export function tcbEPAppend(tcb: ImplTcb, q: TcbQueue): void {
  const end = q.end
  if (q.head === null) q.head = tcb
  else if (end !== null) end.tcbEPNext = tcb
  else throw new KernelBug("tcbEPAppend: a non-empty queue must have an end")
  tcb.tcbEPPrev = end
  tcb.tcbEPNext = null
  q.end = tcb
}

/** Unlink `tcb` from the queue `q`. C `tcbEPDequeue`. @refines spec/object/endpoint#blockedCancelIPC */
export function tcbEPDequeue(tcb: ImplTcb, q: TcbQueue): void {
  if (tcb.tcbEPPrev !== null) tcb.tcbEPPrev.tcbEPNext = tcb.tcbEPNext
  else q.head = tcb.tcbEPNext
  if (tcb.tcbEPNext !== null) tcb.tcbEPNext.tcbEPPrev = tcb.tcbEPPrev
  else q.end = tcb.tcbEPPrev
  tcb.tcbEPPrev = null
  tcb.tcbEPNext = null
}

/** A reusable queue record for the EP/notification queue helpers (no allocation per call). */
const scratchQueue: TcbQueue = { head: null, end: null }

/** Load an endpoint's queue into the scratch record. */
function epGetQueue(ep: ImplEndpoint): TcbQueue {
  scratchQueue.head = ep.epQueueHead
  scratchQueue.end = ep.epQueueTail
  return scratchQueue
}

/** Store the scratch record back as the endpoint's queue. */
function epSetQueue(ep: ImplEndpoint, q: TcbQueue): void {
  ep.epQueueHead = q.head
  ep.epQueueTail = q.end
}

// ---- send and receive ---------------------------------------------------------------------------

/**
 * Send on `ep` from `thread`. A waiting receiver takes the message at once (it runs; a Call then
 * leaves the sender waiting for the reply with a reply cap in the receiver's caller slot, or
 * Inactive when the sender cap has neither Grant nor GrantReply). Otherwise a blocking send queues
 * the sender and a non-blocking one is dropped.
 * @refines spec/object/endpoint#sendIPC
 */
export function sendIPC(
  k: ImplState, blocking: boolean, doCall: boolean, badge: number, canGrant: boolean, canGrantReply: boolean,
  thread: ImplTcb, ep: ImplEndpoint,
): void {
  switch (ep.epState) {
    // No receiver: block in the send queue (or drop the message).
    case "Idle":
    case "Send":
      if (blocking) {
        const ts = thread.tsBlockedOnSend
        ts.ep = ep.base
        ts.badge = badge
        ts.canGrant = canGrant
        ts.canGrantReply = canGrantReply
        ts.isCall = doCall
        thread.tcbState = ts
        scheduleTCB(k, thread)
        const q = epGetQueue(ep)
        tcbEPAppend(thread, q)
        ep.epState = "Send"
        epSetQueue(ep, q)
      }
      break
    // A receiver waits: hand the message to the first one.
    case "Recv": {
      const q = epGetQueue(ep)
      const dest = q.head
      // Haskell error: "Receive endpoint queue must not be empty"
      if (dest === null) throw new KernelBug("Receive endpoint queue must not be empty")
      tcbEPDequeue(dest, q)
      epSetQueue(ep, q)
      if (q.head === null) ep.epState = "Idle"
      doIPCTransfer(k, thread, ep, badge, canGrant, dest)
      const dst = dest.tcbState
      const replyCanGrant = dst.tag === "BlockedOnReceive" && dst.canGrant
      setThreadState(k, dest, ThreadStateRunning)
      possibleSwitchTo(k, dest)
      if (doCall) {
        if (canGrant || canGrantReply) setupCallerCap(k, thread, dest, replyCanGrant)
        else setThreadState(k, thread, ThreadStateInactive)
      }
      break
    }
  }
}

/**
 * Receive on the endpoint of `cap` into `thread`. A pending signal on the bound notification is
 * taken first. Otherwise the first queued sender's message is transferred (a Call leaves the sender
 * waiting for the reply, or Inactive without Grant/GrantReply; a Send lets it run), or the thread
 * blocks (NBRecv: badge 0, return).
 * @refines spec/object/endpoint#receiveIPC
 */
export function receiveIPC(k: ImplState, thread: ImplTcb, cap: Cap, isBlocking: boolean): void {
  // Haskell error: "receiveIPC: invalid cap"
  if (cap.tag !== "EndpointCap") throw new KernelBug("receiveIPC: invalid cap")
  const ep = getEndpointImpl(k, cap.ptr)
  const ntfn = thread.tcbBoundNotification
  if (ntfn !== null && ntfn.ntfnState === "Active") {
    completeSignal(ntfn, thread)
    return
  }
  switch (ep.epState) {
    // No sender: block in the receive queue (or fail without blocking).
    case "Idle":
    case "Recv":
      if (isBlocking) {
        const ts = thread.tsBlockedOnReceive
        ts.ep = ep.base
        ts.canGrant = (cap.rights & RightG) !== 0
        thread.tcbState = ts
        scheduleTCB(k, thread)
        const q = epGetQueue(ep)
        tcbEPAppend(thread, q)
        ep.epState = "Recv"
        epSetQueue(ep, q)
      } else {
        doNBRecvFailedTransfer(thread)
      }
      break
    // A sender waits: take the first one's message.
    case "Send": {
      const q = epGetQueue(ep)
      const sender = q.head
      // Haskell error: "Send endpoint queue must not be empty"
      if (sender === null) throw new KernelBug("Send endpoint queue must not be empty")
      tcbEPDequeue(sender, q)
      epSetQueue(ep, q)
      if (q.head === null) ep.epState = "Idle"
      const st = sender.tcbState
      if (st.tag !== "BlockedOnSend") throw new KernelBug("receiveIPC: sender not blocked on send")
      const badge = st.badge
      const canGrant = st.canGrant
      const canGrantReply = st.canGrantReply
      const doCall = st.isCall
      doIPCTransfer(k, sender, ep, badge, canGrant, thread)
      if (doCall) {
        if (canGrant || canGrantReply) setupCallerCap(k, sender, thread, (cap.rights & RightG) !== 0)
        else setThreadState(k, sender, ThreadStateInactive)
      } else {
        setThreadState(k, sender, ThreadStateRunning)
        possibleSwitchTo(k, sender)
      }
      break
    }
  }
}

/**
 * A non-blocking receive found nothing: the badge register reads 0.
 * @refines spec/object/endpoint#doNBRecvFailedTransfer
 */
export function doNBRecvFailedTransfer(thread: ImplTcb): void {
  thread.badge = 0
}

// ---- invocations --------------------------------------------------------------------------------

/** Send on an endpoint with the invoked cap's badge and rights. @refines spec/object/endpoint#sendIPC */
export function performInvocation_Endpoint(
  k: ImplState, ep: ImplEndpoint, badge: number, canGrant: boolean, canGrantReply: boolean, block: boolean, call: boolean,
): Exception {
  sendIPC(k, block, call, badge, canGrant, canGrantReply, k.curThread, ep)
  return EXCEPTION_NONE
}

/** Signal a notification with the invoked cap's badge. @refines spec/object/notification#sendSignal */
export function performInvocation_Notification(k: ImplState, ntfn: ImplNotification, badge: number): Exception {
  sendSignal(k, ntfn, badge)
  return EXCEPTION_NONE
}

/** Reply through an invoked (saved) reply cap. @refines spec/kernel/ipcTransfer#doReplyTransfer */
export function performInvocation_Reply(k: ImplState, thread: ImplTcb, slot: Cte, canGrant: boolean): Exception {
  doReplyTransfer(k, k.curThread, thread, slot, canGrant)
  return EXCEPTION_NONE
}

// ---- cancellation -------------------------------------------------------------------------------

/**
 * Take a thread out of whatever IPC it is blocked in: off an endpoint or notification queue
 * (becoming Inactive), or, if it waits for a reply, delete the reply cap that would answer it.
 * @refines spec/object/endpoint#cancelIPC
 */
export function cancelIPC(k: ImplState, tptr: ImplTcb): void {
  const st = tptr.tcbState
  switch (st.tag) {
    // Blocked on an endpoint: dequeue; the endpoint goes idle when its queue empties.
    case "BlockedOnSend":
    case "BlockedOnReceive": {
      const ep = getEndpointImpl(k, st.ep)
      // Haskell error: "blockedIPCCancel: endpoint must not be idle"
      if (ep.epState === "Idle") throw new KernelBug("blockedIPCCancel: endpoint must not be idle")
      scratchQueue.head = ep.epQueueHead
      scratchQueue.end = ep.epQueueTail
      tcbEPDequeue(tptr, scratchQueue)
      ep.epQueueHead = scratchQueue.head
      ep.epQueueTail = scratchQueue.end
      if (ep.epQueueHead === null) ep.epState = "Idle"
      setThreadState(k, tptr, ThreadStateInactive)
      break
    }
    // Blocked on a notification: leave its queue.
    case "BlockedOnNotification":
      cancelSignal(k, tptr, getNotificationImpl(k, st.ntfn))
      break
    // Waiting for a reply: delete the reply cap (the MDB successor of the master reply cap).
    case "BlockedOnReply": {
      tptr.tcbFault = null
      const slot = tcbSlot(tptr, tcbReply)
      const callerCap = slot.next
      if (callerCap !== null) cteDeleteOne(k, callerCap)
      break
    }
    default:
      break
  }
}

/** Restart every thread of an endpoint queue (head first) and empty it. */
function restartQueue(k: ImplState, head: ImplTcb | null): void {
  let thread = head
  while (thread !== null) {
    const next = thread.tcbEPNext
    thread.tcbEPNext = null
    thread.tcbEPPrev = null
    setThreadState(k, thread, ThreadStateRestart)
    tcbSchedEnqueue(k, thread)
    thread = next
  }
}

/**
 * The endpoint is going away: every queued thread restarts (re-runs its syscall) and the endpoint
 * becomes idle.
 * @refines spec/object/endpoint#cancelAllIPC
 */
export function cancelAllIPC(k: ImplState, ep: ImplEndpoint): void {
  if (ep.epState === "Idle") return
  const head = ep.epQueueHead
  ep.epState = "Idle"
  ep.epQueueHead = null
  ep.epQueueTail = null
  restartQueue(k, head)
  rescheduleRequired(k)
}

/**
 * Restart the senders blocked on `ep` with badge `badge`, keeping the others queued in order.
 * @refines spec/object/endpoint#cancelBadgedSends
 */
export function cancelBadgedSends(k: ImplState, ep: ImplEndpoint, badge: number): void {
  switch (ep.epState) {
    case "Idle":
    case "Recv":
      break
    case "Send": {
      scratchQueue.head = ep.epQueueHead
      scratchQueue.end = ep.epQueueTail
      ep.epState = "Idle"
      ep.epQueueHead = null
      ep.epQueueTail = null
      let thread = scratchQueue.head
      while (thread !== null) {
        const st = thread.tcbState
        const b = st.tag === "BlockedOnSend" ? st.badge : 0
        const next = thread.tcbEPNext
        if (b === badge) {
          setThreadState(k, thread, ThreadStateRestart)
          tcbSchedEnqueue(k, thread)
          tcbEPDequeue(thread, scratchQueue)
        }
        thread = next
      }
      ep.epQueueHead = scratchQueue.head
      ep.epQueueTail = scratchQueue.end
      if (ep.epQueueHead !== null) ep.epState = "Send"
      rescheduleRequired(k)
      break
    }
  }
}

/**
 * Reply to a Call with the current syscall error: badge 0, the error's words in the message
 * registers, message info = (error code, length).
 * @refines spec/object/endpoint#replyFromKernelError
 */
export function replyFromKernel_error(k: ImplState, thread: ImplTcb): void {
  const buffer = lookupIPCBuffer(k, true, thread)
  thread.badge = 0
  const len = setMRs_syscall_error(k, thread, buffer)
  thread.msgInfo = miNew(errorCode[k.currentSyscallError.tag], 0, 0, len)
}

/**
 * Reply to a successful Call with an empty message: badge 0, message info 0.
 * @refines spec/object/endpoint#replyFromKernelSuccessEmpty
 */
export function replyFromKernel_success_empty(thread: ImplTcb): void {
  thread.badge = 0
  thread.msgInfo = 0
}

/**
 * Write the current syscall error's message registers; returns the message length.
 * @refines spec/object/endpoint#replyFromKernelError
 */
export function setMRs_syscall_error(k: ImplState, thread: ImplTcb, receiveIPCBuffer: Uint32Array | null): number {
  const e = k.currentSyscallError
  switch (e.tag) {
    case "InvalidArgument":
      return setMR(thread, receiveIPCBuffer, 0, e.argument)
    case "InvalidCapability":
      return setMR(thread, receiveIPCBuffer, 0, e.capability)
    case "IllegalOperation":
      return 0
    case "RangeError":
      setMR(thread, receiveIPCBuffer, 0, e.min)
      return setMR(thread, receiveIPCBuffer, 1, e.max)
    case "AlignmentError":
      return 0
    case "FailedLookup":
      setMR(thread, receiveIPCBuffer, 0, e.wasSource ? 1 : 0)
      return setMRs_lookup_failure(thread, receiveIPCBuffer, e.failure, 1)
    case "TruncatedMessage":
    case "DeleteFirst":
    case "RevokeFirst":
      return 0
    case "NotEnoughMemory":
      return setMR(thread, receiveIPCBuffer, 0, e.bytesLeft)
  }
}
