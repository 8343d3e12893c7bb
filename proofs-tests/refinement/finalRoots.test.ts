/**
 * A thread can hold the last cap to its own CSpace root: its TCB slot keeps the CNode alive after
 * every other cap to it is gone. Replacing that root would make TCB_SetSpace (and Configure) delete
 * a CNode, a long-running deletion that seL4 refuses there (slotCapLongRunningDelete:
 * IllegalOperation). Random traces rarely delete every other cap to a thread's CSpace, so this
 * scenario does, in lockstep, and asserts the refusal on the spec.
 */
import { describe, expect, it } from "vitest"
import { InitialSlot, ObjectType, defaultBootConfig } from "../../model/index.ts"
import { boot, stepWithOutcome } from "../../spec/index.ts"
import { bootInfo } from "../../spec/kernel/boot.ts"
import { seL4_CNode_Delete, seL4_TCB_Configure, seL4_TCB_SetSpace, seL4_Untyped_Retype } from "../../harness/builders.ts"
import { describeFailure, runEvents } from "../../harness/lockstep/runner.ts"
import { realImpl } from "../../harness/lockstep/impls.ts"

const root = InitialSlot.InitThreadCNode
const info = bootInfo(defaultBootConfig)

describe("a thread holding the last cap to its CSpace root", () => {
  it.each(["SetSpace", "Configure"] as const)("cannot have it replaced by TCB_%s (IllegalOperation), and keeps it", (op) => {
    const [thread, cnode] = [info.empty.start, info.empty.start + 1]
    const replace = op === "SetSpace"
      ? seL4_TCB_SetSpace(thread, 0, root, 0, InitialSlot.InitThreadVSpace, 0)
      : seL4_TCB_Configure(thread, 0, root, 0, InitialSlot.InitThreadVSpace, 0, 0, 0)
    const events = [
      seL4_Untyped_Retype(info.untyped.start, ObjectType.TCB, 0, root, 0, 0, thread, 1),
      seL4_Untyped_Retype(info.untyped.start, ObjectType.CNode, 4, root, 0, 0, cnode, 1),
      seL4_TCB_SetSpace(thread, 0, cnode, 0, InitialSlot.InitThreadVSpace, 0),
      // The TCB's slot now holds the only cap to the CNode.
      seL4_CNode_Delete(root, cnode, 32),
      replace,
    ]
    let s = boot(defaultBootConfig)
    const results = events.map((e) => { const r = stepWithOutcome(s, e); s = r.state; return r.outcome.result })
    expect(results).toEqual(["Success", "Success", "Success", "Success", "IllegalOperation"])
    // The CNode lives on.
    const cnodes = (st: typeof s) => [...st.kheap.values()].filter((o) => o.tag === "CNode").length
    expect(cnodes(s)).toBe(cnodes(boot(defaultBootConfig)) + 1)
    const run = runEvents(realImpl, defaultBootConfig, events, { fullEvery: 0 })
    expect(run.failure === null ? "" : describeFailure(run.failure)).toBe("")
  })
})
