/**
 * Endpoint queue cancellation (seL4 src/object/endpoint.c, A/IpcCancel_A). The IPC transfer
 * itself arrives with the IPC slice; these are what deletion and CancelBadgedSends need.
 * @category objects
 */
import { match } from "ts-pattern"
import type { EndpointState, PPtr } from "../../model/index.ts"
import type { KernelState } from "../state.ts"
import { getEndpoint, getTcb, setObject } from "../state.ts"
import { rescheduleRequired, setThreadState, tcbSchedEnqueue } from "../kernel/thread.ts"

const setEPState = (s: KernelState, ep: PPtr, state: EndpointState): KernelState => setObject(s, ep, { tag: "Endpoint", state })

/** The endpoint state holding `queue` in the queue kind of `like` (Idle when empty). */
const withQueue = (like: "SendEP" | "RecvEP", queue: readonly PPtr[]): EndpointState =>
  queue.length === 0 ? { tag: "IdleEP" } : { tag: like, queue }

/** Restart a thread taken off a queue: Restart state, then onto the ready queue. */
const restartQueued = (s: KernelState, t: PPtr): KernelState => tcbSchedEnqueue(setThreadState(s, t, { tag: "Restart" }), t)

/**
 * Empty the endpoint's queue: every waiting thread restarts (and will retry its syscall), the
 * endpoint becomes idle. Runs when the last cap to the endpoint is deleted.
 * Mirrors seL4 `cancelAllIPC`.
 */
export const cancelAllIPC = (s: KernelState, ep: PPtr): KernelState =>
  match(getEndpoint(s, ep).state)
    // Nothing waits: nothing to do.
    .with({ tag: "IdleEP" }, () => s)
    // Senders or receivers wait: restart each in queue order.
    .with({ tag: "SendEP" }, { tag: "RecvEP" }, ({ queue }) =>
      rescheduleRequired(queue.reduce(restartQueued, setEPState(s, ep, { tag: "IdleEP" }))))
    .exhaustive()

/**
 * Restart the threads blocked sending on `ep` with badge `badge`; others keep their places.
 * Mirrors seL4 `cancelBadgedSends`.
 */
export const cancelBadgedSends = (s: KernelState, ep: PPtr, badge: number): KernelState =>
  match(getEndpoint(s, ep).state)
    // Only a send queue holds badged senders.
    .with({ tag: "IdleEP" }, { tag: "RecvEP" }, () => s)
    .with({ tag: "SendEP" }, ({ queue }) => {
      const hit = (t: PPtr) => {
        const st = getTcb(s, t).tcbState
        return st.tag === "BlockedOnSend" && st.badge === badge
      }
      const s1 = setEPState(s, ep, withQueue("SendEP", queue.filter((t) => !hit(t))))
      return rescheduleRequired(queue.filter(hit).reduce(restartQueued, s1))
    })
    .exhaustive()

/**
 * Take a thread blocked on an endpoint off its queue and make it Inactive.
 * Mirrors seL4 `cancelIPC`'s BlockedOnSend/BlockedOnReceive case.
 */
export const blockedCancelIPC = (s: KernelState, t: PPtr, ep: PPtr): KernelState => {
  const st = getEndpoint(s, ep).state
  const s1 = match(st)
    .with({ tag: "IdleEP" }, () => s)
    .with({ tag: "SendEP" }, { tag: "RecvEP" }, (q) => setEPState(s, ep, withQueue(q.tag, q.queue.filter((x) => x !== t))))
    .exhaustive()
  return setThreadState(s1, t, { tag: "Inactive" })
}
