/**
 * Notifications (seL4 src/object/notification.c, non-MCS): sendSignal, receiveSignal,
 * completeSignal, cancelAllSignals, cancelSignal, binding. Signalling allocates nothing.
 * @category objects
 */
import type { Cap } from "../../model/index.ts"
import { possibleSwitchTo, rescheduleRequired, scheduleTCB, setThreadState, tcbSchedEnqueue } from "../kernel/thread.ts"
import type { ImplNotification, ImplState, ImplTcb } from "../state.ts"
import { KernelBug, ThreadStateInactive, ThreadStateRestart, ThreadStateRunning, getNotificationImpl } from "../state.ts"
import { type TcbQueue, cancelIPC, doNBRecvFailedTransfer, tcbEPAppend, tcbEPDequeue } from "./endpoint.ts"

const scratchQueue: TcbQueue = { head: null, end: null }

/** C `ntfn_set_active`: the notification holds `badge` for the next waiter. */
function ntfnSetActive(ntfn: ImplNotification, badge: number): void {
  ntfn.ntfnState = "Active"
  ntfn.ntfnMsgIdentifier = badge >>> 0
}

/**
 * Signal `ntfn` with `badge`. Idle: wake the bound TCB if it is blocked receiving on an endpoint
 * (its IPC is cancelled; it runs with the badge), else become Active with the badge. Waiting:
 * the first waiter runs with the badge. Active: the badges are OR-ed.
 * @refines spec/object/notification#sendSignal
 */
export function sendSignal(k: ImplState, ntfn: ImplNotification, badge: number): void {
  switch (ntfn.ntfnState) {
    // Nobody waits on the object itself: the bound thread, or remember the badge.
    case "Idle": {
      const tcb = ntfn.ntfnBoundTCB
      if (tcb !== null && tcb.tcbState.tag === "BlockedOnReceive") {
        cancelIPC(k, tcb)
        setThreadState(k, tcb, ThreadStateRunning)
        tcb.badge = badge >>> 0
        possibleSwitchTo(k, tcb)
      } else {
        ntfnSetActive(ntfn, badge)
      }
      break
    }
    // Wake the first waiter with the badge.
    case "Waiting": {
      scratchQueue.head = ntfn.ntfnQueueHead
      scratchQueue.end = ntfn.ntfnQueueTail
      const dest = scratchQueue.head
      // Haskell error: "WaitingNtfn Notification must have non-empty queue"
      if (dest === null) throw new KernelBug("WaitingNtfn Notification must have non-empty queue")
      tcbEPDequeue(dest, scratchQueue)
      ntfn.ntfnQueueHead = scratchQueue.head
      ntfn.ntfnQueueTail = scratchQueue.end
      if (ntfn.ntfnQueueHead === null) ntfn.ntfnState = "Idle"
      setThreadState(k, dest, ThreadStateRunning)
      dest.badge = badge >>> 0
      possibleSwitchTo(k, dest)
      break
    }
    // Already pending: accumulate.
    case "Active":
      ntfn.ntfnMsgIdentifier = (ntfn.ntfnMsgIdentifier | badge) >>> 0
      break
  }
}

/**
 * Wait on the notification of `cap`: an Active one hands over its badge and goes Idle; otherwise
 * block in its queue (non-blocking: badge 0).
 * @refines spec/object/notification#receiveSignal
 */
export function receiveSignal(k: ImplState, thread: ImplTcb, cap: Cap, isBlocking: boolean): void {
  if (cap.tag !== "NotificationCap") throw new KernelBug("receiveSignal: invalid cap")
  const ntfn = getNotificationImpl(k, cap.ptr)
  switch (ntfn.ntfnState) {
    // Nothing pending: block (or fail without blocking).
    case "Idle":
    case "Waiting":
      if (isBlocking) {
        const ts = thread.tsBlockedOnNotification
        ts.ntfn = ntfn.base
        thread.tcbState = ts
        scheduleTCB(k, thread)
        scratchQueue.head = ntfn.ntfnQueueHead
        scratchQueue.end = ntfn.ntfnQueueTail
        tcbEPAppend(thread, scratchQueue)
        ntfn.ntfnState = "Waiting"
        ntfn.ntfnQueueHead = scratchQueue.head
        ntfn.ntfnQueueTail = scratchQueue.end
      } else {
        doNBRecvFailedTransfer(thread)
      }
      break
    // A badge is pending: take it.
    case "Active":
      thread.badge = ntfn.ntfnMsgIdentifier
      ntfn.ntfnState = "Idle"
      break
  }
}

