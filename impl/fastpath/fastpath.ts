/**
 * The IPC fastpath (seL4 src/fastpath/fastpath.c, include/fastpath/fastpath.h and the aarch32
 * mode header, non-MCS, one core, no exception fastpath): fastpath_call and fastpath_reply_recv.
 *
 * Each checks seL4's preconditions first, changing nothing; if any fails it returns false and the
 * caller takes the slow path (`handleSyscall`). Past the checks it performs the whole kernel entry
 * itself (no schedule/activate) and must leave exactly the state the slow path would. Nothing here
 * allocates: the reply cap and the blocked state come from the TCBs' preallocated records.
 * @category scheduling
 */
import type { Cap } from "../../model/index.ts"
import {
  NullCap, RightG, RightGR, RightR, RightW, tcbCTable, tcbCaller, tcbReply, tcbVTable, wordBits,
} from "../../model/index.ts"
import { miLabel, miNew } from "../machine/registerset.ts"
import { isHighestPrio } from "../kernel/thread.ts"
import type { Cte, ImplState } from "../state.ts"
import {
  ImplCNode, ImplEndpoint, ImplTcb, KernelBug, ThreadStateBlockedOnReply, ThreadStateRunning, slotObject, tcbSlot,
} from "../state.ts"

/**
 * C `fastpath_mi_check`: non-zero unless the message has at most n_msgRegisters (4) words and no
 * extra caps (the low 9 bits, plus 3, must fit in 3 bits).
 */
export const fastpath_mi_check = (msgInfo: number): boolean => (((msgInfo & 0x1ff) + 3) & ~7) !== 0

/**
 * C `lookup_fp`: the slot at `cptr` in the CSpace whose root cap is in `root`, or null when the slow
 * lookup could fail (guard mismatch, overshooting the 32 bits) or finds a slot never made (a null
 * cap). Returns the slot rather than its cap, so that callers reach the cap's object through the
 * slot's kept pointer (`slotObject`), as C reads it out of the cap.
 */
export function lookup_fp(k: ImplState, root: Cte, cptr: number): Cte | null {
  const rootCap = root.cap
  if (rootCap.tag !== "CNodeCap") return null
  let nodeSlot = root
  let node: Extract<Cap, { tag: "CNodeCap" }> = rootCap
  let bits = 0
  let found: Cte | undefined
  for (;;) {
    const guardBits = node.guardSize
    const radixBits = node.radix
    // A CNode resolves 1..32 bits with a non-empty radix (else leave it to the slow path).
    if (radixBits === 0 || guardBits + radixBits > wordBits) return null
    const cptr2 = (cptr << bits) >>> 0
    // Guard check (skipped for an empty guard); a guard deeper than the bits left is caught below.
    if (guardBits !== 0 && cptr2 >>> (wordBits - guardBits) !== node.guard) return null
    const radix = ((cptr2 << guardBits) >>> 0) >>> (wordBits - radixBits)
    const cn = slotObject(k, nodeSlot, node.ptr)
    if (!(cn instanceof ImplCNode)) return null
    found = cn.slots[radix]
    if (found === undefined) return null
    bits += guardBits + radixBits
    const cap = found.cap
    if (bits >= wordBits || cap.tag !== "CNodeCap") break
    nodeSlot = found
    node = cap
  }
  // Overshooting the 32 bits: the slow path would report a depth mismatch.
  if (bits > wordBits) return null
  return found
}

/** The endpoint the cap in `slot` names (its pointer `p`). */
function endpointAt(k: ImplState, slot: Cte, p: number): ImplEndpoint {
  const o = slotObject(k, slot, p)
  if (!(o instanceof ImplEndpoint)) throw new KernelBug(`fastpath: no endpoint at 0x${p.toString(16)}`)
  return o
}

/** C `isValidVTableRoot_fp`: a page-directory cap with an ASID. */
const isValidVTableRoot_fp = (cap: Cap): boolean => cap.tag === "PageDirectoryCap" && cap.asid !== null

