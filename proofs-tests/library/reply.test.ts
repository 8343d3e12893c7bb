// The reply decoder inverts what the kernel writes: every syscall error with any fields, the
// errors random traces provoke, and each kind of fault message a fault handler receives.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  InitialSlot, ObjectType, SystemBuilder, boot, bootInfo, capAt, slotAt, decodeFaultMessage, defaultBootConfig, seL4_NBRecv, seL4_Signal,
  seL4_TCB_BindNotification, seL4_Untyped_Retype, slotOf, stepWithOutcome, tcbCaller, errorNames, tcbAt, decodeMessage, decodeReply, emptyContext, errorCode, lockstep, messageInfo, observe,
  resolveChoice, seL4_Call, seL4_Recv, syscallErrorFromWords, seL4_CNode_Mint, seL4_CanWrite, PingPongSlots, pingPongSetup, syscallErrorWords, timerIRQ, traceArb, unknownSyscall, userException, vmFault,
} from "kspec"
import type { Event, LookupFailure, SyscallError, UserContext } from "kspec"

const word = fc.nat({ max: 0xffff_ffff })
const lookupFailureArb: fc.Arbitrary<LookupFailure> = fc.oneof(
  fc.constant({ tag: "InvalidRoot" as const }),
  fc.record({ tag: fc.constant("MissingCapability" as const), bitsLeft: word }),
  fc.record({ tag: fc.constant("DepthMismatch" as const), bitsLeft: word, bitsFound: word }),
  fc.record({ tag: fc.constant("GuardMismatch" as const), bitsLeft: word, guardFound: word, bitsFound: word }),
)
const syscallErrorArb: fc.Arbitrary<SyscallError> = fc.oneof(
  fc.record({ tag: fc.constant("InvalidArgument" as const), argument: word }),
  fc.record({ tag: fc.constant("InvalidCapability" as const), capability: word }),
  fc.record({ tag: fc.constant("RangeError" as const), min: word, max: word }),
  fc.record({ tag: fc.constant("FailedLookup" as const), wasSource: fc.boolean(), failure: lookupFailureArb }),
  fc.record({ tag: fc.constant("NotEnoughMemory" as const), bytesLeft: word }),
  fc.constantFrom(...(["IllegalOperation", "AlignmentError", "TruncatedMessage", "DeleteFirst", "RevokeFirst"] as const).map((tag) => ({ tag }))),
)

/** Registers as the kernel's replyFromKernel_error leaves them (with an IPC buffer). */
const replied = (e: SyscallError): UserContext => {
  const ws = syscallErrorWords(e)
  return { ...emptyContext, badge: 0, msgInfo: messageInfo(errorCode[e.tag], ws.length), mrs: [...ws, ...emptyContext.mrs.slice(ws.length)] }
}

