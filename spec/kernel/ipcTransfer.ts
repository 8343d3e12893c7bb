/**
 * Moving a message from one thread to another: message registers, extra caps with the Grant
 * right, badges, fault messages, the caller's reply cap and the reply that ends a Call (seL4
 * src/kernel/thread.c `doIPCTransfer`, `doNormalTransfer`, `doFaultTransfer`, `doReplyTransfer`,
 * `transferCaps`; src/object/tcb.c `lookupExtraCaps`, `setMR`, `copyMRs`, `setupCallerCap`,
 * `deleteCallerCap`; l4v A/Ipc_A). The endpoint queues are in object/endpoint.ts; the words of
 * a fault message and how a fault reply is applied are in api/faults.ts.
 * @category ipc
 */
import type { Fault, MessageInfo, PPtr, SlotPtr } from "../../model/index.ts"
import {
  bufferCapsWord, bufferMsgWord, bufferReceiveWord, faultLabel, messageInfoFromWord, msgMaxExtraCaps, nMsgRegisters, tcbCaller, tcbReply,
  wordFromMessageInfo,
} from "../../model/index.ts"
import type { Result } from "../result.ts"
import { err, ok } from "../result.ts"
import type { KernelState } from "../state.ts"
import { contextWith, getCap, getTcb, slotOf, tcbWith, updateTcb, writeWords } from "../state.ts"
import { lookupCap, lookupSlot, lookupTargetSlot } from "./cspace.ts"
import { possibleSwitchTo, setThreadState } from "./thread.ts"
import { faultMessageWords, handleFaultReply } from "../api/faults.ts"
import { cteDeleteOne, cteInsert, hasChildren } from "../object/cnode.ts"
import { deriveCap } from "../object/objecttype.ts"
import { lookupIPCBuffer } from "./vspace.ts"
import type { MemPtr } from "../machine/memory.ts"
import { loadWordOffs, storeWordOffs } from "../machine/memory.ts"

/**
 * The slots of the extra caps a message names (the buffer's `caps_or_badges` words), looked up in
 * the sender's CSpace, or none when the sender has no IPC buffer. The first pointer that does not
 * resolve is a cap fault on it. Mirrors seL4 `lookupExtraCaps`.
 */
export const lookupExtraCaps = (s: KernelState, t: PPtr, buf: MemPtr | null, count: number): Result<readonly SlotPtr[], Fault> => {
  if (buf === null) return ok([])
  const slots: SlotPtr[] = []
  for (let i = 0; i < Math.min(count, msgMaxExtraCaps); i++) {
    const cptr = loadWordOffs(s, buf, bufferCapsWord + i)
    const lu = lookupSlot(s, t, cptr)
    if (!lu.ok) return err({ tag: "CapFault", address: cptr, inReceivePhase: false, failure: lu.error })
    slots.push(lu.value)
  }
  return ok(slots)
}

/**
 * Write `words` as thread `t`'s message registers from MR`from` on: MR0-MR3 into its registers
 * always, later ones into its IPC buffer `buf` only. Returns the state and what seL4's last
 * `setMR` returns: the next index, or 4 when a word had no buffer to go to.
 */
export const setMRsFrom = (s: KernelState, t: PPtr, buf: MemPtr | null, from: number, words: readonly number[]): [KernelState, number] => {
  const inRegs = Math.max(0, Math.min(words.length, nMsgRegisters - from))
  const s1 = inRegs === 0 ? s : updateTcb(s, t, (tcb) => {
    const mrs = writeWords(tcb.tcbContext.mrs, from, words, inRegs, (w) => w >>> 0)
    return mrs === tcb.tcbContext.mrs ? tcb : tcbWith(tcb, { tcbContext: contextWith(tcb.tcbContext, { mrs }) })
  })
  if (inRegs === words.length) return [s1, from + words.length]
  // Words past MR3 need a buffer; without one they are dropped and seL4 reports 4.
  if (buf === null) return [s1, nMsgRegisters]
  const start = from + inRegs
  return [storeWordOffs(s1, buf, bufferMsgWord(start), words.slice(inRegs)), from + words.length]
}

/**
 * Write message words MR0.. for thread `t`: the first four always (CPU registers), the rest only
 * into its IPC buffer. Returns the state and the message length seL4 reports (the count written,
 * or 4 when the buffer was missing). Mirrors seL4 `setMR` applied in sequence.
 */
