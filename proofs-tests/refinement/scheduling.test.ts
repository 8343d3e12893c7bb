/**
 * Scheduler states the random campaign reaches seldom, each the start of a family of traces: a
 * signal wakes a bound thread out of an endpoint receive while a thread of the same priority waits
 * ready. Stopping the woken thread for a moment (cancelIPC) must not make the scheduler choose
 * anew, so the woken thread goes behind the ready one; the impl must agree step by step, on the
 * scenario and on random traces from it. From the same scene, deleting the last cap to an idle
 * endpoint or notification changes nothing, and deleting the endpoint the bound thread waits on
 * restarts it at the head of its queue and asks for a new choice, which is the current thread
 * again: seL4's schedule puts the current thread back at the head of its queue before it chooses.
 */
import { describe, expect, it } from "vitest"
import type { Event } from "../../model/index.ts"
import type { KernelState } from "../../spec/index.ts"
import { readyQueueIndex } from "../../spec/state.ts"
import { threadState } from "../../harness/query.ts"
import { InitialSlot, ObjectType } from "../../model/index.ts"
import { seL4_CNode_Delete, seL4_Signal } from "../../harness/builders.ts"
import { retypeOne } from "../../harness/scenarios/retype.ts"
import { BoundWakeSlots as S, boundWakeSetup } from "../../harness/scenarios/boundWake.ts"
import { suiteBudget } from "./budget.ts"
import { expectLockstep, lockstepFrom, objectOf, specRun } from "./scenario.ts"

const run = (events: readonly Event[]): KernelState => specRun(events).state
const state = (s: KernelState, t: number): string | undefined => threadState(s, t)?.tag

describe("a signal wakes a bound thread out of an endpoint receive, with an equal thread ready", () => {
  it("the woken thread goes behind the ready one; the root thread runs on; the impl agrees at every step", () => {
    const setup = boundWakeSetup()
    const s0 = run(setup)
    const bound = objectOf(s0, S.bound)
    const ready = objectOf(s0, S.ready)
    const rootThread = s0.curThread
    // The scene as meant: the bound thread receiving, the other ready in the queue, the root running.
    expect(state(s0, bound)).toBe("BlockedOnReceive")
    expect(s0.readyQueues.get(readyQueueIndex(0, 255))).toEqual([ready])
    const events = [...setup, seL4_Signal(S.ntfn)]
    const s = run(events)
    expect(state(s, bound)).toBe("Running")
    expect(s.curThread).toBe(rootThread)
    expect(s.readyQueues.get(readyQueueIndex(0, 255))).toEqual([ready, bound])
    expectLockstep(events)
  })

  const b = suiteBudget()
  it(`and random traces from there (seed=${b.seed})`, () => lockstepFrom(boundWakeSetup(), b.seed, 12))
})

describe("deleting the last cap to an endpoint or notification, with a thread of the current one's priority ready", () => {
  const root = InitialSlot.InitThreadCNode
  it("an idle one asks for no new choice: the root thread runs on and the ready queue stays as it was", () => {
    const setup = boundWakeSetup()
    const events = [...setup, retypeOne(ObjectType.Endpoint, 0, 150), retypeOne(ObjectType.Notification, 0, 151), seL4_CNode_Delete(root, 150, 32), seL4_CNode_Delete(root, 151, 32)]
    const s0 = run(setup)
    const s = run(events)
    expect(s.curThread).toBe(s0.curThread)
    expect(s.readyQueues.get(readyQueueIndex(0, 255))).toEqual([objectOf(s0, S.ready)])
    expectLockstep(events)
  })

  it("one with a thread waiting restarts it at the head of its queue and asks for a new choice, which is the root thread again: seL4 puts the current thread back at the head", () => {
    const setup = boundWakeSetup()
    const events = [...setup, seL4_CNode_Delete(root, S.ep, 32)]
    const s0 = run(setup)
    const s = run(events)
    const [bound, ready] = [objectOf(s0, S.bound), objectOf(s0, S.ready)]
    expect(state(s, bound)).toBe("Restart")
    expect(s.curThread).toBe(s0.curThread)
    expect(s.readyQueues.get(readyQueueIndex(0, 255))).toEqual([bound, ready])
    expectLockstep(events)
  })
})
