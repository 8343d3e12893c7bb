/**
 * Endpoints: synchronous send and receive through a queue of waiting threads, the cancellation
 * that deletion, suspension and CancelBadgedSends need (`cancelIPC` with it), and the kernel's
 * replies to a syscall (seL4 src/object/endpoint.c, l4v A/Ipc_A, A/IpcCancel_A). The message
 * transfer itself is in kernel/ipcTransfer.ts.
 * @category ipc
 */
import { match } from "ts-pattern"
import type { Cap, EndpointState, NonEmpty, PPtr, SyscallError } from "../../model/index.ts"
import { RightG, errorCode, hasRight, isNonEmpty, messageInfo, syscallErrorWords, tcbReply } from "../../model/index.ts"
import type { KernelState } from "../state.ts"
import { KernelBug, contextWith, getEndpoint, getNotification, getTcb, setObject, slotOf, tcbWith, updateTcb } from "../state.ts"
import { possibleSwitchTo, rescheduleRequired, scheduleTCB, setThreadState, tcbSchedEnqueue } from "../kernel/thread.ts"
import { doIPCTransfer, setMRs, setupCallerCap } from "../kernel/ipcTransfer.ts"
import { lookupIPCBuffer } from "../kernel/vspace.ts"
import { cancelSignal, completeSignal } from "./notification.ts"
import { cteDeleteOne } from "./cnode.ts"

/** The endpoint with `t` appended to a queue of kind `like` (a thread waits at the tail). */
const enqueue = (s: KernelState, ep: PPtr, like: "SendEP" | "RecvEP", t: PPtr): KernelState => {
  const st = getEndpoint(s, ep).state
  const queue: NonEmpty<PPtr> = st.tag === like ? [...st.queue, t] : [t]
  return setEPState(s, ep, { tag: like, queue })
}

/**
 * After a message reached a thread that had called: with Grant or GrantReply the caller waits
 * for the reply and the receiver gets a reply cap; without either the caller is simply stopped
 * (Inactive), a Call that can never be answered.
 */
const finishCall = (s: KernelState, caller: PPtr, receiver: PPtr, canGrant: boolean, canGrantReply: boolean, replyCanGrant: boolean): KernelState =>
  canGrant || canGrantReply ? setupCallerCap(s, caller, receiver, replyCanGrant) : setThreadState(s, caller, { tag: "Inactive" })

/**
 * Send from `t` through `ep`: if a receiver waits, the first one gets the message, runs, and may
 * preempt; a Call then blocks for the reply (or stops, without Grant/GrantReply). If none waits,
 * a blocking send joins the tail of the send queue and a non-blocking one is dropped.
 * Mirrors seL4 `sendIPC` (non-MCS).
 */
export const sendIPC = (
  s: KernelState, blocking: boolean, call: boolean, badge: number, canGrant: boolean, canGrantReply: boolean, t: PPtr, ep: PPtr,
): KernelState => {
  const epState = getEndpoint(s, ep).state
  switch (epState.tag) {
    // No receiver waits: a blocking send joins the send queue; a non-blocking one is dropped.
    case "IdleEP": case "SendEP": {
      if (!blocking) return s
      const s1 = updateTcb(s, t, (tcb) => tcbWith(tcb, { tcbState: { tag: "BlockedOnSend", ep, badge, canGrant, canGrantReply, isCall: call } }))
      return enqueue(scheduleTCB(s1, t), ep, "SendEP", t)
    }
    // A receiver waits: the first one gets the message and runs.
    case "RecvEP": {
      const [dest, ...rest] = epState.queue
      const s1 = doIPCTransfer(setEPState(s, ep, withQueue("RecvEP", rest)), t, ep, badge, canGrant, dest)
      const destState = getTcb(s1, dest).tcbState
      const replyCanGrant = destState.tag === "BlockedOnReceive" && destState.canGrant
      const s2 = possibleSwitchTo(setThreadState(s1, dest, { tag: "Running" }), dest)
      return call ? finishCall(s2, t, dest, canGrant, canGrantReply, replyCanGrant) : s2
    }
  }
}

/**
 * Receive on the endpoint `cap` names: a pending signal on the bound notification comes first;
 * else the first waiting sender's message is taken (a Call's sender then waits for the reply,
 * others run on); else a blocking receive joins the receive queue and a non-blocking one returns
 * with badge 0. Mirrors seL4 `receiveIPC` (non-MCS).
 */
