/**
 * Resolvers for thread, interrupt and domain invocations: setting threads up (Configure,
 * SetSpace, SetIPCBuffer), priorities, Resume/Suspend, register transfer, notification binding,
 * IRQ control and handlers, and the DomainSet methods. Argument orders follow libsel4's object-api.xml
 * (words first, then caps as extra caps) and seL4's decode functions.
 */
import type { Event, PPtr } from "../../model/index.ts"
import {
  InitialSlot, InvocationLabel as L, ObjectType, RightG, RightGR, RightR, RightW, hasRight, ipcBufferSizeBits, isRunnable, maxPrio, tcbCTable,
  wordBits,
} from "../../model/index.ts"
import type { Ctx } from "./resolveUtil.ts"
import { getCap, slotOf } from "../../spec/index.ts"
import { rootIPCBufferVAddr } from "../../spec/kernel/boot.ts"
import { directOf, freeSlotPreferRoot, invokeSyscall, msgWords, pick, prefer, rare, rootCNode, sys, target } from "./resolveUtil.ts"
import {
  deliverableLines, faultHandlerEp, hasWorkingCSpace, maskedHandledLines, ntfnObj, otherActors, scheduleCycle, scheduledDomains, tcbAt,
} from "./stateView.ts"

/** A ThreadCap of the thread, or a raw slot number when it has none. */
const threadCptr = (x: Ctx, w: number, pred?: (p: number) => boolean): number => {
  const all = directOf(x.book, "ThreadCap")
  const d = pred === undefined ? pick(all, w) : prefer(all.filter((c) => pred(c.cap.ptr)), all, w)
  return d?.cptr ?? w % 256
}

/** Priorities to choose from: a few distinct levels around the root's 255, rarely any word. */
const prioPalette = [200, 200, 100, maxPrio, 150, 50, 1, 0, 254]
const prio = (w: number): number => (rare(w, 16) ? (w >>> 4) % 300 : prioPalette[(w >>> 4) % prioPalette.length]!)

/** The fault-handler cptr: an endpoint faults can go to mostly, any endpoint, none (0), or a raw word. */
const faultEpCptr = (x: Ctx, w: number): number => {
  const eps = directOf(x.book, "EndpointCap")
  const good = eps.filter((e) => hasRight(e.cap.rights, RightW) && (hasRight(e.cap.rights, RightG) || hasRight(e.cap.rights, RightGR)))
  const r = w % 20
  if (r < 12) return (pick(good, w >>> 5) ?? pick(eps, w >>> 5))?.cptr ?? 0
  if (r < 15) return pick(eps, w >>> 5)?.cptr ?? 0
  if (r < 19) return 0
  return w >>> 5
}

/**
 * The CSpace root cap and cRootData for a thread: mostly the current thread's own root CNode with
 * data that keeps its guard (so the threads share caps), sometimes another CNode cap with a guard
 * that makes it resolve full words (a CSpace of its own), rarely any data.
 */
const cspaceRoot = (x: Ctx, w: number, self: boolean): [number, number] => {
  const root = rootCNode(x.s, x.t)
  const same = x.book.cnodeRoots.filter((c) => root !== undefined && c.cap.ptr === root.ptr)
  const other = x.book.cnodeRoots.filter((c) => root === undefined || c.cap.ptr !== root.ptr)
  // The current thread configuring itself keeps its CSpace (else it mostly loses every cap it names).
  const r = self && !rare(w >>> 8, 16) ? 0 : w % 16
  if (r === 15) return [pick(x.book.cnodeRoots, w >>> 4)?.cptr ?? InitialSlot.InitThreadCNode, (w * 2_654_435_761) >>> 0]
  if (r >= 12 && other.length > 0) {
    const c = pick(other, w >>> 4)!
    // guardSize = 32 - radix, guard 0 (seL4_CNode_CapData: guardSize bits 3..7, guard from bit 8).
    return [c.cptr, Math.max(0, wordBits - c.cap.radix) << 3]
  }
  const c = pick(same, w >>> 4) ?? pick(x.book.cnodeRoots, w >>> 4)
  // Data 0 leaves the cap as it is; the explicit guard size says the same thing through updateCapData.
  return [c?.cptr ?? InitialSlot.InitThreadCNode, r % 3 === 2 && c !== undefined ? c.cap.guardSize << 3 | c.cap.guard << 8 : 0]
}

