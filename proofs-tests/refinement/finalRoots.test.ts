/**
 * A thread can hold the last cap to its own CSpace root: its TCB slot keeps the CNode alive after
 * every other cap to it is gone. Replacing that root would make TCB_SetSpace (and Configure) delete
 * a CNode, a long-running deletion that seL4 refuses there (slotCapLongRunningDelete:
 * IllegalOperation). Random traces rarely delete every other cap to a thread's CSpace, so this
 * scenario does, in lockstep, and asserts the refusal on the spec.
 */
import { describe, expect, it } from "vitest"
import { InitialSlot, ObjectType, defaultBootConfig } from "../../model/index.ts"
import { boot } from "../../spec/index.ts"
import { bootInfo } from "../../spec/kernel/boot.ts"
import { seL4_CNode_Delete, seL4_TCB_Configure, seL4_TCB_SetSpace } from "../../harness/builders.ts"
import { retypeOne } from "../../harness/scenarios/retype.ts"
import { expectLockstep, specRun } from "./scenario.ts"

const root = InitialSlot.InitThreadCNode
const info = bootInfo(defaultBootConfig)

describe("a thread holding the last cap to its CSpace root", () => {
  it.each(["SetSpace", "Configure"] as const)("cannot have it replaced by TCB_%s (IllegalOperation), and keeps it", (op) => {
    const [thread, cnode] = [info.empty.start, info.empty.start + 1]
    const replace = op === "SetSpace"
      ? seL4_TCB_SetSpace(thread, 0, root, 0, InitialSlot.InitThreadVSpace, 0)
      : seL4_TCB_Configure(thread, 0, root, 0, InitialSlot.InitThreadVSpace, 0, 0, 0)
    const events = [
      retypeOne(ObjectType.TCB, 0, thread),
      retypeOne(ObjectType.CNode, 4, cnode),
      seL4_TCB_SetSpace(thread, 0, cnode, 0, InitialSlot.InitThreadVSpace, 0),
      // The TCB's slot now holds the only cap to the CNode.
      seL4_CNode_Delete(root, cnode, 32),
      replace,
    ]
    const { results, state: s } = specRun(events)
    expect(results).toEqual(["Success", "Success", "Success", "Success", "IllegalOperation"])
    // The CNode lives on.
    const cnodes = (st: typeof s) => [...st.kheap.values()].filter((o) => o.tag === "CNode").length
    expect(cnodes(s)).toBe(cnodes(boot(defaultBootConfig)) + 1)
    expectLockstep(events)
  })
})
