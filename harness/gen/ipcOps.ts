/**
 * Resolvers for IPC: badged caps, Send/NBSend/Call on endpoints with message words and extra
 * caps, Recv/NBRecv/ReplyRecv with receive-slot words, Reply, Yield, Signal/Wait/Poll on
 * notifications, and user faults. Selection prefers rendezvous: a send to an endpoint with a
 * queued receiver, a receive from one with a queued sender, a signal that wakes a waiter.
 */
import type { Cap, Event, PPtr, SyscallEvent, SyscallKind } from "../../model/index.ts"
import {
  InvocationLabel as L, RightG, RightGR, RightR, RightW, UserFaultKinds, hasRight, tcbCaller,
} from "../../model/index.ts"
import type { KernelState } from "../../spec/index.ts"
import { getCap, slotOf } from "../../spec/index.ts"
import type { Address } from "./addressBook.ts"
import type { Ctx } from "./resolveUtil.ts"
import {
  directOf, extraCapCount, freeSlotPreferRoot, invokeSyscall, messageLengthEdges, msgLength, msgWords, pick, prefer, rare, sys, target, withMessageLength,
} from "./resolveUtil.ts"
import { epState, hasQueue, ntfnObj, tcbAt } from "./stateView.ts"

/** Rights a minted cap gets: all, or the combinations IPC distinguishes (Write+Grant, Write+GrantReply, read-only, ...). */
const mintRights = [15, 15, 1 | 4, 1 | 8, 1 | 2, 1, 2, 1 | 2 | 4, 1 | 2 | 8, 0, 1 | 2]

/**
 * Mint a badged endpoint or notification cap with chosen rights into a free slot (mostly one the
 * thread can name directly), mostly from an unbadged source.
 */
export const mintBadged = (x: Ctx): Event => {
  const [w0, w1, w2, w3, w4] = x.w as [number, number, number, number, number]
  const srcs = x.book.live.filter((a): a is Address & { readonly cap: Extract<Cap, { tag: "EndpointCap" | "NotificationCap" }> } =>
    a.cap.tag === "EndpointCap" || a.cap.tag === "NotificationCap")
  const unbadged = srcs.filter((a) => a.cap.badge === 0)
  // Half the time the source names an object with threads queued on it (a badged or weaker cap
  // to it then meets a rendezvous soon).
  const busy = unbadged.filter((a) => hasQueue(x.s, a.cap))
  const src = rare(w0, 2) && busy.length > 0 ? pick(busy, w0 >>> 1) : prefer(unbadged, srcs, w0, 7, 8)
  const dest = freeSlotPreferRoot(x, w1)
  const [dv, di, dd] = target(dest, w1)
  const [sv, si, sd] = target(src, w0)
  const rights = mintRights[w2 % mintRights.length]!
  // One time in four, a badge some cap to the same object already has: two caps minted apart
  // with one badge are siblings, not parent and child (seL4's firstBadged), which revoke and
  // CancelBadgedSends must tell apart; drawn at random, two badges of 255 rarely meet in a trace.
  const taken = rare(w3 >>> 12, 4) ? srcs.filter((a) => a.cap.ptr === src?.cap.ptr && a.cap.badge !== 0) : []
  const badge = taken.length > 0 ? pick(taken, w2 >>> 4)!.cap.badge
    : rare(w3, 12) ? (w3 * 2_654_435_761) >>> 0 : rare(w3, 11) ? 0 : 1 + (w3 >>> 4) % 255
  return sys(invokeSyscall(w4), dv, L.CNodeMint, [di, dd, si, sd, rights, badge], [sv])
}

/**
 * Extra-cap cptrs: one time in three a cap to `ep` itself (unwrapped by the receiver), one in six
 * a cap to another endpoint (transferred), else mostly a cap that can be transferred (not an
 * untyped, which has children and will not derive), sometimes any cap.
 */
