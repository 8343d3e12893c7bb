/**
 * The capability derivation tree, the master reply cap (`setupReplyMaster`) and the CNode
 * invocations, one decoder per group (seL4 src/object/cnode.c, A/CSpace_A, A/CNode_A, A/Decode_A
 * `decode_cnode_invocation`). The CDT is kept explicitly as a
 * parent map with ordered child lists (l4v `cdt`, `cdt_list`), so revoke order is fixed: first
 * child first, depth first, as seL4's C kernel deletes them.
 * @category objects
 */
import { match } from "ts-pattern"
import type { Cap, PPtr, SlotPtr, SyscallError } from "../../model/index.ts"
import { InvocationLabel as L, NullCap, allRights, rightsFromWord, tcbCaller, tcbReply } from "../../model/index.ts"
import type { Result } from "../result.ts"
import { err, ok } from "../result.ts"
import type { KernelState } from "../state.ts"
import { getCap, mapDelete, mapRemap, mapSet, mapSome, setAdd, setCap, setDelete, setRemap, slotOf, updateState } from "../state.ts"
import { lookupPivotSlot, lookupSourceSlot, lookupTargetSlot } from "../kernel/cspace.ts"
import { deriveCap, finaliseCap, isCapRevocable, sameObjectAs, shouldBeParentOf, updateCapData, maskCapRights } from "./objecttype.ts"
import { cancelBadgedSends } from "./endpoint.ts"

// ---- CDT helpers ----------------------------------------------------------------------------------

/** Children of a slot in CDT order. */
export const childrenOf = (s: KernelState, slot: SlotPtr): readonly SlotPtr[] => s.cdtList.get(slot) ?? []

/** Does the slot have CDT children? Mirrors seL4 `ensureNoChildren`'s test. */
export const hasChildren = (s: KernelState, slot: SlotPtr): boolean => childrenOf(s, slot).length > 0

const setChildren = (s: KernelState, slot: SlotPtr, cs: readonly SlotPtr[]): KernelState =>
  updateState(s, { cdtList: cs.length === 0 ? mapDelete(s.cdtList, slot) : mapSet(s.cdtList, slot, cs) })

/**
 * Rename CDT positions by the slot permutation `pi` (identity outside its domain): parent links,
 * child lists and originality follow the caps to their new slots. Move and swap are renamings.
 */
const renameSlots = (s: KernelState, pi: ReadonlyMap<SlotPtr, SlotPtr>): KernelState => {
  const r = (x: SlotPtr) => pi.get(x) ?? x
  const cdt = mapRemap(s.cdt, (c, p) => [r(c), r(p)])
  const cdtList = mapRemap(s.cdtList, (p, cs) => [r(p), cs.some((x) => pi.has(x)) ? cs.map(r) : cs])
  const isOriginal = setRemap(s.isOriginal, r)
  return updateState(s, { cdt, cdtList, isOriginal })
}

// ---- insert, move, swap ---------------------------------------------------------------------------

/**
 * Mark an untyped cap full when a copy of the whole untyped is made from it, so the two cannot
 * both hand out the same memory. Mirrors seL4 `setUntypedCapAsFull`.
 */
const setUntypedCapAsFull = (s: KernelState, srcCap: Cap, newCap: Cap, src: SlotPtr): KernelState =>
  srcCap.tag === "UntypedCap" && newCap.tag === "UntypedCap" && srcCap.ptr === newCap.ptr && srcCap.sizeBits === newCap.sizeBits
    ? setCap(s, src, { ...srcCap, freeIndex: 2 ** srcCap.sizeBits })
    : s

/**
 * Put `newCap`, derived from the cap in `src`, into the empty slot `dest`. It becomes the first
 * child of `src` when `src` should parent it, else the next sibling after `src`; it is original
 * when seL4 counts it so. Mirrors l4v `cap_insert` / seL4 `cteInsert`.
 */
