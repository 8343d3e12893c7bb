/**
 * Notifications: signal and wait on a word of badge bits, binding to a TCB, and cancellation
 * (seL4 src/object/notification.c, l4v A/Ipc_A, A/IpcCancel_A).
 * @category ipc
 */
import { match } from "ts-pattern"
import type { NonEmpty, PPtr } from "../../model/index.ts"
import { isNonEmpty } from "../../model/index.ts"
import type { KernelState } from "../state.ts"
import { KernelBug, contextWith, getNotification, getTcb, setObject, tcbWith, updateTcb } from "../state.ts"
import { possibleSwitchTo, rescheduleRequired, scheduleTCB, setThreadState, tcbSchedEnqueue } from "../kernel/thread.ts"
import { cancelIPC } from "./endpoint.ts"

/**
 * Restart every thread waiting on the notification; it becomes idle. Runs when its last cap
 * is deleted. Mirrors seL4 `cancelAllSignals`.
 */
export const cancelAllSignals = (s: KernelState, ntfn: PPtr): KernelState => {
  const n = getNotification(s, ntfn)
  return match(n.state)
    .with({ tag: "WaitingNtfn" }, ({ queue }) => {
      const s1 = setObject(s, ntfn, { ...n, state: { tag: "IdleNtfn" } })
      return rescheduleRequired(queue.reduce((acc, t) => tcbSchedEnqueue(setThreadState(acc, t, { tag: "Restart" }), t), s1))
    })
    .with({ tag: "IdleNtfn" }, { tag: "ActiveNtfn" }, () => s)
    .exhaustive()
}

/** Take a thread waiting on a notification off its queue; it becomes Inactive. Mirrors seL4 `cancelSignal`. */
export const cancelSignal = (s: KernelState, t: PPtr, ntfn: PPtr): KernelState => {
  const n = getNotification(s, ntfn)
  const s1 = match(n.state)
    .with({ tag: "WaitingNtfn" }, ({ queue }) => {
      const rest = queue.filter((x) => x !== t)
      return setObject(s, ntfn, { ...n, state: !isNonEmpty(rest) ? { tag: "IdleNtfn" } : { tag: "WaitingNtfn", queue: rest } })
    })
    .with({ tag: "IdleNtfn" }, { tag: "ActiveNtfn" }, () => s)
    .exhaustive()
  return setThreadState(s1, t, { tag: "Inactive" })
}

/** Break the binding between a TCB and its notification. Mirrors seL4 `unbindNotification`. */
export const unbindNotification = (s: KernelState, tcb: PPtr): KernelState => {
  let bound: PPtr | null = null
  const s1 = updateTcb(s, tcb, (t) => { bound = t.tcbBoundNotification; return { ...t, tcbBoundNotification: null } })
  if (bound === null) return s
  const n = getNotification(s1, bound)
  return setObject(s1, bound, { ...n, boundTCB: null })
}

/** If a TCB is bound to the notification, unbind it. Mirrors seL4 `unbindMaybeNotification`. */
export const unbindMaybeNotification = (s: KernelState, ntfn: PPtr): KernelState => {
  const n = getNotification(s, ntfn)
  if (n.boundTCB === null) return s
  const s1 = updateTcb(s, n.boundTCB, (t) => ({ ...t, tcbBoundNotification: null }))
  return setObject(s1, ntfn, { ...n, boundTCB: null })
}

/** The notification's word becomes Active with `badge`. */
const setActive = (s: KernelState, ntfn: PPtr, badge: number): KernelState =>
  setObject(s, ntfn, { ...getNotification(s, ntfn), state: { tag: "ActiveNtfn", badge } })

/** Put `badge` in the thread's badge register. */
const setBadgeRegister = (s: KernelState, t: PPtr, badge: number): KernelState =>
  updateTcb(s, t, (tcb) => tcbWith(tcb, { tcbContext: contextWith(tcb.tcbContext, { badge: badge >>> 0 }) }))

/**
 * Signal the notification with `badge`: the first waiter wakes with the badge; with no waiter, a
 * bound thread blocked in an endpoint receive is pulled out of it and wakes with the badge;
 * otherwise the badge is ORed into the notification's word. Mirrors seL4 `sendSignal`.
 */
export const sendSignal = (s: KernelState, ntfn: PPtr, badge: number): KernelState => {
  const n = getNotification(s, ntfn)
  return match(n.state)
    .with({ tag: "IdleNtfn" }, () => {
      const tcb = n.boundTCB
      if (tcb !== null && getTcb(s, tcb).tcbState.tag === "BlockedOnReceive") {
        const s1 = setBadgeRegister(setThreadState(cancelIPC(s, tcb), tcb, { tag: "Running" }), tcb, badge)
        return possibleSwitchTo(s1, tcb)
      }
      return setActive(s, ntfn, badge)
    })
    .with({ tag: "WaitingNtfn" }, ({ queue }) => {
      const [dest, ...rest] = queue
      const s1 = setObject(s, ntfn, { ...n, state: !isNonEmpty(rest) ? { tag: "IdleNtfn" } : { tag: "WaitingNtfn", queue: rest } })
      return possibleSwitchTo(setBadgeRegister(setThreadState(s1, dest, { tag: "Running" }), dest, badge), dest)
    })
    // Badges accumulate: each signal sets its bits.
    .with({ tag: "ActiveNtfn" }, ({ badge: old }) => setActive(s, ntfn, (old | badge) >>> 0))
    .exhaustive()
}

/**
 * Wait on the notification: an Active word is taken (the badge returned, the word cleared);
 * otherwise a blocking wait joins the queue and a non-blocking poll returns badge 0.
 * Mirrors seL4 `receiveSignal`.
 */
export const receiveSignal = (s: KernelState, t: PPtr, ntfn: PPtr, blocking: boolean): KernelState => {
  const n = getNotification(s, ntfn)
  return match(n.state)
    .with({ tag: "IdleNtfn" }, { tag: "WaitingNtfn" }, (st) => {
      if (!blocking) return setBadgeRegister(s, t, 0)
      const queue: NonEmpty<PPtr> = st.tag === "WaitingNtfn" ? [...st.queue, t] : [t]
      const s1 = scheduleTCB(updateTcb(s, t, (tcb) => tcbWith(tcb, { tcbState: { tag: "BlockedOnNotification", ntfn } })), t)
      return setObject(s1, ntfn, { ...getNotification(s1, ntfn), state: { tag: "WaitingNtfn", queue } })
    })
    .with({ tag: "ActiveNtfn" }, () => completeSignal(s, ntfn, t))
    .exhaustive()
}

/**
 * Take an Active notification's badge into the thread's badge register and clear the word.
 * Mirrors seL4 `completeSignal`.
 */
export const completeSignal = (s: KernelState, ntfn: PPtr, t: PPtr): KernelState => {
  const n = getNotification(s, ntfn)
  if (n.state.tag !== "ActiveNtfn") throw new KernelBug("completeSignal: notification not active")
  return setObject(setBadgeRegister(s, t, n.state.badge), ntfn, { ...n, state: { tag: "IdleNtfn" } })
}

/** Bind a notification to a TCB, both ways. Mirrors seL4 `bindNotification`. */
export const bindNotification = (s: KernelState, tcb: PPtr, ntfn: PPtr): KernelState => {
  const s1 = setObject(s, ntfn, { ...getNotification(s, ntfn), boundTCB: tcb })
  return updateTcb(s1, tcb, (t) => ({ ...t, tcbBoundNotification: ntfn }))
}