const extraCaps = (x: Ctx, w: number, ep: PPtr | undefined): number[] => {
  const k = extraCapCount(w)
  const same = ep === undefined ? [] : directOf(x.book, "EndpointCap").filter((e) => e.cap.ptr === ep)
  const movable = x.book.direct.filter((d) => d.cap.tag !== "UntypedCap" && d.cap.tag !== "IRQControlCap")
  // Caps to other endpoints: transferred, never unwrapped.
  const otherEps = movable.filter((d) => d.cap.tag === "EndpointCap" && d.cap.ptr !== ep)
  return Array.from({ length: k }, (_, i) => {
    const v = x.w[(i + 8) % x.w.length]! + i
    const r = v % 6
    const d = r < 2 && same.length > 0 ? pick(same, v >>> 3)
      : r === 2 && otherEps.length > 0 ? pick(otherEps, v >>> 3)
      : prefer(movable, x.book.direct, v >>> 3)
    // One in sixteen names a cap whose lookup fails (its root-guard bit flipped): a send that
    // blocks then faults (CapFault), a Call or an NBSend too, before anything is sent.
    if (rare(v >>> 9, 16) && d !== undefined) return (d.cptr ^ 0x8000_0000) >>> 0
    return d?.cptr ?? v % 256
  })
}

/** A message label: mostly small, sometimes any 20-bit value. */
const label = (w: number): number => (rare(w, 5) ? (w >>> 3) % 0x10_0000 : (w >>> 3) % 8)

/**
 * Send, NBSend or Call on an endpoint cap that can send, two times in three one with a queued
 * receiver when there is one; a Call mostly through a cap with Grant or GrantReply (without
 * either the caller is left Inactive after the rendezvous; one Call in four goes through any cap).
 * One in four goes through a reply cap saved into the CSpace (CNode_SaveCaller), when the thread
 * holds one: a send to it answers its caller; one in twelve through an endpoint cap without Write
 * (InvalidCapability: a Call hears it, a Send does not).
 */
export const send = (x: Ctx, call: boolean): Event => {
  const [w0, w1, w2, w3, w4] = x.w as [number, number, number, number, number]
  const eps = directOf(x.book, "EndpointCap")
  const writable = eps.filter((e) => hasRight(e.cap.rights, RightW))
  const granting = writable.filter((e) => hasRight(e.cap.rights, RightG) || hasRight(e.cap.rights, RightGR))
  const usable = call && !rare(w4, 4) && granting.length > 0 ? granting : writable
  const pool = usable.length > 0 ? usable : eps
  const waiting = pool.filter((e) => epState(x.s, e.cap.ptr)?.tag === "RecvEP")
  // A send through a cap without Grant (for a Call, nor GrantReply) to a waiting receiver (no caps
  // go with it; a Call's caller stops) is rare by chance: one send in six looks for one.
  const ungranted = writable.filter((e) => epState(x.s, e.cap.ptr)?.tag === "RecvEP" && !hasRight(e.cap.rights, RightG) && !(call && hasRight(e.cap.rights, RightGR)))
  const weak = rare(w0 >>> 4, 6) && ungranted.length > 0
  const w7 = x.w[7]!
  const saved = savedReplies(x)
  const mute = eps.filter((e) => !hasRight(e.cap.rights, RightW))
  const ep = rare(w0, 16) ? pick(x.book.direct, w0 >>> 4)
    : rare(w7 >>> 2, 4) && saved.length > 0 ? pick(saved, w7 >>> 4)
    : rare(w7 >>> 6, 12) && mute.length > 0 ? pick(mute, w7 >>> 10)
    : weak ? pick(ungranted, w0 >>> 7) : prefer(waiting, pool, w0 >>> 4, 2, 3)
  // Half the Calls (and every weak one) are shaped for the IPC fastpath: at most four words, no caps.
  const fast = call && (weak || w1 % 2 === 0)
  const mrs = msgWords(x.w, fast ? (w1 >>> 1) % 5 : msgLength(w1))
  const epPtr = ep?.cap.tag === "EndpointCap" ? ep.cap.ptr : undefined
  const syscall: SyscallKind = call ? "Call" : rare(w4 >>> 4, 4) ? "NBSend" : "Send"
  // A weak Send always offers caps: they must stay behind.
  const caps = fast ? [] : extraCaps(x, w3, epPtr)
  const e = sys(syscall, ep?.cptr ?? w0 % 256, label(w2), mrs, weak && caps.length === 0 ? extraCaps(x, 7 + ((w3 >>> 4) % 9), epPtr) : caps)
  // One in four messages to a waiting receiver has a length at an edge (the buffer's first word, the
  // maximum, past it): lengths the kernel clamps or copies in two parts, on the path that copies them.
  const edge = !fast && epPtr !== undefined && epState(x.s, epPtr)?.tag === "RecvEP" && rare(w1 >>> 8, 4)
  return edge ? withMessageLength(e as SyscallEvent, x.w, messageLengthEdges[(w1 >>> 10) % messageLengthEdges.length]!) : e
}