export const cteInsert = (s: KernelState, newCap: Cap, src: SlotPtr, dest: SlotPtr): KernelState => {
  const srcCap = getCap(s, src)
  const destOriginal = isCapRevocable(newCap, srcCap)
  const srcParent = shouldBeParentOf(srcCap, s.isOriginal.has(src), newCap, destOriginal)
  const srcP = s.cdt.get(src)
  let s1: KernelState
  if (srcParent) {
    // A child: first among src's children.
    s1 = setChildren(updateState(s, { cdt: mapSet(s.cdt, dest, src) }), src, [dest, ...childrenOf(s, src)])
  } else if (srcP !== undefined) {
    // A sibling: right after src among its parent's children.
    const sibs = childrenOf(s, srcP)
    const i = sibs.indexOf(src)
    s1 = setChildren(updateState(s, { cdt: mapSet(s.cdt, dest, srcP) }), srcP, [...sibs.slice(0, i + 1), dest, ...sibs.slice(i + 1)])
  } else {
    // A sibling of a root: a root itself.
    s1 = s
  }
  s1 = setUntypedCapAsFull(s1, srcCap, newCap, src)
  s1 = setCap(s1, dest, newCap)
  return updateState(s1, { isOriginal: destOriginal ? setAdd(s1.isOriginal, dest) : setDelete(s1.isOriginal, dest) })
}

/**
 * Move the cap in `src` to the empty slot `dest` as `newCap`: its CDT position, children and
 * originality go with it. Mirrors l4v `cap_move` / seL4 `cteMove`.
 */
export const cteMove = (s: KernelState, newCap: Cap, src: SlotPtr, dest: SlotPtr): KernelState =>
  setCap(setCap(renameSlots(s, new Map([[src, dest]])), src, NullCap), dest, newCap)

/**
 * Exchange two caps (as `cap1`, now in `slot2`, and `cap2`, now in `slot1`) with their CDT
 * positions. Mirrors l4v `cap_swap` / seL4 `cteSwap`.
 */
export const cteSwap = (s: KernelState, cap1: Cap, slot1: SlotPtr, cap2: Cap, slot2: SlotPtr): KernelState =>
  setCap(setCap(renameSlots(s, new Map([[slot1, slot2], [slot2, slot1]])), slot2, cap1), slot1, cap2)

/**
 * Give a thread its master reply cap if its reply slot is empty: an original cap to itself with
 * Grant, outside the CDT. A thread that may run always has one, so it can be called.
 * Mirrors seL4 `setupReplyMaster` (non-MCS, src/object/cnode.c) / l4v `setup_reply_master`.
 */
export const setupReplyMaster = (s: KernelState, t: PPtr): KernelState => {
  const slot = slotOf(t, tcbReply)
  if (getCap(s, slot).tag !== "NullCap") return s
  const s1 = setCap(s, slot, { tag: "ReplyCap", tcb: t, isMaster: true, canGrant: true })
  return updateState(s1, { isOriginal: setAdd(s1.isOriginal, slot) })
}

// ---- delete, finalise, revoke ----------------------------------------------------------------------

/**
 * Is the cap in `slot` the last one to its object? Only then does deleting it finalise the
 * object. Mirrors l4v `is_final_cap` (seL4's C checks only MDB neighbours, which the
 * refinement relation shows equivalent).
 */
export const isFinalCapability = (s: KernelState, slot: SlotPtr): boolean => {
  const cap = getCap(s, slot)
  return !mapSome(s.caps, (c, other) => other !== slot && (sameObjectAs(cap, c) || sameObjectAs(c, cap)))
}

/**
 * Would deleting the cap in `slot` be long-running (the last cap to a CNode or TCB)? Such a root
 * may not be replaced by SetSpace or Configure. Mirrors seL4 `slotCapLongRunningDelete`
 * (kspec has no zombies).
 */
export const slotCapLongRunningDelete = (s: KernelState, slot: SlotPtr): boolean => {
  const cap = getCap(s, slot)
  if (cap.tag === "NullCap" || !isFinalCapability(s, slot)) return false
  return cap.tag === "ThreadCap" || cap.tag === "CNodeCap"
}

/**
 * Clear a slot: its children move up to its parent, in its place in the parent's child list.
 * Mirrors l4v `empty_slot` / seL4 `emptySlot`.
 */
export const emptySlot = (s: KernelState, slot: SlotPtr): KernelState => {
  if (getCap(s, slot).tag === "NullCap") return s
  const parent = s.cdt.get(slot)
  const kids = childrenOf(s, slot)
  let cdt = mapDelete(s.cdt, slot)
  for (const k of kids) cdt = parent === undefined ? mapDelete(cdt, k) : mapSet(cdt, k, parent)
  let s1: KernelState = setChildren(updateState(s, { cdt }), slot, [])
  if (parent !== undefined) {
    s1 = setChildren(s1, parent, childrenOf(s1, parent).flatMap((x) => (x === slot ? kids : [x])))
  }
  return setCap(updateState(s1, { isOriginal: setDelete(s1.isOriginal, slot) }), slot, NullCap)
}

