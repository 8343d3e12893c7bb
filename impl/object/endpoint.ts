/**
 * Endpoints and message transfer (seL4 src/object/endpoint.c and the IPC half of
 * src/kernel/thread.c, non-MCS): sendIPC, receiveIPC, doIPCTransfer, doNormalTransfer,
 * doFaultTransfer, copyMRs, transferCaps, doReplyTransfer, doNBRecvFailedTransfer; the reply-cap
 * helpers setupCallerCap/deleteCallerCap (src/object/tcb.c) and getReceiveSlots (cnode.c);
 * cancelIPC, cancelAllIPC, cancelBadgedSends; replyFromKernel_error/_success_empty; the
 * performInvocation_Endpoint/_Notification/_Reply entries (objecttype.c).
 *
 * Nothing on the IPC path allocates: thread states and reply caps come from the TCB's preallocated
 * records, message-info words are read field by field, queue edits reuse one scratch record.
 * @category objects
 */
import type { Cap } from "../../model/index.ts"
import { RightG, errorCode, faultLabel, nMsgRegisters, tcbCaller, tcbReply } from "../../model/index.ts"
import { handleFaultReply, setMRs_fault, setMRs_lookup_failure } from "../api/faults.ts"
import { lookupSlot, lookupTargetSlot } from "../kernel/cspace.ts"
import { possibleSwitchTo, rescheduleRequired, scheduleTCB, setThreadState } from "../kernel/thread.ts"
import { lookupIPCBuffer } from "../kernel/vspace.ts"
import { miCapsUnwrapped, miExtraCaps, miLabel, miLength, miNew } from "../machine/registerset.ts"
import type { Cte, Exception, ImplEndpoint, ImplNotification, ImplState, ImplTcb } from "../state.ts"
import {
  EXCEPTION_NONE, KernelBug, ThreadStateBlockedOnReply, ThreadStateInactive, ThreadStateRestart, ThreadStateRunning,
  getEndpointImpl, getNotificationImpl, tcbSlot,
} from "../state.ts"
import { cteDeleteOne, cteInsert } from "./cnode.ts"
import { completeSignal, cancelSignal, sendSignal } from "./notification.ts"
import { deriveCap } from "./objecttype.ts"
import { type TcbQueue, lookupExtraCaps, setMR, tcbEPAppend, tcbEPDequeue, tcbSchedEnqueue } from "./tcb.ts"

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
      if (st.tag !== "BlockedOnSend") throw new KernelBug("receiveIPC: queued sender must be BlockedOnSend")
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

// ---- message transfer ---------------------------------------------------------------------------

/**
 * Transfer from `sender` to `receiver`: the sender's fault message if it has a fault, else its
 * normal message (MRs, caps when `grant`). `ep` is null for replies.
 * @refines spec/kernel/ipcTransfer#doIPCTransfer
 */
export function doIPCTransfer(
  k: ImplState, sender: ImplTcb, ep: ImplEndpoint | null, badge: number, grant: boolean, receiver: ImplTcb,
): void {
  const receiveBuffer = lookupIPCBuffer(true, receiver)
  if (sender.tcbFault === null) {
    const sendBuffer = lookupIPCBuffer(false, sender)
    doNormalTransfer(k, sender, sendBuffer, ep, badge, grant, receiver, receiveBuffer)
  } else {
    doFaultTransfer(badge, sender, receiver, receiveBuffer)
  }
}

/**
 * A normal message: the extra caps are looked up again in the sender's CSpace (only with Grant; a
 * failed lookup sends none), the MRs copied, the caps transferred; the receiver's message info
 * keeps the sender's label with the transferred length and cap counts; badge register := badge.
 * @refines spec/kernel/ipcTransfer#doIPCTransfer
 */
export function doNormalTransfer(
  k: ImplState, sender: ImplTcb, sendBuffer: boolean, ep: ImplEndpoint | null, badge: number, canGrant: boolean,
  receiver: ImplTcb, receiveBuffer: boolean,
): void {
  const tag = sender.msgInfo
  if (canGrant) {
    const status = lookupExtraCaps(k, sender, sendBuffer, tag)
    if (status !== EXCEPTION_NONE) k.currentExtraCaps[0] = null
  } else {
    k.currentExtraCaps[0] = null
  }
  const msgTransferred = copyMRs(sender, sendBuffer, receiver, receiveBuffer, miLength(tag))
  const capsInfo = transferCaps(k, tag, ep, receiver, receiveBuffer)
  receiver.msgInfo = miNew(miLabel(tag), miCapsUnwrapped(capsInfo), miExtraCaps(capsInfo), msgTransferred)
  receiver.badge = badge >>> 0
}

