/**
 * While the idle thread runs, no user thread can trap: a syscall, a fault or a memory access is no
 * kernel entry, and seL4's state (and the idle thread's registers) stay as they were. The
 * generator never makes such an event (while the idle thread runs, a choice resolves to an
 * interrupt), so this makes every kind once, after the root thread suspends itself.
 */
import { describe, expect, it } from "vitest"
import type { Event } from "../../model/index.ts"
import { InitialSlot, MemoryAccessKinds, SyscallKinds, UserFaultKinds, messageInfo } from "../../model/index.ts"
import { raw, seL4_TCB_Suspend } from "../../harness/builders.ts"
import { stepWithOutcome } from "../../spec/index.ts"
import { expectLockstep, specRun } from "./scenario.ts"

const userEvents: readonly Event[] = [
  ...SyscallKinds.map((k) => raw(k, InitialSlot.InitThreadCNode, messageInfo(1, 5, 1), [1, 2, 3, 4, 5], [InitialSlot.InitThreadTCB])),
  ...UserFaultKinds.map((kind): Event => ({ tag: "UserFault", kind, words: [0x1000, 7, 1] })),
  ...MemoryAccessKinds.map((kind): Event => ({ tag: "MemoryAccess", kind, vaddr: 0x1000, value: 9 })),
]

describe("a user event while the idle thread runs is no kernel entry", () => {
  const setup = [seL4_TCB_Suspend(InitialSlot.InitThreadTCB)]
  const idle = specRun(setup).state

  it("the root thread's suspend leaves the idle thread running", () => {
    expect(idle.curThread).toBe(idle.idleThread)
  })

  it.each(userEvents.map((e) => [e.tag === "Syscall" ? e.syscall : `${e.tag} ${"kind" in e ? e.kind : ""}`, e] as const))("%s: the state is unchanged", (_name, e) => {
    const r = stepWithOutcome(idle, e)
    expect(r.outcome.result).toBe("Idle")
    expect(r.state).toEqual(idle)
  })

  it("the impl agrees, event by event", () => {
    expectLockstep([...setup, ...userEvents])
  })
})
