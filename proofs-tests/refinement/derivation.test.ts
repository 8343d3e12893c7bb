/**
 * Derivation for every kind of cap the root thread holds at boot: a cap derived from the original,
 * and a copy of that, are both gone when the original is revoked. seL4 makes a new cap the CDT
 * child of an original one when the two name the same region (`sameRegionAs`, cap by cap: an IRQ
 * control cap covers every IRQ handler cap, a frame the frames inside it) and revokes the
 * original's whole subtree. An IRQ control cap cannot be copied (deriveCap gives a null cap): its
 * children are the handler caps IRQControl_Get makes. A random campaign copies the caps it holds
 * often but rarely revokes the original of a rare kind (IRQ control, domain, ASID control); this
 * does it once for each kind, in the spec and in lockstep.
 */
import { describe, expect, it } from "vitest"
import { InitialSlot } from "../../model/index.ts"
import { seL4_AllRights, seL4_CNode_Copy, seL4_CNode_Revoke, seL4_IRQControl_Get } from "../../harness/builders.ts"
import { getCap, slotOf } from "../../spec/index.ts"
import { expectLockstep, objectOf, rootCap, specRun } from "./scenario.ts"

const root = InitialSlot.InitThreadCNode
const copy = 200
const copyOfCopy = 201

describe("a copy and a copy of the copy go with the original's revoke, for every kind of cap at boot", () => {
  it("an IRQ control cap cannot be copied", () => {
    expect(specRun([seL4_CNode_Copy(root, copy, 32, root, rootCap.IRQControlCap!, 32, seL4_AllRights)]).results).toEqual(["IllegalOperation"])
  })

  it.each(Object.entries(rootCap))("%s", (kind, slot) => {
    const events = [
      kind === "IRQControlCap" ? seL4_IRQControl_Get(slot, 3, root, copy, 32) : seL4_CNode_Copy(root, copy, 32, root, slot, 32, seL4_AllRights),
      seL4_CNode_Copy(root, copyOfCopy, 32, root, copy, 32, seL4_AllRights),
      seL4_CNode_Revoke(root, slot, 32),
    ]
    const r = specRun(events)
    expect(r.results).toEqual(["Success", "Success", "Success"])
    const cnode = objectOf(r.states[0]!, root)
    // Both caps were made, of the original's kind (a handler cap from IRQ control), and the revoke took both.
    expect(getCap(r.states[2]!, slotOf(cnode, copyOfCopy)).tag).toBe(kind === "IRQControlCap" ? "IRQHandlerCap" : kind)
    expect([getCap(r.state, slotOf(cnode, copy)).tag, getCap(r.state, slotOf(cnode, copyOfCopy)).tag]).toEqual(["NullCap", "NullCap"])
    expect(getCap(r.state, slotOf(cnode, slot)).tag).toBe(getCap(r.states[0]!, slotOf(cnode, slot)).tag)
    expectLockstep(events)
  })
})