/**
 * Delete every slot of a cap table, from the highest index down (the order in which seL4
 * reduces a zombie). `busy` as for `deleteSlot`: finaliseCap passes it down.
 */
export const deleteSlots = (s: KernelState, obj: number, count: number, busy: ReadonlySet<SlotPtr>): KernelState => {
  let s1 = s
  for (let i = count - 1; i >= 0; i--) s1 = deleteSlot(s1, slotOf(obj, i), busy)
  return s1
}

/**
 * Delete the cap in `slot`, finalising its object first if it is the last cap to it. `busy`
 * holds the slots whose deletion is already under way further up (a cycle of final caps meets
 * its own start); such a slot is left for its outer call to finish.
 */
const deleteSlot = (s: KernelState, slot: SlotPtr, busy: ReadonlySet<SlotPtr>): KernelState => {
  const cap = getCap(s, slot)
  if (cap.tag === "NullCap" || busy.has(slot)) return s
  const final = isFinalCapability(s, slot)
  const s1 = finaliseCap(s, cap, final, final ? new Set(busy).add(slot) : busy)
  return emptySlot(s1, slot)
}

/** Delete the cap in a slot, finalising its object if this was the last cap. Mirrors seL4 `cteDelete`. */
export const cteDelete = (s: KernelState, slot: SlotPtr): KernelState => deleteSlot(s, slot, new Set())

/**
 * Delete a cap that needs no long-running finalisation (reply, notification and IRQ-handler
 * slots): in kspec's atomic model this is `cteDelete`. Mirrors seL4 `cteDeleteOne`.
 */
export const cteDeleteOne = (s: KernelState, slot: SlotPtr): KernelState => cteDelete(s, slot)

/**
 * Delete every CDT descendant of the cap in `slot`, first child first, keeping the cap itself.
 * Mirrors seL4 `cteRevoke` (atomic here: no preemption points).
 */
export const cteRevoke = (s: KernelState, slot: SlotPtr): KernelState => {
  let s1 = s
  for (let next = childrenOf(s1, slot)[0]; next !== undefined; next = childrenOf(s1, slot)[0]) s1 = cteDelete(s1, next)
  return s1
}

// ---- decode and invoke -----------------------------------------------------------------------------

/** A decoded CNode invocation: everything checked, ready to perform. */
export type CNodeInvocation =
  | { readonly tag: "Insert"; readonly cap: Cap; readonly src: SlotPtr; readonly dest: SlotPtr }
  | { readonly tag: "Move"; readonly cap: Cap; readonly src: SlotPtr; readonly dest: SlotPtr }
  | { readonly tag: "Revoke"; readonly slot: SlotPtr }
  | { readonly tag: "Delete"; readonly slot: SlotPtr }
  | { readonly tag: "SaveCaller"; readonly dest: SlotPtr }
  | { readonly tag: "CancelBadgedSends"; readonly cap: Cap }
  | { readonly tag: "Rotate"; readonly srcCap: Cap; readonly pivotCap: Cap; readonly src: SlotPtr; readonly pivot: SlotPtr; readonly dest: SlotPtr }

/** What a decoder reads besides the invoked cap: the label, the message words and the extra caps. */
export interface InvocationArgs {
  readonly label: number
  readonly args: readonly number[]
  readonly extraCaps: readonly Cap[]
  /** The slots the extra caps were looked up in (seL4 `current_extra_caps.excaprefs`), same order. */
  readonly extraSlots: readonly SlotPtr[]
}

/** The slot must be empty. Mirrors seL4 `ensureEmptySlot`. */
export const ensureEmptySlot = (s: KernelState, slot: SlotPtr): Result<void, SyscallError> =>
  getCap(s, slot).tag === "NullCap" ? ok(undefined) : err({ tag: "DeleteFirst" })

const missingSource = (wasSource: boolean, depth: number): SyscallError =>
  ({ tag: "FailedLookup", wasSource, failure: { tag: "MissingCapability", bitsLeft: depth } })

/**
 * Copy, Mint, Move, Mutate: a new cap for the target slot `dest`, from a source slot. Fewer than 4
 * words or no source-root cap -> TruncatedMessage; target occupied -> DeleteFirst (checked before
 * the source); source lookup errors; empty source -> FailedLookup(source, MissingCapability(depth));
 * Copy/Mutate with fewer than 5 words and Mint with fewer than 6 -> TruncatedMessage; derive errors
 * (RevokeFirst, IllegalOperation); a resulting NullCap -> IllegalOperation.
 * Mirrors the CNodeCopy..CNodeMutate case of seL4 `decodeCNodeInvocation`.
 */
