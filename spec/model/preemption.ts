/**
 * Preemption points (seL4 src/model/preemption.c `preemptionPoint`, l4v Exceptions_A
 * `preemption_point` with Deterministic_A's work units). A long operation (delete, revoke, an
 * untyped's reset) passes a preemption point after each unit of work; every `workUnitsLimit`
 * points the kernel looks at the interrupt controller, and if a line is pending the operation
 * stops there. Whatever it did so far is a consistent state, which every invariant accepts: the
 * caller stays `Restart`, the entry handles the interrupt, and the syscall runs again the next
 * time the thread runs, taking up the work where it stopped.
 * @category objects
 */
import type { KernelState } from "../state.ts"
import { updateState } from "../state.ts"

/**
 * What a preemptible operation left: the state, and whether a preemption point stopped it there
 * (l4v's `p_monad` result, C's `EXCEPTION_PREEMPTED`).
 */
export interface Preemptible {
  readonly state: KernelState
  readonly preempted: boolean
}

/** The state `s`, not preempted. */
export const notPreempted = (s: KernelState): Preemptible => ({ state: s, preempted: false })

/**
 * Does the interrupt controller report a pending interrupt: a line that exists and is not
 * masked? Mirrors seL4 `isIRQPending`; the line is the entry's `pendingIRQ`.
 */
export const isIRQPending = (s: KernelState): boolean =>
  s.irqPending !== null && s.irqPending < s.numIRQs && !s.irqMasks[s.irqPending]

/**
 * One unit of work done. Every `workUnitsLimit` units the counter starts over and the kernel
 * looks at the interrupt controller: a pending interrupt preempts the operation.
 * Mirrors seL4 `preemptionPoint` (non-MCS) / l4v `preemption_point` (deterministic: the look
 * happens exactly when the limit is reached, as in C).
 */
export const preemptionPoint = (s: KernelState): Preemptible => {
  const done = s.workUnitsCompleted + 1
  // Below the limit: count the unit and go on.
  if (done < s.workUnitsLimit) return notPreempted(updateState(s, { workUnitsCompleted: done }))
  // At the limit: start counting again, and stop if an interrupt is pending.
  const s1 = updateState(s, { workUnitsCompleted: 0 })
  return { state: s1, preempted: isIRQPending(s1) }
}
