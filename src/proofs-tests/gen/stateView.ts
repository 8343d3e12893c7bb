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
 * Threads other than `t` that could run and act: runnable, in the current domain, with a
 * working CSpace. When `t` blocks one of them is scheduled; sharing caps with `t`, it can wake it.
 */
export const otherActors = (s: KernelState, t: PPtr): readonly PPtr[] =>
  threads(s).filter((x) => x.ptr !== t && isRunnable(x.tcb.tcbState) && x.tcb.tcbDomain === s.curDomain && hasWorkingCSpace(s, x.ptr)).map((x) => x.ptr)

/** The endpoint's queue state, or undefined if `p` is not an endpoint. */
export const epState = (s: KernelState, p: PPtr) => {
  const o = s.kheap.get(p)
  return o?.tag === "Endpoint" ? o.state : undefined
}

export const ntfnObj = (s: KernelState, p: PPtr) => {
  const o = s.kheap.get(p)
  return o?.tag === "Notification" ? o : undefined
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

/** Could an interrupt (now or after an Ack) signal notification `n`? */
export const irqCanSignal = (s: KernelState, n: PPtr): boolean => {
  for (let i = 0; i < s.numIRQs; i++) {
    if (s.irqStates[i] !== "IRQSignal") continue
    const c = getCap(s, slotOf(s.irqNode, i))
    if (c.tag === "NotificationCap" && c.ptr === n && hasRight(c.rights, RightW)) return true
  }
  return false
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
 * Could `t`, once blocked or stopped, be brought back? Another actor could wake it, or an
 * interrupt could signal the notification it waits on (`ntfn`) or its bound notification.
 */
export const wakeable = (s: KernelState, t: PPtr, ntfn?: PPtr): boolean => {
  if (otherActors(s, t).length > 0) return true
  if (ntfn !== undefined && irqCanSignal(s, ntfn)) return true
  const bound = tcbAt(s, t)?.tcbBoundNotification
  return bound !== null && bound !== undefined && irqCanSignal(s, bound)
}
