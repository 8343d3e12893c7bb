/**
 * Notification cancellation and binding (seL4 src/object/notification.c, non-MCS).
 * (sendSignal/receiveSignal land with the IPC issue.)
 * @category objects
 */
import { rescheduleRequired, setThreadState } from "../kernel/thread.ts"
import type { ImplNotification, ImplState, ImplTcb } from "../state.ts"
import { KernelBug, ThreadStateInactive, ThreadStateRestart } from "../state.ts"
import { type TcbQueue, tcbEPDequeue, tcbSchedEnqueue } from "./tcb.ts"

const scratchQueue: TcbQueue = { head: null, end: null }

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
