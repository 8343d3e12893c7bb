/**
 * The caps that name each object (l4v `obj_refs` read backwards), and the slots holding Zombies and
 * untypeds, kept by the checker beside the states it checks and advanced by each step's delta: what
 * lets an invariant that relates caps to the objects they name look, after a step, only at the
 * caps naming a changed object. Not kernel state: seL4 keeps no such index, and the spec's steps
 * never see it.
 * @category invariants
 */
import type { Cap, PPtr, SlotPtr } from "../../model/index.ts"
import type { KernelState } from "../state.ts"
import type { StateDelta } from "./delta.ts"
import { capObjRef } from "./internal.ts"

/** The object a slot's cap names in `s`, or null (no cap, a cap that names none, or a cap too broken to read). */
export const refAt = (s: KernelState, slot: SlotPtr): PPtr | null => refOf(s.caps.get(slot))

/** The object cap `c` names, or null (no cap, a cap that names none, or a cap too broken to read). */
const refOf = (c: Cap | undefined): PPtr | null => {
  if (c === undefined) return null
  try { return capObjRef(c) } catch { return null }
}

/** A mutable reverse index: object -> the slots whose caps name it. */
export class CapRefIndex {
  private readonly by = new Map<PPtr, Set<SlotPtr>>()
  /** The slots holding a Zombie cap (rare: only while a CNode or TCB is being deleted). */
  private readonly zombieSlots = new Set<SlotPtr>()
  /** The slots holding an untyped cap (a few: the boot untypeds and those split from them). */
  private readonly untypedSlots = new Set<SlotPtr>()

  /** Keep `slot` in the Zombie and untyped sets as its cap `c` says. */
  private classify(c: Cap | undefined, slot: SlotPtr): void {
    const tag = c?.tag
    if (tag === "ZombieCap") this.zombieSlots.add(slot)
    else this.zombieSlots.delete(slot)
    if (tag === "UntypedCap") this.untypedSlots.add(slot)
    else this.untypedSlots.delete(slot)
  }

  private constructor() {}

  /** The index of every cap in `s`. */
  static of(s: KernelState): CapRefIndex {
    const ix = new CapRefIndex()
    for (const [slot, c] of s.caps) {
      ix.add(refOf(c), slot)
      ix.classify(c, slot)
    }
    return ix
  }

  private add(p: PPtr | null, slot: SlotPtr): void {
    if (p === null) return
    const set = this.by.get(p)
    if (set === undefined) this.by.set(p, new Set([slot]))
    else set.add(slot)
  }

  private remove(p: PPtr | null, slot: SlotPtr): void {
    if (p === null) return
    const set = this.by.get(p)
    if (set === undefined) return
    set.delete(slot)
    if (set.size === 0) this.by.delete(p)
  }

  /** From the index of `prev` to that of `s`, by the slots the step changed. */
  advance(prev: KernelState, s: KernelState, d: StateDelta): void {
    for (const slot of d.capsOrOriginal ?? d.slots) {
      const c = s.caps.get(slot)
      this.classify(c, slot)
      const a = refAt(prev, slot)
      const b = refOf(c)
      if (a === b) continue
      this.remove(a, slot)
      this.add(b, slot)
    }
  }

  /** The slots that hold a Zombie cap. */
  get zombies(): ReadonlySet<SlotPtr> {
    return this.zombieSlots
  }

  /** The slots that hold an untyped cap. */
  get untypeds(): ReadonlySet<SlotPtr> {
    return this.untypedSlots
  }

  /** The slots whose caps name `p`. */
  naming(p: PPtr): ReadonlySet<SlotPtr> {
    return this.by.get(p) ?? none
  }
}

const none: ReadonlySet<SlotPtr> = new Set()
