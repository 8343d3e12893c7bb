/**
 * Scheduler states the random campaign reaches seldom, each the start of a family of traces: a
 * signal wakes a bound thread out of an endpoint receive while a thread of the same priority waits
 * ready. Stopping the woken thread for a moment (cancelIPC) must not make the scheduler choose
 * anew, so the woken thread goes behind the ready one; the impl must agree step by step, on the
 * scenario and on random traces from it. From the same scene, deleting the last cap to an idle
 * endpoint or notification changes nothing, and deleting the endpoint the bound thread waits on
 * restarts it at the head of its queue and asks for a new choice, which is the current thread
 * again: seL4's schedule puts the current thread back at the head of its queue before it chooses.
 * And with three domains, a ready thread moved by DomainSet_Set into the running thread's domain
 * above its priority does not preempt it (seL4's setDomain asks for a new choice only when it moves
 * the current thread): the running thread keeps the CPU with a higher-priority thread ready, so
 * from there every reschedule seL4 asks for, or does not, shows. Last, a thread that jumped and
 * then ran out of its time slice is ready and Running with its restart address behind where it is
 * (an interrupt saves no restart address): suspending it must first save where it is (seL4
 * updateRestartPC), or a resume would send it back.
 */
import { describe, expect, it } from "vitest"
import type { Event } from "../../model/index.ts"
import type { KernelState } from "../../spec/index.ts"
import { getTcb, readyQueueIndex } from "../../spec/state.ts"
import { objectNamedBy, threadState } from "../../harness/query.ts"
import { InitialSlot, ObjectType, Reg, maxPrio, timeSlice } from "../../model/index.ts"
import {
  execute, seL4_CNode_Delete, seL4_DomainSet_Set, seL4_Recv, seL4_Send, seL4_Signal, seL4_TCB_Resume, seL4_TCB_SetIPCBuffer, seL4_TCB_SetPriority,
  seL4_TCB_Suspend, seL4_Yield, timerTick,
} from "../../harness/builders.ts"
import { getRegister } from "../../spec/machine/registerset.ts"
import { SystemBuilder } from "../../harness/setup.ts"
import { domainsBootConfig } from "../../harness/configs.ts"
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

