/**
 * Preemption points (seL4 src/model/preemption.c): a long operation calls `preemptionPoint` after
 * each unit of work; every `maxWorkUnitsPerPreemption` units the kernel looks at the interrupt
 * controller and, with an interrupt pending, the operation returns EXCEPTION_PREEMPTED.
 * @category objects
 */
import type { ImplState } from "../state.ts"
import { EXCEPTION_NONE, EXCEPTION_PREEMPTED, type Exception } from "../state.ts"

/**
 * Is an interrupt pending at the controller: the entry's line, if it exists and is unmasked?
 * C `isIRQPending` (the GIC reports only enabled lines).
 * @refines spec/model/preemption#isIRQPending
 */
export function isIRQPending(k: ImplState): boolean {
  const irq = k.pendingIRQ
  return irq !== null && irq < k.numIRQs && !k.irqMasks[irq]
}

/**
 * Count one unit of work; at the limit, start counting again and preempt if an interrupt is
 * pending. C `preemptionPoint` (non-MCS).
 * @refines spec/model/preemption#preemptionPoint
 */
export function preemptionPoint(k: ImplState): Exception {
  k.ksWorkUnitsCompleted++
  if (k.ksWorkUnitsCompleted >= k.maxWorkUnitsPerPreemption) {
    k.ksWorkUnitsCompleted = 0
    if (isIRQPending(k)) return EXCEPTION_PREEMPTED
  }
  return EXCEPTION_NONE
}
