/**
 * Short messages, for every invocation whose decoder checks the message first (the ABI table's
 * first error is TruncatedMessage): one word short of its arguments, and, where it takes extra
 * caps, one cap short. seL4 refuses each with TruncatedMessage before it reads anything else; the
 * impl must agree step by step. A random campaign reaches this for the invocations it makes often;
 * this reaches it for every one, rare ones (CNode_Rotate) included, on the caps the root thread
 * holds at boot.
 */
import { describe, expect, it } from "vitest"
import type { Event } from "../../model/index.ts"
import { InitialSlot, InvocationLabel } from "../../model/index.ts"
import { abi } from "../../model/abi.ts"
import { seL4_Call } from "../../harness/builders.ts"
import { expectLockstep, rootCap, specRun } from "./scenario.ts"

const checkedFirst = abi.filter((e) => e.kind === "invocation" && e.label !== undefined && e.cap !== undefined && rootCap[e.cap] !== undefined &&
  e.errors[0]?.error === "TruncatedMessage")

/**
 * Call the root's cap of `e`'s kind with its first `words` arguments and `caps` extra caps (the root
 * CNode each). Slot arguments are at full depth, a destination an empty root slot and a source
 * or pivot the root's TCB cap, so that the checks a decoder makes before the length check (a CNode
 * invocation resolves its destination, and its source before Copy's rights) pass; the others are 0.
 */
const short = (e: (typeof checkedFirst)[number], words: number, caps: number): Event => {
  const mrs = e.args.slice(0, words).map((a, i) =>
    a.name.endsWith("_depth") ? 32 : a.name.startsWith("dest") && a.name.endsWith("_index") ? 200 + i : a.name.endsWith("_index") ? InitialSlot.InitThreadTCB : 0)
  return seL4_Call(rootCap[e.cap!]!, { label: InvocationLabel[e.label!], mrs, caps: new Array<number>(caps).fill(InitialSlot.InitThreadCNode) })
}

describe("every invocation that checks its message first refuses one a word or a cap short", () => {
  it("the table names such invocations on the root's caps (CNode, TCB, untyped, IRQ, domain, VSpace)", () => {
    expect(new Set(checkedFirst.map((e) => e.cap))).toEqual(new Set(["CNodeCap", "ThreadCap", "UntypedCap", "IRQControlCap", "DomainCap", "ASIDControlCap", "ASIDPoolCap", "PageDirectoryCap", "FrameCap"]))
  })

  it.each(checkedFirst.map((e) => [e.name, e] as const))("%s: TruncatedMessage in the spec, and the impl agrees", (_name, e) => {
    // A trailing "regs..." argument is as long as the message says: the fixed ones before it count.
    const fixed = e.args.filter((a) => !a.name.endsWith("...")).length
    const events: Event[] = []
    if (fixed > 0) events.push(short(e, fixed - 1, e.caps.length))
    if (e.caps.length > 0) events.push(short(e, fixed, e.caps.length - 1))
    expect(events.length).toBeGreaterThan(0)
    const r = specRun(events)
    expect(r.results).toEqual(events.map(() => "TruncatedMessage"))
    expectLockstep(events)
  })
})