/**
 * Take the pending badge of an Active bound notification (a receive on an endpoint found it).
 * @refines spec/object/notification#completeSignal
 */
export function completeSignal(ntfn: ImplNotification, tcb: ImplTcb | null): void {
  if (tcb !== null && ntfn.ntfnState === "Active") {
    tcb.badge = ntfn.ntfnMsgIdentifier
    ntfn.ntfnState = "Idle"
  } else {
    // seL4: "tried to complete signal with inactive notification object"
    throw new KernelBug("completeSignal: notification not active")
  }
}

/**
 * Bind `ntfn` to `tcb` (both ends). The caller checks that neither is bound.
 * @refines spec/object/notification#bindNotification
 */
export function bindNotification(tcb: ImplTcb, ntfn: ImplNotification): void {
  ntfn.ntfnBoundTCB = tcb
  tcb.tcbBoundNotification = ntfn
}

/**
 * The notification is going away: every waiter restarts and the notification becomes idle.
 * @refines spec/object/notification#cancelAllSignals
 */
export function cancelAllSignals(k: ImplState, ntfn: ImplNotification): void {
  if (ntfn.ntfnState !== "Waiting") return
  let thread = ntfn.ntfnQueueHead
  ntfn.ntfnState = "Idle"
  ntfn.ntfnQueueHead = null
  ntfn.ntfnQueueTail = null
  while (thread !== null) {
    const next = thread.tcbEPNext
    thread.tcbEPNext = null
    thread.tcbEPPrev = null
    setThreadState(k, thread, ThreadStateRestart)
    tcbSchedEnqueue(k, thread)
    thread = next
  }
  rescheduleRequired(k)
}

/**
 * Take a waiter off a notification's queue (idle when it empties); the thread becomes Inactive.
 * @refines spec/object/notification#cancelSignal
 */
export function cancelSignal(k: ImplState, thread: ImplTcb, ntfn: ImplNotification): void {
  // Haskell error: "cancelSignal: notification object must be in a waiting state"
  if (ntfn.ntfnState !== "Waiting") throw new KernelBug("cancelSignal: notification object must be in a waiting state")
  scratchQueue.head = ntfn.ntfnQueueHead
  scratchQueue.end = ntfn.ntfnQueueTail
  tcbEPDequeue(thread, scratchQueue)
  ntfn.ntfnQueueHead = scratchQueue.head
  ntfn.ntfnQueueTail = scratchQueue.end
  if (ntfn.ntfnQueueHead === null) ntfn.ntfnState = "Idle"
  setThreadState(k, thread, ThreadStateInactive)
}

/** C `doUnbindNotification`: clear both ends of a binding. */
function doUnbindNotification(ntfn: ImplNotification, tcb: ImplTcb): void {
  ntfn.ntfnBoundTCB = null
  tcb.tcbBoundNotification = null
}

/**
 * Unbind the notification from its TCB, if it is bound.
 * @refines spec/object/notification#unbindMaybeNotification
 */
export function unbindMaybeNotification(ntfn: ImplNotification): void {
  const bound = ntfn.ntfnBoundTCB
  if (bound !== null) doUnbindNotification(ntfn, bound)
}

/**
 * Unbind the TCB's notification, if it has one.
 * @refines spec/object/notification#unbindNotification
 */
export function unbindNotification(tcb: ImplTcb): void {
  const ntfn = tcb.tcbBoundNotification
  if (ntfn !== null) doUnbindNotification(ntfn, tcb)
}
