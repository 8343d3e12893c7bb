/**
 * The kernel entry: one event in, one new state out (seL4 src/api/syscall.c `handleSyscall`,
 * `handleInvocation`, `handleRecv`, `handleReply`, `handleYield`, include/api/syscall.h
 * `getSyscallArg`, A/Syscall_A), and what an entry did (`Outcome`). The invocation's dispatch to
 * its object (seL4 `decodeInvocation`) is `decodeInvocation` in object/objecttype.ts.
 * @category decoding
 */
import { match } from "ts-pattern"
import type {
  Cap, Event, Fault, IRQState, InvocationLabelName, LookupFailure, MemoryAccessEvent, MemoryAccessKind, PPtr, SyscallError, SyscallEvent,
  SyscallKind, UserFaultKind,
} from "../../model/index.ts"
import {
  InvocationLabel as L, Reg, RightR, bufferCapsWord, bufferMsgWord, bufferReceiveWord, hasRight, labelName, messageInfoFromWord,
  msgMaxExtraCaps, msgMaxLength, nMsgRegisters, tcbCaller, timerIRQ,
} from "../../model/index.ts"
import type { KernelState } from "../state.ts"
import { contextWith, getCap, getEndpoint, getNotification, getTcb, slotOf, tcbWith, updateState, updateTcb, writeWords } from "../state.ts"
import { isIRQPending } from "../model/preemption.ts"
import { lookupCap, lookupCapAndSlot } from "../kernel/cspace.ts"
import { deleteCallerCap, doReplyTransfer, getMR, lookupExtraCaps } from "../kernel/ipcTransfer.ts"
import { activateThread, rescheduleRequired, schedule, setThreadState, tcbSchedAppend, tcbSchedDequeue } from "../kernel/thread.ts"
import { setRegister, updateRestartPC } from "../machine/registerset.ts"
import type { MemPtr } from "../machine/memory.ts"
import { loadWord, storeWords } from "../machine/memory.ts"
import { translate, userVSpaceRoot } from "../machine/mmu.ts"
import { receiveIPC, replyFromKernelError, replyFromKernelSuccessEmpty } from "../object/endpoint.ts"
import { handleInterrupt } from "../object/interrupt.ts"
import { receiveSignal } from "../object/notification.ts"
import { decodeInvocation } from "../object/objecttype.ts"
import { lookupIPCBuffer } from "../kernel/vspace.ts"
import { handleFault } from "../kernel/faulthandler.ts"

/** What an entry was: the syscall, or the event's tag for the other events. */
export type OutcomeSyscall = SyscallKind | Exclude<Event["tag"], "Syscall">

/** The operations of the invocation labels named `<P><Op>` (model/labels.ts): `Ops<"Untyped">` is `"Retype"`. */
type Ops<P extends string, N extends InvocationLabelName = InvocationLabelName> = N extends `${P}${infer Op}` ? Op : never

/**
 * The name an object method is counted under: `<object>_<operation>`, or `<object>_BadLabel` for
 * another label. The ARM objects use libsel4's names (`ARM_Page_Map` for seL4_ARM_Page_Map).
 */
export type MethodName =
  | `CNode_${Ops<"CNode">}` | `Untyped_${Ops<"Untyped">}` | `TCB_${Ops<"TCB">}` | `Domain_${Ops<"Domain">}`
  | `IRQControl_${Extract<Ops<"IRQ">, "IssueIRQHandler">}` | `IRQHandler_${Exclude<Ops<"IRQ">, "IssueIRQHandler">}`
  | "IRQControl_GetTrigger" | "IRQControl_IssueSGISignal"
  | `ARM_PageDirectory_${Ops<"ARMPD">}` | `ARM_PageTable_${Ops<"ARMPageTable">}` | `ARM_Page_${Exclude<Ops<"ARMPage">, `Table${string}`>}`
  | `ARM_ASIDControl_${Ops<"ARMASIDControl">}` | `ARM_ASIDPool_${Ops<"ARMASIDPool">}`
  | `${ArchObjectName | "CNode" | "Untyped" | "TCB" | "IRQControl" | "IRQHandler" | "Domain"}_BadLabel`

