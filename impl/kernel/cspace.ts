/**
 * Capability lookup (seL4 src/kernel/cspace.c). Results come back the way the C kernel returns
 * them: a status code, with the slot and remaining bits in `k.lookupSlotResult` /
 * `k.lookupBitsRemaining` and any failure in `k.currentLookupFault` / `k.currentSyscallError`.
 * A successful lookup allocates nothing.
 * @category decoding
 */
import type { Cap } from "../../model/index.ts"
import { tcbCTable, wordBits } from "../../model/index.ts"
import type { Cte, ImplState, ImplTcb } from "../state.ts"
import {
  EXCEPTION_LOOKUP_FAULT, EXCEPTION_NONE, type Exception, ImplCNode, KernelBug, cnodeSlot, getCNodeImpl, slotObject, tcbSlot,
  syscallError,
} from "../state.ts"

/**
 * `(w >> n) & mask(bits)` for a word, total over shift counts (JS `>>>` wraps at 32). The mask is
 * built with int32 shifts (`(1 << bits) - 1` wraps to 0x7fffffff at 31 bits, which `&` reads as
 * int32): no `2 ** bits` on the lookup path.
 */
const bitsAt = (w: number, n: number, bits: number): number =>
  bits <= 0 ? 0 : (((n >= 32 ? 0 : w >>> n) & (bits >= 32 ? -1 : (1 << bits) - 1)) >>> 0)

/**
 * The CNode a CNode cap names, through the kept pointer of the slot it sits in (`slotObject`, as C
 * reads the pointer out of the cap), or through the object table for a cap in no slot (null).
 */
function cnodeOf(k: ImplState, cap: Extract<Cap, { tag: "CNodeCap" }>, slot: Cte | null): ImplCNode {
  if (slot === null) return getCNodeImpl(k, cap.ptr)
  const o = slotObject(k, slot, cap.ptr)
  if (!(o instanceof ImplCNode)) throw new KernelBug(`getCNode: no CNode at 0x${cap.ptr.toString(16)}`)
  return o
}

/**
 * Walk the CNodes from `nodeCap` (held in `nodeSlot`, or null if it is in no slot), consuming `nBits`
 * bits of `capptr`, guard first then radix at each level, until the bits run out or a slot holds
 * something other than a CNode cap (leftover bits are reported in `k.lookupBitsRemaining`).
 * Failures: InvalidRoot, GuardMismatch, DepthMismatch.
 * @refines spec/kernel/cspace#resolveAddressBits
 */
export function resolveAddressBits(k: ImplState, nodeCap: Cap, nodeSlot: Cte | null, capptr: number, nBits: number): Exception {
  k.lookupBitsRemaining = nBits
  k.lookupSlotResult = null
  if (nodeCap.tag !== "CNodeCap") {
    k.currentLookupFault = { tag: "InvalidRoot" }
    return EXCEPTION_LOOKUP_FAULT
  }
  let n = nBits
  let cap: Cap = nodeCap
  let capSlot = nodeSlot
  for (;;) {
    // Haskell error: "All CNodes must resolve bits"
    const radixBits = cap.radix
    const guardBits = cap.guardSize
    const levelBits = radixBits + guardBits
    if (levelBits === 0) throw new KernelBug("All CNodes must resolve bits")
    const capGuard = cap.guard
    // Guard: the top guardBits of the remaining n bits must equal the cap's guard.
    const guard = bitsAt(capptr, (n - guardBits) & 31, guardBits)
    if (guardBits > n || guard !== capGuard) {
      k.currentLookupFault = { tag: "GuardMismatch", bitsLeft: n, guardFound: capGuard, bitsFound: guardBits }
      return EXCEPTION_LOOKUP_FAULT
    }
    // Depth: the level must fit in the remaining bits.
    if (levelBits > n) {
      k.currentLookupFault = { tag: "DepthMismatch", bitsLeft: n, bitsFound: levelBits }
      return EXCEPTION_LOOKUP_FAULT
    }
    const offset = bitsAt(capptr, n - levelBits, radixBits)
    const slot = cnodeSlot(cnodeOf(k, cap, capSlot), offset)
    if (n === levelBits) {
      k.lookupSlotResult = slot
      k.lookupBitsRemaining = 0
      return EXCEPTION_NONE
    }
    n -= levelBits
    const next = slot.cap
    if (next.tag !== "CNodeCap") {
      k.lookupSlotResult = slot
      k.lookupBitsRemaining = n
      return EXCEPTION_NONE
    }
    cap = next
    capSlot = slot
  }
}

