/**
 * Interrupts (seL4 src/object/interrupt.c with ARM's Arch_checkIRQ, non-MCS, one core, GICv2-style
 * masking): handleInterrupt, setIRQState, the IRQControl and IRQHandler invocations, and the
 * deletion hooks deletingIRQHandler/deletedIRQHandler.
 * @category objects
 */
import type { Cap, IRQState } from "../../model/index.ts"
import { InvocationLabel as L, RightW } from "../../model/index.ts"
import { getSyscallArg } from "../api/syscall.ts"
import { lookedUpSlot, lookupTargetSlot } from "../kernel/cspace.ts"
import { setThreadState, timerTick } from "../kernel/thread.ts"
import type { Cte, ImplState } from "../state.ts"
import {
  EXCEPTION_NONE, type Exception, KernelBug, ThreadStateRestart, cnodeSlot, extraCapSlot, getNotificationImpl, syscallError,
} from "../state.ts"
import { cteDeleteOne, cteInsert, ensureEmptySlot } from "./cnode.ts"
import { sendSignal } from "./notification.ts"

/** The IRQ node slot of `irq` (C `intStateIRQNode + irq`). */
const irqSlot = (k: ImplState, irq: number): Cte => cnodeSlot(k.irqNode, irq)

/** The interrupt controller's mask bit (C `maskInterrupt`). */
export function maskInterrupt(k: ImplState, disable: boolean, irq: number): void {
  k.irqMasks[irq] = disable
}

/**
 * Set the line's state; the controller masks exactly the inactive lines.
 * @refines spec/object/interrupt#setIRQState
 */
export function setIRQState(k: ImplState, irqState: IRQState, irq: number): void {
  k.irqStates[irq] = irqState
  maskInterrupt(k, irqState === "IRQInactive", irq)
}

/** Has the line been handed out (any state but Inactive)? @refines spec/object/interrupt#isIRQActive */
export function isIRQActive(k: ImplState, irq: number): boolean {
  return k.irqStates[irq] !== "IRQInactive"
}

/**
 * A delivered interrupt on line `irq` (in range, unmasked). Signal: signal the notification in
 * the line's IRQ-node slot if it is a NotificationCap with Write, then mask the line until it is
 * acknowledged. Timer: a scheduler tick. Reserved: nothing. Inactive: mask.
 * @refines spec/object/interrupt#handleInterrupt
 */
export function handleInterrupt(k: ImplState, irq: number): void {
  if (irq > k.numIRQs - 1) {
    maskInterrupt(k, true, irq)
    return
  }
  switch (k.irqStates[irq]) {
    // A user handler: signal its notification, keep the line masked until Ack.
    case "IRQSignal": {
      const cap = irqSlot(k, irq).cap
      if (cap.tag === "NotificationCap" && (cap.rights & RightW) !== 0) {
        sendSignal(k, getNotificationImpl(k, cap.ptr), cap.badge)
      }
      maskInterrupt(k, true, irq)
      break
    }
    // The kernel timer.
    case "IRQTimer":
      timerTick(k)
      break
    // Reserved by the kernel: nothing in this configuration.
    case "IRQReserved":
      break
    // Not handed out: mask it again.
    case "IRQInactive":
      maskInterrupt(k, true, irq)
      break
    default:
      throw new KernelBug("Invalid IRQ state")
  }
}

/**
 * Decode an IRQControl invocation. IRQIssueIRQHandler(irq, index, depth; extra cap: dest CNode)
 * issues an IRQHandlerCap for an inactive line into an empty slot and makes the line Signal.
 *
 * **Errors** (in order): TruncatedMessage (< 3 args or no extra cap); RangeError(0, numIRQs-1)
 * (irq out of range); RevokeFirst (line already active); destination lookup errors; DeleteFirst
 * (occupied); other labels IllegalOperation.
 * @refines spec/object/interrupt#decodeIRQControlInvocation
 */