/** The ARM objects' names in the outcome table (libsel4's interface names without `seL4_`). */
type ArchObjectName = "ARM_PageDirectory" | "ARM_PageTable" | "ARM_Page" | "ARM_ASIDControl" | "ARM_ASIDPool"

/**
 * What an entry acted on: an object method (`CNode_Copy`), the invoked or received-on cap's tag
 * (`EndpointCap`), `lookup` when the cap was not found, `ReplyCap` for Reply, the fault kind of a
 * UserFault (`VMFault` also for a syscall whose IPC-buffer stores faulted), the access of a
 * MemoryAccess, the line's IRQState for an interrupt (`Undelivered` when the controller did not
 * deliver it), or `none` (Yield, and entries no thread could make).
 */
export type InvocationName = MethodName | Cap["tag"] | UserFaultKind | MemoryAccessKind | IRQState | "lookup" | "none" | "Undelivered"

/** How a receive ended (handleRecv): got a message or signal, blocked, found nothing (NBRecv), or a cap fault. */
type RecvResult = "Success" | "Blocked" | "Empty" | "CapFault"

/**
 * How an entry ended: `Success`; the caller `Blocked` or `Inactive` (a Call that can never be
 * answered); a decode error (a SyscallError tag); a `CapFault` in the lookup; `Empty` (NBRecv found
 * nothing); `NoCaller` (Reply with no caller) and `NoCaller+<receive result>` (ReplyRecv);
 * `Delivered` or `NoHandler` for a user fault; `Idle` when no user thread could make the entry;
 * `Preempted` when a long operation stopped at a preemption point (the caller restarts it, unless it stopped itself).
 */
export type OutcomeResult =
  | "Success" | "Blocked" | "Inactive"
  | SyscallError["tag"]
  | "CapFault" | "Empty"
  | "NoCaller" | `NoCaller+${Exclude<RecvResult, "CapFault">}`
  | "Delivered" | "NoHandler"
  | "Idle"
  | "Preempted"

/** What one kernel entry did, for statistics and coverage: which operation, and how it ended. */
export interface Outcome<R extends OutcomeResult = OutcomeResult> {
  /** e.g. `Call`, or `UserFault`, `Interrupt`, `TimerTick` for the other events. */
  readonly syscall: OutcomeSyscall
  /** e.g. `CNode_Copy`, `Untyped_Retype`, `EndpointCap`, or `lookup` when the invoked cap was not found. */
  readonly invocation: InvocationName
  /** e.g. `Success`, a SyscallError tag, `CapFault`, or `Idle`. */
  readonly result: R
}

/** `<prefix>_<operation>` for a label in [lo, hi] (its name less `cut` characters), else `<prefix>_BadLabel`. */
const methodName = (label: number, prefix: string, lo: number, hi: number, cut: number): MethodName =>
  // The labels in [lo, hi] are exactly those named `<prefix><operation>` (model/labels.ts), so the name is a MethodName.
  (label >= lo && label <= hi ? `${prefix}_${labelName(label).slice(cut)}` : `${prefix}_BadLabel`) as MethodName