/**
 * A VSpace root: mostly a page-directory cap with an ASID (a valid root), sometimes any
 * page-directory cap (one without an ASID is refused), rarely some other cap.
 */
const vspaceRoot = (x: Ctx, w: number): number => {
  const pds = directOf(x.book, "PageDirectoryCap")
  const valid = pds.filter((d) => d.cap.asid !== null)
  return (rare(w, 12) ? pick(x.book.direct, w >>> 4) : prefer(valid, pds, w >>> 4, 7, 8) ?? pick(x.book.direct, w >>> 4))?.cptr ?? w % 256
}

/**
 * An IPC buffer: (vaddr, frame cptr). Mostly a working one for VSpace root `vRoot`: a non-device
 * frame mapped read-write in that directory, at a 512-byte block of where it is mapped (so the
 * thread's own stores into its buffer translate; the root's buffer page has room for 8 threads).
 * Otherwise as before: vaddr 0 (no buffer), 512-aligned, rarely misaligned; a non-device frame mostly.
 */
const ipcBuffer = (x: Ctx, w: number, vRoot: number): [number, number] => {
  const frames = directOf(x.book, "FrameCap")
  const good = frames.filter((f) => !f.cap.isDevice)
  const pd = x.book.direct.find((d) => d.cptr === vRoot)?.cap
  const asid = pd?.tag === "PageDirectoryCap" ? pd.asid : null
  const mappedHere = good.filter((f) => asid !== null && f.cap.mapped?.asid === asid && f.cap.vmRights === "ReadWrite")
  const r = w % 20
  if (r >= 5 && mappedHere.length > 0) {
    const f = pick(mappedHere, w >>> 5)!
    // A block of the frame's first page (page 0 stays in one 4 KiB page, as a buffer must).
    const block = (w >>> 9) % 2 ** (12 - ipcBufferSizeBits)
    return [(f.cap.mapped!.vaddr + block * 2 ** ipcBufferSizeBits) >>> 0, f.cptr]
  }
  const cap = (rare(w, 10) ? pick(x.book.direct, w >>> 6) : pick(good, w >>> 6) ?? pick(frames, w >>> 6) ?? pick(x.book.direct, w >>> 6))?.cptr ?? InitialSlot.InitThreadIPCBuffer
  const aligned = (0x0100_0000 + ((w >>> 6) % 64) * 2 ** ipcBufferSizeBits) >>> 0
  const vaddr = r < 2 ? 0 : r < 4 ? aligned : aligned + 4 * (1 + (w >>> 12) % 100)
  return [vaddr, cap]
}

/**
 * SetupThread: configure a thread's CSpace, VSpace, fault handler and IPC buffer with
 * TCB_Configure (mostly), TCB_SetSpace or TCB_SetIPCBuffer. The target is mostly a thread not
 * configured yet, sometimes the current thread itself (to give it a fault handler; then mostly
 * SetSpace, which leaves its IPC buffer alone).
 */
