/**
 * Moving a message from one thread to another (the IPC half of seL4 src/kernel/thread.c and
 * src/object/tcb.c, non-MCS): lookupExtraCaps, setMR, copyMRs, getReceiveSlots (cnode.c),
 * setExtraBadge, transferCaps, doNormalTransfer, doFaultTransfer, doIPCTransfer; the reply-cap
 * helpers setupCallerCap and deleteCallerCap; doReplyTransfer. The endpoint queues are in
 * object/endpoint.ts; the words of a fault message and how a fault reply is applied are in
 * api/faults.ts.
 *
 * Nothing here allocates: reply caps come from the TCB's preallocated records and message-info
 * words are read field by field.
 * @category ipc
 */
import { bufferCapsWord, bufferReceiveWord, faultLabel, msgMaxExtraCaps, nMsgRegisters, tcbCaller, tcbReply } from "../../model/index.ts"
import { handleFaultReply, setMRs_fault } from "../api/faults.ts"
import { lookupSlot, lookupTargetSlot } from "./cspace.ts"
import { possibleSwitchTo, setThreadState } from "./thread.ts"
import { lookupIPCBuffer } from "./vspace.ts"
import { miCapsUnwrapped, miExtraCaps, miLabel, miLength, miNew } from "../machine/registerset.ts"
import type { Cte, Exception, ImplEndpoint, ImplState, ImplTcb } from "../state.ts"
import {
  EXCEPTION_NONE, KernelBug, ThreadStateBlockedOnReply, ThreadStateInactive, ThreadStateRestart, ThreadStateRunning, tcbSlot,
} from "../state.ts"
import { cteDeleteOne, cteInsert } from "../object/cnode.ts"
import { deriveCap } from "../object/objecttype.ts"

/**
 * Look up the extra caps named in the sender's IPC buffer (`caps_or_badges`) into
 * `currentExtraCaps`. Without a buffer there are none. A failed lookup sets `currentFault` to a
 * CapFault on that cptr.
 * @refines spec/kernel/ipcTransfer#lookupExtraCaps
 */