describe("decodeReply", () => {
  it("gives back every syscall error the kernel encodes, with its fields", () => {
    fc.assert(fc.property(syscallErrorArb, (e) => { expect(decodeReply(replied(e))).toEqual({ tag: "Error", error: e }) }), { numRuns: 500, seed: 1 })
  })
  it("reads label 0 as success, with the reply's words", () => {
    expect(decodeReply({ ...emptyContext, msgInfo: messageInfo(0, 2), mrs: [5, 6, ...emptyContext.mrs.slice(2)] })).toEqual({ tag: "Ok", mrs: [5, 6] })
  })
  it("calls registers that cannot be a kernel reply malformed, and says why", () => {
    expect(decodeReply({ ...emptyContext, msgInfo: messageInfo(11, 0) })).toEqual({ tag: "Malformed", reason: "label 11 is no seL4_Error (1..10)" })
    expect(decodeReply({ ...emptyContext, msgInfo: messageInfo(errorCode.RangeError, 1) })).toEqual({ tag: "Malformed", reason: "RangeError carries 2 message words, got 1" })
    expect(syscallErrorFromWords(errorCode.FailedLookup, [1, 9])).toBe("no lookup failure has type word 9")
    expect(syscallErrorFromWords(errorCode.FailedLookup, [1, 4, 3])).toBe("a lookup failure of type 4 needs 4 words, got 2")
  })
  it("on random traces, every kernel reply to a Call decodes to the outcome: its error, or Ok for a method that succeeded", () => {
    let errors = 0
    let oks = 0
    fc.assert(fc.property(traceArb(60), (choices) => {
      const h = lockstep()
      for (const c of choices) {
        const ev = resolveChoice(h.spec, c)
        const r = h.step(ev)
        expect(r.failure).toBeNull()
        if (ev.tag !== "Syscall" || ev.syscall !== "Call" || r.outcome === undefined) continue
        // A thread without an IPC buffer gets only the words that fit in registers.
        if (tcbAt(h.spec, r.thread)?.tcbIPCBuffer === 0) continue
        const d = decodeReply(observe(h.spec, r.thread))
        if (errorNames.includes(r.outcome.result as SyscallError["tag"])) { expect(d).toMatchObject({ tag: "Error", error: { tag: r.outcome.result } }); errors++ }
        // An object method that succeeded (and left its caller running) got the kernel's reply.
        else if (r.outcome.result === "Success" && r.outcome.invocation.includes("_") && h.spec.curThread === r.thread) { expect(d.tag).toBe("Ok"); oks++ }
      }
    }), { numRuns: 25, seed: 7 })
    expect(errors).toBeGreaterThan(50)
    expect(oks).toBeGreaterThan(50)
  })
})

/** Does a syscall's result (a receive's, after any "NoCaller+") say that its caller ran on? */
const ranOn = (result: string): boolean => ["Success", "Empty"].includes(result.replace(/^NoCaller\+/, ""))

/**
 * Random traces after `setup`, in lockstep, each outcome checked against the step it names; what was
 * seen, by kind, for the callers to ask that each check was exercised.
 */
