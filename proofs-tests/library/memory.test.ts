// User memory: frames hold words; threads reach them through their VSpaces (shared frames are
// shared memory), a failed translation is a VMFault with the hardware's fault status, and message
// words past MR3 travel through the IPC buffers' frames. Every scenario runs in lockstep, so the
// impl's typed-array memory agrees with the spec's words at each step.
import { describe, expect, it } from "vitest"
import {
  FaultStatus, InitialSlot, SystemBuilder, bufferMsgWord, clientServer, decodeFaultMessage, decodeMessage, execute, lockstep, observe,
  readWord, seL4_ARM_ExecuteNever, seL4_ARM_Page_Map, seL4_ARM_PageCacheable, seL4_CanRead, seL4_Call, seL4_Recv, seL4_ReplyRecv,
  seL4_Yield, userWord, writeWord,
} from "kspec"

/** The root task's page table covers 0x00800000..0x008fffff (its IPC buffer is the first page). */
const rootPage = 0x0080_1000

describe("user memory", () => {
  it("a frame mapped in two address spaces is memory both threads share", () => {
    const b = new SystemBuilder()
    const t = b.thread()
    const frame = b.frame()
    const copy = b.mint(frame, 0)
    b.mapFrame(frame, InitialSlot.InitThreadVSpace, rootPage)
    const there = t.bufferAddr + 0x1000
    b.mapFrame(copy, t.vspace, there)
    b.emit(writeWord(rootPage + 8, 42))
    b.makeCurrent(t)
    b.emit(readWord(there + 8))
    expect(observe(b.state, t.ptr).mrs[0]).toBe(42)
    expect(userWord(b.state, t.ptr, there + 8)).toBe(42)
    expect(userWord(b.state, b.root, rootPage + 8)).toBe(42)
    const h = lockstep(b.config)
    expect(h.run(b.events)).toBeNull()
  })

  it("a fault in user memory goes to the fault handler with the address and the fault status", () => {
    const b = new SystemBuilder()
    const ep = b.endpoint()
    const readOnly = b.frame()
    b.mapFrame(readOnly, InitialSlot.InitThreadVSpace, rootPage, seL4_CanRead)
    const t = b.thread({ faultHandler: ep })
    // The thread maps nothing at 0x30000000 (no directory entry) and has the frame read-only.
    const ro = b.mint(readOnly, 0)
    b.mapFrame(ro, t.vspace, t.bufferAddr + 0x1000, seL4_CanRead)
    const h = lockstep(b.config)
    expect(h.run([...b.events, seL4_Recv(ep)])).toBeNull()
    const fault = (ev: Parameters<typeof h.step>[0]) => {
      expect(h.step(ev).failure).toBeNull()
      const f = decodeFaultMessage(decodeMessage(observe(h.spec, b.root)))
      // The reply restarts the thread; the root waits again.
      expect(h.step(seL4_ReplyRecv(ep, { mrs: [] })).failure).toBeNull()
      return f
    }
    // The root waits on the endpoint; the thread runs and faults, three ways.
    expect(fault(writeWord(t.bufferAddr + 0x1000, 1))).toMatchObject({ fault: { tag: "VMFault", address: t.bufferAddr + 0x1000, fsr: FaultStatus.PermissionPage | FaultStatus.WnR, instructionFault: false } })
    expect(fault(readWord(0x3000_0004))).toMatchObject({ fault: { tag: "VMFault", address: 0x3000_0004, fsr: FaultStatus.TranslationSection, instructionFault: false } })
    expect(fault(execute(t.bufferAddr + 0x2000))).toMatchObject({ fault: { tag: "VMFault", address: t.bufferAddr + 0x2000, fsr: FaultStatus.TranslationPage, instructionFault: true } })
  })

  it("a jump needs an executable mapping: execute-never is a permission fault, else the thread runs on from there", () => {
    const b = new SystemBuilder()
    const code = b.frame()
    b.emit(seL4_ARM_Page_Map(code, InitialSlot.InitThreadVSpace, rootPage, 3, seL4_ARM_PageCacheable))
    const h = lockstep(b.config)
    expect(h.run([...b.events, execute(rootPage + 0x40)])).toBeNull()
    expect(h.outcomes.at(-1)).toMatchObject({ syscall: "MemoryAccess", invocation: "Execute", result: "Success" })
    const xn = b.frame()
    expect(h.run([
      seL4_ARM_Page_Map(xn, InitialSlot.InitThreadVSpace, rootPage + 0x1000, 3, seL4_ARM_PageCacheable | seL4_ARM_ExecuteNever),
      execute(rootPage + 0x1000),
    ])).toBeNull()
    // No fault handler: the root task stops.
    expect(h.outcomes.at(-1)).toMatchObject({ syscall: "MemoryAccess", invocation: "Execute", result: "NoHandler" })
  })

  it("message words past MR3 travel from IPC buffer to IPC buffer", () => {
    const { system, ep, server } = clientServer()
    const h = lockstep(system.config)
    expect(h.run(system.events)).toBeNull()
    const words = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    expect(h.step(seL4_Call(ep, { label: 3, mrs: words })).failure).toBeNull()
    expect(decodeMessage(observe(h.spec, server.ptr))).toMatchObject({ label: 3, mrs: words })
    // MR4 is word 5 of the server's buffer, in its frame: the server reads it at its buffer address.
    expect(userWord(h.spec, server.ptr, server.bufferAddr + 4 * bufferMsgWord(4))).toBe(5)
    expect(h.step(seL4_ReplyRecv(ep, { mrs: [11, 12, 13, 14, 15, 16] })).failure).toBeNull()
    expect(decodeMessage(observe(h.spec, h.spec.curThread))).toMatchObject({ mrs: [11, 12, 13, 14, 15, 16] })
  })

  it("a thread whose buffer address is not mapped faults on its long message's stores, and makes no syscall", () => {
    const b = new SystemBuilder()
    const ep = b.endpoint()
    const t = b.thread({ ipcBuffer: false })
    b.makeCurrent(t)
    const h = lockstep(b.config)
    expect(h.run(b.events)).toBeNull()
    expect(h.step(seL4_Call(ep, { mrs: [1, 2, 3, 4, 5] })).outcome).toEqual({ syscall: "Call", invocation: "VMFault", result: "NoHandler" })
    expect(h.spec.kheap.get(t.ptr)).toMatchObject({ tcbState: { tag: "Inactive" } })
    expect(h.step(seL4_Yield()).failure).toBeNull()
  })
})