/** Receive-slot words: mostly a free slot, sometimes an occupied one, none (the buffer keeps its words), or junk. */
const recvSlot = (x: Ctx, w: number): readonly number[] | undefined => {
  const r = w % 16
  let a: Address | undefined
  if (r < 12) a = freeSlotPreferRoot(x, w >>> 4)
  else if (r < 13) a = pick(x.book.live, w >>> 4)
  else if (r < 15) return undefined
  else return [(w >>> 4) % 300, (w * 2_654_435_761) >>> 0, (w >>> 6) % 40]
  return target(a, w >>> 4)
}

/** Reply caps the thread can name (saved with CNode_SaveCaller), not masters. */
const savedReplies = (x: Ctx) => directOf(x.book, "ReplyCap").filter((r) => !r.cap.isMaster)

/** Does the thread hold a reply cap in its caller slot? */
export const holdsReply = (s: KernelState, t: PPtr): boolean => getCap(s, slotOf(t, tcbCaller)).tag === "ReplyCap"

/**
 * A reply through a reply cap saved into the CSpace (CNode_SaveCaller): a Send on it, with a
 * message and sometimes caps (they go only if the cap can grant). `undefined` when the thread
 * holds no saved reply cap.
 */
export const replyThroughSaved = (x: Ctx): Event | undefined => {
  const saved = pick(savedReplies(x), x.w[0]!)
  if (saved === undefined) return undefined
  return sys(rare(x.w[1]!, 4) ? "Call" : "Send", saved.cptr, replyLabel(x.w[2]!), msgWords(x.w, msgLength(x.w[1]! >>> 2)), extraCaps(x, x.w[3]!, undefined))
}

/**
 * A Recv on an endpoint where a caller waits (a thread blocked in Call), through a cap that can
 * receive: the caller's reply cap comes with the message, so a Reply or a SaveCaller that follows
 * has a caller to answer or save. `undefined` when no caller waits where the thread can receive.
 */
export const receiveCaller = (x: Ctx): Event | undefined => {
  const calling = directOf(x.book, "EndpointCap").filter((e) => {
    const st = epState(x.s, e.cap.ptr)
    return hasRight(e.cap.rights, RightR) && st?.tag === "SendEP" && st.queue.some((p) => {
      const ts = tcbAt(x.s, p)?.tcbState
      return ts?.tag === "BlockedOnSend" && ts.isCall
    })
  })
  const ep = pick(calling, x.w[0]!)
  return ep === undefined ? undefined : sys("Recv", ep.cptr, 0, [], [], recvSlot(x, x.w[1]!))
}

/**
 * Recv, NBRecv or ReplyRecv on an endpoint cap that can receive, two times in three one with a
 * queued sender when there is one, one time in sixteen one that cannot (when there is one). A
 * thread holding a reply cap mostly replies first (a plain Recv would delete the reply cap,
 * leaving its caller blocked for good).
 */
export const recv = (x: Ctx, kind: "Recv" | "NBRecv" | "ReplyRecv"): Event => {
  const [w0, w1, w2, w3, w4] = x.w as [number, number, number, number, number]
  const eps = directOf(x.book, "EndpointCap")
  const readable = eps.filter((e) => hasRight(e.cap.rights, RightR))
  const pool = readable.length > 0 ? readable : eps
  const sending = pool.filter((e) => epState(x.s, e.cap.ptr)?.tag === "SendEP")
  // A receive through an endpoint cap without Read (a cap fault in the receive phase) is rare by
  // chance: one receive in sixteen looks for one.
  const unreadable = eps.filter((e) => !hasRight(e.cap.rights, RightR))
  // A caller received through a cap without Grant gets a reply cap that cannot grant (its reply's
  // caps stay behind); the caps that receive are mostly originals with every right, so one
  // receive in six looks for such a cap, one with a sender queued if it can.
  const ungranting = pool.filter((e) => hasRight(e.cap.rights, RightR) && !hasRight(e.cap.rights, RightG))
  const ep = rare(w0, 16) ? pick(x.book.direct, w0 >>> 4)
    : rare(w4 >>> 8, 16) && unreadable.length > 0 ? pick(unreadable, w4 >>> 12)
    : rare(x.w[7]! >>> 3, 6) && ungranting.length > 0 ? prefer(ungranting.filter((e) => epState(x.s, e.cap.ptr)?.tag === "SendEP"), ungranting, x.w[7]! >>> 6)
    : prefer(sending, pool, w0 >>> 4, 2, 3)
  const syscall: SyscallKind = kind === "Recv" && holdsReply(x.s, x.t) && !rare(w2, 4) ? "ReplyRecv" : kind
  // Half the ReplyRecvs are shaped for the IPC fastpath: at most four words, no caps.
  const fast = w3 % 2 === 0
  const mrs = syscall === "ReplyRecv" ? msgWords(x.w, fast ? (w3 >>> 1) % 5 : msgLength(w3)) : []
  const caps = syscall === "ReplyRecv" && !fast ? extraCaps(x, w4, undefined) : []
  return sys(syscall, ep?.cptr ?? w0 % 256, syscall === "ReplyRecv" ? replyLabel(w2 >>> 2) : 0, mrs, caps, recvSlot(x, w1))
}