const outcomeCampaign = (setup: readonly Event[], numRuns: number, seed: number) => {
  const seen = { Delivered: 0, NoHandler: 0, Blocked: 0, Inactive: 0, RanOn: 0, Empty: 0, Received: 0, RecvCapFault: 0 }
  let undelivered = 0
  fc.assert(fc.property(traceArb(100), (choices) => {
    const h = lockstep()
    for (const e of setup) expect(h.step(e).failure).toBeNull()
    for (const c of choices) {
      const pre = h.spec
      const ev = resolveChoice(pre, c)
      const r = h.step(ev)
      expect(r.failure).toBeNull()
      const o = r.outcome
      if (o === undefined) continue
      if (ev.tag === "Syscall") expect(o.syscall).toBe(ev.syscall)
      // Yield names no cap: it is counted under no invocation.
      if (ev.tag === "Syscall" && ev.syscall === "Yield" && o.invocation !== "VMFault") expect(o.invocation).toBe("none")
      if (ev.tag === "UserFault" || ev.tag === "MemoryAccess") expect([o.syscall, o.invocation]).toEqual([ev.tag, ev.kind])
      // An interrupt is undelivered exactly when its line is past the last or masked.
      if (ev.tag === "TimerTick" || ev.tag === "Interrupt") {
        const irq = ev.tag === "TimerTick" ? timerIRQ : ev.irq
        expect(o.invocation === "Undelivered").toBe(!(irq < pre.numIRQs && !pre.irqMasks[irq]))
        undelivered += o.invocation === "Undelivered" ? 1 : 0
      }
      // A syscall that left its caller blocked or stopped says so, and one that says it ran on (or
      // found nothing) left it running.
      const caller = tcbAt(h.spec, r.thread)?.tcbState.tag
      if (o.result === "Blocked") { expect(caller).toMatch(/^Blocked/); seen.Blocked++ }
      if (o.result === "Inactive") { expect(caller).toBe("Inactive"); seen.Inactive++ }
      // And the converse: a syscall that left its caller stopped or blocked says so, or says why (a
      // cap fault, a fault with no handler, or one delivered to its handler; or a preempted revoke
      // or delete whose work so far finalised the caller's own TCB, which suspends it, as seL4's
      // finaliseCap does: the syscall is not restarted).
      if (ev.tag === "Syscall" && caller === "Inactive") expect(["Inactive", "CapFault", "NoHandler", "Preempted"]).toContain(o.result)
      if (ev.tag === "Syscall" && caller?.startsWith("Blocked") === true) expect(["Blocked", "CapFault", "Delivered"]).toContain(o.result.replace(/^NoCaller\+/, ""))
      if (ev.tag === "Syscall" && caller !== undefined && ranOn(o.result)) { expect(`${ev.syscall} ${o.result}: ${caller}`).toMatch(/: (Running|Restart)$/); seen.RanOn++ }
      // A receive is counted under the kind of cap it named ("lookup" when the address names no
      // slot), unless the thread's stores into its IPC buffer faulted before the trap (VMFault). A
      // ReplyRecv looks its cap up after the reply, which empties only the caller slot (not in the CSpace).
      if (ev.tag === "Syscall" && (ev.syscall === "Recv" || ev.syscall === "NBRecv" || ev.syscall === "ReplyRecv") && o.invocation !== "VMFault") {
        const slot = slotAt(pre, r.thread, ev.cptr)
        expect(o.invocation).toBe(slot === undefined ? "lookup" : pre.caps.get(slot)?.tag ?? "NullCap")
        if (o.result === "CapFault" && o.invocation === "EndpointCap") seen.RecvCapFault++
      }
      // A ReplyRecv with no reply cap in its caller slot says so ("NoCaller+" the receive's result), unless the receive faulted.
      if (ev.tag === "Syscall" && ev.syscall === "ReplyRecv" && o.invocation !== "VMFault" && o.result !== "CapFault") {
        const noCaller = pre.caps.get(slotOf(r.thread, tcbCaller))?.tag !== "ReplyCap"
        expect(o.result.startsWith("NoCaller+")).toBe(noCaller)
      }
      // A non-blocking receive found something exactly when what it received from changed: a
      // sender left the endpoint's queue, or a notification (the named one, or the thread's bound
      // one) gave up its pending badge. Empty: both untouched.
      if (ev.tag === "Syscall" && ev.syscall === "NBRecv" && (o.result === "Empty" || o.result === "Success")) {
        const named = capAt(pre, r.thread, ev.cptr)
        const sources = [named !== undefined && "ptr" in named ? named.ptr : undefined, tcbAt(pre, r.thread)?.tcbBoundNotification ?? undefined]
        const changed = sources.some((p) => p !== undefined && JSON.stringify(pre.kheap.get(p)) !== JSON.stringify(h.spec.kheap.get(p)))
        expect(changed ? "Success" : "Empty").toBe(o.result)
        seen[o.result === "Empty" ? "Empty" : "Received"]++
      }
      if (o.result !== "Delivered" && o.result !== "NoHandler") continue
      seen[o.result]++
      const state = tcbAt(h.spec, r.thread)?.tcbState.tag
      if (o.result === "NoHandler") expect(state).toBe("Inactive")
      else expect(["BlockedOnSend", "BlockedOnReply"]).toContain(state)
    }
  }), { numRuns, seed })
  if (process.env.KSPEC_VERBOSE) console.log(seen, undelivered)
  return { seen, undelivered }
}

describe("the outcome of a step", () => {
  it("names the event that made it, and says what became of the thread: a fault stopped it (NoHandler) or left it waiting for its handler (Delivered), a syscall blocked, stopped it or let it run on, an interrupt was not delivered", () => {
    const { seen, undelivered } = outcomeCampaign([], 60, 11)
    for (const [k, n] of Object.entries(seen)) if (k !== "RecvCapFault") expect([k, n]).not.toEqual([k, 0])
    expect(undelivered).toBeGreaterThan(0)
  })

  it("says the same where receives are many: from the ping-pong scene, with a write-only copy of its endpoint cap (a receive through it faults)", () => {
    // From boot, 60 traces make a few dozen receives and none through a cap without Read.
    const root = InitialSlot.InitThreadCNode
    const { seen } = outcomeCampaign([...pingPongSetup(), seL4_CNode_Mint(root, 109, 32, root, PingPongSlots.ep, 32, seL4_CanWrite, 0)], 40, 23)
    expect(seen.RecvCapFault).toBeGreaterThan(0)
    expect(seen.Received + seen.Empty).toBeGreaterThan(30)
  })
})