/**
 * Look up `capptr` in a thread's CSpace with all 32 bits; leftover bits are ignored and an empty
 * slot is not a failure. The slot lands in `k.lookupSlotResult`.
 * @refines spec/kernel/cspace#lookupSlot
 */
export function lookupSlot(k: ImplState, thread: ImplTcb, capptr: number): Exception {
  const root = tcbSlot(thread, tcbCTable)
  return resolveAddressBits(k, root.cap, root, capptr, wordBits)
}

/** @refines spec/kernel/cspace#lookupCapAndSlot (the cap is `k.lookupSlotResult.cap`) */
export function lookupCapAndSlot(k: ImplState, thread: ImplTcb, capptr: number): Exception {
  return lookupSlot(k, thread, capptr)
}

/**
 * Look up a slot for a CNode operation: the root must be a CNode cap, the depth 1..32, and the
 * lookup must consume exactly `depth` bits. Errors: FailedLookup(isSource, InvalidRoot | lookup
 * failure | DepthMismatch(remaining, 0)), RangeError(1, 32).
 * @refines spec/kernel/cspace#lookupSlotForCNodeOp
 */
export function lookupSlotForCNodeOp(k: ImplState, isSource: boolean, root: Cap, capptr: number, depth: number): Exception {
  k.lookupSlotResult = null
  if (root.tag !== "CNodeCap") {
    return syscallError(k, { tag: "FailedLookup", wasSource: isSource, failure: { tag: "InvalidRoot" } })
  }
  if (depth < 1 || depth > wordBits) return syscallError(k, { tag: "RangeError", min: 1, max: wordBits })
  const st = resolveAddressBits(k, root, null, capptr, depth)
  if (st !== EXCEPTION_NONE) return syscallError(k, { tag: "FailedLookup", wasSource: isSource, failure: k.currentLookupFault })
  if (k.lookupBitsRemaining !== 0) {
    k.currentLookupFault = { tag: "DepthMismatch", bitsLeft: k.lookupBitsRemaining, bitsFound: 0 }
    k.lookupSlotResult = null
    return syscallError(k, { tag: "FailedLookup", wasSource: isSource, failure: k.currentLookupFault })
  }
  return EXCEPTION_NONE
}

/** @refines spec/kernel/cspace#lookupSourceSlot */
export const lookupSourceSlot = (k: ImplState, root: Cap, capptr: number, depth: number): Exception =>
  lookupSlotForCNodeOp(k, true, root, capptr, depth)
/** @refines spec/kernel/cspace#lookupTargetSlot */
export const lookupTargetSlot = (k: ImplState, root: Cap, capptr: number, depth: number): Exception =>
  lookupSlotForCNodeOp(k, false, root, capptr, depth)
/** @refines spec/kernel/cspace#lookupPivotSlot */
export const lookupPivotSlot = (k: ImplState, root: Cap, capptr: number, depth: number): Exception =>
  lookupSlotForCNodeOp(k, true, root, capptr, depth)

/** The slot found by the last successful lookup. */
export const lookedUpSlot = (k: ImplState): Cte => {
  const s = k.lookupSlotResult
  if (s === null) throw new KernelBug("lookup returned no slot")
  return s
}