export const setupThread = (x: Ctx, force?: { readonly target: PPtr }): Event => {
  const [w0, w1, w2, w3, w4, w5, w6] = x.w as [number, number, number, number, number, number, number]
  const unconfigured = (p: number) => p !== x.t && tcbAt(x.s, p) !== undefined && getCap(x.s, slotOf(p, tcbCTable)).tag === "NullCap"
  const self = force === undefined ? rare(w0, 6) : force.target === x.t
  const tcb = force !== undefined ? threadCptr(x, w0, (p) => p === force.target)
    : self ? threadCptr(x, w0 >>> 3, (p) => p === x.t) : threadCptr(x, w0 >>> 3, unconfigured)
  const faultEp = faultEpCptr(x, force !== undefined ? w1 - (w1 % 20) : w1)
  const [cRoot, cRootData] = cspaceRoot(x, force !== undefined ? w2 - (w2 % 16) : w2, self)
  const vRoot = vspaceRoot(x, force !== undefined ? w3 - (w3 % 12) : w3)
  // A thread set up to be a partner gets an IPC buffer (long messages, cap transfer).
  const [bufAddr, bufCap] = self ? [rootIPCBufferVAddr, InitialSlot.InitThreadIPCBuffer] : ipcBuffer(x, force !== undefined ? w4 - (w4 % 20) + 8 + (w4 % 10) : w4, vRoot)
  const vRootData = force === undefined && rare(w5, 16) ? w5 >>> 4 : 0
  const kind = force !== undefined ? (self ? 6 : 0) : self ? (w6 % 4 === 3 ? 0 : 6) : w6 % 10
  const syscall = invokeSyscall(w5 >>> 5)
  if (kind < 6) return sys(syscall, tcb, L.TCBConfigure, [faultEp, cRootData, vRootData, bufAddr], [cRoot, vRoot, bufCap])
  if (kind < 9) return sys(syscall, tcb, L.TCBSetSpace, [faultEp, cRootData, vRootData], [cRoot, vRoot])
  return sys(syscall, tcb, L.TCBSetIPCBuffer, [bufAddr], [bufCap])
}

/**
 * The next step towards another thread that can act (runnable, with a CSpace shared with the
 * current thread): make a TCB, make a page directory, configure the TCB, resume it. `undefined`
 * when one exists already or the thread lacks the caps to build one.
 */
export const nextActorStep = (x: Ctx, retypeObject: (type: number) => Event): Event | undefined => {
  if (otherActors(x.s, x.t).length > 0) return undefined
  const others = directOf(x.book, "ThreadCap").filter((c) => c.cap.ptr !== x.t)
  const configured = others.filter((c) => hasWorkingCSpace(x.s, c.cap.ptr))
  const stopped = configured.filter((c) => tcbAt(x.s, c.cap.ptr)?.tcbState.tag === "Inactive" && tcbAt(x.s, c.cap.ptr)?.tcbDomain === x.s.curDomain)
  const next = pick(stopped, x.w[0]!)
  if (next !== undefined) {
    // Two times in three a fresh thread first gets a priority (equal to the root's or below it),
    // so threads interleave on Yield and timer ticks and not only when the others block.
    const best = directOf(x.book, "ThreadCap").find((c) => (tcbAt(x.s, c.cap.ptr)?.tcbMCP ?? 0) >= maxPrio)
    if (tcbAt(x.s, next.cap.ptr)?.tcbPriority === 0 && best !== undefined && x.w[2]! % 3 !== 2) {
      // Half of these equal the root's 255: equal threads take turns on Yield and time-slice ends.
      const p = (x.w[2]! >>> 2) % 2 === 0 ? maxPrio : prioPalette[(x.w[2]! >>> 3) % prioPalette.length]!
      return sys(invokeSyscall(x.w[1]!), next.cptr, L.TCBSetPriority, [p], [best.cptr])
    }
    return sys(invokeSyscall(x.w[1]!), next.cptr, L.TCBResume, [], [])
  }
  const fresh = others.filter((c) => getCap(x.s, slotOf(c.cap.ptr, tcbCTable)).tag === "NullCap")
  if (fresh.length === 0) return retypeObject(ObjectType.TCB)
  if (directOf(x.book, "PageDirectoryCap").length === 0) return retypeObject(ObjectType.PageDirectory)
  return setupThread(x, { target: pick(fresh, x.w[0]!)!.cap.ptr })
}

/**
 * A valid fault handler for the current thread: make an endpoint or page directory if missing,
 * then SetSpace on itself naming an endpoint with Write and Grant. `undefined` when it has one.
 */