export function decodeIRQControlInvocation(k: ImplState, invLabel: number, length: number, srcSlot: Cte): Exception {
  if (invLabel !== L.IRQIssueIRQHandler) {
    // Arch_decodeIRQControlInvocation: no architecture IRQ-control labels in this configuration.
    return syscallError(k, { tag: "IllegalOperation" })
  }
  const cnodeSlotRef = extraCapSlot(k, 0)
  if (length < 3 || cnodeSlotRef === null) return syscallError(k, { tag: "TruncatedMessage" })
  const irqW = getSyscallArg(k, 0)
  const index = getSyscallArg(k, 1)
  const depth = getSyscallArg(k, 2)
  const cnodeCap = cnodeSlotRef.cap
  // Arch_checkIRQ
  if (irqW > k.numIRQs - 1) return syscallError(k, { tag: "RangeError", min: 0, max: k.numIRQs - 1 })
  const irq = irqW
  if (isIRQActive(k, irq)) return syscallError(k, { tag: "RevokeFirst" })
  let st = lookupTargetSlot(k, cnodeCap, index, depth)
  if (st !== EXCEPTION_NONE) return st
  const destSlot = lookedUpSlot(k)
  st = ensureEmptySlot(k, destSlot)
  if (st !== EXCEPTION_NONE) return st
  setThreadState(k, k.curThread, ThreadStateRestart)
  return invokeIRQControl(k, irq, destSlot, srcSlot)
}

/**
 * Issue the handler cap for `irq` (an MDB child of the IRQControl cap) and make the line Signal
 * (unmasked).
 * @refines spec/object/interrupt#invokeIRQ
 */
export function invokeIRQControl(k: ImplState, irq: number, handlerSlot: Cte, controlSlot: Cte): Exception {
  setIRQState(k, "IRQSignal", irq)
  cteInsert(k, { tag: "IRQHandlerCap", irq }, controlSlot, handlerSlot)
  return EXCEPTION_NONE
}

/**
 * Decode an IRQHandler invocation: Ack (unmask), SetIRQHandler (extra cap: a NotificationCap with
 * Write, copied into the line's IRQ-node slot), Clear (empty that slot).
 *
 * **Errors**: SetIRQHandler without an extra cap TruncatedMessage, not a notification cap with
 * Write InvalidCapability(0); other labels IllegalOperation.
 * @refines spec/object/interrupt#decodeIRQHandlerInvocation
 */
export function decodeIRQHandlerInvocation(k: ImplState, invLabel: number, irq: number): Exception {
  switch (invLabel) {
    // Ack: let the line fire again.
    case L.IRQAckIRQ:
      setThreadState(k, k.curThread, ThreadStateRestart)
      invokeIRQHandler_AckIRQ(k, irq)
      return EXCEPTION_NONE
    // SetIRQHandler: the notification to signal.
    case L.IRQSetIRQHandler: {
      const slot = extraCapSlot(k, 0)
      if (slot === null) return syscallError(k, { tag: "TruncatedMessage" })
      const ntfnCap = slot.cap
      if (ntfnCap.tag !== "NotificationCap" || (ntfnCap.rights & RightW) === 0) {
        return syscallError(k, { tag: "InvalidCapability", capability: 0 })
      }
      setThreadState(k, k.curThread, ThreadStateRestart)
      invokeIRQHandler_SetIRQHandler(k, irq, ntfnCap, slot)
      return EXCEPTION_NONE
    }
    // Clear: no notification any more.
    case L.IRQClearIRQHandler:
      setThreadState(k, k.curThread, ThreadStateRestart)
      invokeIRQHandler_ClearIRQHandler(k, irq)
      return EXCEPTION_NONE
    default:
      return syscallError(k, { tag: "IllegalOperation" })
  }
}

/** Unmask the line. @refines spec/object/interrupt#invokeIRQ */
export function invokeIRQHandler_AckIRQ(k: ImplState, irq: number): void {
  maskInterrupt(k, false, irq)
}

/**
 * Replace the line's notification: delete the IRQ-node slot's cap, then copy the given cap there as
 * an MDB child of its slot.
 * @refines spec/object/interrupt#invokeIRQ
 */
export function invokeIRQHandler_SetIRQHandler(k: ImplState, irq: number, cap: Cap, slot: Cte): void {
  const node = irqSlot(k, irq)
  cteDeleteOne(k, node)
  cteInsert(k, cap, slot, node)
}

/** Empty the line's IRQ-node slot. @refines spec/object/interrupt#invokeIRQ */
export function invokeIRQHandler_ClearIRQHandler(k: ImplState, irq: number): void {
  cteDeleteOne(k, irqSlot(k, irq))
}

/**
 * The last IRQHandlerCap of `irq` is being deleted: empty the line's IRQ-node slot.
 * @refines spec/object/interrupt#deletingIRQHandler
 */
export function deletingIRQHandler(k: ImplState, irq: number): void {
  cteDeleteOne(k, irqSlot(k, irq))
}

/**
 * The last IRQHandlerCap of `irq` is gone (C postCapDeletion): the line becomes Inactive (masked).
 * @refines spec/object/interrupt#deletedIRQHandler
 */
export function deletedIRQHandler(k: ImplState, irq: number): void {
  setIRQState(k, "IRQInactive", irq)
}
