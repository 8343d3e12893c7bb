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
import { KernelBug, getCap, mapDelete, mapRemap, mapSet, mapSome, setAdd, setCap, setDelete, setRemap, slotOf, updateState } from "../state.ts"
import type { Preemptible } from "../model/preemption.ts"
import { notPreempted, preemptionPoint } from "../model/preemption.ts"
import { lookupPivotSlot, lookupSourceSlot, lookupTargetSlot } from "../kernel/cspace.ts"
import { deriveCap, finaliseCap, isCapRevocable, postCapDeletion, sameObjectAs, shouldBeParentOf, updateCapData, maskCapRights } from "./objecttype.ts"
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
 * refinement relation shows equivalent). A Zombie names no object for `sameObjectAs`, so it is
 * always final, as `zombies_final` says it is.
 */
export const isFinalCapability = (s: KernelState, slot: SlotPtr): boolean => {
  const cap = getCap(s, slot)
  return !mapSome(s.caps, (c, other) => other !== slot && (sameObjectAs(cap, c) || sameObjectAs(c, cap)))
}

/**
 * Would deleting the cap in `slot` be long-running (the last cap to a CNode or TCB, or a Zombie)?
 * Such a root may not be replaced by SetSpace or Configure. Mirrors seL4 `slotCapLongRunningDelete`.
 */
export const slotCapLongRunningDelete = (s: KernelState, slot: SlotPtr): boolean => {
  const cap = getCap(s, slot)
  if (cap.tag === "NullCap" || !isFinalCapability(s, slot)) return false
  return cap.tag === "ThreadCap" || cap.tag === "CNodeCap" || cap.tag === "ZombieCap"
}

/**
 * Clear a slot: its children move up to its parent, in its place in the parent's child list;
 * then what the finalisation left to do after the slot is empty (`cleanupInfo`) is done.
 * Mirrors l4v `empty_slot` / seL4 `emptySlot`.
 */
export const emptySlot = (s: KernelState, slot: SlotPtr, cleanupInfo: Cap): KernelState => {
  if (getCap(s, slot).tag === "NullCap") return s
  const parent = s.cdt.get(slot)
  const kids = childrenOf(s, slot)
  let cdt = mapDelete(s.cdt, slot)
  for (const k of kids) cdt = parent === undefined ? mapDelete(cdt, k) : mapSet(cdt, k, parent)
  let s1: KernelState = setChildren(updateState(s, { cdt }), slot, [])
  if (parent !== undefined) {
    s1 = setChildren(s1, parent, childrenOf(s1, parent).flatMap((x) => (x === slot ? kids : [x])))
  }
  return postCapDeletion(setCap(updateState(s1, { isOriginal: setDelete(s1.isOriginal, slot) }), slot, NullCap), cleanupInfo)
}

/**
 * Is the finalisation of the cap in `slot` done: nothing left (NullCap), or a Zombie with no
 * slot left to delete but (at most) the one it sits in? Mirrors seL4 `capRemovable` / l4v
 * `cap_removeable`.
 */
export const capRemovable = (cap: Cap, slot: SlotPtr): boolean => {
  if (cap.tag === "NullCap") return true
  if (cap.tag !== "ZombieCap") throw new KernelBug("finaliseCap should only return Zombie or NullCap")
  return cap.number === 0 || (cap.number === 1 && slot === cap.ptr)
}

/** Is `cap` a Zombie of the table `slot` is the first slot of? Mirrors seL4 `capCyclicZombie` / l4v `cap_cyclic_zombie`. */
export const capCyclicZombie = (cap: Cap, slot: SlotPtr): boolean => cap.tag === "ZombieCap" && cap.ptr === slot

/** What `finaliseSlot` did: stopped by a preemption point, or finished (and may the slot be emptied?). */
export interface FinaliseSlotRet extends Preemptible {
  /** The slot may be emptied: its cap is finalised. False for a cyclic Zombie left in place. */
  readonly success: boolean
  /** What to do once the slot is empty (an IRQ handler's line goes inactive). */
  readonly cleanupInfo: Cap
}