export const setMRs = (s: KernelState, t: PPtr, buf: MemPtr | null, words: readonly number[]): { s: KernelState; len: number } => {
  const [s1, len] = setMRsFrom(s, t, buf, 0, words)
  return { s: s1, len }
}

/**
 * Message word `i` of thread `t`: MR0-MR3 from its registers, the rest from its IPC buffer (0
 * without one). Mirrors the reads of seL4 `copyMRs` and `getSyscallArg`.
 */
export const getMR = (s: KernelState, t: PPtr, buf: MemPtr | null, i: number): number =>
  i < nMsgRegisters ? getTcb(s, t).tcbContext.mrs[i]! : buf === null ? 0 : loadWordOffs(s, buf, bufferMsgWord(i))

/**
 * Copy `n` message words from sender to receiver: the four register words always, the rest only
 * when both have an IPC buffer (buffer to buffer). Returns the number copied. Mirrors seL4 `copyMRs`.
 */
const copyMRs = (s: KernelState, sender: PPtr, sendBuf: MemPtr | null, receiver: PPtr, recvBuf: MemPtr | null, n: number): [KernelState, number] => {
  const count = sendBuf !== null && recvBuf !== null ? n : Math.min(n, nMsgRegisters)
  const words: number[] = []
  for (let i = 0; i < count; i++) words.push(getMR(s, sender, sendBuf, i))
  return [setMRsFrom(s, receiver, recvBuf, 0, words)[0], count]
}

/**
 * The empty slot the receiver named in its IPC buffer (receiveCNode, receiveIndex, receiveDepth)
 * for an incoming cap, if the names resolve to one. Mirrors seL4 `getReceiveSlots`.
 */
const getReceiveSlot = (s: KernelState, receiver: PPtr, buf: MemPtr): SlotPtr | null => {
  const root = lookupCap(s, receiver, loadWordOffs(s, buf, bufferReceiveWord))
  if (!root.ok) return null
  const slot = lookupTargetSlot(s, root.value, loadWordOffs(s, buf, bufferReceiveWord + 1), loadWordOffs(s, buf, bufferReceiveWord + 2))
  if (!slot.ok) return null
  return getCap(s, slot.value).tag === "NullCap" ? slot.value : null
}

/**
 * Transfer the extra caps in order: a cap to the endpoint the message came through is unwrapped
 * (its badge goes into the receiver's buffer and the unwrapped bit is set); any other is derived
 * and inserted into the receiver's one receive slot. The first cap that cannot be transferred
 * ends the transfer silently; extraCaps reports how many were handled. Mirrors seL4 `transferCaps`.
 */
const transferCaps = (
  s: KernelState, info: MessageInfo, caps: readonly SlotPtr[], ep: PPtr | null, receiver: PPtr, recvBuf: MemPtr | null,
): [KernelState, MessageInfo] => {
  let mi: MessageInfo = { ...info, extraCaps: 0, capsUnwrapped: 0 }
  if (caps.length === 0 || recvBuf === null) return [s, mi]
  let dest = getReceiveSlot(s, receiver, recvBuf)
  let s1 = s
  let i = 0
  for (; i < caps.length; i++) {
    const slot = caps[i]!
    const cap = getCap(s1, slot)
    if (cap.tag === "EndpointCap" && cap.ptr === ep) {
      // setExtraBadge: the badge goes into the receiver's caps_or_badges[i].
      s1 = storeWordOffs(s1, recvBuf, bufferCapsWord + i, [cap.badge])
      mi = { ...mi, capsUnwrapped: mi.capsUnwrapped | (1 << i) }
    } else {
      if (dest === null) break
      const d = deriveCap(hasChildren(s1, slot), cap)
      if (!d.ok || d.value.tag === "NullCap") break
      s1 = cteInsert(s1, d.value, slot, dest)
      dest = null
    }
  }
  return [s1, { ...mi, extraCaps: i }]
}

/**
 * An ordinary message: the words, the caps (only with Grant; a lookup failure sends none), the
 * label, and the badge of the cap it was sent through. Mirrors seL4 `doNormalTransfer`.
 */