/**
 * A fault message: the sender's fault as MRs, label = the fault's number; badge register := badge.
 * @refines spec/kernel/ipcTransfer#doIPCTransfer
 */
export function doFaultTransfer(badge: number, sender: ImplTcb, receiver: ImplTcb, receiveBuffer: boolean): void {
  const sent = setMRs_fault(sender, receiver, receiveBuffer)
  const f = sender.tcbFault!
  receiver.msgInfo = miNew(faultLabel[f.tag], 0, 0, sent)
  receiver.badge = badge >>> 0
}

/**
 * Copy `n` message words: MR0..MR3 always, the rest only when both threads have IPC buffers.
 * Returns how many were copied.
 * @refines spec/kernel/ipcTransfer#doIPCTransfer
 */
export function copyMRs(sender: ImplTcb, sendBuf: boolean, receiver: ImplTcb, recvBuf: boolean, n: number): number {
  let i = 0
  // msgRegisters[i] is r(2+i): MR i lives in mrs[i] on both sides.
  for (; i < n && i < nMsgRegisters; i++) receiver.mrs[i] = sender.mrs[i]!
  if (!recvBuf || !sendBuf) return i
  for (; i < n; i++) receiver.mrs[i] = sender.mrs[i]!
  return i
}

/**
 * Transfer the looked-up extra caps (`k.currentExtraCaps`) into the receiver, which names one
 * empty receive slot. A cap to the endpoint the message travels on is unwrapped: its badge goes to
 * the receiver's buffer and bit i of capsUnwrapped is set. Any other cap is derived and inserted as
 * an MDB child of its source into the receive slot (at most one). The first cap that cannot be
 * transferred stops the transfer silently. Returns a message-info word with extraCaps = caps done
 * and capsUnwrapped (other fields 0).
 * @refines spec/kernel/ipcTransfer#doIPCTransfer
 */
export function transferCaps(
  k: ImplState, _info: number, ep: ImplEndpoint | null, receiver: ImplTcb, receiveBuffer: boolean,
): number {
  let capsUnwrapped = 0
  const refs = k.currentExtraCaps
  if (refs[0] === null || refs[0] === undefined || !receiveBuffer) return 0
  let destSlot = getReceiveSlots(k, receiver, receiveBuffer)
  let i = 0
  for (; i < refs.length; i++) {
    const slot = refs[i]
    if (slot === null || slot === undefined) break
    const cap = slot.cap
    if (cap.tag === "EndpointCap" && ep !== null && cap.ptr === ep.base) {
      // A cap to this very endpoint: only its badge travels.
      setExtraBadge(receiver, cap.badge, i)
      capsUnwrapped |= 1 << i
    } else {
      if (destSlot === null) break
      const derived = deriveCap(k, slot, cap)
      if (derived === null) break
      if (derived.tag === "NullCap") break
      cteInsert(k, derived, slot, destSlot)
      destSlot = null
    }
  }
  return miNew(0, capsUnwrapped, i, 0)
}

/**
 * The receiver's one receive slot, from its IPC buffer's receiveCNode/Index/Depth: null without a
 * buffer, when a lookup fails, or when the slot is occupied.
 * @refines spec/kernel/ipcTransfer#doIPCTransfer
 */
export function getReceiveSlots(k: ImplState, thread: ImplTcb, buffer: boolean): Cte | null {
  if (!buffer) return null
  if (lookupSlot(k, thread, thread.receiveCNode) !== EXCEPTION_NONE) return null
  const cnode = k.lookupSlotResult!.cap
  if (lookupTargetSlot(k, cnode, thread.receiveIndex, thread.receiveDepth) !== EXCEPTION_NONE) return null
  const slot = k.lookupSlotResult!
  if (slot.cap.tag !== "NullCap") return null
  return slot
}