/**
 * Finalise the cap in `slot` until it can be removed: finalise it (the last cap to a CNode or
 * TCB becomes a Zombie in its slot), then reduce the Zombie one slot at a time, with a preemption
 * point after each. An unexposed (`immediate` false) deletion does not recurse into a Zombie of
 * another table: it swaps the Zombie into that table's first slot (a cyclic Zombie, left there)
 * and goes on with what it swapped out. Mirrors seL4 `finaliseSlot` (a loop) / l4v `rec_del
 * (FinaliseSlotCall slot exposed)` (the same, recursively).
 */
export const finaliseSlot = (s: KernelState, slot: SlotPtr, immediate: boolean): FinaliseSlotRet => {
  let st = s
  while (getCap(st, slot).tag !== "NullCap") {
    const final = isFinalCapability(st, slot)
    const fc = finaliseCap(st, getCap(st, slot), final)
    st = fc.state
    // Nothing left to reduce: the slot can be emptied.
    if (capRemovable(fc.remainder, slot)) return { state: st, preempted: false, success: true, cleanupInfo: fc.cleanupInfo }
    st = setCap(st, slot, fc.remainder)
    // A cyclic Zombie met by an unexposed deletion stays where it is.
    if (!immediate && capCyclicZombie(fc.remainder, slot)) return { state: st, preempted: false, success: false, cleanupInfo: fc.cleanupInfo }
    // Reduce the Zombie by one slot, then let an interrupt in.
    const r = reduceZombie(st, slot, immediate)
    if (r.preempted) return { state: r.state, preempted: true, success: false, cleanupInfo: NullCap }
    const p = preemptionPoint(r.state)
    if (p.preempted) return { state: p.state, preempted: true, success: false, cleanupInfo: NullCap }
    st = p.state
  }
  return { state: st, preempted: false, success: true, cleanupInfo: NullCap }
}

/**
 * One step of a Zombie in `slot`. Exposed (`immediate`): delete its last remaining slot, then
 * count one fewer (unless that deletion replaced the Zombie by a cyclic one or removed it).
 * Unexposed: swap the Zombie into the first slot of its own table, so the deletion that met it
 * goes on with what was there. Mirrors seL4 `reduceZombie` / l4v `rec_del (ReduceZombieCall ...)`.
 */
export const reduceZombie = (s: KernelState, slot: SlotPtr, immediate: boolean): Preemptible => {
  const z = getCap(s, slot)
  if (z.tag !== "ZombieCap") throw new KernelBug("reduceZombie: expected a Zombie")
  if (z.number === 0) throw new KernelBug("reduceZombie: expected unremovable zombie")
  if (immediate) {
    // Delete the Zombie's last slot (unexposed: no recursion into other tables' Zombies).
    const endSlot = slotOf(z.ptr, z.number - 1)
    const r = cteDelete(s, endSlot, false)
    if (r.preempted) return r
    const now = getCap(r.state, slot)
    // The deletion emptied this slot (the Zombie was its own table's last slot): done.
    if (now.tag === "NullCap") return r
    if (now.tag !== "ZombieCap") throw new KernelBug("Expected recursion to result in Zombie.")
    // Still the same Zombie: one slot fewer.
    if (now.ptr === z.ptr && now.number === z.number && now.zombieType === z.zombieType) {
      return notPreempted(setCap(r.state, slot, { ...z, number: z.number - 1 }))
    }
    if (!(now.ptr === slot && z.ptr !== slot)) throw new KernelBug("Expected new Zombie to be self-referential.")
    return r
  }
  if (z.ptr === slot) throw new KernelBug("Cyclic zombie passed to unexposed reduceZombie")
  const there = getCap(s, z.ptr)
  if (there.tag === "ZombieCap" && there.ptr === z.ptr) throw new KernelBug("Moving self-referential Zombie aside.")
  return notPreempted(capSwapForDelete(s, z.ptr, slot))
}

/** Exchange two slots' caps and CDT positions (nothing if they are one slot). Mirrors seL4 `capSwapForDelete`. */
export const capSwapForDelete = (s: KernelState, slot1: SlotPtr, slot2: SlotPtr): KernelState =>
  slot1 === slot2 ? s : cteSwap(s, getCap(s, slot1), slot1, getCap(s, slot2), slot2)