/** A reply's label: mostly 0 (a fault reply with label 0 restarts the faulter). */
const replyLabel = (w: number): number => (w % 4 === 3 ? 1 + (w >>> 2) % 8 : 0)

/** Reply to the caller (if any) with a message and, sometimes, extra caps. */
export const reply = (x: Ctx): Event => {
  const [w0, w1, w2] = x.w as [number, number, number]
  const e = sys("Reply", 0, replyLabel(w0), msgWords(x.w, msgLength(w1)), extraCaps(x, w2, undefined))
  // One reply in eight has a length at an edge (see send).
  return rare(w1 >>> 8, 8) ? withMessageLength(e as SyscallEvent, x.w, messageLengthEdges[(w1 >>> 11) % messageLengthEdges.length]!) : e
}

export const yieldEvent = (): Event => sys("Yield", 0, 0, [], [])

/**
 * Signal: Send (mostly), NBSend or Call on a notification cap that can send: half the time one
 * with a waiter or a bound thread waiting, one time in six a badged cap to an active one whose
 * word it changes, else any.
 */
export const signal = (x: Ctx): Event => {
  const [w0, w1, w2] = x.w as [number, number, number]
  const ntfns = directOf(x.book, "NotificationCap")
  const writable = ntfns.filter((n) => hasRight(n.cap.rights, RightW))
  const pool = writable.length > 0 ? writable : ntfns
  const waking = pool.filter((n) => {
    const o = ntfnObj(x.s, n.cap.ptr)
    if (o === undefined) return false
    const bound = o.boundTCB === null ? undefined : tcbAt(x.s, o.boundTCB)
    return o.state.tag === "WaitingNtfn" || bound?.tcbState.tag === "BlockedOnReceive"
  })
  // A badge that adds bits to an active notification's word (the badges are OR-combined).
  const adding = pool.filter((n) => {
    const o = ntfnObj(x.s, n.cap.ptr)
    return o?.state.tag === "ActiveNtfn" && (n.cap.badge | o.state.badge) !== o.state.badge
  })
  const r = (w0 >>> 4) % 6
  // One in twelve through a cap without Write (InvalidCapability), when there is one.
  const mute = ntfns.filter((n) => !hasRight(n.cap.rights, RightW))
  const n = rare(w0, 16) ? pick(x.book.direct, w0 >>> 4)
    : rare(x.w[7]! >>> 6, 12) && mute.length > 0 ? pick(mute, x.w[7]! >>> 10)
    : r < 3 && waking.length > 0 ? pick(waking, w0 >>> 7)
    : r === 3 && adding.length > 0 ? pick(adding, w0 >>> 7)
    : pick(pool, w0 >>> 7)
  const syscall: SyscallKind = w1 % 10 < 6 ? "Send" : w1 % 10 < 9 ? "NBSend" : "Call"
  return sys(syscall, n?.cptr ?? w0 % 256, label(w2), msgWords(x.w, msgLength(w2 >>> 6) % 3), [])
}

/**
 * Wait (Recv) or Poll (NBRecv) on a notification cap that can receive and is not bound to another
 * thread, half the time an active one when there is one; one time in three one that cannot (no
 * Read, or bound to another thread: a cap fault in the receive phase), when there is one. A Wait
 * by a thread with a caller to answer is mostly a ReplyRecv.
 */
