/**
 * Interrupts: the kernel's table of what each line does, the IRQ node holding each line's
 * notification cap, the IRQControl and IRQHandler invocations, and delivery of an interrupt
 * (seL4 src/object/interrupt.c, l4v A/Interrupt_A).
 * @category objects
 */
import type { IRQState, SlotPtr, SyscallError } from "../../model/index.ts"
import { InvocationLabel as L, RightW, hasRight } from "../../model/index.ts"
import type { Result } from "../result.ts"
import { err, ok } from "../result.ts"
import type { KernelState } from "../state.ts"
import { getCap, slotOf, updateState } from "../state.ts"
import { lookupTargetSlot } from "../kernel/cspace.ts"
import { timerTick } from "../kernel/thread.ts"
import type { InvocationArgs } from "./cnode.ts"
import { cteDeleteOne, cteInsert, ensureEmptySlot } from "./cnode.ts"
import { sendSignal } from "./notification.ts"

/** The IRQ-node slot of line `irq`. */
export const irqSlot = (s: KernelState, irq: number): SlotPtr => slotOf(s.irqNode, irq)

/** Set what a line does; the controller masks exactly the inactive lines. Mirrors seL4 `setIRQState`. */
export const setIRQState = (s: KernelState, st: IRQState, irq: number): KernelState => {
  const irqStates = s.irqStates.slice()
  irqStates[irq] = st
  return setIRQMask(s, irq, st === "IRQInactive", irqStates)
}

const setIRQMask = (s: KernelState, irq: number, masked: boolean, irqStates = s.irqStates): KernelState => {
  const irqMasks = s.irqMasks.slice()
  irqMasks[irq] = masked
  return updateState(s, { irqStates, irqMasks })
}

/** Is the line in use (anything but Inactive)? Mirrors seL4 `isIRQActive`. */
export const isIRQActive = (s: KernelState, irq: number): boolean => s.irqStates[irq] !== "IRQInactive"

/**
 * Deliver interrupt `irq` (a line the controller did deliver): a Signal line signals the
 * notification in its node slot (if that cap may send) and is masked until acknowledged; the
 * timer line ticks the scheduler; an inactive line is masked. Mirrors seL4 `handleInterrupt`.
 */
export const handleInterrupt = (s: KernelState, irq: number): KernelState => {
  switch (s.irqStates[irq]!) {
    case "IRQSignal": {
      const cap = getCap(s, irqSlot(s, irq))
      const s1 = cap.tag === "NotificationCap" && hasRight(cap.rights, RightW) ? sendSignal(s, cap.ptr, cap.badge) : s
      return setIRQMask(s1, irq, true)
    }
    case "IRQTimer": return timerTick(s)
    case "IRQReserved": return s
    case "IRQInactive": return setIRQMask(s, irq, true)
  }
}

/** A decoded IRQControl or IRQHandler invocation. */
export type IRQInvocation =
  | { readonly tag: "IssueIRQHandler"; readonly irq: number; readonly dest: SlotPtr; readonly control: SlotPtr }
  | { readonly tag: "AckIRQ"; readonly irq: number }
  | { readonly tag: "SetIRQHandler"; readonly irq: number; readonly src: SlotPtr }
  | { readonly tag: "ClearIRQHandler"; readonly irq: number }

/**
 * IRQControl_Get (IRQIssueIRQHandler): args irq, index, depth and the destination CNode as extra
 * cap 0. In order: too few args or no cap -> TruncatedMessage; irq past the last line ->
 * RangeError(0, numIRQs-1); line in use -> RevokeFirst; destination lookup -> FailedLookup;
 * occupied -> DeleteFirst. Other labels are IllegalOperation. Mirrors seL4
 * `decodeIRQControlInvocation` with ARM's `Arch_checkIRQ`.
 */
export const decodeIRQControlInvocation = (s: KernelState, control: SlotPtr, a: InvocationArgs): Result<IRQInvocation, SyscallError> => {
  if (a.label !== L.IRQIssueIRQHandler) return err({ tag: "IllegalOperation" })
  if (a.args.length < 3 || a.extraCaps.length < 1) return err({ tag: "TruncatedMessage" })
  const [irq, index, depth] = a.args as [number, number, number]
  const maxIRQ = s.numIRQs - 1
  if (irq > maxIRQ) return err({ tag: "RangeError", min: 0, max: maxIRQ })
  if (isIRQActive(s, irq)) return err({ tag: "RevokeFirst" })
  const dest = lookupTargetSlot(s, a.extraCaps[0]!, index, depth)
  if (!dest.ok) return dest
  const empty = ensureEmptySlot(s, dest.value)
  if (!empty.ok) return empty
  return ok({ tag: "IssueIRQHandler", irq, dest: dest.value, control })
}

/**
 * IRQHandler invocations on line `irq`: Ack unmasks it; SetIRQHandler needs a notification cap
 * with Write as extra cap 0 (none -> TruncatedMessage, other -> InvalidCapability(0)); Clear
 * empties the node slot. Other labels are IllegalOperation. Mirrors seL4 `decodeIRQHandlerInvocation`.
 */
export const decodeIRQHandlerInvocation = (irq: number, a: InvocationArgs): Result<IRQInvocation, SyscallError> => {
  switch (a.label) {
    case L.IRQAckIRQ: return ok({ tag: "AckIRQ", irq })
    case L.IRQSetIRQHandler: {
      const cap = a.extraCaps[0]
      if (cap === undefined) return err({ tag: "TruncatedMessage" })
      if (cap.tag !== "NotificationCap" || !hasRight(cap.rights, RightW)) return err({ tag: "InvalidCapability", capability: 0 })
      return ok({ tag: "SetIRQHandler", irq, src: a.extraSlots[0]! })
    }
    case L.IRQClearIRQHandler: return ok({ tag: "ClearIRQHandler", irq })
    default: return err({ tag: "IllegalOperation" })
  }
}

/**
 * Perform an IRQ invocation (the caller is already Restart): issuing makes the line a Signal line
 * and puts a handler cap, a CDT child of IRQControl, in the destination; setting a handler
 * replaces the node slot's cap by the given notification cap (a CDT child of it); clearing
 * deletes it. Mirrors seL4 `invokeIRQControl`, `invokeIRQHandler_*`.
 */
export const invokeIRQ = (s: KernelState, inv: IRQInvocation): KernelState => {
  switch (inv.tag) {
    case "IssueIRQHandler":
      return cteInsert(setIRQState(s, "IRQSignal", inv.irq), { tag: "IRQHandlerCap", irq: inv.irq }, inv.control, inv.dest)
    case "AckIRQ": return setIRQMask(s, inv.irq, false)
    case "SetIRQHandler": {
      const s1 = cteDeleteOne(s, irqSlot(s, inv.irq))
      return cteInsert(s1, getCap(s1, inv.src), inv.src, irqSlot(s1, inv.irq))
    }
    case "ClearIRQHandler": return cteDeleteOne(s, irqSlot(s, inv.irq))
  }
}

/**
 * The last handler cap to a line is being deleted: its node slot is emptied. Mirrors seL4
 * `deletingIRQHandler`.
 */
export const deletingIRQHandler = (s: KernelState, irq: number): KernelState => cteDeleteOne(s, irqSlot(s, irq))

/**
 * The last handler cap to a line is gone (its slot is empty): the line becomes Inactive
 * (masked). Mirrors seL4 `deletedIRQHandler`, which `postCapDeletion` calls.
 */
export const deletedIRQHandler = (s: KernelState, irq: number): KernelState => setIRQState(s, "IRQInactive", irq)