/**
 * Delete the cap in `slot`: finalise it (`finaliseSlot`), then empty the slot, unless an unexposed
 * deletion left a cyclic Zombie there. Preemptible. `exposed`: the slot is visible to the user (a
 * CNode_Delete, a revoke), so its deletion runs to the end; an unexposed one (a Zombie's own slots)
 * parks another table's Zombie rather than recurse. Mirrors seL4 `cteDelete` / l4v
 * `rec_del (CTEDeleteCall slot exposed)` (`cap_delete` when exposed).
 */
export const cteDelete = (s: KernelState, slot: SlotPtr, exposed: boolean): Preemptible => {
  const fs = finaliseSlot(s, slot, exposed)
  if (fs.preempted) return fs
  return notPreempted(exposed || fs.success ? emptySlot(fs.state, slot, fs.cleanupInfo) : fs.state)
}

/**
 * A `cteDelete` that cannot reach a preemption point: the cap is not a long-running deletion
 * (`slotCapLongRunningDelete` is false, as TCB_SetSpace and TCB_Configure check first). Mirrors
 * the `cteDelete` calls of seL4 `invokeTCB_ThreadControl`.
 */
export const cteDeleteNonPreemptible = (s: KernelState, slot: SlotPtr): KernelState => {
  const r = cteDelete(s, slot, true)
  if (r.preempted) throw new KernelBug("cteDelete: a short deletion was preempted")
  return r.state
}

/**
 * Delete a cap whose finalisation is immediate (reply, notification and IRQ-handler slots):
 * finalise it and empty the slot, with no preemption point. Mirrors seL4 `cteDeleteOne` / l4v
 * `cap_delete_one` (`fast_finalise`).
 */
export const cteDeleteOne = (s: KernelState, slot: SlotPtr): KernelState => {
  const cap = getCap(s, slot)
  if (cap.tag === "NullCap") return s
  const fc = finaliseCap(s, cap, isFinalCapability(s, slot))
  // Haskell error: "cteDeleteOne: cap should be removable"
  if (!capRemovable(fc.remainder, slot) || fc.cleanupInfo.tag !== "NullCap") throw new KernelBug("cteDeleteOne: cap should be removable")
  return emptySlot(fc.state, slot, NullCap)
}

/**
 * Delete every CDT descendant of the cap in `slot`, first child first, keeping the cap itself,
 * with a preemption point after each. Mirrors seL4 `cteRevoke` / l4v `cap_revoke`.
 */
export const cteRevoke = (s: KernelState, slot: SlotPtr): Preemptible => {
  let st = s
  for (let next = childrenOf(st, slot)[0]; next !== undefined; next = childrenOf(st, slot)[0]) {
    const r = cteDelete(st, next, true)
    if (r.preempted) return r
    const p = preemptionPoint(r.state)
    if (p.preempted) return p
    st = p.state
  }
  return notPreempted(st)
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

/**
 * Perform a decoded CNode invocation; it cannot fail, but Revoke and Delete are preemptible.
 * Mirrors seL4 `invokeCNode*`.
 */
export const invokeCNode = (s: KernelState, inv: CNodeInvocation, thread: number): Preemptible =>
  match(inv)
    .with({ tag: "Revoke" }, (i) => cteRevoke(s, i.slot))
    .with({ tag: "Delete" }, (i) => cteDelete(s, i.slot, true))
    .otherwise((i) => notPreempted(invokeCNodeAtomic(s, i, thread)))

/** The CNode invocations with no preemption point. */
const invokeCNodeAtomic = (s: KernelState, inv: Exclude<CNodeInvocation, { tag: "Revoke" | "Delete" }>, thread: number): KernelState =>
  match(inv)
    .with({ tag: "Insert" }, (i) => cteInsert(s, i.cap, i.src, i.dest))
    .with({ tag: "Move" }, (i) => cteMove(s, i.cap, i.src, i.dest))
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
