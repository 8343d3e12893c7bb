// Preemptible long operations, as seL4 has them: a deletion, a revoke or a reset stops at a
// preemption point when an interrupt is pending, leaves a state every invariant accepts (a Zombie
// of what is half deleted, an untyped half cleared), and the syscall run again takes up the work
// where it stopped. Each scenario runs in lockstep with full checking after every step.
import { describe, expect, it } from "vitest"
import type { Cap, Event } from "../../model/index.ts"
import { InitialSlot, ObjectType, defaultBootConfig, wordBits } from "../../model/index.ts"
import { bootInfo } from "../../spec/kernel/boot.ts"
import { getCap, getTcb, slotOf } from "../../spec/index.ts"
import type { Outcome } from "../../spec/index.ts"
import { getEndpoint } from "../../spec/state.ts"
import type { StepResult } from "../../harness/lockstep/runner.ts"
import { lockstep } from "../../harness/lockstep/runner.ts"
import { clientServer } from "../../harness/setup.ts"
import { seL4_CNode_Delete, seL4_CNode_Revoke, seL4_Untyped_Retype } from "../../harness/builders.ts"
import { rootSlot, withIRQ } from "./scenario.ts"

const root = InitialSlot.InitThreadCNode
const firstUntyped = bootInfo(defaultBootConfig).untyped.start


/** Step `ev` until it completes (each preemption: the thread runs it again); the outcomes, and a check after each. */
const untilDone = (h: { step: (e: Event) => StepResult }, ev: Event, each: (o: Outcome) => void = () => {}): Outcome[] => {
  const out: Outcome[] = []
  for (let i = 0; i < 1000; i++) {
    const r = h.step(ev)
    expect(r.failure).toBeNull()
    out.push(r.outcome!)
    each(r.outcome!)
    if (r.outcome!.result !== "Preempted") return out
  }
  throw new Error("never completed")
}

describe("preemption: long operations stop at preemption points and restart", () => {
  it("deleting the last cap to a 64-slot CNode holding a TCB's only cap: a Zombie counts down, the TCB is parked as a cyclic Zombie", () => {
    const h = lockstep()
    const outer = 100
    expect(h.run([
      seL4_Untyped_Retype(firstUntyped, ObjectType.CNode, 6, root, 0, 0, outer, 1),
      // A TCB whose only cap is in slot 3 of the new CNode.
      seL4_Untyped_Retype(firstUntyped, ObjectType.TCB, 0, root, outer, wordBits, 3, 1),
    ])).toBeNull()
    const outerSlot = rootSlot(h.spec, outer)
    const cnode = getCap(h.spec, outerSlot) as Extract<Cap, { tag: "CNodeCap" }>
    const tcb = (getCap(h.spec, slotOf(cnode.ptr, 3)) as Extract<Cap, { tag: "ThreadCap" }>).ptr
    const counts: number[] = []
    const outcomes = untilDone(h, withIRQ(seL4_CNode_Delete(root, outer, wordBits)), (o) => {
      const c = getCap(h.spec, outerSlot)
      if (o.result === "Preempted") {
        // Between restarts the slot holds the CNode's Zombie, counting down.
        expect(c.tag).toBe("ZombieCap")
        if (c.tag === "ZombieCap") counts.push(c.number)
      }
    })
    expect(outcomes.length).toBeGreaterThan(20)
    expect(outcomes.at(-1)!.result).toBe("Success")
    expect(counts).toEqual([...counts].sort((a, b) => b - a))
    expect(getCap(h.spec, outerSlot).tag).toBe("NullCap")
    // The unexposed deletion of slot 3 did not recurse into the TCB: its Zombie sits in its own first slot.
    expect(getCap(h.spec, slotOf(tcb, 0))).toEqual({ tag: "ZombieCap", ptr: tcb, zombieType: 32, number: 5 })
    expect(getTcb(h.spec, tcb).tcbState.tag).toBe("Inactive")
  })

  it("a reset clears chunk by chunk: each preempted retype leaves the free index lower, a multiple of the chunk; the restart goes on from it", () => {
    const h = lockstep()
    const ut = 120
    expect(h.run([
      seL4_Untyped_Retype(firstUntyped, ObjectType.Untyped, 14, root, 0, 0, ut, 1),
      seL4_Untyped_Retype(ut, ObjectType.Endpoint, 0, root, 0, 0, 130, 64),
      seL4_CNode_Revoke(root, ut, wordBits),
    ])).toBeNull()
    const utSlot = rootSlot(h.spec, ut)
    const free = () => (getCap(h.spec, utSlot) as Extract<Cap, { tag: "UntypedCap" }>).freeIndex
    expect(free()).toBe(64 * 16)
    const seen: number[] = [free()]
    const outcomes = untilDone(h, withIRQ(seL4_Untyped_Retype(ut, ObjectType.Notification, 0, root, 0, 0, 200, 1)), (o) => {
      if (o.result === "Preempted") seen.push(free())
    })
    expect(outcomes.map((o) => o.result)).toEqual(["Preempted", "Preempted", "Success"])
    expect(seen).toEqual([1024, 512, 0])
    expect(seen.every((f) => f % 2 ** h.spec.resetChunkBits === 0)).toBe(true)
    // The new notification (16 bytes) sits at the untyped's base again.
    expect(free()).toBe(16)
  })

  it("deleting the last cap to a thread blocked in an endpoint queue: suspended and dequeued at once, its slots deleted across restarts", () => {
    const { system, ep, server } = clientServer()
    const h = lockstep()
    expect(h.run(system.events)).toBeNull()
    const epPtr = (getCap(h.spec, rootSlot(h.spec, ep)) as Extract<Cap, { tag: "EndpointCap" }>).ptr
    expect(getEndpoint(h.spec, epPtr).state.tag).toBe("RecvEP")
    const first = h.step(withIRQ(seL4_CNode_Delete(root, server.tcb, wordBits)))
    expect(first.failure).toBeNull()
    expect(first.outcome!.result).toBe("Preempted")
    expect(getTcb(h.spec, server.ptr).tcbState.tag).toBe("Inactive")
    expect(getEndpoint(h.spec, epPtr).state.tag).toBe("IdleEP")
    const rest = untilDone(h, withIRQ(seL4_CNode_Delete(root, server.tcb, wordBits)))
    expect(rest.at(-1)!.result).toBe("Success")
  })

  it("a masked or missing line never preempts; the work counter still counts", () => {
    const h = lockstep()
    expect(h.run([seL4_Untyped_Retype(firstUntyped, ObjectType.CNode, 4, root, 0, 0, 100, 1)])).toBeNull()
    // Line 5 is Inactive, so masked; line 99 does not exist.
    for (const irq of [5, 99]) {
      const r = h.step(withIRQ(seL4_CNode_Revoke(root, 100, wordBits), irq))
      expect(r.failure).toBeNull()
      expect(r.outcome!.result).toBe("Success")
    }
    const r = h.step(withIRQ(seL4_CNode_Delete(root, 100, wordBits), 5))
    expect(r.outcome!.result).toBe("Success")
    expect(h.spec.workUnitsCompleted).toBeLessThan(h.spec.workUnitsLimit)
  })
})