const doNormalTransfer = (
  s: KernelState, sender: PPtr, sendBuf: MemPtr | null, ep: PPtr | null, badge: number, canGrant: boolean, receiver: PPtr, recvBuf: MemPtr | null,
): KernelState => {
  const tag = messageInfoFromWord(getTcb(s, sender).tcbContext.msgInfo)
  let caps: readonly SlotPtr[] = []
  if (canGrant) {
    const r = lookupExtraCaps(s, sender, sendBuf, tag.extraCaps)
    caps = r.ok ? r.value : []
  }
  const [s1, n] = copyMRs(s, sender, sendBuf, receiver, recvBuf, tag.length)
  const [s2, mi] = transferCaps(s1, tag, caps, ep, receiver, recvBuf)
  return updateTcb(s2, receiver, (tcb) => tcbWith(tcb, { tcbContext: contextWith(tcb.tcbContext, { msgInfo: wordFromMessageInfo({ ...mi, length: n }), badge: badge >>> 0 }) }))
}

/**
 * A fault message on behalf of the faulting sender: its label is the fault type, its words the
 * fault's layout, its badge that of the handler cap. Mirrors seL4 `doFaultTransfer`.
 */
const doFaultTransfer = (s: KernelState, badge: number, sender: PPtr, receiver: PPtr, recvBuf: MemPtr | null, f: Fault): KernelState => {
  const words = faultMessageWords(s, sender, f)
  const [s1, sent] = setMRsFrom(s, receiver, recvBuf, 0, words)
  return updateTcb(s1, receiver, (tcb) =>
    tcbWith(tcb, { tcbContext: contextWith(tcb.tcbContext, { msgInfo: wordFromMessageInfo({ label: faultLabel[f.tag], capsUnwrapped: 0, extraCaps: 0, length: sent }), badge: badge >>> 0 }) }))
}

/**
 * Deliver the sender's message, or its fault if it has one, to the receiver.
 * Mirrors seL4 `doIPCTransfer`.
 */
export const doIPCTransfer = (s: KernelState, sender: PPtr, ep: PPtr | null, badge: number, canGrant: boolean, receiver: PPtr): KernelState => {
  const recvBuf = lookupIPCBuffer(s, true, receiver)
  const f = getTcb(s, sender).tcbFault
  if (f === null) return doNormalTransfer(s, sender, lookupIPCBuffer(s, false, sender), ep, badge, canGrant, receiver, recvBuf)
  return doFaultTransfer(s, badge, sender, receiver, recvBuf, f)
}

/**
 * The caller blocks for its reply, and the receiver gets a reply cap to it in its caller slot, a
 * CDT child of the caller's master reply cap. Mirrors seL4 `setupCallerCap` (non-MCS).
 */
export const setupCallerCap = (s: KernelState, sender: PPtr, receiver: PPtr, canGrant: boolean): KernelState => {
  const s1 = setThreadState(s, sender, { tag: "BlockedOnReply" })
  return cteInsert(s1, { tag: "ReplyCap", tcb: sender, isMaster: false, canGrant }, slotOf(sender, tcbReply), slotOf(receiver, tcbCaller))
}

/** Delete whatever reply cap the thread holds in its caller slot. Mirrors seL4 `deleteCallerCap`. */
export const deleteCallerCap = (s: KernelState, receiver: PPtr): KernelState => cteDeleteOne(s, slotOf(receiver, tcbCaller))

/**
 * Answer a caller through the reply cap in `slot`: an ordinary caller gets the message and runs;
 * a faulted one has the reply applied and restarts or stops. The reply cap is used up.
 * Mirrors seL4 `doReplyTransfer` (non-MCS).
 */
export const doReplyTransfer = (s: KernelState, sender: PPtr, receiver: PPtr, slot: SlotPtr, grant: boolean): KernelState => {
  const f = getTcb(s, receiver).tcbFault
  if (f === null) {
    const s1 = cteDeleteOne(doIPCTransfer(s, sender, null, 0, grant, receiver), slot)
    return possibleSwitchTo(setThreadState(s1, receiver, { tag: "Running" }), receiver)
  }
  const [s1, restart] = handleFaultReply(cteDeleteOne(s, slot), receiver, sender, f)
  const s2 = updateTcb(s1, receiver, (tcb) => tcbWith(tcb, { tcbFault: null }))
  return restart
    ? possibleSwitchTo(setThreadState(s2, receiver, { tag: "Restart" }), receiver)
    : setThreadState(s2, receiver, { tag: "Inactive" })
}