/** The name an invocation is counted under: the cap's object and, for object methods, the operation. */
export const invocationName = (cap: Cap, label: number): InvocationName => {
  switch (cap.tag) {
    case "CNodeCap": return methodName(label, "CNode", L.CNodeRevoke, L.CNodeSaveCaller, 5)
    case "UntypedCap": return methodName(label, "Untyped", L.UntypedRetype, L.UntypedRetype, 7)
    case "ThreadCap": return methodName(label, "TCB", L.TCBReadRegisters, L.TCBSetFlags, 3)
    case "IRQControlCap":
      // The ARM IRQ-control labels (libsel4 seL4_IRQControl_GetTrigger, _IssueSGISignal), not modelled.
      return label === L.ARMIRQIssueIRQHandlerTrigger ? "IRQControl_GetTrigger" : label === L.ARMIRQIssueSGISignal ? "IRQControl_IssueSGISignal"
        : methodName(label, "IRQControl", L.IRQIssueIRQHandler, L.IRQIssueIRQHandler, 3)
    case "IRQHandlerCap": return methodName(label, "IRQHandler", L.IRQAckIRQ, L.IRQClearIRQHandler, 3)
    case "DomainCap": return methodName(label, "Domain", L.DomainSetSet, L.DomainScheduleSetStart, 6)
    case "PageDirectoryCap": return methodName(label, "ARM_PageDirectory", L.ARMPDClean_Data, L.ARMPDUnify_Instruction, 5)
    case "PageTableCap": return methodName(label, "ARM_PageTable", L.ARMPageTableMap, L.ARMPageTableUnmap, 12)
    case "FrameCap": return methodName(label, "ARM_Page", L.ARMPageMap, L.ARMPageGetAddress, 7)
    case "ASIDControlCap": return methodName(label, "ARM_ASIDControl", L.ARMASIDControlMakePool, L.ARMASIDControlMakePool, 14)
    case "ASIDPoolCap": return methodName(label, "ARM_ASIDPool", L.ARMASIDPoolAssign, L.ARMASIDPoolAssign, 11)
    default: return cap.tag
  }
}

/** The IPC-buffer stores a syscall event stands for: (buffer word, value), in the order a thread makes them. */
const bufferStores = (ev: SyscallEvent): [number, number][] => {
  const out: [number, number][] = []
  for (let i = nMsgRegisters; i < Math.min(ev.mrs.length, msgMaxLength); i++) out.push([bufferMsgWord(i), ev.mrs[i]!])
  for (let i = 0; i < Math.min(ev.extraCaps.length, msgMaxExtraCaps); i++) out.push([bufferCapsWord + i, ev.extraCaps[i]!])
  const rs = ev.recvSlot ?? []
  for (let i = 0; i < Math.min(rs.length, 3); i++) out.push([bufferReceiveWord + i, rs[i]!])
  return out
}

/**
 * The user part of a syscall, before the trap. First the stores into the IPC buffer (message words
 * past MR3, extra-cap pointers, the receive slot), each through the thread's VSpace at its buffer
 * address: the first that does not translate for a write is a data abort, returned as the VMFault
 * it raises (the syscall is not made; the stores before it stay). Then the registers: the cap
 * pointer in r0 (ARM's seL4 uses it as both cap and badge register), the message info, MR0-MR3.
 */
const userWrites = (s0: KernelState, t: PPtr, ev: SyscallEvent): [KernelState, Fault | null] => {
  let s = s0
  const stores = bufferStores(ev)
  if (stores.length > 0) {
    const root = userVSpaceRoot(s, t)
    const buffer = getTcb(s, t).tcbIPCBuffer
    // Stores to one 4 KiB page go through one translation, into one frame: gather them, write them together.
    let page = -1
    let frame = 0
    let pageWord = 0
    let pending: [number, number][] = []
    // Runs of consecutive words (message words, extra caps, receive slot) go in one store each.
    const flush = () => {
      for (let a = 0; a < pending.length;) {
        let b = a + 1
        while (b < pending.length && pending[b]![0] === pending[b - 1]![0] + 1) b++
        s = storeWords(s, frame, pending[a]![0], pending.slice(a, b).map(([, w]) => w))
        a = b
      }
      pending = []
    }
    for (const [word, value] of stores) {
      const vaddr = (buffer + 4 * word) >>> 0
      if (vaddr >>> 12 !== page) {
        flush()
        const tr = translate(s, root, vaddr, "Write")
        if (!tr.ok) return [s, { tag: "VMFault", address: vaddr, fsr: tr.fsr, instructionFault: false }]
        page = vaddr >>> 12
        frame = tr.frame
        pageWord = tr.word - ((vaddr & 0xfff) >>> 2)
      }
      pending.push([pageWord + ((vaddr & 0xfff) >>> 2), value])
    }
    flush()
  }
  return [updateTcb(s, t, (tcb) => {
    const ctx = tcb.tcbContext
    // Copy-on-write (writeWords): the arrays are shared when the words are unchanged.
    const mrs = writeWords(ctx.mrs, 0, ev.mrs, Math.min(ev.mrs.length, nMsgRegisters), (w) => w >>> 0)
    return tcbWith(tcb, { tcbContext: contextWith(ctx, { badge: ev.cptr >>> 0, msgInfo: ev.msgInfo >>> 0, mrs }) })
  }), null]
}

