/**
 * Interrupt invariants: the IRQ node, IRQ handler caps, and the interrupt states and masks
 * (l4v Invariants_AI `valid_irq_node`, `valid_irq_handlers`, `valid_irq_states`, and the IRQ-node
 * part of `if_unsafe_then_cap`).
 * @category invariants
 */
import type { SlotPtr } from "../../model/index.ts"
import { RightW, bit, hasRight, showCap, slotBits, timerIRQ } from "../../model/index.ts"
import { irqNodeRadix } from "../kernel/boot.ts"
import type { KernelState } from "../state.ts"
import { slotOf } from "../state.ts"
import { hex, showSlot } from "./internal.ts"
import type { StateDelta } from "./delta.ts"
import { changedCapWhere } from "./mdb.ts"
import { changedSlots, defineInvariant, everything, noKeys, nothingChanged } from "./types.ts"

/** The slots holding an IRQHandlerCap, by IRQ (computed once per state; states are immutable). */
/** Did the step change a slot of the IRQ node? */
const touchesIrqNode = (s: KernelState, d: StateDelta): boolean => {
  const lo = s.irqNode
  const hi = s.irqNode + bit(irqNodeRadix(s.numIRQs) + slotBits)
  for (const slot of d.slots) if (slot >= lo && slot < hi) return true
  return false
}

const handlerCache = new WeakMap<KernelState, ReadonlyMap<number, readonly SlotPtr[]>>()
const irqHandlerSlots = (s: KernelState): ReadonlyMap<number, readonly SlotPtr[]> => {
  const cached = handlerCache.get(s)
  if (cached !== undefined) return cached
  const out = new Map<number, SlotPtr[]>()
  for (const [slot, c] of s.caps) {
    if (c.tag !== "IRQHandlerCap") continue
    const l = out.get(c.irq)
    if (l === undefined) out.set(c.irq, [slot])
    else l.push(slot)
  }
  handlerCache.set(s, out)
  return out
}

/**
 * The IRQ node is a CNode in the heap with one slot per interrupt line (radix
 * `ceil(log2 numIRQs)`), and each cap stored in it is a notification cap with the Write right,
 * in the slot of an existing line. (That no cap names the node is `valid_global_refs`.)
 *
 * Why: handleInterrupt reads slot `irq` of the node to find the notification to signal; a node
 * of the wrong size puts a line's slot outside it, and any other cap there would be signalled
 * as if it were a notification.
 *
 * Mirrors: l4v Invariants_AI `valid_irq_node` (l4v: an injective map from IRQs to radix-0 CNodes;
 * kspec: one CNode whose slot i is IRQ i's, so injectivity holds by construction). The
 * cap-type clause is kspec's: seL4's `decodeIRQHandlerInvocation` admits only notification caps
 * with CanSend to `IRQSetIRQHandler`, the only way a cap enters the node.
 */
export const validIrqNode = defineInvariant({
  name: "valid_irq_node",
  statement:
    "The IRQ node is a CNode of radix ceil(log2 numIRQs), and it holds only notification caps with Write, each in the " +
    "slot of an existing IRQ line.",
  mirrors: "l4v Invariants_AI valid_irq_node",
  threatenedBy: ["IRQHandler_SetNotification", "IRQHandler_Clear", "cteInsert", "cteDelete", "Untyped_Retype"],
  // The IRQ node and its slots (its address and the IRQ count are fixed at boot).
  scope: (s, _prev, d) => (d.objects.has(s.irqNode) || touchesIrqNode(s, d) ? noKeys : nothingChanged),
  find: (s, report) => {
    const node = s.kheap.get(s.irqNode)
    const want = irqNodeRadix(s.numIRQs)
    if (node?.tag !== "CNode") {
      report(`the IRQ node ${hex(s.irqNode)} is ${node === undefined ? "no object" : `a ${node.tag}`}, not a CNode`)
      return
    }
    if (node.radix !== want) report(`the IRQ node ${hex(s.irqNode)} has radix ${node.radix}, not ${want} for ${s.numIRQs} IRQs`)
    // Look up each slot of the node by address: at most 2^radix map lookups, bounded by the radix
    // boot gives it (a larger node was reported above).
    const n = bit(Math.min(node.radix, want))
    for (let irq = 0; irq < n; irq++) {
      const slot = slotOf(s.irqNode, irq)
      const c = s.caps.get(slot)
      if (c === undefined) continue
      if (irq >= s.numIRQs) report(`IRQ node ${showSlot(s, slot)} holds ${showCap(c)}, but IRQ ${irq} does not exist`)
      else if (c.tag !== "NotificationCap") report(`IRQ node ${showSlot(s, slot)} (IRQ ${irq}) holds ${showCap(c)}, not a notification cap`)
      else if (!hasRight(c.rights, RightW)) report(`IRQ node ${showSlot(s, slot)} (IRQ ${irq}) holds ${showCap(c)}, without the Write right`)
    }
  },
})

