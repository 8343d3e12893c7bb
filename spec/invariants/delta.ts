/**
 * What one kernel step changed, found by comparing two immutable states by reference: a key whose
 * value is the same object in both states is unchanged (states are immutable and share what a step
 * did not touch). A map that is itself shared costs nothing; two persistent maps are diffed by
 * their shared structure (`PMap.changedKeys`, time proportional to the change); any other map costs
 * one reference comparison per key. The result over-approximates (a copied but equal value counts
 * as changed), which is all incremental checking needs.
 * @category invariants
 */
import type { PPtr, SlotPtr } from "../../model/index.ts"
import type { KernelState } from "../state.ts"
import { PMap, PSet } from "../persistent.ts"
import type { CapRefIndex } from "./capRefs.ts"

export interface StateDelta {
  /** Heap addresses whose object was added, removed or replaced. */
  readonly objects: ReadonlySet<PPtr>
  /** Slots whose cap, originality, CDT parent or CDT child list was added, removed or replaced. */
  readonly slots: ReadonlySet<SlotPtr>
  /** Of `slots`, those whose cap or originality changed (absent: any of them may have). */
  readonly capsOrOriginal?: ReadonlySet<SlotPtr>
  /** Of `slots`, those whose CDT parent changed (absent: any of them may have). */
  readonly parents?: ReadonlySet<SlotPtr>
  /** Of `slots`, those whose CDT child list changed (absent: any of them may have). */
  readonly children?: ReadonlySet<SlotPtr>
  /**
   * The caps naming each object in the new state, when the checker keeps that index (see
   * `CapRefIndex`); an invariant whose incremental form needs it checks in full without it.
   */
  readonly capRefs?: CapRefIndex
}

/** Add to `out` every key whose value differs by reference between `a` and `b` (either side missing counts). */
export const mapDelta = <K, V>(a: ReadonlyMap<K, V>, b: ReadonlyMap<K, V>, out: Set<K>): void => {
  if (a === b) return
  if (b instanceof PMap) { b.addChangedKeys(a, out); return }
  let shared = 0
  for (const [k, v] of b) {
    const w = a.get(k)
    if (w === undefined && !a.has(k)) { out.add(k); continue }
    shared++
    if (w !== v) out.add(k)
  }
  if (shared < a.size) for (const k of a.keys()) if (!b.has(k)) out.add(k)
}

export const setDelta = <K>(a: ReadonlySet<K>, b: ReadonlySet<K>, out: Set<K>): void => {
  if (a === b) return
  if (b instanceof PSet) { b.addChangedKeys(a, out); return }
  let shared = 0
  for (const k of b) { if (a.has(k)) shared++; else out.add(k) }
  if (shared < a.size) for (const k of a) if (!b.has(k)) out.add(k)
}

/** The change of a map a step left alone (shared, never written: deltas are read only). */
const unchanged: Set<never> = new Set()

/**
 * The objects and slots that differ between `prev` and `next`, with the checker's cap index when
 * given (the caller advances it to `next`). Built as one literal: a spread that adds a key
 * (`{ ...d, capRefs }`) took about 1 µs in V8, a sixth of a spec step.
 */
export const stateDelta = (prev: KernelState, next: KernelState, capRefs?: CapRefIndex): StateDelta => {
  // A map the step left alone (the same object: most steps change no CDT link) gives the one empty set.
  const objects = prev.kheap === next.kheap ? unchanged : new Set<PPtr>()
  const capsOrOriginal = prev.caps === next.caps && prev.isOriginal === next.isOriginal ? unchanged : new Set<SlotPtr>()
  const parents = prev.cdt === next.cdt ? unchanged : new Set<SlotPtr>()
  const children = prev.cdtList === next.cdtList ? unchanged : new Set<SlotPtr>()
  // (A diff of a map against itself adds nothing: `unchanged` is never written.)
  mapDelta(prev.kheap, next.kheap, objects)
  mapDelta(prev.caps, next.caps, capsOrOriginal)
  setDelta(prev.isOriginal, next.isOriginal, capsOrOriginal)
  mapDelta(prev.cdt, next.cdt, parents)
  mapDelta(prev.cdtList, next.cdtList, children)
  // Most steps change no CDT link: the slots are then the cap changes themselves (one set, read only).
  let slots: Set<SlotPtr> = capsOrOriginal
  if (parents.size !== 0 || children.size !== 0) {
    slots = new Set<SlotPtr>(capsOrOriginal)
    for (const sl of parents) slots.add(sl)
    for (const sl of children) slots.add(sl)
  }
  return capRefs === undefined ? { objects, slots, capsOrOriginal, parents, children } : { objects, slots, capsOrOriginal, parents, children, capRefs }
}