export const selfFaultHandlerStep = (x: Ctx, retypeObject: (type: number) => Event): Event | undefined => {
  if (faultHandlerEp(x.s, x.t) !== undefined) return undefined
  if (!directOf(x.book, "ThreadCap").some((c) => c.cap.ptr === x.t)) return undefined
  const eps = directOf(x.book, "EndpointCap").filter((e) => hasRight(e.cap.rights, RightW) && (hasRight(e.cap.rights, RightG) || hasRight(e.cap.rights, RightGR)))
  if (eps.length === 0) return retypeObject(ObjectType.Endpoint)
  if (directOf(x.book, "PageDirectoryCap").length === 0) return retypeObject(ObjectType.PageDirectory)
  return setupThread(x, { target: x.t })
}


/**
 * SetPriority / SetMCPriority / SetSchedParams on any thread, with an authority thread that
 * mostly has the highest MCP around (so the value is in range).
 */
export const setPriority = (x: Ctx): Event => {
  const [w0, w1, w2, w3, w4] = x.w as [number, number, number, number, number]
  // Two times in five the current thread itself: lowered, it lets the threads above it run.
  const tcb = w0 % 5 < 2 ? threadCptr(x, w0 >>> 3, (p) => p === x.t) : threadCptr(x, w0 >>> 3, (p) => p !== x.t)
  const best = Math.max(-1, ...directOf(x.book, "ThreadCap").map((c) => tcbAt(x.s, c.cap.ptr)?.tcbMCP ?? -1))
  const auth = rare(w1, 5) ? threadCptr(x, w1 >>> 3) : threadCptr(x, w1 >>> 3, (p) => tcbAt(x.s, p)?.tcbMCP === best)
  const authCaps = rare(w4, 20) ? [] : [rare(w4, 19) ? pick(x.book.direct, w4 >>> 5)?.cptr ?? 0 : auth]
  const kind = w2 % 10
  const syscall = invokeSyscall(w4 >>> 8)
  if (kind < 5) return sys(syscall, tcb, L.TCBSetPriority, [prio(w3)], authCaps)
  if (kind < 7) return sys(syscall, tcb, L.TCBSetMCPriority, [rare(w3, 3) ? prio(w3 >>> 2) : maxPrio - (w3 >>> 2) % 2 * 55], authCaps)
  return sys(syscall, tcb, L.TCBSetSchedParams, [rare(w3, 3) ? prio(w3 >>> 2) : maxPrio, prio(w3 >>> 5)], authCaps)
}

/** Resume a thread, mostly one that is stopped or blocked. */
export const resume = (x: Ctx): Event => {
  const [w0, w1] = x.w as [number, number]
  const tcb = threadCptr(x, w0, (p) => p !== x.t && !isRunnable(tcbAt(x.s, p)?.tcbState ?? { tag: "Running" }))
  return sys(invokeSyscall(w1), tcb, L.TCBResume, [], [])
}

/** Suspend a thread, mostly another one than the current thread. */
export const suspend = (x: Ctx): Event => {
  const [w0, w1] = x.w as [number, number]
  const tcb = rare(w0, 8) ? threadCptr(x, w0 >>> 3) : threadCptr(x, w0 >>> 3, (p) => p !== x.t)
  return sys(invokeSyscall(w1), tcb, L.TCBSuspend, [], [])
}

/** Read, Write or Copy registers of another thread (rarely the current one, which is refused). */
export const registers = (x: Ctx): Event => {
  const [w0, w1, w2, w3, w4] = x.w as [number, number, number, number, number]
  const tcb = rare(w0, 8) ? threadCptr(x, w0 >>> 3) : threadCptr(x, w0 >>> 3, (p) => p !== x.t)
  const syscall = invokeSyscall(w4)
  const kind = w1 % 10
  if (kind < 4) {
    // flags: bit 0 suspends the source; n: 1..19 registers, rarely 0 or too many.
    const n = rare(w2, 10) ? (w2 >>> 4) % 2 === 0 ? 0 : 20 + (w2 >>> 5) % 4 : 1 + (w2 >>> 4) % 19
    return sys(syscall, tcb, L.TCBReadRegisters, [rare(w3, 4) ? 1 : 0, n], [])
  }
  if (kind < 8) {
    // flags: bit 0 resumes the target; count words follow (rarely more than the message holds).
    const count = rare(w2, 10) ? 20 + (w2 >>> 4) % 8 : (w2 >>> 4) % 20
    const words = msgWords(x.w, Math.min(count, 19))
    return sys(syscall, tcb, L.TCBWriteRegisters, [rare(w3, 3) ? 1 : 0, count, ...words], [])
  }
  // flags: bit 0 suspend source, bit 1 resume target, bit 2 frame registers, bit 3 integer registers.
  const src = threadCptr(x, w2, (p) => p !== x.t)
  return sys(syscall, tcb, L.TCBCopyRegisters, [(w3 % 16) | (rare(w3 >>> 4, 8) ? 0 : 0b1100)], rare(w0 >>> 8, 16) ? [] : [src])
}