/** Argument `i` of thread `t`'s message: MR i, from its registers or its IPC buffer `buf`. Mirrors seL4 `getSyscallArg`. */
export const getSyscallArg = (s: KernelState, t: PPtr, buf: MemPtr | null, i: number): number => getMR(s, t, buf, i)

/** How a syscall left its caller, for the outcome table: running on, blocked, or stopped. */
const callerResult = (s: KernelState, t: PPtr): "Success" | "Inactive" | "Blocked" => {
  const st = getTcb(s, t).tcbState.tag
  return st === "Running" || st === "Restart" ? "Success" : st === "Inactive" ? "Inactive" : "Blocked"
}

/**
 * Send, NBSend or Call on a cap: look up the invoked cap (a failure is a cap fault, handled for
 * Send and Call, ignored for NBSend) and the extra caps (likewise); decode; on an error reply it
 * only to a Call; a preempted invocation leaves the caller Restart, to run the syscall again, and
 * replies nothing; when the invocation left the caller Restart, a Call gets an empty reply and
 * the caller runs on. Mirrors seL4 `handleInvocation` (non-MCS).
 */
const handleInvocation = (s: KernelState, t: PPtr, isCall: boolean, isBlocking: boolean, syscall: SyscallKind): [KernelState, Outcome] => {
  const ctx = getTcb(s, t).tcbContext
  const info = messageInfoFromWord(ctx.msgInfo)
  // On ARM the cap register is the badge register (r0).
  const cptr = ctx.badge
  const fault = (f: Fault, invocation: InvocationName): [KernelState, Outcome] =>
    [isBlocking ? handleFault(s, t, f) : s, { syscall, invocation, result: "CapFault" }]

  const lu = lookupCapAndSlot(s, t, cptr)
  if (!lu.ok) return fault({ tag: "CapFault", address: cptr, inReceivePhase: false, failure: lu.error }, "lookup")
  const invocation = invocationName(lu.value.cap, info.label)
  const buffer = lookupIPCBuffer(s, false, t)
  const extra = lookupExtraCaps(s, t, buffer, info.extraCaps)
  if (!extra.ok) return fault(extra.error, invocation)
  const length = info.length > nMsgRegisters && buffer === null ? nMsgRegisters : info.length
  const args: number[] = []
  for (let i = 0; i < length; i++) args.push(getSyscallArg(s, t, buffer, i))
  const r = decodeInvocation(s, t, lu.value.cap, lu.value.slot, {
    label: info.label, args, extraCaps: extra.value.map((slot) => getCap(s, slot)), extraSlots: extra.value,
  }, isCall, isBlocking)
  if (!r.ok) {
    const e = r.error
    // Preempted: the caller stays Restart (Inactive if the work so far suspended it); handleSyscall takes the interrupt.
    if (e.tag === "Preempted") return [e.state, { syscall, invocation, result: "Preempted" }]
    return [isCall ? replyFromKernelError(s, t, e) : s, { syscall, invocation, result: e.tag }]
  }
  let s1 = r.value
  if (getTcb(s1, t).tcbState.tag === "Restart") {
    if (isCall) s1 = replyFromKernelSuccessEmpty(s1, t)
    s1 = setThreadState(s1, t, { tag: "Running" })
  }
  return [s1, { syscall, invocation, result: callerResult(s1, t) }]
}

