/**
 * A CNode holding a cap to memory at its own address: the untyped it was carved from (at that
 * untyped's base, so both caps name one address) moved into one of its own slots. Deleting such a
 * CNode from inside another is where seL4's reduceZombie earns its checks: the Zombie its last cap
 * becomes there is swapped into the CNode's own slot 0 and parked (a cyclic Zombie), which must be
 * refused only when slot 0 already holds a Zombie naming itself, not an untyped's cap naming the
 * same address. Random traces build this about once in two hundred (a fresh untyped, a CNode at
 * its base inside another CNode, a move into it), so the family is drawn here: the CNode's size,
 * nested or not, the slot the untyped goes to, the other caps inside, and how it goes (its last
 * cap deleted, with or without interrupts pending; the untyped above revoked). Each run is in
 * lockstep with full checking after every step.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { Cap, Event } from "../../model/index.ts"
import { InitialSlot, ObjectType, defaultBootConfig, wordBits } from "../../model/index.ts"
import { getCap, slotOf } from "../../spec/index.ts"
import { bootInfo } from "../../spec/kernel/boot.ts"
import { seL4_AllRights, seL4_CNode_Copy, seL4_CNode_Delete, seL4_CNode_Move, seL4_CNode_Revoke, seL4_Untyped_Retype } from "../../harness/builders.ts"
import { lockstep } from "../../harness/lockstep/runner.ts"
import { rootSlot, withIRQ } from "./scenario.ts"

const root = InitialSlot.InitThreadCNode
const info = bootInfo(defaultBootConfig)
const firstUntyped = info.untyped.start
/** Root CNode slots of the scene: the carved untyped, the outer CNode, the endpoint, the inner CNode when not nested. */
const [utSlot, outerSlot, epSlot, innerSlot] = [info.empty.start, info.empty.start + 1, info.empty.start + 2, info.empty.start + 3]
/** The outer CNode's radix, and the slot of it that holds the inner CNode's cap when nested. */
const outerRadix = 3
const innerAt = 5

interface Scene {
  /** The inner CNode's radix (2 to 16 slots) and how many bits more the untyped it is carved from has. */
  readonly radix: number
  readonly spare: number
  /** Is the inner CNode's only cap in a slot of the outer CNode (else in the root CNode)? */
  readonly nested: boolean
  /** The inner CNode slot the untyped's cap is moved to (0: the self-referential case). */
  readonly into: number
  /** Inner CNode slots given a copy of the endpoint cap (those not `into`). */
  readonly copies: readonly number[]
  /** How it goes: the outer CNode's last cap deleted (the inner's, when not nested), the same with an interrupt pending at every step, or the boot untyped revoked. */
  readonly end: "delete" | "preempted delete" | "revoke"
}

const sceneArb: fc.Arbitrary<Scene> = fc.integer({ min: 1, max: 4 }).chain((radix) => fc.record({
  radix: fc.constant(radix),
  spare: fc.integer({ min: 0, max: 2 }),
  nested: fc.boolean(),
  into: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 ** radix - 1 }) }),
  copies: fc.uniqueArray(fc.integer({ min: 0, max: 2 ** radix - 1 }), { maxLength: 3 }),
  end: fc.constantFrom("delete", "preempted delete", "revoke"),
}))

/** How the current thread names slot `j` of the inner CNode: through the outer CNode's cap when nested. */
const innerAddress = (sc: Scene, j: number): { service: number; index: number; depth: number } =>
  sc.nested ? { service: outerSlot, index: innerAt * 2 ** sc.radix + j, depth: outerRadix + sc.radix } : { service: innerSlot, index: j, depth: sc.radix }

