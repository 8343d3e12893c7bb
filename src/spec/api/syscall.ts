/**
 * The kernel entry: one event in, one new state out (seL4 src/api/syscall.c `handleSyscall`,
 * `handleInvocation`, src/object/objecttype.c `decodeInvocation`, A/Syscall_A).
 * @category decoding
 */
import { match } from "ts-pattern"
import type { Cap, Event, Fault, PPtr, SlotPtr, SyscallError, SyscallEvent } from "../../model/index.ts"
import {
  InvocationLabel as L, Reg, RightW, hasRight, labelName, messageInfoFromWord, msgMaxExtraCaps, msgMaxLength, nMsgRegisters,
} from "../../model/index.ts"
import type { Result } from "../result.ts"
import { err, ok } from "../result.ts"
import type { KernelState } from "../state.ts"
import { getCap, getTcb, updateTcb } from "../state.ts"
import { lookupCapAndSlot, lookupSlot } from "../kernel/cspace.ts"
import { activateThread, schedule, setThreadState } from "../kernel/thread.ts"
import type { InvocationArgs } from "../object/cnode.ts"
import { decodeCNodeInvocation, invokeCNode } from "../object/cnode.ts"
import { decodeUntypedInvocation, invokeUntypedRetype } from "../object/untyped.ts"
import { getSyscallArg, lookupIPCBuffer, replyFromKernelError, replyFromKernelSuccessEmpty } from "../object/tcb.ts"
import { handleFault } from "./faults.ts"

/** What one kernel entry did, for statistics and coverage: which operation, and how it ended. */
export interface Outcome {
  /** e.g. `Call`, or `none` when no thread could make the syscall. */
  readonly syscall: string
  /** e.g. `CNode_Copy`, `Untyped_Retype`, `EndpointCap`, or `lookup` when the invoked cap was not found. */
  readonly invocation: string
  /** `Success`, a SyscallError tag, `CapFault`, or `Idle`. */
  readonly result: string
}

/** The name an invocation is counted under: the cap's object and, for CNode and Untyped, the operation. */
export const invocationName = (cap: Cap, label: number): string => {
  if (cap.tag === "CNodeCap") return label >= L.CNodeRevoke && label <= L.CNodeSaveCaller ? `CNode_${labelName(label).slice(5)}` : "CNode_BadLabel"
  if (cap.tag === "UntypedCap") return label === L.UntypedRetype ? "Untyped_Retype" : "Untyped_BadLabel"
  return cap.tag
}

/**
 * The user part of a syscall, before the trap: the thread writes the cap pointer, the message
 * info, message words and extra-cap pointers into its registers and IPC buffer.
 */
const userWrites = (s: KernelState, t: PPtr, ev: SyscallEvent): KernelState =>
  updateTcb(s, t, (tcb) => {
    const mrs = tcb.tcbContext.mrs.slice()
    const n = Math.min(ev.mrs.length, msgMaxLength)
    for (let i = 0; i < n; i++) mrs[i] = ev.mrs[i]!
    const extraCaps = [0, 1, 2].map((i) => ev.extraCaps[i] ?? 0)
    const ctx = tcb.tcbContext
    const rs = ev.recvSlot ?? []
    const regs = ctx.regs.slice()
    // Entering the kernel from user mode saves the restart address (ARM: FaultIP := the return address).
    regs[Reg.FaultIP] = regs[Reg.NextIP]!
    // The cap pointer goes in r0, which seL4 on ARM uses as both cap and badge register.
    return {
      ...tcb, tcbContext: {
        ...ctx, badge: ev.cptr, msgInfo: ev.msgInfo, mrs, extraCaps, regs,
        receiveCNode: rs[0] ?? ctx.receiveCNode, receiveIndex: rs[1] ?? ctx.receiveIndex, receiveDepth: rs[2] ?? ctx.receiveDepth,
      },
    }
  })

/**
 * Look up the extra caps the message names (only when the thread has an IPC buffer). A failed
 * lookup is a cap fault on that pointer. Mirrors seL4 `lookupExtraCaps`.
 */
const lookupExtraCaps = (s: KernelState, t: PPtr, hasBuffer: boolean, count: number): Result<readonly SlotPtr[], Fault> => {
  if (!hasBuffer) return ok([])
  const cptrs = getTcb(s, t).tcbContext.extraCaps
  const slots: SlotPtr[] = []
  for (let i = 0; i < Math.min(count, msgMaxExtraCaps); i++) {
    const cptr = cptrs[i] ?? 0
    const lu = lookupSlot(s, t, cptr)
    if (!lu.ok) return err({ tag: "CapFault", address: cptr, inReceivePhase: false, failure: lu.error })
    slots.push(lu.value)
  }
  return ok(slots)
}

/**
 * Decode and perform an invocation of `cap`. A null cap, an endpoint or notification cap
 * without Write, and a master reply cap are InvalidCapability(0). CNode and Untyped caps are
 * decoded fully. Invocations of the other objects (TCB, endpoints and notifications, IRQ,
 * domain, frames and page tables) arrive with later slices and are IllegalOperation until then.
 * Mirrors seL4 `decodeInvocation`.
 */