/**
 * Receive on the cap in the cap register: an endpoint cap needs Read (the caller-slot reply cap
 * is deleted first); a notification cap needs Read and must not be bound to another thread.
 * Anything else, or a failed lookup, is a cap fault in the receive phase (handled even for
 * NBRecv). Mirrors seL4 `handleRecv` (non-MCS).
 */
const handleRecv = (s: KernelState, t: PPtr, isBlocking: boolean, syscall: SyscallKind): [KernelState, Outcome<RecvResult>] => {
  const cptr = getTcb(s, t).tcbContext.badge
  const fault = (failure: LookupFailure, invocation: InvocationName): [KernelState, Outcome<RecvResult>] =>
    [handleFault(s, t, { tag: "CapFault", address: cptr, inReceivePhase: true, failure }), { syscall, invocation, result: "CapFault" }]
  const missing: LookupFailure = { tag: "MissingCapability", bitsLeft: 0 }
  const lu = lookupCap(s, t, cptr)
  if (!lu.ok) return fault(lu.error, "lookup")
  const cap = lu.value
  const received = (s1: KernelState, invocation: InvocationName): [KernelState, Outcome<RecvResult>] => {
    const st = getTcb(s1, t).tcbState.tag
    const got = st !== "Running" ? "Blocked" : !isBlocking && nothingToReceive(s, t, cap) ? "Empty" : "Success"
    return [s1, { syscall, invocation, result: got }]
  }
  if (cap.tag === "EndpointCap") {
    if (!hasRight(cap.rights, RightR)) return fault(missing, "EndpointCap")
    return received(receiveIPC(deleteCallerCap(s, t), t, cap, isBlocking), "EndpointCap")
  }
  if (cap.tag === "NotificationCap") {
    const bound = getNotification(s, cap.ptr).boundTCB
    if (!hasRight(cap.rights, RightR) || (bound !== null && bound !== t)) return fault(missing, "NotificationCap")
    return received(receiveSignal(s, t, cap.ptr, isBlocking), "NotificationCap")
  }
  return fault(missing, cap.tag)
}

/** The state with the interrupt controller's pending line for this entry (null: none). */
const withPendingIRQ = (s: KernelState, irq: number | null): KernelState => (s.irqPending === irq ? s : updateState(s, { irqPending: irq }))

/** Was there nothing to receive? (For the outcome table only: an NBRecv that found no message.) */
const nothingToReceive = (s: KernelState, t: PPtr, cap: Cap): boolean => {
  const bound = getTcb(s, t).tcbBoundNotification
  if (cap.tag === "EndpointCap") {
    return getEndpoint(s, cap.ptr).state.tag !== "SendEP" && !(bound !== null && getNotification(s, bound).state.tag === "ActiveNtfn")
  }
  return cap.tag === "NotificationCap" && getNotification(s, cap.ptr).state.tag !== "ActiveNtfn"
}

/**
 * Reply through the reply cap in the caller slot; with none (or a master cap, which cannot be
 * there) nothing happens. Mirrors seL4 `handleReply` (non-MCS).
 */
const handleReply = (s: KernelState, t: PPtr): [KernelState, "Success" | "NoCaller"] => {
  const slot = slotOf(t, tcbCaller)
  const cap = getCap(s, slot)
  if (cap.tag === "ReplyCap" && !cap.isMaster) return [doReplyTransfer(s, t, cap.tcb, slot, cap.canGrant), "Success"]
  return [s, "NoCaller"]
}

/**
 * The current thread gives way: it goes to the back of its ready queue and the scheduler
 * chooses again. Mirrors seL4 `handleYield` (non-MCS).
 */
export const handleYield = (s: KernelState): KernelState =>
  rescheduleRequired(tcbSchedAppend(tcbSchedDequeue(s, s.curThread), s.curThread))

/**
 * After a preempted invocation: handle the interrupt the controller reports (the one that
 * preempted it). Mirrors seL4 `checkInterrupt` (`getActiveIRQ`, then `handleInterrupt`).
 */
const checkInterrupt = (s: KernelState): KernelState => (isIRQPending(s) ? handleInterrupt(s, s.irqPending!) : s)