/** The events that build the scene: the untyped, the outer CNode, the inner one at the untyped's base, the endpoint copies, the untyped moved in. */
const build = (sc: Scene): Event[] => {
  const at = (j: number) => innerAddress(sc, j)
  return [
    seL4_Untyped_Retype(firstUntyped, ObjectType.Untyped, sc.radix + 4 + sc.spare, root, 0, 0, utSlot, 1),
    seL4_Untyped_Retype(firstUntyped, ObjectType.CNode, outerRadix, root, 0, 0, outerSlot, 1),
    sc.nested
      ? seL4_Untyped_Retype(utSlot, ObjectType.CNode, sc.radix, root, outerSlot, wordBits, innerAt, 1)
      : seL4_Untyped_Retype(utSlot, ObjectType.CNode, sc.radix, root, 0, 0, innerSlot, 1),
    seL4_Untyped_Retype(firstUntyped, ObjectType.Endpoint, 0, root, 0, 0, epSlot, 1),
    ...sc.copies.filter((j) => j !== sc.into).map((j) => seL4_CNode_Copy(at(j).service, at(j).index, at(j).depth, root, epSlot, wordBits, seL4_AllRights)),
    seL4_CNode_Move(at(sc.into).service, at(sc.into).index, at(sc.into).depth, root, utSlot, wordBits),
  ]
}

describe("a CNode holding the cap of the untyped it was carved from", () => {
  it("goes, however it goes, as seL4 has it: the impl refines the spec at every step, every invariant holds", () => {
    fc.assert(fc.property(sceneArb, (sc) => {
      const h = lockstep()
      expect(h.run(build(sc))).toBeNull()
      expect(h.outcomes.map((o) => o.result).every((r) => r === "Success")).toBe(true)
      const before = h.spec
      const outer = (getCap(before, rootSlot(before, outerSlot)) as Extract<Cap, { tag: "CNodeCap" }>).ptr
      const innerCap = getCap(before, sc.nested ? slotOf(outer, innerAt) : rootSlot(before, innerSlot)) as Extract<Cap, { tag: "CNodeCap" }>
      const inner = innerCap.ptr
      // The scene is what it says: the untyped's cap, inside the inner CNode, names that CNode's own address.
      const ut = getCap(before, slotOf(inner, sc.into))
      if (ut.tag !== "UntypedCap" || ut.ptr !== inner) throw new Error(`not the scene: ${JSON.stringify(ut)}`)
      const ev = sc.end === "revoke" ? seL4_CNode_Revoke(root, firstUntyped, wordBits) : seL4_CNode_Delete(root, sc.nested ? outerSlot : innerSlot, wordBits)
      let result = ""
      for (let i = 0; i < 4096 && (result === "" || result === "Preempted"); i++) {
        const r = h.step(sc.end === "preempted delete" ? withIRQ(ev) : ev)
        expect(r.failure).toBeNull()
        result = r.outcome!.result
      }
      expect(result).toBe("Success")
      expect(h.finish()).toBeNull()
      // The deleted cap's slot is empty. Deleted from inside the outer CNode, the inner one's Zombie
      // was swapped into its own slot 0 and parked there (seL4's cyclic Zombie: nothing names the
      // CNode any more, so nothing finishes it), so the untyped's cap, swapped out of slot 0, was
      // deleted, and in any other slot stays parked with it. Otherwise no cap names the inner CNode.
      const s = h.spec
      const naming = (p: number) => [...s.caps.entries()].filter(([, c]) => (c.tag === "CNodeCap" || c.tag === "ZombieCap") && c.ptr === p)
      expect(getCap(s, rootSlot(s, sc.nested ? outerSlot : innerSlot)).tag).toBe("NullCap")
      const parked = sc.nested && sc.end !== "revoke"
      expect([...s.caps.entries()].filter(([, c]) => c.tag === "UntypedCap" && c.ptr === inner && c.sizeBits === ut.sizeBits).map(([slot]) => slot))
        .toEqual(parked && sc.into !== 0 ? [slotOf(inner, sc.into)] : [])
      expect(naming(inner).map(([slot, c]) => [slot, c.tag])).toEqual(parked ? [[slotOf(inner, 0), "ZombieCap"]] : [])
    }), { seed: 20261207, numRuns: 40 })
  })
})