const decodeAndPerform = (
  s: KernelState, t: PPtr, cap: Cap, slot: SlotPtr, a: InvocationArgs,
): Result<KernelState, SyscallError> =>
  match(cap)
    .with({ tag: "NullCap" }, () => err({ tag: "InvalidCapability" as const, capability: 0 }))
    .with({ tag: "EndpointCap" }, { tag: "NotificationCap" }, (c) =>
      hasRight(c.rights, RightW) ? err({ tag: "IllegalOperation" as const }) : err({ tag: "InvalidCapability" as const, capability: 0 }))
    .with({ tag: "ReplyCap" }, (c) => (c.isMaster ? err({ tag: "InvalidCapability" as const, capability: 0 }) : err({ tag: "IllegalOperation" as const })))
    .with({ tag: "CNodeCap" }, (c) => {
      const d = decodeCNodeInvocation(s, c, a)
      return d.ok ? ok(invokeCNode(setThreadState(s, t, { tag: "Restart" }), d.value, t)) : d
    })
    .with({ tag: "UntypedCap" }, (c) => {
      const d = decodeUntypedInvocation(s, slot, c, a)
      return d.ok ? ok(invokeUntypedRetype(setThreadState(s, t, { tag: "Restart" }), d.value)) : d
    })
    .with(
      { tag: "ThreadCap" }, { tag: "DomainCap" }, { tag: "IRQControlCap" }, { tag: "IRQHandlerCap" }, { tag: "FrameCap" },
      { tag: "PageTableCap" }, { tag: "PageDirectoryCap" },
      () => err({ tag: "IllegalOperation" as const }),
    )
    .exhaustive()

/**
 * Send, NBSend or Call on a cap: look up the invoked cap (a failure is a cap fault, handled for
 * Send and Call, ignored for NBSend) and the extra caps (likewise); decode; on an error reply it
 * only to a Call; on success, a Call gets an empty reply and the caller runs on.
 * Mirrors seL4 `handleInvocation` (non-MCS).
 */
const handleInvocation = (s: KernelState, t: PPtr, isCall: boolean, isBlocking: boolean, syscall: string): [KernelState, Outcome] => {
  const ctx = getTcb(s, t).tcbContext
  const info = messageInfoFromWord(ctx.msgInfo)
  // On ARM the cap register is the badge register (r0).
  const cptr = ctx.badge
  const fault = (f: Fault, invocation: string): [KernelState, Outcome] =>
    [isBlocking ? handleFault(s, t, f) : s, { syscall, invocation, result: "CapFault" }]

  const lu = lookupCapAndSlot(s, t, cptr)
  if (!lu.ok) return fault({ tag: "CapFault", address: cptr, inReceivePhase: false, failure: lu.error }, "lookup")
  const invocation = invocationName(lu.value.cap, info.label)
  const hasBuffer = lookupIPCBuffer(s, false, t)
  const extra = lookupExtraCaps(s, t, hasBuffer, info.extraCaps)
  if (!extra.ok) return fault(extra.error, invocation)
  const length = info.length > nMsgRegisters && !hasBuffer ? nMsgRegisters : info.length
  const args = Array.from({ length }, (_, i) => getSyscallArg(s, t, i))
  const r = decodeAndPerform(s, t, lu.value.cap, lu.value.slot, {
    label: info.label, args, extraCaps: extra.value.map((slot) => getCap(s, slot)), extraSlots: extra.value,
  })
  if (!r.ok) return [isCall ? replyFromKernelError(s, t, r.error) : s, { syscall, invocation, result: r.error.tag }]
  let s1 = r.value
  if (getTcb(s1, t).tcbState.tag === "Restart") {
    if (isCall) s1 = replyFromKernelSuccessEmpty(s1, t)
    s1 = setThreadState(s1, t, { tag: "Running" })
  }
  return [s1, { syscall, invocation, result: "Success" }]
}

/**
 * One kernel entry with what it did: handle the event, then schedule, then activate the chosen
 * thread. A syscall event while the idle thread runs is no entry at all (idle runs no user code).
 * Mirrors seL4 `handleSyscall` + `schedule` + `activateThread` (`callKernel`).
 */
export const stepWithOutcome = (s: KernelState, ev: Event): { readonly state: KernelState; readonly outcome: Outcome } => {
  const t = s.curThread
  if (ev.tag !== "Syscall") return { state: activateThread(schedule(s)), outcome: { syscall: ev.tag, invocation: "none", result: "Success" } }
  if (t === s.idleThread) return { state: s, outcome: { syscall: ev.syscall, invocation: "none", result: "Idle" } }
  const s1 = userWrites(s, t, ev)
  const [s2, outcome] = match(ev.syscall)
    .with("Send", () => handleInvocation(s1, t, false, true, "Send"))
    .with("NBSend", () => handleInvocation(s1, t, false, false, "NBSend"))
    .with("Call", () => handleInvocation(s1, t, true, true, "Call"))
    .otherwise(() => [s1, { syscall: ev.syscall, invocation: "none", result: "Success" }] as [KernelState, Outcome])
  return { state: activateThread(schedule(s2)), outcome }
}

/** One kernel entry. Pure and total: any event, any words, gives a state. */
export const step = (s: KernelState, ev: Event): KernelState => stepWithOutcome(s, ev).state