/** `handleInvocation`, then the interrupt that preempted it, if it was preempted. */
const invocationThenInterrupt = (r: [KernelState, Outcome]): [KernelState, Outcome] =>
  r[1].result === "Preempted" ? [checkInterrupt(r[0]), r[1]] : r

/** Run a syscall for the current thread `t`. Mirrors seL4 `handleSyscall` (non-MCS). */
const handleSyscall = (s: KernelState, t: PPtr, syscall: SyscallKind): [KernelState, Outcome] => {
  switch (syscall) {
    // Sends invoke the cap; only Send and Call block, only Call waits for a reply. A preempted
    // invocation is followed by the interrupt that preempted it.
    case "Send": return invocationThenInterrupt(handleInvocation(s, t, false, true, "Send"))
    case "NBSend": return invocationThenInterrupt(handleInvocation(s, t, false, false, "NBSend"))
    case "Call": return invocationThenInterrupt(handleInvocation(s, t, true, true, "Call"))
    // Receives.
    case "Recv": return handleRecv(s, t, true, "Recv")
    case "NBRecv": return handleRecv(s, t, false, "NBRecv")
    // Reply through the caller slot.
    case "Reply": {
      const [s1, result] = handleReply(s, t)
      return [s1, { syscall: "Reply", invocation: "ReplyCap", result }]
    }
    // Reply, then receive.
    case "ReplyRecv": {
      const [s1, replied] = handleReply(s, t)
      const [s2, o] = handleRecv(s1, t, true, "ReplyRecv")
      return [s2, replied === "NoCaller" && o.result !== "CapFault" ? { ...o, result: `NoCaller+${o.result}` } : o]
    }
    // Give up the rest of the time slice.
    case "Yield": return [handleYield(s), { syscall: "Yield", invocation: "none", result: "Success" }]
  }
}

/** The fault a UserFault event raises, from its words (missing words read 0), cut to the fault's field widths. */
const userFault = (kind: UserFaultKind, words: readonly number[]): Fault => {
  const w = (i: number) => (words[i] ?? 0) >>> 0
  return match(kind)
    // The kernel's fault words have fixed widths (structures.bf): FSR 14 bits, the exception code 28.
    .with("VMFault", (): Fault => ({ tag: "VMFault", address: w(0), fsr: w(1) & 0x3fff, instructionFault: w(2) !== 0 }))
    .with("UnknownSyscall", (): Fault => ({ tag: "UnknownSyscall", syscallNumber: w(0) }))
    .with("UserException", (): Fault => ({ tag: "UserException", number: w(0), code: w(1) & 0xfff_ffff }))
    .exhaustive()
}

/** How a fault left its thread, for the outcome table: with a handler to deliver it to, or stopped. */
const faultResult = (s: KernelState, t: PPtr): "Delivered" | "NoHandler" => (getTcb(s, t).tcbState.tag === "Inactive" ? "NoHandler" : "Delivered")

/**
 * A user thread's access to its memory (no kernel code): the MMU translates the address through
 * its VSpace (`userVSpaceRoot`); a read loads the word into r2 (MR0), a write stores the value, an
 * execute jumps there (NextIP). A translation that fails is a VMFault: the abort address and
 * fault status, an instruction fault for a fetch (at the jump target: the restart address is
 * the target), else a data abort at the instruction (FaultIP := NextIP). Returns the state and
 * the fault, or null when the access went through.
 */