export const receiveIPC = (s: KernelState, t: PPtr, cap: Extract<Cap, { tag: "EndpointCap" }>, blocking: boolean): KernelState => {
  const ep = cap.ptr
  const bound = getTcb(s, t).tcbBoundNotification
  if (bound !== null && getNotification(s, bound).state.tag === "ActiveNtfn") return completeSignal(s, bound, t)
  const epState = getEndpoint(s, ep).state
  switch (epState.tag) {
    // No sender waits: a blocking receive joins the receive queue; a non-blocking one returns.
    case "IdleEP": case "RecvEP": {
      if (!blocking) return doNBRecvFailedTransfer(s, t)
      const canGrant = hasRight(cap.rights, RightG)
      const s1 = updateTcb(s, t, (tcb) => tcbWith(tcb, { tcbState: { tag: "BlockedOnReceive", ep, canGrant } }))
      return enqueue(scheduleTCB(s1, t), ep, "RecvEP", t)
    }
    // A sender waits: take the first one's message; a Call's sender waits for the reply.
    case "SendEP": {
      const [sender, ...rest] = epState.queue
      const st = getTcb(s, sender).tcbState
      if (st.tag !== "BlockedOnSend") throw new KernelBug("receiveIPC: sender not blocked on send")
      const s1 = doIPCTransfer(setEPState(s, ep, withQueue("SendEP", rest)), sender, ep, st.badge, st.canGrant, t)
      if (st.isCall) return finishCall(s1, sender, t, st.canGrant, st.canGrantReply, hasRight(cap.rights, RightG))
      return possibleSwitchTo(setThreadState(s1, sender, { tag: "Running" }), sender)
    }
  }
}

/** A non-blocking receive that found nothing: the badge register reads 0. Mirrors seL4 `doNBRecvFailedTransfer`. */
export const doNBRecvFailedTransfer = (s: KernelState, t: PPtr): KernelState =>
  updateTcb(s, t, (tcb) => tcbWith(tcb, { tcbContext: contextWith(tcb.tcbContext, { badge: 0 }) }))


const setEPState = (s: KernelState, ep: PPtr, state: EndpointState): KernelState => setObject(s, ep, { tag: "Endpoint", state })

/** The endpoint state holding `queue` in the queue kind of `like` (Idle when empty). */
const withQueue = (like: "SendEP" | "RecvEP", queue: readonly PPtr[]): EndpointState =>
  !isNonEmpty(queue) ? { tag: "IdleEP" } : { tag: like, queue }

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

/**
 * Stop whatever IPC the thread is blocked in: leave an endpoint or notification queue (the
 * thread becomes Inactive), or, waiting for a reply, forget its fault and delete the reply cap
 * its caller holds. Mirrors seL4 `cancelIPC` (non-MCS).
 */
export const cancelIPC = (s: KernelState, t: PPtr): KernelState =>
  match(getTcb(s, t).tcbState)
    .with({ tag: "BlockedOnSend" }, { tag: "BlockedOnReceive" }, ({ ep }) => blockedCancelIPC(s, t, ep))
    .with({ tag: "BlockedOnNotification" }, ({ ntfn }) => cancelSignal(s, t, ntfn))
    .with({ tag: "BlockedOnReply" }, () => {
      const s1 = updateTcb(s, t, (tcb) => tcbWith(tcb, { tcbFault: null }))
      const callerCap = s1.cdtList.get(slotOf(t, tcbReply))?.[0]
      return callerCap === undefined ? s1 : cteDeleteOne(s1, callerCap)
    })
    .with({ tag: "Running" }, { tag: "Restart" }, { tag: "Inactive" }, { tag: "IdleThreadState" }, () => s)
    .exhaustive()

/**
 * Reply a syscall error to `t`: badge 0, the error's words in the message registers, and a
 * message info with the error code as label. Mirrors seL4 `replyFromKernel_error`.
 */
export const replyFromKernelError = (s: KernelState, t: PPtr, e: SyscallError): KernelState => {
  const { s: s1, len } = setMRs(s, t, lookupIPCBuffer(s, true, t), syscallErrorWords(e))
  return updateTcb(s1, t, (tcb) => tcbWith(tcb, { tcbContext: contextWith(tcb.tcbContext, { badge: 0, msgInfo: messageInfo(errorCode[e.tag], len) }) }))
}

/** Reply an empty success to `t`: badge 0, message info 0. Mirrors seL4 `replyFromKernel_success_empty`. */
export const replyFromKernelSuccessEmpty = (s: KernelState, t: PPtr): KernelState =>
  updateTcb(s, t, (tcb) => tcbWith(tcb, { tcbContext: contextWith(tcb.tcbContext, { badge: 0, msgInfo: 0 }) }))