const decodeCNodeCopyMove = (s: KernelState, dest: SlotPtr, a: InvocationArgs): Result<CNodeInvocation, SyscallError> => {
  const { label, args, extraCaps } = a
  const srcRoot = extraCaps[0]
  if (args.length < 4 || srcRoot === undefined) return err({ tag: "TruncatedMessage" })
  const srcIndex = args[2]!
  const srcDepth = args[3]!
  const empty = ensureEmptySlot(s, dest)
  if (!empty.ok) return empty
  const lu = lookupSourceSlot(s, srcRoot, srcIndex, srcDepth)
  if (!lu.ok) return lu
  const src = lu.value
  const srcCap = getCap(s, src)
  if (srcCap.tag === "NullCap") return err(missingSource(true, srcDepth))
  let newCap: Cap
  let isMove: boolean
  if (label === L.CNodeCopy) {
    // Copy: a derived copy with rights masked.
    if (args.length < 5) return err({ tag: "TruncatedMessage" })
    const d = deriveCap(hasChildren(s, src), maskCapRights(rightsFromWord(args[4]!), srcCap))
    if (!d.ok) return d
    newCap = d.value
    isMove = false
  } else if (label === L.CNodeMint) {
    // Mint: a derived copy with rights masked and new cap data (badge or guard).
    if (args.length < 6) return err({ tag: "TruncatedMessage" })
    const d = deriveCap(hasChildren(s, src), updateCapData(false, args[5]!, maskCapRights(rightsFromWord(args[4]!), srcCap)))
    if (!d.ok) return d
    newCap = d.value
    isMove = false
  } else if (label === L.CNodeMove) {
    // Move: the cap itself.
    newCap = srcCap
    isMove = true
  } else {
    // Mutate: the cap itself with new cap data, which may not change a badge.
    if (args.length < 5) return err({ tag: "TruncatedMessage" })
    newCap = updateCapData(true, args[4]!, srcCap)
    isMove = true
  }
  if (newCap.tag === "NullCap") return err({ tag: "IllegalOperation" })
  return ok(isMove ? { tag: "Move", cap: newCap, src, dest } : { tag: "Insert", cap: newCap, src, dest })
}

/**
 * Revoke, Delete, SaveCaller, CancelBadgedSends: operations on the target slot `dest` alone.
 * Revoke and Delete never fail, not even on an empty slot. SaveCaller: target occupied ->
 * DeleteFirst. CancelBadgedSends: target not an endpoint cap with all rights -> IllegalOperation.
 * Mirrors those cases of seL4 `decodeCNodeInvocation`.
 */
const decodeCNodeSlotOp = (s: KernelState, dest: SlotPtr, label: number): Result<CNodeInvocation, SyscallError> => {
  if (label === L.CNodeRevoke) return ok({ tag: "Revoke", slot: dest })
  if (label === L.CNodeDelete) return ok({ tag: "Delete", slot: dest })
  if (label === L.CNodeSaveCaller) {
    const empty = ensureEmptySlot(s, dest)
    return empty.ok ? ok({ tag: "SaveCaller", dest }) : empty
  }
  // CancelBadgedSends, the one label left.
  const c = getCap(s, dest)
  if (c.tag !== "EndpointCap" || c.rights !== allRights) return err({ tag: "IllegalOperation" })
  return ok({ tag: "CancelBadgedSends", cap: c })
}

/**
 * Rotate: src -> dest, pivot -> src (a swap when src is dest). Fewer than 8 words or two extra
 * caps -> TruncatedMessage; source then pivot lookup errors; pivot equal to source or target ->
 * IllegalOperation; target occupied and not the source -> DeleteFirst; empty source or pivot ->
 * FailedLookup; a NullCap after updating either cap's data -> IllegalOperation.
 * Mirrors the CNodeRotate case of seL4 `decodeCNodeInvocation`.
 */