const userMemoryAccess = (s: KernelState, t: PPtr, ev: MemoryAccessEvent): [KernelState, Fault | null] => {
  const vaddr = ev.vaddr >>> 0
  const tr = translate(s, userVSpaceRoot(s, t), vaddr, ev.kind)
  switch (ev.kind) {
    case "Read":
      if (!tr.ok) return [updateRestartPC(s, t), { tag: "VMFault", address: vaddr, fsr: tr.fsr, instructionFault: false }]
      return [setRegister(s, t, Reg.R2, loadWord(s, tr.frame, tr.word)), null]
    case "Write":
      if (!tr.ok) return [updateRestartPC(s, t), { tag: "VMFault", address: vaddr, fsr: tr.fsr, instructionFault: false }]
      return [storeWords(s, tr.frame, tr.word, [(ev.value ?? 0) >>> 0]), null]
    case "Execute": {
      const s1 = setRegister(s, t, Reg.NextIP, vaddr)
      if (!tr.ok) return [setRegister(s1, t, Reg.FaultIP, vaddr), { tag: "VMFault", address: vaddr, fsr: tr.fsr, instructionFault: true }]
      return [s1, null]
    }
  }
}

/**
 * Handle one event, before scheduling. A syscall, user fault or memory access while the idle
 * thread runs is no entry (null): idle runs no user code. An interrupt the controller does not
 * deliver (a line past the last or a masked one) handles nothing. The timer tick is the timer
 * line's interrupt. A memory access that translates is no kernel entry either (the state it
 * returns is final: no scheduling); one that faults enters the kernel with the VMFault, as a
 * syscall whose buffer stores fault does (seL4 `handleVMFaultEvent`).
 */
const handleEvent = (s: KernelState, ev: Event): [KernelState, Outcome, boolean] | null => {
  const t = s.curThread
  switch (ev.tag) {
    case "Syscall": {
      if (t === s.idleThread) return null
      const [s1, f] = userWrites(s, t, ev)
      if (f !== null) {
        const s2 = handleFault(updateRestartPC(s1, t), t, f)
        return [s2, { syscall: ev.syscall, invocation: "VMFault", result: faultResult(s2, t) }, true]
      }
      // The interrupt controller holds the event's line pending while the kernel runs.
      return [...handleSyscall(withPendingIRQ(updateRestartPC(s1, t), ev.pendingIRQ ?? null), t, ev.syscall), true]
    }
    case "MemoryAccess": {
      if (t === s.idleThread) return null
      const [s1, f] = userMemoryAccess(s, t, ev)
      if (f === null) return [s1, { syscall: "MemoryAccess", invocation: ev.kind, result: "Success" }, false]
      const s2 = handleFault(s1, t, f)
      return [s2, { syscall: "MemoryAccess", invocation: ev.kind, result: faultResult(s2, t) }, true]
    }
    case "UserFault": {
      if (t === s.idleThread) return null
      const s1 = handleFault(updateRestartPC(s, t), t, userFault(ev.kind, ev.words))
      return [s1, { syscall: "UserFault", invocation: ev.kind, result: faultResult(s1, t) }, true]
    }
    case "TimerTick": case "Interrupt": {
      const irq = ev.tag === "TimerTick" ? timerIRQ : ev.irq
      const delivered = irq < s.numIRQs && !s.irqMasks[irq]
      const s1 = delivered ? handleInterrupt(s, irq) : s
      return [s1, { syscall: ev.tag, invocation: delivered ? s.irqStates[irq]! : "Undelivered", result: "Success" }, true]
    }
  }
}

/**
 * One kernel entry with what it did: handle the event, then schedule, then activate the chosen
 * thread. Mirrors seL4 `callKernel` (`handleSyscall`/`handleInterruptEntry`/
 * `handleUserLevelFault`/`handleVMFaultEvent` + `schedule` + `activateThread`). A memory access
 * that needs no kernel is the user's step alone.
 */
export const stepWithOutcome = (s: KernelState, ev: Event): { readonly state: KernelState; readonly outcome: Outcome } => {
  const r = handleEvent(s, ev)
  if (r === null) return { state: s, outcome: { syscall: ev.tag === "Syscall" ? ev.syscall : ev.tag, invocation: "none", result: "Idle" } }
  return { state: r[2] ? activateThread(schedule(withPendingIRQ(r[0], null))) : r[0], outcome: r[1] }
}

/** One kernel entry. Pure and total: any event, any words, gives a state. */
export const step = (s: KernelState, ev: Event): KernelState => stepWithOutcome(s, ev).state
