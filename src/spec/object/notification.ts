/**
 * Notification cancellation and binding (seL4 src/object/notification.c, A/IpcCancel_A).
 * @category objects
 */
import { match } from "ts-pattern"
import type { PPtr } from "../../model/index.ts"
import type { KernelState } from "../state.ts"
import { getNotification, setObject, updateTcb } from "../state.ts"
import { rescheduleRequired, setThreadState, tcbSchedEnqueue } from "../kernel/thread.ts"

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
      return setObject(s, ntfn, { ...n, state: rest.length === 0 ? { tag: "IdleNtfn" } : { tag: "WaitingNtfn", queue: rest } })
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
