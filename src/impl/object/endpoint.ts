/**
 * Endpoint cancellation and kernel replies (seL4 src/object/endpoint.c, non-MCS): cancelIPC,
 * cancelAllIPC, cancelBadgedSends, replyFromKernel_error, replyFromKernel_success_empty.
 * (sendIPC/receiveIPC land with the IPC issue.)
 * @category objects
 */
import type { LookupFailure } from "../../model/index.ts"
import { errorCode, wordFromMessageInfo } from "../../model/index.ts"
import { tcbReply } from "../../model/index.ts"
import { lookupIPCBuffer } from "../kernel/vspace.ts"
import { rescheduleRequired, setThreadState } from "../kernel/thread.ts"
import type { ImplEndpoint, ImplState, ImplTcb } from "../state.ts"
import { KernelBug, ThreadStateInactive, ThreadStateRestart, getEndpointImpl, getNotificationImpl, tcbSlot } from "../state.ts"
import { cteDeleteOne } from "./cnode.ts"
import { cancelSignal } from "./notification.ts"
import { type TcbQueue, setMR, tcbEPDequeue, tcbSchedEnqueue } from "./tcb.ts"

/** A reusable queue record for the EP/notification queue helpers (no allocation per call). */
const scratchQueue: TcbQueue = { head: null, end: null }

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
 * @refines spec/object/endpoint#replyFromKernel_error
 */
export function replyFromKernel_error(k: ImplState, thread: ImplTcb): void {
  const hasBuffer = lookupIPCBuffer(true, thread)
  thread.badge = 0
  const len = setMRs_syscall_error(k, thread, hasBuffer)
  thread.msgInfo = wordFromMessageInfo({
    label: errorCode[k.currentSyscallError.tag], capsUnwrapped: 0, extraCaps: 0, length: len,
  })
}

/**
 * Reply to a successful Call with an empty message: badge 0, message info 0.
 * @refines spec/object/endpoint#replyFromKernel_success_empty
 */
export function replyFromKernel_success_empty(thread: ImplTcb): void {
  thread.badge = 0
  thread.msgInfo = 0
}

/** C `setMRs_lookup_failure` (src/api/faults.c): the failure's type word then its fields. */
function setMRs_lookup_failure(receiver: ImplTcb, hasBuffer: boolean, lf: LookupFailure, offset: number): number {
  switch (lf.tag) {
    case "InvalidRoot":
      return setMR(receiver, hasBuffer, offset, 1)
    case "MissingCapability":
      setMR(receiver, hasBuffer, offset, 2)
      return setMR(receiver, hasBuffer, offset + 1, lf.bitsLeft)
    case "DepthMismatch":
      setMR(receiver, hasBuffer, offset, 3)
      setMR(receiver, hasBuffer, offset + 1, lf.bitsLeft)
      return setMR(receiver, hasBuffer, offset + 2, lf.bitsFound)
    case "GuardMismatch":
      setMR(receiver, hasBuffer, offset, 4)
      setMR(receiver, hasBuffer, offset + 1, lf.bitsLeft)
      setMR(receiver, hasBuffer, offset + 2, lf.guardFound)
      return setMR(receiver, hasBuffer, offset + 3, lf.bitsFound)
  }
}

/**
 * Write the current syscall error's message registers; returns the message length.
 * @refines spec/object/tcb#setMRs_syscall_error
 */
export function setMRs_syscall_error(k: ImplState, thread: ImplTcb, hasBuffer: boolean): number {
  const e = k.currentSyscallError
  switch (e.tag) {
    case "InvalidArgument":
      return setMR(thread, hasBuffer, 0, e.argument)
    case "InvalidCapability":
      return setMR(thread, hasBuffer, 0, e.capability)
    case "IllegalOperation":
      return 0
    case "RangeError":
      setMR(thread, hasBuffer, 0, e.min)
      return setMR(thread, hasBuffer, 1, e.max)
    case "AlignmentError":
      return 0
    case "FailedLookup":
      setMR(thread, hasBuffer, 0, e.wasSource ? 1 : 0)
      return setMRs_lookup_failure(thread, hasBuffer, e.failure, 1)
    case "TruncatedMessage":
    case "DeleteFirst":
    case "RevokeFirst":
      return 0
    case "NotEnoughMemory":
      return setMR(thread, hasBuffer, 0, e.bytesLeft)
  }
}
