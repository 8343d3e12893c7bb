/**
 * Every outcome tells how its entry ended, as `kspec coverage`, the fuzzer's coverage weighting and
 * the statistics read it: on random traces, a syscall said to have blocked left its caller blocked,
 * one said to have succeeded (or found nothing, NBRecv) left it running, one said to have stopped
 * it left it inactive; and a receive names the kind of cap it looked up.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { resolveChoice, traceArb } from "../../harness/gen/choices.ts"
import { tcbAt } from "../../harness/query.ts"
import { seL4_CNode_Mint, seL4_CanWrite } from "../../harness/builders.ts"
import { PingPongSlots, pingPongSetup } from "../../harness/scenarios/pingpong.ts"
import { lookupCap } from "../../spec/kernel/cspace.ts"
import type { KernelState } from "../../spec/index.ts"
import { stepWithOutcome } from "../../spec/index.ts"
import { InitialSlot } from "../../model/index.ts"
import { specRun } from "../refinement/scenario.ts"

const root = InitialSlot.InitThreadCNode
const scene = specRun([...pingPongSetup(), seL4_CNode_Mint(root, 109, 32, root, PingPongSlots.ep, 32, seL4_CanWrite, 0)]).state

/** The caller's state that a result names: blocked, running on, or stopped. */
const stateFor: Readonly<Record<string, (tag: string) => boolean>> = {
  Blocked: (tag) => tag.startsWith("BlockedOn"),
  Success: (tag) => tag === "Running" || tag === "Restart",
  Empty: (tag) => tag === "Running",
  Inactive: (tag) => tag === "Inactive",
}

describe("outcomes", () => {
  it("say how the caller was left, and which cap a receive used, on random traces", () => {
    const seen = new Map<string, number>()
    fc.assert(fc.property(traceArb(60), (choices) => {
      let s: KernelState = scene
      for (const c of choices) {
        const e = resolveChoice(s, c)
        const t = s.curThread
        const r = stepWithOutcome(s, e)
        const o = r.outcome
        if (e.tag === "Syscall" && e.syscall !== "Yield" && t !== s.idleThread) {
          // ReplyRecv's receive part after a reply with no caller: the receive's own result.
          const result = o.result.startsWith("NoCaller+") ? o.result.slice("NoCaller+".length) : o.result
          const st = tcbAt(r.state, t)?.tcbState.tag
          if (st !== undefined && stateFor[result] !== undefined) {
            expect(`${e.syscall} ${result}: caller ${st}`).toSatisfy(() => stateFor[result]!(st))
            seen.set(`${e.syscall} ${result}`, (seen.get(`${e.syscall} ${result}`) ?? 0) + 1)
          }
          if ((e.syscall === "Recv" || e.syscall === "NBRecv" || e.syscall === "ReplyRecv") && o.invocation !== "VMFault") {
            // Unless storing the message into the IPC buffer faulted first (no entry then), the receive
            // looks its cap up after any reply, which can only have emptied the caller slot.
            const cap = lookupCap(s, t, e.cptr >>> 0)
            expect(cap.ok ? cap.value.tag : "lookup").toBe(o.invocation)
          }
        }
        s = r.state
      }
    }), { seed: 23, numRuns: 150 })
    // Each claim was tested on the syscalls that make it.
    for (const k of ["Recv Blocked", "Recv Success", "NBRecv Empty", "NBRecv Success", "ReplyRecv Blocked", "Send Blocked", "Send Success", "Call Blocked", "Call Success"]) {
      expect([k, seen.get(k) ?? 0]).toSatisfy(([, n]: [string, number]) => n > 0)
    }
  })
})
