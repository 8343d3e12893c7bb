// The event builders against the ABI table: every invocation in the table has a builder under
// its libsel4 name, with the table's label, message words and extra caps; stepping it on a cap of
// the right kind is counted under the table's name; the syscall builders make the table's syscalls.
import { describe, expect, it } from "vitest"
import * as kspec from "kspec"
import {
  InitialSlot, InvocationLabel, abi, boot, defaultBootConfig, interrupt, messageInfoFromWord, seL4_IRQControl_Get, step, stepWithOutcome,
  timerTick, unknownSyscall, userException, vmFault,
} from "kspec"
import type { Event, SyscallEvent } from "kspec"

const builders = kspec as unknown as Record<string, (...args: unknown[]) => Event>

// Distinct argument words, so a builder that drops or reorders one is seen.
const args = (n: number) => Array.from({ length: n }, (_, i) => 0x100 + i)

/** The cap each invocation is made on, in the default boot (the IRQ handler made first). */
const capFor: Readonly<Record<string, number>> = {
  CNodeCap: InitialSlot.InitThreadCNode, UntypedCap: kspec.bootInfo(defaultBootConfig).untyped.start, ThreadCap: InitialSlot.InitThreadTCB,
  IRQControlCap: InitialSlot.IRQControl, IRQHandlerCap: 100, DomainCap: InitialSlot.Domain,
  // The root task's address space: its page directory, the page table (slot 16) and the IPC buffer frame.
  PageDirectoryCap: InitialSlot.InitThreadVSpace, PageTableCap: kspec.bootInfo(defaultBootConfig).userImagePaging.start,
  FrameCap: InitialSlot.InitThreadIPCBuffer, ASIDControlCap: InitialSlot.ASIDControl, ASIDPoolCap: InitialSlot.InitThreadASIDPool,
}
const withHandler = step(boot(defaultBootConfig), seL4_IRQControl_Get(InitialSlot.IRQControl, 3, InitialSlot.InitThreadCNode, 100, 32))

describe("invocation builders", () => {
  const invocations = abi.filter((e) => e.kind === "invocation" && e.label !== undefined)
  it("cover every invocation label but InvalidInvocation", () => expect(invocations.length).toBe(Object.keys(InvocationLabel).length - 1))
  for (const e of invocations) {
    it(`${e.libsel4}: label ${e.label}, ${e.args.length} words, ${e.caps.length} caps, counted as ${e.name}`, () => {
      const build = builders[e.libsel4]
      expect(build, `no builder named ${e.libsel4}`).toBeTypeOf("function")
      // libsel4 order: the service, then each argument; extra caps sit among them, so pass words
      // for all and find the caps in the event's extraCaps.
      const ev = (e.libsel4 === "seL4_TCB_WriteRegisters" ? build!(capFor[e.cap!], true, 0, [1, 2, 3]) : build!(capFor[e.cap!], ...args(build!.length - 1))) as SyscallEvent
      expect(ev.tag).toBe("Syscall")
      expect(ev.syscall).toBe("Call")
      expect(ev.cptr).toBe(capFor[e.cap!])
      const mi = messageInfoFromWord(ev.msgInfo)
      expect(mi.label).toBe(InvocationLabel[e.label!])
      expect(ev.extraCaps.length).toBe(e.caps.length)
      expect(mi.extraCaps).toBe(e.caps.length)
      expect(mi.length).toBe(ev.mrs.length)
      // WriteRegisters takes its registers as an array: its two fixed words lead.
      if (e.libsel4 !== "seL4_TCB_WriteRegisters") expect(ev.mrs.length).toBe(e.args.length)
      expect(stepWithOutcome(withHandler, ev).outcome.invocation).toBe(e.name)
    })
  }

  it("pack flag arguments as libsel4 does", () => {
    expect(kspec.seL4_TCB_ReadRegisters(1, true, 2, 5).mrs).toEqual([1 | (2 << 8), 5])
    expect(kspec.seL4_TCB_CopyRegisters(1, 7, true, false, true, true, 0).mrs).toEqual([0b1101])
    expect(kspec.seL4_TCB_WriteRegisters(1, true, 0, [9, 8, 7]).mrs).toEqual([1, 3, 9, 8, 7])
    // seL4_Uint8 arguments are masked; an seL4_Time takes two words on 32-bit, low word first.
    expect(kspec.seL4_DomainSet_Set(1, 0x102, 7).mrs).toEqual([2])
    expect(kspec.seL4_DomainSet_ScheduleConfigure(1, 3, 0x102, 2n ** 40n + 5n).mrs).toEqual([3, 2, 5, 256])
    expect(kspec.seL4_DomainSet_ScheduleConfigure(1, 3, 1, 7).mrs).toEqual([3, 1, 7, 0])
    expect(kspec.capRights({ read: true, write: true })).toBe(kspec.seL4_ReadWrite)
    expect(kspec.capRights({ read: true, write: true, grant: true, grantReply: true })).toBe(kspec.seL4_AllRights)
  })

  it("name Rotate's badges as libsel4 does: dest_badge goes with the pivot's cap, pivot_badge with the source's", () => {
    const ev = kspec.seL4_CNode_Rotate(2, 10, 32, 77, 2, 11, 32, 88, 2, 12, 32)
    expect(ev.mrs).toEqual([10, 32, 77, 11, 32, 88, 12, 32])
    expect(ev.extraCaps).toEqual([2, 2])
  })
})