export function lookupExtraCaps(k: ImplState, thread: ImplTcb, bufferPtr: Uint32Array | null, info: number): Exception {
  const refs = k.currentExtraCaps
  if (bufferPtr === null) {
    refs[0] = null
    return EXCEPTION_NONE
  }
  // The extraCaps field of the message info (read without building a record: IPC path).
  const length = (info >>> 7) & 3
  let i = 0
  for (; i < length; i++) {
    const cptr = bufferPtr[bufferCapsWord + i]!
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
 * Write message register `offset`: MR0-MR3 into the receiver's registers, later ones into its
 * receive buffer (word offset + 1) only when it exists. Returns the message length so far:
 * `offset + 1`, or `n_msgRegisters` when the word was dropped.
 * @refines spec/kernel/ipcTransfer#setMRsFrom
 */
export function setMR(receiver: ImplTcb, receiveIPCBuffer: Uint32Array | null, offset: number, reg: number): number {
  if (offset >= nMsgRegisters) {
    if (receiveIPCBuffer !== null) {
      receiveIPCBuffer[offset + 1] = reg
      return offset + 1
    }
    return nMsgRegisters
  }
  receiver.mrs[offset] = reg >>> 0
  return offset + 1
}

/**
 * Copy `n` message words: MR0..MR3 register to register always, the rest buffer to buffer only
 * when both threads have IPC buffers. Returns how many were copied.
 * @refines spec/kernel/ipcTransfer#copyMRs
 */
export function copyMRs(sender: ImplTcb, sendBuf: Uint32Array | null, receiver: ImplTcb, recvBuf: Uint32Array | null, n: number): number {
  let i = 0
  // msgRegisters[i] is r(2+i): MR i lives in mrs[i] on both sides.
  for (; i < n && i < nMsgRegisters; i++) receiver.mrs[i] = sender.mrs[i]!
  if (recvBuf === null || sendBuf === null) return i
  for (; i < n; i++) recvBuf[i + 1] = sendBuf[i + 1]!
  return i
}

/**
 * The receiver's one receive slot, from its IPC buffer's receiveCNode/Index/Depth: null without a
 * buffer, when a lookup fails, or when the slot is occupied.
 * @refines spec/kernel/ipcTransfer#getReceiveSlot
 */
export function getReceiveSlots(k: ImplState, thread: ImplTcb, buffer: Uint32Array | null): Cte | null {
  if (buffer === null) return null
  if (lookupSlot(k, thread, buffer[bufferReceiveWord]!) !== EXCEPTION_NONE) return null
  const cnode = k.lookupSlotResult!.cap
  if (lookupTargetSlot(k, cnode, buffer[bufferReceiveWord + 1]!, buffer[bufferReceiveWord + 2]!) !== EXCEPTION_NONE) return null
  const slot = k.lookupSlotResult!
  if (slot.cap.tag !== "NullCap") return null
  return slot
}

/**
 * Write an unwrapped cap's badge into the receiver's IPC buffer (`caps_or_badges[i]`).
 * @refines spec/kernel/ipcTransfer#transferCaps
 */
export function setExtraBadge(bufferPtr: Uint32Array, badge: number, i: number): void {
  bufferPtr[bufferCapsWord + i] = badge
}

/**
 * Transfer the looked-up extra caps (`k.currentExtraCaps`) into the receiver, which names one
 * empty receive slot. A cap to the endpoint the message travels on is unwrapped: its badge goes to
 * the receiver's buffer and bit i of capsUnwrapped is set. Any other cap is derived and inserted as
 * an MDB child of its source into the receive slot (at most one). The first cap that cannot be
 * transferred stops the transfer silently. Returns a message-info word with extraCaps = caps done
 * and capsUnwrapped (other fields 0).
 * @refines spec/kernel/ipcTransfer#transferCaps
 */
export function transferCaps(
  k: ImplState, _info: number, ep: ImplEndpoint | null, receiver: ImplTcb, receiveBuffer: Uint32Array | null,
): number {
  let capsUnwrapped = 0
  const refs = k.currentExtraCaps
  if (refs[0] === null || refs[0] === undefined || receiveBuffer === null) return 0
  let destSlot = getReceiveSlots(k, receiver, receiveBuffer)
  let i = 0
  for (; i < refs.length; i++) {
    const slot = refs[i]
    if (slot === null || slot === undefined) break
    const cap = slot.cap
    if (cap.tag === "EndpointCap" && ep !== null && cap.ptr === ep.base) {
      // A cap to this very endpoint: only its badge travels.
      setExtraBadge(receiveBuffer, cap.badge, i)
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
 * A normal message: the extra caps are looked up again in the sender's CSpace (only with Grant; a
 * failed lookup sends none), the MRs copied, the caps transferred; the receiver's message info
 * keeps the sender's label with the transferred length and cap counts; badge register := badge.
 * @refines spec/kernel/ipcTransfer#doNormalTransfer
 */
export function doNormalTransfer(
  k: ImplState, sender: ImplTcb, sendBuffer: Uint32Array | null, ep: ImplEndpoint | null, badge: number, canGrant: boolean,
  receiver: ImplTcb, receiveBuffer: Uint32Array | null,
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
 * @refines spec/kernel/ipcTransfer#doFaultTransfer
 */
export function doFaultTransfer(badge: number, sender: ImplTcb, receiver: ImplTcb, receiveBuffer: Uint32Array | null): void {
  const sent = setMRs_fault(sender, receiver, receiveBuffer)
  const f = sender.tcbFault!
  receiver.msgInfo = miNew(faultLabel[f.tag], 0, 0, sent)
  receiver.badge = badge >>> 0
}

/**
 * Transfer from `sender` to `receiver`: the sender's fault message if it has a fault, else its
 * normal message (MRs, caps when `grant`). `ep` is null for replies.
 * @refines spec/kernel/ipcTransfer#doIPCTransfer
 */
export function doIPCTransfer(
  k: ImplState, sender: ImplTcb, ep: ImplEndpoint | null, badge: number, grant: boolean, receiver: ImplTcb,
): void {
  const receiveBuffer = lookupIPCBuffer(k, true, receiver)
  if (sender.tcbFault === null) {
    const sendBuffer = lookupIPCBuffer(k, false, sender)
    doNormalTransfer(k, sender, sendBuffer, ep, badge, grant, receiver, receiveBuffer)
  } else {
    doFaultTransfer(badge, sender, receiver, receiveBuffer)
  }
}

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
    const restart = handleFaultReply(k, receiver, sender)
    receiver.tcbFault = null
    if (restart) {
      setThreadState(k, receiver, ThreadStateRestart)
      possibleSwitchTo(k, receiver)
    } else {
      setThreadState(k, receiver, ThreadStateInactive)
    }
  }
}