/** C `fastpath_copy_mrs`: MR0..MR(length-1), all in registers (length <= 4, as `fastpath_mi_check` passed). */
function fastpath_copy_mrs(length: number, src: ImplTcb, dest: ImplTcb): void {
  const from = src.mrs
  const to = dest.mrs
  for (let i = 0; i < length; i++) to[i] = from[i]!
}

/**
 * Call on an endpoint with a receiver waiting, when: the message has at most 4 words and no extra
 * caps; the caller has no pending fault; the cap is an endpoint cap with Write (and Grant or
 * GrantReply); the endpoint is in the Recv state; the receiver's VTable root is valid; the receiver
 * would be switched to directly (not lower priority than the caller unless it is the highest ready
 * priority); the receiver is in the current domain. Then: dequeue the receiver, block the caller
 * on the reply with a reply cap in the receiver's caller slot, copy the message and switch to the
 * receiver. Returns false (nothing changed) when a precondition fails.
 * @refines spec/api/syscall#handleSyscall
 */
export function fastpath_call(k: ImplState, cptr: number, msgInfo: number): boolean {
  const cur = k.curThread
  const length = msgInfo & 0x7f
  // No extra caps, a short message, no saved fault.
  if (fastpath_mi_check(msgInfo) || cur.tcbFault !== null) return false
  const epSlot = lookup_fp(k, tcbSlot(cur, tcbCTable), cptr)
  if (epSlot === null) return false
  const epCap = epSlot.cap
  // An endpoint we may send to.
  if (epCap.tag !== "EndpointCap" || (epCap.rights & RightW) === 0) return false
  const ep = endpointAt(k, epSlot, epCap.ptr)
  // A receiver waiting.
  if (ep.epState !== "Recv") return false
  const dest = ep.epQueueHead
  // Haskell error: "Receive endpoint queue must not be empty"
  if (dest === null) throw new KernelBug("Receive endpoint queue must not be empty")
  // The receiver's address space.
  if (!isValidVTableRoot_fp(tcbSlot(dest, tcbVTable).cap)) return false
  const dom = k.numDomains > 1 ? k.curDomain : 0
  // Only the idle thread or lower priorities ready: the receiver runs next.
  if (dest.tcbPriority < cur.tcbPriority && !isHighestPrio(k, dom, dest.tcbPriority)) return false
  // A reply cap can be made.
  if ((epCap.rights & (RightG | RightGR)) === 0) return false
  // The receiver can be scheduled directly.
  if (dest.tcbDomain !== k.curDomain && k.numDomains > 1) return false
  // What seL4 assumes here (valid_reply_masters, caller slot empty while receiving).
  const replySlot = tcbSlot(cur, tcbReply)
  const callerSlot = tcbSlot(dest, tcbCaller)
  const destState = dest.tcbState
  if (destState.tag !== "BlockedOnReceive") throw new KernelBug("fastpath_call: receiver must be BlockedOnReceive")
  if (replySlot.cap.tag !== "ReplyCap" || replySlot.next !== null) throw new KernelBug("Sender must have a valid master reply cap")
  if (callerSlot.cap.tag !== "NullCap") throw new KernelBug("Caller cap must not already exist")

  // --- point of no return ---

  // Dequeue the receiver.
  const next = dest.tcbEPNext
  ep.epQueueHead = next
  if (next !== null) {
    next.tcbEPPrev = null
  } else {
    ep.epQueueTail = null
    ep.epState = "Idle"
  }
  dest.tcbEPNext = null
  dest.tcbEPPrev = null
  const badge = epCap.badge
  // The caller waits for the reply; the receiver gets the reply cap, a child of its master.
  cur.tcbState = ThreadStateBlockedOnReply
  callerSlot.cap = destState.canGrant ? cur.replyCapGrant : cur.replyCapNoGrant
  callerSlot.prev = replySlot
  replySlot.next = callerSlot
  replySlot.revocable = true
  replySlot.firstBadged = true
  fastpath_copy_mrs(length, cur, dest)
  // The receiver runs (not queued).
  dest.tcbState = ThreadStateRunning
  k.curThread = dest
  dest.badge = badge
  // The sender's message info with capsUnwrapped cleared (extraCaps is 0 here).
  dest.msgInfo = miNew(miLabel(msgInfo), 0, 0, length)
  return true
}