export const waitNtfn = (x: Ctx, poll: boolean): Event => {
  const [w0, w1, w2] = x.w as [number, number, number]
  const ntfns = directOf(x.book, "NotificationCap")
  const canWait = (n: (typeof ntfns)[number]): boolean => {
    const o = ntfnObj(x.s, n.cap.ptr)
    return hasRight(n.cap.rights, RightR) && (o?.boundTCB === null || o?.boundTCB === x.t)
  }
  const readable = ntfns.filter(canWait)
  const pool = readable.length > 0 ? readable : ntfns
  const active = pool.filter((n) => ntfnObj(x.s, n.cap.ptr)?.state.tag === "ActiveNtfn")
  // Without this, such a receive comes only from the rare pick of any cap: 12 in 200 traces, 2 of them without Read.
  const refused = rare(w2, 3) ? ntfns.filter((n) => !canWait(n)) : []
  const n = rare(w0, 16) ? pick(x.book.direct, w0 >>> 4) : refused.length > 0 ? pick(refused, w2 >>> 3) : prefer(active, pool, w0 >>> 4, 1, 3)
  // A thread holding a reply cap mostly answers its caller first and then waits (ReplyRecv on
  // the notification, as a server that takes both calls and signals does).
  const w3 = x.w[3]!
  if (!poll && holdsReply(x.s, x.t) && w3 % 4 !== 3) {
    return sys("ReplyRecv", n?.cptr ?? w0 % 256, replyLabel(w3 >>> 2), msgWords(x.w, msgLength(w3 >>> 5)), [], recvSlot(x, w1))
  }
  return sys(poll ? "NBRecv" : "Recv", n?.cptr ?? w0 % 256, 0, [], [], recvSlot(x, w1))
}

/**
 * A blocking IPC that joins a queue already holding a thread: a Wait on a notification with a
 * waiter, a Recv on an endpoint with a queued receiver, a Send or Call on one with a queued sender,
 * through a cap with the right it needs. `undefined` when the thread can reach no such queue.
 * Queues of two or more (the order a signal or a rendezvous takes them in) need a thread to
 * block where another already waits and a third to stay runnable; the op mix alone rarely gets
 * there for notifications (3 traces in 500 had two waiters on one, and none was signalled).
 */
export const joinQueue = (x: Ctx): Event | undefined => {
  const [w0, w1, w2] = x.w as [number, number, number]
  const ntfns = directOf(x.book, "NotificationCap").filter((n) => {
    const o = ntfnObj(x.s, n.cap.ptr)
    return hasRight(n.cap.rights, RightR) && o?.state.tag === "WaitingNtfn" && (o.boundTCB === null || o.boundTCB === x.t)
  })
  const eps = directOf(x.book, "EndpointCap").filter((e) => {
    const st = epState(x.s, e.cap.ptr)?.tag
    return (st === "RecvEP" && hasRight(e.cap.rights, RightR)) || (st === "SendEP" && hasRight(e.cap.rights, RightW))
  })
  // Notifications first: endpoint queues of two already come from the mix (50 traces in 500).
  const q = ntfns.length > 0 && (!rare(w0, 4) || eps.length === 0) ? pick(ntfns, w0 >>> 2) : pick(eps, w0 >>> 2)
  if (q === undefined) return undefined
  if (q.cap.tag === "NotificationCap" || epState(x.s, q.cap.ptr)?.tag === "RecvEP") return sys("Recv", q.cptr, 0, [], [], recvSlot(x, w1))
  return sys(rare(w1, 2) ? "Call" : "Send", q.cptr, label(w2), msgWords(x.w, msgLength(w1 >>> 1)), [])
}

/**
 * A user fault of each kind, with its words (missing words read 0; rarely fewer or more words):
 * VMFault [address, FSR, instruction fault], UnknownSyscall [number], UserException [number, code];
 * at most three words, as the event schema says.
 */
export const userFault = (x: Ctx): Event => {
  const [w0, w1, w2, w3] = x.w as [number, number, number, number]
  const kind = UserFaultKinds[w0 % UserFaultKinds.length]!
  const big = (v: number) => (v * 2_654_435_761) >>> 0
  const words = kind === "VMFault" ? [big(w1), w2 % 0x40, (w3 % 2)] : kind === "UnknownSyscall" ? [rare(w1, 4) ? big(w1) : w1 % 16] : [w1 % 32, big(w2)]
  const n = rare(w0 >>> 2, 8) ? (w0 >>> 5) % 4 : words.length
  return { tag: "UserFault", kind, words: Array.from({ length: n }, (_, i) => words[i] ?? big(w3 + i)) }
}