/**
 * A cap in IRQ i's node slot is reachable: some IRQHandlerCap for IRQ i exists.
 *
 * Why: the node slot is only reachable through an IRQ handler cap; when the last one is deleted,
 * `deletingIRQHandler` must empty the slot, or the line would keep signalling a notification no
 * handler cap controls, and a later IRQControl_IssueIRQHandler for the line would find the old binding.
 *
 * Mirrors: l4v Invariants_AI `if_unsafe_then_cap` restricted to the IRQ node (the only cap
 * whose `cte_refs` include IRQ node slot i is `IRQHandlerCap i`, and `valid_global_refs` rules
 * out CNode caps to the node).
 */
export const ifUnsafeThenCapIrqNode = defineInvariant({
  name: "if_unsafe_then_cap.irq_node",
  statement: "IRQ i's node slot holds a cap only while some IRQHandlerCap for IRQ i exists.",
  mirrors: "l4v Invariants_AI if_unsafe_then_cap (IRQ node slots; cte_refs of IRQHandlerCap)",
  threatenedBy: ["cteDelete", "finaliseCap", "deletingIRQHandler", "IRQHandler_SetNotification", "CNode_Revoke"],
  // The IRQ node's slots against every IRQ handler cap: in full when either changed.
  scope: (s, prev, d) => (d.objects.has(s.irqNode) || touchesIrqNode(s, d) || changedCapWhere(s, prev, d, (t) => t === "IRQHandlerCap") ? everything : nothingChanged),
  find: (s, report) => {
    const node = s.kheap.get(s.irqNode)
    if (node?.tag !== "CNode") return
    const handlers = irqHandlerSlots(s)
    const n = bit(Math.min(node.radix, irqNodeRadix(s.numIRQs)))
    for (let irq = 0; irq < n; irq++) {
      const slot = slotOf(s.irqNode, irq)
      const c = s.caps.get(slot)
      if (c !== undefined && !handlers.has(irq)) {
        report(`IRQ node ${showSlot(s, slot)} holds ${showCap(c)}, but no IRQHandlerCap for IRQ ${irq} exists`)
      }
    }
  },
})

/**
 * An IRQ handler cap exists only for a line in the IRQSignal state.
 *
 * Why: IRQControl_IssueIRQHandler issues a handler cap only for an inactive line and sets it IRQSignal;
 * deleting the last handler cap sets it Inactive. A handler cap for the timer line, or for a
 * line the kernel deactivated, would let user code acknowledge or rebind it.
 *
 * Mirrors: l4v Invariants_AI `valid_irq_handlers` (`irq_issued`).
 */
export const validIrqHandlers = defineInvariant({
  name: "valid_irq_handlers",
  statement: "Every IRQHandlerCap names a line whose state is IRQSignal.",
  mirrors: "l4v Invariants_AI valid_irq_handlers",
  threatenedBy: ["IRQControl_IssueIRQHandler", "cteDelete", "finaliseCap", "deletedIRQHandler", "setIRQState", "CNode_Copy", "CNode_Mint"],
  // Per handler cap: a changed one; every one when the line states changed.
  scope: (s, prev, d) => (s.irqStates !== prev.irqStates ? everything : changedSlots(d)),
  find: (s, report) => {
    for (const [irq, slots] of irqHandlerSlots(s)) {
      const st = s.irqStates[irq]
      if (st !== "IRQSignal") {
        for (const slot of slots) report(`${showSlot(s, slot)} holds an IRQHandlerCap for IRQ ${irq}, whose state is ${st ?? "undefined"}, not IRQSignal`)
      }
    }
  },
})