/**
 * ReplyRecv answering a plain (fault-free) Call, when: the message has at most 4 words and no
 * extra caps; the replier has no pending fault; the receive cap is an endpoint cap with Read; no
 * signal is pending on the replier's bound notification; no sender waits on the endpoint; the
 * caller slot holds a (non-master) reply cap; the caller has no fault, a valid VTable root, is of
 * the highest ready priority and in the current domain. Then: the replier blocks receiving, the
 * reply cap is deleted, the message is copied (badge 0) and the caller runs.
 * @refines spec/api/syscall#handleSyscall
 */
export function fastpath_reply_recv(k: ImplState, cptr: number, msgInfo: number): boolean {
  const cur = k.curThread
  const length = msgInfo & 0x7f
  if (fastpath_mi_check(msgInfo) || cur.tcbFault !== null) return false
  const epSlot = lookup_fp(k, tcbSlot(cur, tcbCTable), cptr)
  if (epSlot === null) return false
  const epCap = epSlot.cap
  // An endpoint we may receive on.
  if (epCap.tag !== "EndpointCap" || (epCap.rights & RightR) === 0) return false
  // Nothing pending on the bound notification.
  const ntfn = cur.tcbBoundNotification
  if (ntfn !== null && ntfn.ntfnState === "Active") return false
  const ep = endpointAt(k, epSlot, epCap.ptr)
  // No sender waiting.
  if (ep.epState === "Send") return false
  // A reply cap to answer with.
  const callerSlot = tcbSlot(cur, tcbCaller)
  const callerCap = callerSlot.cap
  if (callerCap.tag !== "ReplyCap" || callerCap.isMaster) return false
  const caller = slotObject(k, callerSlot, callerCap.tcb)
  if (!(caller instanceof ImplTcb)) throw new KernelBug(`fastpath_reply_recv: no TCB at 0x${callerCap.tcb.toString(16)}`)
  // The caller is not waiting on a fault reply.
  if (caller.tcbFault !== null) return false
  if (!isValidVTableRoot_fp(tcbSlot(caller, tcbVTable).cap)) return false
  const dom = k.numDomains > 1 ? k.curDomain : 0
  // The caller runs next.
  if (!isHighestPrio(k, dom, caller.tcbPriority)) return false
  if (caller.tcbDomain !== k.curDomain && k.numDomains > 1) return false
  // What seL4 assumes here: the reply cap directly follows the caller's master and ends the list.
  const replyPrev = callerSlot.prev
  if (replyPrev === null || callerSlot.next !== null) throw new KernelBug("fastpath_reply_recv: reply cap must follow its master")

  // --- point of no return ---

  // The replier blocks receiving on the endpoint.
  const ts = cur.tsBlockedOnReceive
  ts.ep = ep.base
  ts.canGrant = (epCap.rights & RightG) !== 0
  cur.tcbState = ts
  const tail = ep.epQueueTail
  if (tail === null) {
    cur.tcbEPPrev = null
    cur.tcbEPNext = null
    ep.epQueueHead = cur
    ep.epQueueTail = cur
    ep.epState = "Recv"
  } else {
    tail.tcbEPNext = cur
    cur.tcbEPPrev = tail
    cur.tcbEPNext = null
    ep.epQueueTail = cur
    ep.epState = "Recv"
  }
  // Delete the reply cap (the last of its MDB list, after the caller's master reply cap).
  replyPrev.next = null
  replyPrev.revocable = true
  replyPrev.firstBadged = true
  callerSlot.cap = NullCap
  callerSlot.prev = null
  callerSlot.next = null
  callerSlot.revocable = false
  callerSlot.firstBadged = false
  // Replies carry no badge.
  fastpath_copy_mrs(length, cur, caller)
  caller.tcbState = ThreadStateRunning
  k.curThread = caller
  caller.badge = 0
  caller.msgInfo = miNew(miLabel(msgInfo), 0, 0, length)
  return true
}