/**
 * TCB_SetTLSBase: any thread (the current one a quarter of the time, which reschedules), a TLS
 * base word; rarely an empty message (TruncatedMessage).
 */
export const setTLSBase = (x: Ctx): Event => {
  const [w0, w1, w2] = x.w as [number, number, number]
  const tcb = rare(w0, 4) ? threadCptr(x, w0 >>> 2, (p) => p === x.t) : threadCptr(x, w0 >>> 2, (p) => p !== x.t)
  const base = (w2 * 2_654_435_761) >>> 0
  return sys(invokeSyscall(w1), tcb, L.TCBSetTLSBase, rare(w1 >>> 4, 10) ? [] : [base], [])
}

/** BindNotification: a thread (mostly unbound) and a notification cap (mostly receivable, unbound, without waiters). */
export const bindNotification = (x: Ctx): Event => {
  const [w0, w1, w2] = x.w as [number, number, number]
  const tcb = threadCptr(x, w0, (p) => tcbAt(x.s, p)?.tcbBoundNotification === null)
  const ntfns = directOf(x.book, "NotificationCap")
  const good = ntfns.filter((n) => {
    const o = ntfnObj(x.s, n.cap.ptr)
    return hasRight(n.cap.rights, RightR) && o !== undefined && o.boundTCB === null && o.state.tag !== "WaitingNtfn"
  })
  const n = rare(w1, 8) ? pick(x.book.direct, w1 >>> 3) : prefer(good, ntfns, w1 >>> 3)
  return sys(invokeSyscall(w2), tcb, L.TCBBindNotification, [], rare(w2 >>> 4, 16) ? [] : [n?.cptr ?? w1 % 256])
}

/** UnbindNotification: mostly a thread that is bound. */
export const unbindNotification = (x: Ctx): Event => {
  const [w0, w1] = x.w as [number, number]
  const tcb = threadCptr(x, w0, (p) => tcbAt(x.s, p)?.tcbBoundNotification !== null)
  return sys(invokeSyscall(w1), tcb, L.TCBUnbindNotification, [], [])
}

/** IRQControl_Get: mostly an inactive line into a free slot; sometimes an issued line, the timer, or out of range. */
export const irqControlGet = (x: Ctx): Event => {
  const [w0, w1, w2, w3] = x.w as [number, number, number, number]
  const ctl = pick(directOf(x.book, "IRQControlCap"), w0)?.cptr ?? InitialSlot.IRQControl
  const s = x.s
  const inactive = Array.from({ length: s.numIRQs }, (_, i) => i).filter((i) => s.irqStates[i] === "IRQInactive")
  const r = w1 % 20
  const irq = r < 16 ? pick(inactive, w1 >>> 5) ?? 1 : r < 18 ? (w1 >>> 5) % s.numIRQs : s.numIRQs + (w1 >>> 5) % 20
  const dest = rare(w2, 10) ? pick(x.book.live, w2 >>> 4) : freeSlotPreferRoot(x, w2 >>> 4)
  const [dv, di, dd] = target(dest, w2)
  return sys(invokeSyscall(w3), ctl, L.IRQIssueIRQHandler, [irq, di, dd], [dv])
}

/**
 * IRQHandler Ack / SetIRQHandler / ClearIRQHandler: Ack mostly when the line is masked with a
 * notification set, Set mostly with a notification cap that can be signalled.
 */
