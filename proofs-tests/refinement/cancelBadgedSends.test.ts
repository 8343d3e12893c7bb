/**
 * CNode_CancelBadgedSends (seL4 `invokeCNodeCancelBadgedSends`, `cancelBadgedSends`): through an
 * endpoint cap with every right, restart the threads waiting to send on that endpoint with the
 * cap's badge, leaving the others queued in their order. A cap of badge 0 cancels nothing (seL4
 * tests the badge before it walks the queue: unbadged senders are not "the badge 0"); a cap
 * missing a right is an IllegalOperation. Three senders wait, badged 5, unbadged and badged 7;
 * every case is asserted on the spec, then run in lockstep, then random traces go on from the scene.
 */
import { describe, expect, it } from "vitest"
import { InitialSlot } from "../../model/index.ts"
import { seL4_CNode_CancelBadgedSends, seL4_CanRead, seL4_CanWrite, seL4_Send } from "../../harness/builders.ts"
import { SystemBuilder } from "../../harness/setup.ts"
import { endpointQueue, objectNamedBy, threadState } from "../../harness/query.ts"
import { suiteBudget } from "./budget.ts"
import { expectLockstep, lockstepFrom, specRun } from "./scenario.ts"

const root = InitialSlot.InitThreadCNode

/** Three threads blocked sending on one endpoint, through caps badged 5, 0 and 7; the root runs. */
const scene = () => {
  const b = new SystemBuilder()
  const ep = b.endpoint()
  const five = b.mint(ep, 5)
  const seven = b.mint(ep, 7)
  const fiveNoGrant = b.mint(ep, 5, seL4_CanRead | seL4_CanWrite)
  const senders = [five, ep, seven].map((cap) => {
    const t = b.thread()
    b.makeCurrent(t)
    b.emit(seL4_Send(cap, { label: 1, mrs: [cap] }))
    return t.ptr
  })
  const epPtr = objectNamedBy(b.state, b.root, ep)!
  return { setup: b.events, ep, epPtr, five, seven, fiveNoGrant, senders }
}

describe("CNode_CancelBadgedSends", () => {
  it("the scene as meant: three senders wait on the endpoint in order, the root runs", () => {
    const { setup, epPtr, senders } = scene()
    const s = specRun(setup).state
    expect(endpointQueue(s, epPtr)).toEqual({ kind: "send", queue: senders })
    for (const t of senders) expect(threadState(s, t)?.tag).toBe("BlockedOnSend")
  })

  it("a cap badged 5 restarts the sender badged 5 alone; the others stay queued in order", () => {
    const { setup, epPtr, five, senders } = scene()
    const events = [...setup, seL4_CNode_CancelBadgedSends(root, five, 32)]
    const s = specRun(events).state
    expect(threadState(s, senders[0]!)?.tag).toBe("Restart")
    expect(endpointQueue(s, epPtr)).toEqual({ kind: "send", queue: [senders[1], senders[2]] })
    expectLockstep(events)
  })

  it.each([
    { what: "the unbadged cap cancels nothing, not even the unbadged sender", cap: "ep", result: "Success" },
    { what: "a cap badged 5 without Grant is an IllegalOperation, and cancels nothing", cap: "fiveNoGrant", result: "IllegalOperation" },
  ] as const)("$what", ({ cap, result }) => {
    const x = scene()
    const events = [...x.setup, seL4_CNode_CancelBadgedSends(root, x[cap], 32)]
    const run = specRun(events)
    expect(run.results.at(-1)).toBe(result)
    expect(endpointQueue(run.state, x.epPtr)).toEqual({ kind: "send", queue: x.senders })
    expectLockstep(events)
  })

  it("a cap badged 7 restarts the last sender alone; a second cancel finds none to restart", () => {
    const { setup, epPtr, seven, senders } = scene()
    const events = [...setup, seL4_CNode_CancelBadgedSends(root, seven, 32), seL4_CNode_CancelBadgedSends(root, seven, 32)]
    const s = specRun(events).state
    expect(threadState(s, senders[2]!)?.tag).toBe("Restart")
    expect(endpointQueue(s, epPtr)).toEqual({ kind: "send", queue: [senders[0], senders[1]] })
    expectLockstep(events)
  })

  const b = suiteBudget()
  it(`and random traces from there (seed=${b.seed})`, () => lockstepFrom(scene().setup, b.seed, 12))
})