/**
 * Write an unwrapped cap's badge into the receiver's IPC buffer (`caps_or_badges[i]`, the model's
 * `extraCaps[i]`).
 * @refines spec/kernel/ipcTransfer#doIPCTransfer
 */
export function setExtraBadge(receiver: ImplTcb, badge: number, i: number): void {
  receiver.extraCaps[i] = badge >>> 0
}

// ---- reply caps ---------------------------------------------------------------------------------

/**
 * The sender of a Call waits for the reply: it becomes BlockedOnReply and the receiver's caller
 * slot gets a reply cap to it, an MDB child of the sender's master reply cap.
 * @refines spec/kernel/ipcTransfer#setupCallerCap
 */
export function setupCallerCap(k: ImplState, sender: ImplTcb, receiver: ImplTcb, canGrant: boolean): void {
  setThreadState(k, sender, ThreadStateBlockedOnReply)
  const replySlot = tcbSlot(sender, tcbReply)
  const masterCap = replySlot.cap
  // Haskell error: "Sender must have a valid master reply cap"
  if (masterCap.tag !== "ReplyCap" || !masterCap.isMaster || !masterCap.canGrant || masterCap.tcb !== sender.base) {
    throw new KernelBug("Sender must have a valid master reply cap")
  }
  const callerSlot = tcbSlot(receiver, tcbCaller)
  // Haskell error: "Caller cap must not already exist"
  if (callerSlot.cap.tag !== "NullCap") throw new KernelBug("Caller cap must not already exist")
  cteInsert(k, canGrant ? sender.replyCapGrant : sender.replyCapNoGrant, replySlot, callerSlot)
}

/**
 * Drop the reply cap in the receiver's caller slot, if any (before a new receive).
 * @refines spec/kernel/ipcTransfer#deleteCallerCap
 */
export function deleteCallerCap(k: ImplState, receiver: ImplTcb): void {
  cteDeleteOne(k, tcbSlot(receiver, tcbCaller))
}

/**
 * Answer the Call of `receiver` (BlockedOnReply) through the reply cap in `slot`. Without a
 * fault: transfer the reply (no badge), delete the reply cap, the caller runs. With a fault: delete
 * the reply cap, apply the reply as `handleFaultReply` says, clear the fault, and restart the
 * caller or leave it Inactive.
 * @refines spec/kernel/ipcTransfer#doReplyTransfer
 */
export function doReplyTransfer(k: ImplState, sender: ImplTcb, receiver: ImplTcb, slot: Cte, grant: boolean): void {
  if (receiver.tcbState.tag !== "BlockedOnReply") throw new KernelBug("doReplyTransfer: receiver must be BlockedOnReply")
  if (receiver.tcbFault === null) {
    doIPCTransfer(k, sender, null, 0, grant, receiver)
    cteDeleteOne(k, slot)
    setThreadState(k, receiver, ThreadStateRunning)
    possibleSwitchTo(k, receiver)
  } else {
    cteDeleteOne(k, slot)
    const restart = handleFaultReply(receiver, sender)
    receiver.tcbFault = null
    if (restart) {
      setThreadState(k, receiver, ThreadStateRestart)
      possibleSwitchTo(k, receiver)
    } else {
      setThreadState(k, receiver, ThreadStateInactive)
    }
  }
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
 * @refines spec/object/tcb#cancelIPC
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
 * @refines spec/object/tcb#replyFromKernelError
 */
export function replyFromKernel_error(k: ImplState, thread: ImplTcb): void {
  const hasBuffer = lookupIPCBuffer(true, thread)
  thread.badge = 0
  const len = setMRs_syscall_error(k, thread, hasBuffer)
  thread.msgInfo = miNew(errorCode[k.currentSyscallError.tag], 0, 0, len)
}

/**
 * Reply to a successful Call with an empty message: badge 0, message info 0.
 * @refines spec/object/tcb#replyFromKernelSuccessEmpty
 */
export function replyFromKernel_success_empty(thread: ImplTcb): void {
  thread.badge = 0
  thread.msgInfo = 0
}

/**
 * Write the current syscall error's message registers; returns the message length.
 * @refines spec/object/tcb#replyFromKernelError
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