export const irqHandler = (x: Ctx): Event => {
  const [w0, w1, w2, w3] = x.w as [number, number, number, number]
  const handlers = directOf(x.book, "IRQHandlerCap")
  const masked = new Set(maskedHandledLines(x.s))
  const h = prefer(handlers.filter((c) => masked.has(c.cap.irq)), handlers, w0, 1, 2)
  const cptr = h?.cptr ?? w0 % 256
  const syscall = invokeSyscall(w3)
  const k = w1 % 20
  const set = h !== undefined && masked.has(h.cap.irq)
  if (set ? k < 12 : k < 4) return sys(syscall, cptr, L.IRQAckIRQ, [], [])
  if (k < 18) {
    const ntfns = directOf(x.book, "NotificationCap")
    const good = ntfns.filter((n) => hasRight(n.cap.rights, RightW))
    const n = rare(w2, 10) ? pick(x.book.direct, w2 >>> 4) : pick(good, w2 >>> 4) ?? pick(ntfns, w2 >>> 4)
    return sys(syscall, cptr, L.IRQSetIRQHandler, [], rare(w2 >>> 8, 16) ? [] : [n?.cptr ?? w2 % 256])
  }
  return sys(syscall, cptr, L.IRQClearIRQHandler, [], [])
}

/**
 * An interrupt: mostly a line that would signal a notification (preferring one with someone
 * waiting), sometimes a masked handled line (not delivered) or any line, the spurious ones too.
 */
export const interrupt = (x: Ctx, w: number, deliverable = false): Event => {
  const s = x.s
  const lines = deliverableLines(s)
  const waking = lines.filter((l) => {
    const n = ntfnObj(s, l.ntfn)
    const bound = n?.boundTCB
    return n?.state.tag === "WaitingNtfn" || (bound !== null && bound !== undefined && tcbAt(s, bound)?.tcbState.tag === "BlockedOnReceive")
  })
  const r = deliverable ? 0 : w % 20
  if (r < 12 && lines.length > 0) return { tag: "Interrupt", irq: prefer(waking, lines, w >>> 5, 2, 3)!.irq }
  // Issued lines with no notification set: delivered, signal nobody, get masked.
  const bare = Array.from({ length: s.numIRQs }, (_, i) => i)
    .filter((i) => s.irqStates[i] === "IRQSignal" && !s.irqMasks[i] && getCap(s, slotOf(s.irqNode, i)).tag !== "NotificationCap")
  if (r < 14 && bare.length > 0) return { tag: "Interrupt", irq: pick(bare, w >>> 5)! }
  if (r < 16) return { tag: "Interrupt", irq: pick(maskedHandledLines(s), w >>> 5) ?? 0 }
  return { tag: "Interrupt", irq: (w >>> 5) % (s.numIRQs + 4) }
}

/** What the idle thread's turn resolves to: an interrupt that can wake a thread, else a timer tick. */
export const idleEvent = (x: Ctx): Event => {
  const w = x.w[0]!
  if (deliverableLines(x.s).length > 0 && !rare(w, 8)) return interrupt(x, w, true)
  return rare(w, 4) ? interrupt(x, w) : { tag: "TimerTick" }
}

/** The domain cap's cptr (the root task's slot when the thread names none). */
const domainCptr = (x: Ctx, w: number): number => pick(directOf(x.book, "DomainCap"), w)?.cptr ?? InitialSlot.Domain

/**
 * DomainSet_Set: with several domains, mostly a thread that can act (the current one a third of
 * the time) moved to another domain the schedule runs, so every domain gets threads to run; with
 * one, mostly domain 0. Rarely a domain past the last (InvalidArgument), no thread cap.
 */