/**
 * There is a state and a mask bit for every line, and an inactive line is masked.
 *
 * Why: an unmasked inactive line would deliver interrupts the kernel has nothing to do with;
 * seL4's `setIRQState` masks a line exactly when it becomes Inactive.
 *
 * Mirrors: l4v Invariants_AI `valid_irq_states` (`valid_irq_masks`).
 */
export const validIrqStates = defineInvariant({
  name: "valid_irq_states",
  statement: "irqStates and irqMasks have numIRQs entries, and every IRQInactive line is masked.",
  mirrors: "l4v Invariants_AI valid_irq_states (valid_irq_masks)",
  threatenedBy: ["setIRQState", "IRQControl_IssueIRQHandler", "IRQHandler_AckIRQ", "deletedIRQHandler", "handleInterrupt"],
  // The line states and masks.
  scope: (s, prev) => (s.irqStates === prev.irqStates && s.irqMasks === prev.irqMasks ? nothingChanged : noKeys),
  find: (s, report) => {
    if (s.irqStates.length !== s.numIRQs) report(`irqStates has ${s.irqStates.length} entries for ${s.numIRQs} IRQs (node ${hex(s.irqNode)})`)
    if (s.irqMasks.length !== s.numIRQs) report(`irqMasks has ${s.irqMasks.length} entries for ${s.numIRQs} IRQs (node ${hex(s.irqNode)})`)
    const n = Math.min(s.irqStates.length, s.numIRQs)
    for (let irq = 0; irq < n; irq++) {
      if (s.irqStates[irq] === "IRQInactive" && s.irqMasks[irq] !== true) {
        report(`IRQ ${irq} (node slot ${hex(slotOf(s.irqNode, irq))}) is IRQInactive but unmasked`)
      }
    }
  },
})

/**
 * The kernel timer's line is IRQTimer and no other line is.
 *
 * Why: the scheduler's tick comes from that line alone; IRQControl_IssueIRQHandler refuses a line that is not
 * Inactive, so user code can never take the timer, and no invocation makes another line a timer.
 *
 * Mirrors: none (kspec-specific; seL4 C `initIRQController`/`setIRQState(IRQTimer,
 * KERNEL_TIMER_IRQ)` at boot and `isIRQActive` in `decodeIRQControlInvocation`).
 */
export const irqTimer = defineInvariant({
  name: "irq_timer",
  statement: `The timer line (IRQ ${timerIRQ}) is IRQTimer, and no other line is.`,
  mirrors: "none (kspec-specific; seL4 C boot sets KERNEL_TIMER_IRQ to IRQTimer, and IRQControl refuses active lines)",
  threatenedBy: ["IRQControl_IssueIRQHandler", "setIRQState", "deletedIRQHandler"],
  // The line states.
  scope: (s, prev) => (s.irqStates === prev.irqStates ? nothingChanged : noKeys),
  find: (s, report) => {
    for (let irq = 0; irq < s.irqStates.length; irq++) {
      const isTimer = s.irqStates[irq] === "IRQTimer"
      if (irq === timerIRQ && !isTimer) report(`the timer line IRQ ${irq} (node slot ${hex(slotOf(s.irqNode, irq))}) is ${s.irqStates[irq]}, not IRQTimer`)
      if (irq !== timerIRQ && isTimer) report(`IRQ ${irq} (node slot ${hex(slotOf(s.irqNode, irq))}) is IRQTimer, but only IRQ ${timerIRQ} is the timer`)
    }
  },
})

/** The interrupt invariants, in registry order. */
export const irqInvariants = [validIrqNode, ifUnsafeThenCapIrqNode, validIrqHandlers, validIrqStates, irqTimer] as const
