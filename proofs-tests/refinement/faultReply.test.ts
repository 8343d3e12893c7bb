/**
 * Replies to faults that carry registers: a handler's reply to an UnknownSyscall fault writes the
 * faulting thread's syscall registers (R0-R7, FaultIP, SP, LR, CPSR, in that order), to a
 * UserException fault its FaultIP, SP and CPSR, one message word each, sanitised, as many as the
 * reply carries (seL4 `copyMRsFaultReply`, `handleFaultReply`). Words past MR3 come from the
 * replier's IPC buffer, which the kernel reads through the buffer cap the replier's TCB holds: a
 * read-only cap is enough for reading (`lookupIPCBuffer(false, sender)`); with a cap of no rights
 * (the buffer still mapped read-write, so the replier's own stores go through) only the four
 * message registers arrive. Label 0 restarts the thread, any other leaves it Inactive; the registers
 * are written either way. Each case is asserted on the spec and run in lockstep.
 */
import { describe, expect, it } from "vitest"
import type { Cap, Event } from "../../model/index.ts"
import { exceptionMessage, sanitiseRegister, syscallMessage, tcbBuffer } from "../../model/index.ts"
import { getCap, slotOf } from "../../spec/index.ts"
import { seL4_CanRead, seL4_NoRights, seL4_Recv, seL4_Reply, seL4_TCB_SetIPCBuffer, unknownSyscall, userException } from "../../harness/builders.ts"
import { SystemBuilder } from "../../harness/setup.ts"
import { threadState } from "../../harness/query.ts"
import { getRegister } from "../../spec/machine/registerset.ts"
import { expectLockstep, specRun } from "./scenario.ts"

type Kind = "UnknownSyscall" | "UserException"
/** The replier's IPC buffer cap: the read-write one it was made with, a read-only copy, or a copy with no rights (the mapping stays read-write). */
type Buffer = "rw" | "ro" | "none"

/** Message word i of a reply: distinct, and plain words in every register but CPSR (which sanitising changes). */
const word = (i: number): number => (0x1000_0010 + i * 0x0101_0104) >>> 0

/**
 * A handler (priority 255) waits on an endpoint; a thread whose fault handler it is raises the
 * fault; the handler receives it and replies with `length` words and `label`.
 */
const scene = (kind: Kind, length: number, buffer: Buffer, label = 0) => {
  const b = new SystemBuilder()
  const ep = b.endpoint()
  const handler = b.thread({ priority: 255 })
  if (buffer !== "rw") {
    const cap = b.mint(handler.buffer!, 0, buffer === "ro" ? seL4_CanRead : seL4_NoRights)
    b.emit(seL4_TCB_SetIPCBuffer(handler.tcb, handler.bufferAddr, cap))
    const rights = (getCap(b.state, slotOf(handler.ptr, tcbBuffer)) as Extract<Cap, { tag: "FrameCap" }>).vmRights
    if (rights !== (buffer === "ro" ? "ReadOnly" : "KernelOnly")) throw new Error(`the replier's buffer cap has rights ${rights}`)
  }
  b.makeCurrent(handler)
  b.emit(seL4_Recv(ep))
  const t = b.thread({ faultHandler: ep })
  b.makeCurrent(t)
  b.emit(kind === "UnknownSyscall" ? unknownSyscall(77) : userException(3, 9))
  const mrs = Array.from({ length }, (_, i) => word(i))
  const reply: Event = seL4_Reply({ label, mrs })
  return { setup: b.events, events: [...b.events, reply], t: t.ptr, handler: handler.ptr }
}

/** The registers a reply writes for `kind`, in message order. */
const regsOf = (kind: Kind): readonly number[] => (kind === "UnknownSyscall" ? syscallMessage : exceptionMessage)

/** Check one case: the first `arrived` registers take the sanitised words, the rest keep their values; the impl agrees. */
const expectReply = (kind: Kind, length: number, buffer: Buffer, arrived: number, label = 0): void => {
  const { setup, events, t, handler } = scene(kind, length, buffer, label)
  const before = specRun(setup).state
  expect(before.curThread).toBe(handler)
  expect(threadState(before, t)?.tag).toBe("BlockedOnReply")
  const after = specRun(events).state
  const regs = regsOf(kind)
  const want = regs.map((r, i) => (i < arrived ? sanitiseRegister(r, word(i)) : getRegister(before, t, r)))
  expect(regs.map((r) => getRegister(after, t, r))).toEqual(want)
  expect(threadState(after, t)?.tag).toBe(label === 0 ? "Restart" : "Inactive")
  expectLockstep(events)
}

describe("a reply to an UnknownSyscall fault sets the thread's syscall registers, one word each", () => {
  for (const length of [0, 1, 3, 4, 5, 9, 12]) {
    it(`${length} words: the first ${length} of the 12 registers`, () => expectReply("UnknownSyscall", length, "rw", length))
  }
  it("13 words: all 12, the 13th is not read", () => expectReply("UnknownSyscall", 13, "rw", 12))
  it("6 words through a read-only buffer cap: all 6 (the kernel only reads the replier's buffer)", () => expectReply("UnknownSyscall", 6, "ro", 6))
  it("6 words with a buffer cap of no rights: the 4 in message registers only", () => expectReply("UnknownSyscall", 6, "none", 4))
  it("2 words with a buffer cap of no rights: the 2", () => expectReply("UnknownSyscall", 2, "none", 2))
  it("a label other than 0 still writes them, and leaves the thread Inactive", () => expectReply("UnknownSyscall", 5, "rw", 5, 1))
})

describe("a reply to a UserException fault sets FaultIP, SP and CPSR", () => {
  for (const [length, arrived] of [[0, 0], [2, 2], [3, 3], [5, 3]] as const) {
    it(`${length} words: ${arrived} registers`, () => expectReply("UserException", length, "rw", arrived))
  }
  it("a label other than 0 leaves the thread Inactive", () => expectReply("UserException", 3, "none", 3, 2))
})