export const domainSet = (x: Ctx): Event => {
  const [w0, w1, w2] = x.w as [number, number, number]
  const s = x.s
  const n = s.numDomains
  const able = (p: PPtr) => isRunnable(tcbAt(s, p)?.tcbState ?? { tag: "Inactive" }) && hasWorkingCSpace(s, p)
  const tcb = n > 1 && !rare(w0, 8)
    ? threadCptr(x, w0 >>> 3, (w0 >>> 3) % 3 === 0 ? (p) => p === x.t : (p) => p !== x.t && able(p))
    : threadCptr(x, w0 >>> 3)
  const ptr = directOf(x.book, "ThreadCap").find((c) => c.cptr === tcb)?.cap.ptr
  const from = ptr === undefined ? s.curDomain : tcbAt(s, ptr)?.tcbDomain ?? s.curDomain
  const others = [...scheduledDomains(s)].filter((d) => d !== from).sort((a, b) => a - b)
  const d = rare(w1, 8) ? n + (w1 >>> 3) % 4 : n === 1 ? 0 : pick(others, w1 >>> 3) ?? (w1 >>> 3) % n
  return sys(invokeSyscall(w2), domainCptr(x, w0), L.DomainSetSet, [d], rare(w2 >>> 4, 16) ? [] : [tcb])
}

/** A domain duration in ticks, as (low, high) words: mostly 1..6 ticks, so domains take turns within a trace. */
const durationWords = (w: number): [number, number] => {
  const r = w % 32
  if (r === 31) return [(w * 2_654_435_761) >>> 0, 1 << 24] // past 2^56 - 1: InvalidArgument
  if (r === 30) return [w >>> 5, 1] // 2^32 ticks and more: a domain that does not end in a trace
  return [1 + (w >>> 5) % 6, 0]
}

/**
 * DomainSet_ScheduleConfigure and DomainSet_ScheduleSetStart. Configure mostly writes an entry
 * of the schedule's cycle or the end marker just after it (growing the cycle), with a domain the
 * config has and a short duration; sometimes an end marker (shortening the cycle; refused at the
 * start index), a zero duration with another domain, a bad index or domain, a short message.
 * SetStart mostly names an entry that is not an end marker (the current domain ends at once),
 * sometimes an end marker or an index past the table.
 */
export const domainSchedule = (x: Ctx): Event => {
  const [w0, w1, w2, w3, w4] = x.w as [number, number, number, number, number]
  const s = x.s
  const n = s.domainList.length
  const cycle = scheduleCycle(s)
  const cptr = domainCptr(x, w0)
  const syscall = invokeSyscall(w4)
  if (w1 % 3 === 0) {
    // SetStart: a live entry, rarely an end marker or past the table; rarely no word at all.
    if (rare(w4 >>> 4, 16)) return sys(syscall, cptr, L.DomainScheduleSetStart, [], [])
    const live = Array.from({ length: n }, (_, i) => i).filter((i) => !(s.domainList[i]!.domain === 0 && s.domainList[i]!.duration === 0n))
    const r = w2 % 10
    const index = r < 8 ? pick(live, w2 >>> 4) ?? 0 : r < 9 ? (w2 >>> 4) % n : n + (w2 >>> 4) % 4
    return sys(syscall, cptr, L.DomainScheduleSetStart, [index], [])
  }
  // Configure: an entry of the cycle, or the end marker after it.
  const last = cycle.length === 0 ? s.domainStartIndex : cycle[cycle.length - 1]! + 1
  const r = w2 % 16
  const index = r < 14 ? Math.min(n - 2, pick([...cycle, last, last], w2 >>> 4) ?? 0) : r < 15 ? n - 1 + (w2 >>> 4) % 3 : (w2 >>> 4) % n
  const k = w3 % 20
  const nd = s.numDomains
  // 17: an end marker (0, 0); 18: duration 0 with another domain; 19: a domain past the last.
  const domain = k < 17 ? (w3 >>> 5) % nd : k === 17 ? 0 : k === 18 ? 1 + (w3 >>> 5) % Math.max(1, nd - 1) : nd + (w3 >>> 5) % 3
  const [lo, hi] = k === 17 || k === 18 ? [0, 0] : durationWords(w3 >>> 5)
  const words = [index, domain, lo, hi]
  return sys(syscall, cptr, L.DomainScheduleConfigure, rare(w4 >>> 4, 16) ? words.slice(0, (w4 >>> 8) % 4) : words, [])
}