describe("a ready thread moved by DomainSet_Set into the running thread's domain, above its priority", () => {
  // The root thread (domain 0) lowers itself to 100, then moves a ready thread of priority 200 from
  // domain 1 into domain 0: seL4's setDomain enqueues it and asks for no new choice, so the root
  // thread runs on with a higher-priority thread ready. A server of the root's priority waits in
  // Recv on an endpoint of its own. Each case then does one thing more.
  const scene = () => {
    const sys = new SystemBuilder(domainsBootConfig)
    const high = sys.thread({ domain: 1, priority: 200 })
    const other = sys.thread({ priority: 50, resume: false })
    const ep = sys.endpoint()
    const serverEp = sys.endpoint()
    const server = sys.thread({ priority: maxPrio })
    sys.makeCurrent(server)
    sys.emit(seL4_Recv(serverEp))
    const setup = [
      ...sys.events,
      seL4_TCB_SetPriority(server.tcb, InitialSlot.InitThreadTCB, 100),
      seL4_TCB_SetPriority(InitialSlot.InitThreadTCB, InitialSlot.InitThreadTCB, 100),
      seL4_DomainSet_Set(InitialSlot.Domain, 0, high.tcb),
    ]
    return { setup, s0: specRun(setup, domainsBootConfig).state, high: high.ptr, other, ep, server: server.ptr, serverEp }
  }
  const after = (events: readonly Event[]) => {
    const s = specRun(events, domainsBootConfig).state
    expectLockstep(events, domainsBootConfig)
    return s
  }

  it("the scene as meant: the root thread runs in domain 0 at priority 100, the moved thread waits ready (never run: Restart) in domain 0 at 200, the server waits in Recv at 100", () => {
    const { s0, high, server } = scene()
    expect(s0.curDomain).toBe(0)
    expect(getTcb(s0, s0.curThread).tcbPriority).toBe(100)
    expect(s0.curThread).not.toBe(high)
    expect(s0.readyQueues.get(readyQueueIndex(0, 200))).toEqual([high])
    expect(state(s0, high)).toBe("Restart")
    expect(state(s0, server)).toBe("BlockedOnReceive")
    expect(getTcb(s0, server).tcbPriority).toBe(100)
  })

  it("the running thread setting its own IPC buffer asks for a new choice (seL4 invokeTCB_ThreadControl): the higher thread runs", () => {
    const { setup, high } = scene()
    const s = after([...setup, seL4_TCB_SetIPCBuffer(InitialSlot.InitThreadTCB, 0, InitialSlot.InitThreadIPCBuffer)])
    expect(s.curThread).toBe(high)
  })

  it("setting another thread's IPC buffer asks for none: the root thread runs on", () => {
    const { setup, s0, high, other } = scene()
    const s = after([...setup, seL4_TCB_SetIPCBuffer(other.tcb, 0, other.buffer!)])
    expect(getTcb(s, other.ptr).tcbIPCBuffer).toBe(0)
    expect(s.curThread).toBe(s0.curThread)
    expect(s.readyQueues.get(readyQueueIndex(0, 200))).toEqual([high])
  })

  it("deleting the last cap to an idle endpoint asks for none (seL4 cancelAllIPC does nothing on an idle one): the root thread runs on", () => {
    const { setup, s0, ep } = scene()
    const s = after([...setup, seL4_CNode_Delete(InitialSlot.InitThreadCNode, ep, 32)])
    expect(objectNamedBy(s, s.curThread, ep)).toBeUndefined()
    expect(s.curThread).toBe(s0.curThread)
  })

  it("a yield gives the CPU to the higher thread, as any reschedule does", () => {
    const { setup, high } = scene()
    const s = after([...setup, seL4_Yield()])
    expect(s.curThread).toBe(high)
  })

  it("a send waking a thread of the running one's priority puts it behind the running one (seL4 schedule: no fast-fail at equal priority), then the higher thread runs", () => {
    const { setup, s0, high, server, serverEp } = scene()
    const s = after([...setup, seL4_Send(serverEp)])
    expect(s.curThread).toBe(high)
    expect(s.readyQueues.get(readyQueueIndex(0, 100))).toEqual([s0.curThread, server])
  })

  const b = suiteBudget()
  it(`and random traces from there, with three domains (seed=${b.seed})`, () => lockstepFrom(scene().setup, b.seed, 12, 60, domainsBootConfig))
})

describe("suspending a ready thread that ran: Running, not the current thread, its next address ahead of its restart address", () => {
  /** A thread at the root's priority jumps into a code page of its own; timer ticks end its time slice and the root runs. */
  const scene = () => {
    const b = new SystemBuilder()
    const t = b.thread()
    const code = b.frame()
    const target = t.bufferAddr + 0x1040
    b.mapFrame(code, t.vspace, t.bufferAddr + 0x1000)
    b.makeCurrent(t)
    b.emit(execute(target))
    for (let i = 0; i < timeSlice; i++) b.emit(timerTick())
    return { setup: b.events, t, target }
  }

  it("the scene as meant: the root runs; the thread waits ready, Running, at the jump target with its restart address elsewhere", () => {
    const { setup, t, target } = scene()
    const s = run(setup)
    expect(s.curThread).not.toBe(t.ptr)
    expect(state(s, t.ptr)).toBe("Running")
    expect(getRegister(s, t.ptr, Reg.NextIP)).toBe(target)
    expect(getRegister(s, t.ptr, Reg.FaultIP)).not.toBe(target)
  })

  it("suspend saves where it is (FaultIP := NextIP), so a resume carries on from the jump target; the impl agrees at every step", () => {
    const { setup, t, target } = scene()
    const events = [...setup, seL4_TCB_Suspend(t.tcb)]
    const s = run(events)
    expect(state(s, t.ptr)).toBe("Inactive")
    expect(getRegister(s, t.ptr, Reg.FaultIP)).toBe(target)
    const resumed = [...events, seL4_TCB_Resume(t.tcb), seL4_Yield()]
    const s2 = run(resumed)
    expect(s2.curThread).toBe(t.ptr)
    expect(getRegister(s2, t.ptr, Reg.NextIP)).toBe(target)
    expectLockstep(resumed)
  })

  const b = suiteBudget()
  it(`and random traces from there (seed=${b.seed})`, () => lockstepFrom(scene().setup, b.seed, 12))
})
