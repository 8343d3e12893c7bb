/**
 * Capability address resolution (seL4 src/kernel/cspace.c, A/CSpace_A `resolve_address_bits`).
 * @category objects
 */
import type { Cap, LookupFailure, PPtr, SlotPtr, SyscallError } from "../../model/index.ts"
import { mask, shiftRight, tcbCTable, wordBits } from "../../model/index.ts"
import type { Result } from "../result.ts"
import { err, ok } from "../result.ts"
import type { KernelState } from "../state.ts"
import { getCap, slotOf } from "../state.ts"

/** Where a lookup stopped: the slot reached and the address bits not yet consumed. */
export interface ResolvedSlot { readonly slot: SlotPtr; readonly bitsRemaining: number }

/**
 * Resolve the top `nBits` bits of `cptr` starting at CNode cap `nodeCap`. Each level first checks
 * the guard (GuardMismatch), then that guard and radix fit in the remaining bits
 * (DepthMismatch), then indexes the radix bits. The walk stops at the slot where the bits run
 * out, or at a slot that does not hold a CNode cap, leaving the rest of the bits unresolved.
 * An empty slot is not a failure. Mirrors seL4 `resolveAddressBits`.
 */
export const resolveAddressBits = (
  s: KernelState, nodeCap: Cap, cptr: number, nBits: number,
): Result<ResolvedSlot, LookupFailure> => {
  if (nodeCap.tag !== "CNodeCap") return err({ tag: "InvalidRoot" })
  let node = nodeCap
  let n = nBits
  for (;;) {
    const levelBits = node.radix + node.guardSize
    // Guard: the next guardSize bits of the address must equal the cap's guard.
    const guard = (shiftRight(cptr, n - node.guardSize) & mask(node.guardSize)) >>> 0
    if (node.guardSize > n || guard !== node.guard) {
      return err({ tag: "GuardMismatch", bitsLeft: n, guardFound: node.guard, bitsFound: node.guardSize })
    }
    // Depth: the level must not consume more bits than remain.
    if (levelBits > n) return err({ tag: "DepthMismatch", bitsLeft: n, bitsFound: levelBits })
    const offset = (shiftRight(cptr, n - levelBits) & mask(node.radix)) >>> 0
    const slot = slotOf(node.ptr, offset)
    // All bits consumed: this is the slot.
    if (n === levelBits) return ok({ slot, bitsRemaining: 0 })
    n -= levelBits
    const next = getCap(s, slot)
    // Not a CNode: stop here with bits left over.
    if (next.tag !== "CNodeCap") return ok({ slot, bitsRemaining: n })
    node = next
  }
}

/** The root of a thread's CSpace: the cap in its TCB's ctable slot. */
export const threadRoot = (s: KernelState, thread: PPtr): Cap => getCap(s, slotOf(thread, tcbCTable))

/**
 * Find the slot a thread names with a full-word cptr; leftover bits are ignored.
 * Mirrors seL4 `lookupSlot`.
 */
export const lookupSlot = (s: KernelState, thread: PPtr, cptr: number): Result<SlotPtr, LookupFailure> => {
  const r = resolveAddressBits(s, threadRoot(s, thread), cptr, wordBits)
  return r.ok ? ok(r.value.slot) : r
}

/** The cap and slot a thread names with `cptr`. Mirrors seL4 `lookupCapAndSlot`. */
export const lookupCapAndSlot = (
  s: KernelState, thread: PPtr, cptr: number,
): Result<{ readonly cap: Cap; readonly slot: SlotPtr }, LookupFailure> => {
  const r = lookupSlot(s, thread, cptr)
  return r.ok ? ok({ cap: getCap(s, r.value), slot: r.value }) : r
}

/** The cap a thread names with `cptr`. Mirrors seL4 `lookupCap`. */
export const lookupCap = (s: KernelState, thread: PPtr, cptr: number): Result<Cap, LookupFailure> => {
  const r = lookupSlot(s, thread, cptr)
  return r.ok ? ok(getCap(s, r.value)) : r
}

/**
 * Look up a slot for a CNode invocation: the root must be a CNode cap, the depth 1..32, the
 * lookup must succeed and consume exactly `depth` bits. Failures are FailedLookup errors marked
 * as source or destination. Mirrors seL4 `lookupSlotForCNodeOp`.
 */
export const lookupSlotForCNodeOp = (
  s: KernelState, isSource: boolean, root: Cap, cptr: number, depth: number,
): Result<SlotPtr, SyscallError> => {
  if (root.tag !== "CNodeCap") return err({ tag: "FailedLookup", wasSource: isSource, failure: { tag: "InvalidRoot" } })
  if (depth < 1 || depth > wordBits) return err({ tag: "RangeError", min: 1, max: wordBits })
  const r = resolveAddressBits(s, root, cptr, depth)
  if (!r.ok) return err({ tag: "FailedLookup", wasSource: isSource, failure: r.error })
  if (r.value.bitsRemaining !== 0) {
    return err({
      tag: "FailedLookup", wasSource: isSource,
      failure: { tag: "DepthMismatch", bitsLeft: r.value.bitsRemaining, bitsFound: 0 },
    })
  }
  return ok(r.value.slot)
}
export const lookupSourceSlot = (s: KernelState, root: Cap, cptr: number, depth: number) =>
  lookupSlotForCNodeOp(s, true, root, cptr, depth)
export const lookupTargetSlot = (s: KernelState, root: Cap, cptr: number, depth: number) =>
  lookupSlotForCNodeOp(s, false, root, cptr, depth)
export const lookupPivotSlot = (s: KernelState, root: Cap, cptr: number, depth: number) =>
  lookupSlotForCNodeOp(s, true, root, cptr, depth)