describe("a non-blocking receive on an endpoint, by a thread bound to a notification", () => {
  it("succeeds on the notification's pending signal with no sender waiting, and is Empty once the signal is taken", () => {
    const info = bootInfo(defaultBootConfig)
    const [ep, ntfn] = [info.empty.start, info.empty.start + 1]
    const events = [
      seL4_Untyped_Retype(info.untyped.start, ObjectType.Endpoint, 0, InitialSlot.InitThreadCNode, 0, 0, ep, 1),
      seL4_Untyped_Retype(info.untyped.start, ObjectType.Notification, 0, InitialSlot.InitThreadCNode, 0, 0, ntfn, 1),
      seL4_TCB_BindNotification(InitialSlot.InitThreadTCB, ntfn),
      seL4_Signal(ntfn),
      seL4_NBRecv(ep),
      seL4_NBRecv(ep),
    ]
    let s = boot(defaultBootConfig)
    const results = events.map((e) => { const r = stepWithOutcome(s, e); s = r.state; return r.outcome.result })
    expect(results).toEqual(["Success", "Success", "Success", "Success", "Success", "Empty"])
  })
})

describe("decodeFaultMessage", () => {
  /** A thread whose fault handler is an endpoint a server waits on; the thread made current. */
  const faulting = () => {
    const b = new SystemBuilder()
    const ep = b.endpoint()
    const handler = b.thread({ priority: 255 })
    b.makeCurrent(handler)
    b.emit(seL4_Recv(ep))
    const t = b.thread({ faultHandler: ep })
    b.makeCurrent(t)
    const h = lockstep(b.config)
    expect(h.run(b.events)).toBeNull()
    return { h, handler, t }
  }
  const received = (ev: Parameters<ReturnType<typeof lockstep>["step"]>[0]) => {
    const { h, handler } = faulting()
    const r = h.step(ev)
    expect(r.failure).toBeNull()
    expect(h.spec.curThread).toBe(handler.ptr)
    return decodeFaultMessage(decodeMessage(observe(h.spec, handler.ptr)))
  }
  it("decodes a VM fault", () => {
    expect(received(vmFault(0xdead_0000, 0x805, true))).toMatchObject({ fault: { tag: "VMFault", address: 0xdead_0000, fsr: 0x805, instructionFault: true } })
  })
  it("decodes an unknown syscall, with the registers it carries", () => {
    const f = received(unknownSyscall(77))
    expect(f).toMatchObject({ fault: { tag: "UnknownSyscall", syscallNumber: 77 } })
    expect(typeof f === "string" ? 0 : f.registers.size).toBe(12)
  })
  it("decodes a user exception", () => {
    expect(received(userException(3, 9))).toMatchObject({ fault: { tag: "UserException", number: 3, code: 9 } })
  })
  it("decodes a cap fault, with its lookup failure", () => {
    // An address whose top 24 bits miss the root CNode's guard (0, 24 bits).
    expect(received(seL4_Call(0x7777))).toMatchObject({
      fault: { tag: "CapFault", address: 0x7777, inReceivePhase: false, failure: { tag: "GuardMismatch", bitsLeft: 32, guardFound: 0, bitsFound: 24 } },
    })
  })
  it("says why a message is no fault message", () => {
    expect(decodeFaultMessage({ label: 4, mrs: [], badge: 0, extraCaps: 0, capsUnwrapped: 0 })).toBe("label 4 is no fault message label")
    expect(decodeFaultMessage({ label: 5, mrs: [1], badge: 0, extraCaps: 0, capsUnwrapped: 0 })).toBe("a VMFault message carries 4 words, got 1")
  })
})
