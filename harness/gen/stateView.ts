/**
 * What the generators read of a spec state beyond the address book: threads and their states,
 * endpoint and notification queues, interrupt lines, and whether a thread that blocks could
 * ever be woken. Every function is a pure read of the state.
 */
import type { Cap, PPtr } from "../../model/index.ts"
import { RightG, RightGR, RightW, hasRight, isRunnable, tcbCTable, wordBits } from "../../model/index.ts"
import type { KernelState, Tcb } from "../../spec/index.ts"
import { getCap, slotOf } from "../../spec/index.ts"
import { lookupCap } from "../../spec/kernel/cspace.ts"

/** Every TCB but the idle thread, in address order (so selection is stable). */
export const threads = (s: KernelState): readonly { readonly ptr: PPtr; readonly tcb: Tcb }[] => {
  const out: { ptr: PPtr; tcb: Tcb }[] = []
  for (const [p, o] of s.kheap) if (o.tag === "TCB" && p !== s.idleThread) out.push({ ptr: p, tcb: o })
  return out.sort((a, b) => a.ptr - b.ptr)
}

export const tcbAt = (s: KernelState, p: PPtr): Tcb | undefined => {
  const o = s.kheap.get(p)
  return o?.tag === "TCB" ? o : undefined
}

/** Does the thread's CSpace root resolve full-word cptrs (so it can name caps at all)? */
export const hasWorkingCSpace = (s: KernelState, t: PPtr): boolean => {
  const c = getCap(s, slotOf(t, tcbCTable))
  return c.tag === "CNodeCap" && c.guardSize + c.radix === wordBits
}

/**
 * Threads that can run and act: runnable, in the current domain, with a CSpace that resolves
 * cptrs. When the current thread blocks one of them is scheduled; sharing caps with it, it can
 * wake it.
 */
export const actors = (s: KernelState): readonly PPtr[] =>
  threads(s).filter((x) => isRunnable(x.tcb.tcbState) && x.tcb.tcbDomain === s.curDomain && hasWorkingCSpace(s, x.ptr)).map((x) => x.ptr)

/**
 * The schedule's cycle: the entries the domain schedule runs through, from its start entry to the
 * first end marker after it (wrapping to the start there), as indexes.
 */
export const scheduleCycle = (s: KernelState): readonly number[] => {
  const out: number[] = []
  for (let i = s.domainStartIndex; i < s.domainList.length; i++) {
    const e = s.domainList[i]!
    if (e.domain === 0 && e.duration === 0n) break
    out.push(i)
  }
  return out
}

/** The domains that get time: the current one and those of the schedule's cycle. */
export const scheduledDomains = (s: KernelState): ReadonlySet<number> =>
  new Set([s.curDomain, ...scheduleCycle(s).map((i) => s.domainList[i]!.domain)])

/**
 * Threads that can act once their domain's turn comes: runnable, in a domain the schedule runs,
 * with a CSpace that resolves cptrs. With one domain these are the actors.
 */
export const eventualActors = (s: KernelState): readonly PPtr[] => {
  const doms = scheduledDomains(s)
  return threads(s).filter((x) => isRunnable(x.tcb.tcbState) && doms.has(x.tcb.tcbDomain) && hasWorkingCSpace(s, x.ptr)).map((x) => x.ptr)
}

/** Actors other than `t`. */
export const otherActors = (s: KernelState, t: PPtr): readonly PPtr[] => actors(s).filter((p) => p !== t)

/** The endpoint's queue state, or undefined if `p` is not an endpoint. */
export const epState = (s: KernelState, p: PPtr) => {
  const o = s.kheap.get(p)
  return o?.tag === "Endpoint" ? o.state : undefined
}

export const ntfnObj = (s: KernelState, p: PPtr) => {
  const o = s.kheap.get(p)
  return o?.tag === "Notification" ? o : undefined
}

/** Does the cap name an endpoint or notification with threads queued on it? */
export const hasQueue = (s: KernelState, c: Cap): boolean => {
  if (c.tag === "EndpointCap") return epState(s, c.ptr)?.tag !== "IdleEP" && epState(s, c.ptr) !== undefined
  if (c.tag === "NotificationCap") return ntfnObj(s, c.ptr)?.state.tag === "WaitingNtfn"
  return false
}

/** Interrupt lines a delivered interrupt would signal: IRQSignal, unmasked, a notification cap with Write in the node slot. */
export const deliverableLines = (s: KernelState): readonly { readonly irq: number; readonly ntfn: PPtr }[] => {
  const out: { irq: number; ntfn: PPtr }[] = []
  for (let i = 0; i < s.numIRQs; i++) {
    if (s.irqStates[i] !== "IRQSignal" || s.irqMasks[i]) continue
    const c = getCap(s, slotOf(s.irqNode, i))
    if (c.tag === "NotificationCap" && hasRight(c.rights, RightW)) out.push({ irq: i, ntfn: c.ptr })
  }
  return out
}

/** Lines in IRQSignal state with a notification set but masked: an Ack would make them deliverable. */
export const maskedHandledLines = (s: KernelState): readonly number[] => {
  const out: number[] = []
  for (let i = 0; i < s.numIRQs; i++) {
    if (s.irqStates[i] === "IRQSignal" && s.irqMasks[i] && getCap(s, slotOf(s.irqNode, i)).tag === "NotificationCap") out.push(i)
  }
  return out
}

/** Is the thread's fault handler cptr (in its own CSpace) an endpoint cap faults can be sent on? */
export const faultHandlerEp = (s: KernelState, t: PPtr): Extract<Cap, { tag: "EndpointCap" }> | undefined => {
  const tcb = tcbAt(s, t)
  if (tcb === undefined) return undefined
  const r = lookupCap(s, t, tcb.tcbFaultHandler)
  if (!r.ok) return undefined
  const c = r.value
  return c.tag === "EndpointCap" && hasRight(c.rights, RightW) && (hasRight(c.rights, RightG) || hasRight(c.rights, RightGR)) ? c : undefined
}

/**
 * Is the trace still live: can some thread act now or when its domain's turn comes (timer ticks
 * move the schedule on), or can an interrupt wake one (a deliverable line whose notification has
 * a waiter, or a bound thread waiting to receive, with a CSpace)?
 */
export const isLive = (s: KernelState): boolean => {
  if (actors(s).length > 0) return true
  if (s.numDomains > 1 && eventualActors(s).length > 0) return true
  return deliverableLines(s).some((l) => {
    const n = ntfnObj(s, l.ntfn)
    if (n === undefined) return false
    if (n.state.tag === "WaitingNtfn") return n.state.queue.some((p) => hasWorkingCSpace(s, p))
    return n.boundTCB !== null && tcbAt(s, n.boundTCB)?.tcbState.tag === "BlockedOnReceive" && hasWorkingCSpace(s, n.boundTCB)
  })
}