describe("syscall builders", () => {
  const m = { label: 5, mrs: [1, 2], caps: [3] }
  it("make the syscalls the ABI table names", () => {
    const made: Record<string, Event> = {
      seL4_Send: kspec.seL4_Send(7, m), seL4_NBSend: kspec.seL4_NBSend(7, m), seL4_Call: kspec.seL4_Call(7, m), seL4_Recv: kspec.seL4_Recv(7),
      seL4_NBRecv: kspec.seL4_NBRecv(7), seL4_Reply: kspec.seL4_Reply(m), seL4_ReplyRecv: kspec.seL4_ReplyRecv(7, m), seL4_Yield: kspec.seL4_Yield(),
    }
    for (const e of abi.filter((x) => x.kind === "syscall")) {
      const ev = made[e.libsel4] as SyscallEvent
      expect(ev, e.libsel4).toBeDefined()
      expect(ev.syscall).toBe(e.syscall)
    }
  })
  it("compute the message info from the message", () => {
    const ev = kspec.seL4_Call(7, m)
    expect(messageInfoFromWord(ev.msgInfo)).toEqual({ label: 5, capsUnwrapped: 0, extraCaps: 1, length: 2 })
    expect(ev.mrs).toEqual([1, 2])
    expect(ev.extraCaps).toEqual([3])
    expect(messageInfoFromWord(kspec.seL4_Send(1, { mrs: [1], length: 4 }).msgInfo).length).toBe(4)
  })
  it("put the receive path where the IPC buffer keeps it", () => {
    expect(kspec.seL4_Recv(7, { root: 2, index: 30, depth: 32 }).recvSlot).toEqual([2, 30, 32])
    expect(kspec.seL4_Recv(7).recvSlot).toBeUndefined()
  })
  it("Signal, Wait and Poll are Send, Recv and NBRecv with no message", () => {
    expect(kspec.seL4_Signal(4)).toEqual(kspec.seL4_Send(4))
    expect(kspec.seL4_Wait(4)).toEqual(kspec.seL4_Recv(4))
    expect(kspec.seL4_Poll(4)).toEqual(kspec.seL4_NBRecv(4))
  })
  it("build the other kernel entries", () => {
    expect(timerTick()).toEqual({ tag: "TimerTick" })
    expect(interrupt(3)).toEqual({ tag: "Interrupt", irq: 3 })
    expect(vmFault(0x1000, 7, true)).toEqual({ tag: "UserFault", kind: "VMFault", words: [0x1000, 7, 1] })
    expect(unknownSyscall(99)).toEqual({ tag: "UserFault", kind: "UnknownSyscall", words: [99] })
    expect(userException(1, 2)).toEqual({ tag: "UserFault", kind: "UserException", words: [1, 2] })
    expect(kspec.raw("Call", 1, 0xffff_ffff, [1], [2])).toEqual({ tag: "Syscall", syscall: "Call", cptr: 1, msgInfo: 0xffff_ffff, mrs: [1], extraCaps: [2] })
  })
})
