/**
 * Invariants of long operations and their preemption points: Zombies (l4v `zombies_final`, and
 * what `valid_cap` asks of a Zombie's table), and the work-unit counter (l4v Deterministic_A's
 * `work_units_completed`). A preempted deletion, revoke or reset leaves a state these accept,
 * like every other invariant; the lockstep runner checks them after every step, preempted ones
 * included.
 * @category invariants
 */
import type { PPtr, SlotPtr } from "../../model/index.ts"
import { bit, showCap, slotBits, tcbCNodeEntries, zombieTypeTCB } from "../../model/index.ts"
import { refAt } from "./capRefs.ts"
import { capObjRef, hex, showSlot } from "./internal.ts"
import { defineInvariant, everything, noKeys, nothingChanged } from "./types.ts"

/**
 * A Zombie is the only cap to its object: no other cap (reply caps aside, which name no object)
 * names the CNode or TCB it is emptying.
 *
 * Why: a Zombie is the final cap's remainder; deleting it finishes the object's finalisation and
 * frees it. A second cap to the object would outlive it (a dangling cap), and `isFinalCapability`
 * (which C reads off the MDB neighbours only, where a Zombie matches nothing) would answer wrong.
 *
 * Mirrors: l4v Invariants_AI `zombies_final`.
 */
export const zombiesFinal = defineInvariant({
  name: "zombies_final",
  statement: "A Zombie is the only cap to the CNode or TCB it names (reply caps, which name no object, aside).",
  mirrors: "l4v Invariants_AI zombies_final",
  threatenedBy: ["finaliseCap", "finaliseSlot", "reduceZombie", "capSwapForDelete", "CNode_Copy", "CNode_Mint", "CNode_Move", "CNode_Delete", "CNode_Revoke"],
  // Per object: every cap naming the object a changed cap names, before or after (the checker's cap index).
  scope: (s, prev, d) => {
    if (d.capRefs === undefined) return everything
    if (d.slots.size === 0) return nothingChanged
    const slots = new Set(d.slots)
    const addNaming = (p: PPtr | null) => { if (p !== null) for (const sl of d.capRefs!.naming(p)) slots.add(sl) }
    for (const sl of d.slots) { addNaming(refAt(prev, sl)); addNaming(refAt(s, sl)) }
    return { slots }
  },
  find: (s, report) => {
    const zombies = new Map<PPtr, number>()
    for (const [slot, c] of s.caps) if (c.tag === "ZombieCap") zombies.set(c.ptr, slot)
    if (zombies.size === 0) return
    for (const [slot, c] of s.caps) {
      if (c.tag === "ReplyCap") continue
      const p = capObjRef(c)
      const z = p === null ? undefined : zombies.get(p)
      if (z !== undefined && z !== slot) report(`${showSlot(s, slot)} holds ${showCap(c)}, a second cap to the object of the Zombie in ${showSlot(s, z)}`)
    }
  },
})

/**
 * A Zombie counts down its table: the slots of the CNode or TCB it empties from index `number`
 * up are empty (deletion reduces a Zombie from its table's last slot down), and its count is at
 * most the table's size.
 *
 * Why: a restarted deletion goes on from slot `number - 1`; a cap left above it would never be
 * deleted, and would outlive the object its slot is part of.
 *
 * Mirrors: none (kspec-specific; in l4v it follows from `rec_del`'s `ReduceZombieCall` lemmas and
 * `valid_cap`'s bound on a Zombie's count).
 */
export const zombieSlotsEmpty = defineInvariant({
  name: "zombie_slots_empty",
  statement: "Every slot of a Zombie's CNode or TCB at an index from the Zombie's count up is empty.",
  mirrors: "none (kspec-specific; l4v: rec_del's ReduceZombieCall lemmas, valid_cap's Zombie bound)",
  threatenedBy: ["finaliseSlot", "reduceZombie", "capSwapForDelete", "CNode_Move", "CNode_Delete", "CNode_Revoke"],
  // Per Zombie: every Zombie (the checker's cap index knows them; there are none outside a deletion)
  // when a slot was filled, and a changed Zombie. A Zombie that left its slot has nothing to check.
  scope: (s, prev, d) => {
    if (d.capRefs === undefined) return everything
    const slots = new Set<SlotPtr>()
    for (const sl of d.slots) if (s.caps.get(sl)?.tag === "ZombieCap") slots.add(sl)
    const filled = [...d.slots].some((sl) => s.caps.has(sl) && !prev.caps.has(sl))
    if (filled) for (const sl of d.capRefs.zombies) slots.add(sl)
    return slots.size === 0 ? nothingChanged : { slots }
  },
  find: (s, report) => {
    for (const [slot, c] of s.caps) {
      if (c.tag !== "ZombieCap") continue
      const size = c.zombieType === zombieTypeTCB ? tcbCNodeEntries : bit(c.zombieType)
      for (let i = c.number; i < size; i++) {
        const other = s.caps.get(c.ptr + i * bit(slotBits))
        if (other !== undefined) {
          report(`${showSlot(s, slot)} holds ${showCap(c)}, but slot ${i} (${hex(c.ptr + i * bit(slotBits))}) of its table still holds ${showCap(other)}`)
        }
      }
    }
  },
})

/**
 * The work-unit counter is below its limit after every kernel entry, and no interrupt is
 * pending between entries (the entry's line is the machine's, for that entry only).
 *
 * Why: `preemptionPoint` looks at the interrupt controller when the counter reaches the limit and
 * then starts it over; a counter at or past the limit would delay every later look, so a
 * pending interrupt would wait longer than `workUnitsLimit` units of work.
 *
 * Mirrors: none (kspec-specific; C `ksWorkUnitsCompleted` < `CONFIG_MAX_NUM_WORK_UNITS_PER_PREEMPTION`
 * after each `preemptionPoint`, l4v `work_units_completed`).
 */
export const workUnitsBounded = defineInvariant({
  name: "work_units_bounded",
  statement: "0 ≤ workUnitsCompleted < workUnitsLimit (at least 1), and no interrupt line is pending between kernel entries.",
  mirrors: "none (kspec-specific; C ksWorkUnitsCompleted, l4v work_units_completed)",
  threatenedBy: ["preemptionPoint", "nextDomain"],
  // Globals only: checked in full after every step.
  scope: () => noKeys,
  find: (s, report) => {
    const n = s.workUnitsCompleted
    if (!Number.isInteger(s.workUnitsLimit) || s.workUnitsLimit < 1) report(`the work-unit counter's limit ${s.workUnitsLimit} is not a positive integer`)
    else if (!Number.isInteger(n) || n < 0 || n >= s.workUnitsLimit) report(`the work-unit counter is ${n}, not in 0..${s.workUnitsLimit - 1}`)
    if (s.irqPending !== null) report(`interrupt line ${s.irqPending} is pending between kernel entries`)
  },
})

/** The preemption invariants, in registry order. */
export const preemptionInvariants = [zombieSlotsEmpty, workUnitsBounded] as const