const decodeCNodeRotate = (s: KernelState, dest: SlotPtr, a: InvocationArgs): Result<CNodeInvocation, SyscallError> => {
  const { args, extraCaps } = a
  const pivotRoot = extraCaps[0]
  const srcRoot = extraCaps[1]
  if (args.length < 8 || pivotRoot === undefined || srcRoot === undefined) return err({ tag: "TruncatedMessage" })
  const [pivotNewData, pivotIndex, pivotDepth, srcNewData, srcIndex, srcDepth] = args.slice(2, 8) as [number, number, number, number, number, number]
  const luSrc = lookupSourceSlot(s, srcRoot, srcIndex, srcDepth)
  if (!luSrc.ok) return luSrc
  const luPivot = lookupPivotSlot(s, pivotRoot, pivotIndex, pivotDepth)
  if (!luPivot.ok) return luPivot
  const src = luSrc.value
  const pivot = luPivot.value
  if (pivot === src || pivot === dest) return err({ tag: "IllegalOperation" })
  if (src !== dest) {
    const empty = ensureEmptySlot(s, dest)
    if (!empty.ok) return empty
  }
  const srcCap = getCap(s, src)
  const pivotCap = getCap(s, pivot)
  if (srcCap.tag === "NullCap") return err(missingSource(true, srcDepth))
  if (pivotCap.tag === "NullCap") return err(missingSource(false, pivotDepth))
  const newSrcCap = updateCapData(true, srcNewData, srcCap)
  const newPivotCap = updateCapData(true, pivotNewData, pivotCap)
  if (newSrcCap.tag === "NullCap" || newPivotCap.tag === "NullCap") return err({ tag: "IllegalOperation" })
  return ok({ tag: "Rotate", srcCap: newSrcCap, pivotCap: newPivotCap, src, pivot, dest })
}

/**
 * Check a CNode invocation, reading only. In order: the label must be a CNode operation
 * (IllegalOperation), two words name the target slot (TruncatedMessage, then lookup errors);
 * then the operation's own decoder: `decodeCNodeCopyMove` (Copy, Mint, Move, Mutate),
 * `decodeCNodeRotate`, or `decodeCNodeSlotOp` (Revoke, Delete, SaveCaller, CancelBadgedSends).
 *
 * **Rights**: none on the CNode cap itself; CancelBadgedSends needs an endpoint cap with all rights.
 *
 * **Errors**: IllegalOperation (label), TruncatedMessage (fewer than 2 words), the target
 * lookup's errors; then each decoder's, as its comment lists.
 *
 * Mirrors seL4 `decodeCNodeInvocation`.
 */
export const decodeCNodeInvocation = (s: KernelState, cnodeCap: Cap, a: InvocationArgs): Result<CNodeInvocation, SyscallError> => {
  const { label, args } = a
  if (label < L.CNodeRevoke || label > L.CNodeSaveCaller) return err({ tag: "IllegalOperation" })
  if (args.length < 2) return err({ tag: "TruncatedMessage" })
  const target = lookupTargetSlot(s, cnodeCap, args[0]!, args[1]!)
  if (!target.ok) return target
  const dest = target.value
  // Copy, Mint, Move, Mutate: a source slot and a new cap for the target.
  if (label >= L.CNodeCopy && label <= L.CNodeMutate) return decodeCNodeCopyMove(s, dest, a)
  // Rotate: three slots.
  if (label === L.CNodeRotate) return decodeCNodeRotate(s, dest, a)
  // Revoke, Delete, SaveCaller, CancelBadgedSends: the target slot alone.
  return decodeCNodeSlotOp(s, dest, label)
}

/** Perform a decoded CNode invocation; it cannot fail. Mirrors seL4 `invokeCNode*`. */
export const invokeCNode = (s: KernelState, inv: CNodeInvocation, thread: number): KernelState =>
  match(inv)
    .with({ tag: "Insert" }, (i) => cteInsert(s, i.cap, i.src, i.dest))
    .with({ tag: "Move" }, (i) => cteMove(s, i.cap, i.src, i.dest))
    .with({ tag: "Revoke" }, (i) => cteRevoke(s, i.slot))
    .with({ tag: "Delete" }, (i) => cteDelete(s, i.slot))
    .with({ tag: "SaveCaller" }, (i) => {
      // Move a reply cap out of the caller slot; nothing to save is a no-op.
      const callerSlot = slotOf(thread, tcbCaller)
      const c = getCap(s, callerSlot)
      return c.tag === "ReplyCap" && !c.isMaster ? cteMove(s, c, callerSlot, i.dest) : s
    })
    .with({ tag: "CancelBadgedSends" }, (i) =>
      i.cap.tag === "EndpointCap" && i.cap.badge !== 0 ? cancelBadgedSends(s, i.cap.ptr, i.cap.badge) : s)
    .with({ tag: "Rotate" }, (i) =>
      i.src === i.dest
        ? cteSwap(s, i.srcCap, i.src, i.pivotCap, i.pivot)
        : cteMove(cteMove(s, i.pivotCap, i.pivot, i.dest), i.srcCap, i.src, i.pivot))
    .exhaustive()
