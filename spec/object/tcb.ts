/**
 * The TCB invocations: decodeTCBInvocation with one decoder per label, and invokeTCB (seL4
 * src/object/tcb.c, l4v A/Decode_A `decode_tcb_invocation`, A/Tcb_A `invoke_tcb`, non-MCS). The
 * register-transfer invocations (Read/Write/CopyRegisters) are in object/tcbRegisters.ts; what
 * they and the others call lives in its seL4 home: suspend, restart and the priority changes in
 * kernel/thread.ts, the IPC buffer checks in kernel/vspace.ts.
 * @category objects
 */
import { match } from "ts-pattern"
import type { Cap, PPtr, SlotPtr, SyscallError } from "../../model/index.ts"
import { InvocationLabel as L, RightR, hasRight, tcbBuffer, tcbCTable, tcbVTable, tlsBaseRegister } from "../../model/index.ts"
import type { Result } from "../result.ts"
import { err, ok } from "../result.ts"
import type { KernelState } from "../state.ts"
import { getCap, getNotification, getTcb, slotOf, updateTcb } from "../state.ts"
import { rescheduleRequired, restart, setMCPriority, setPriority, suspend } from "../kernel/thread.ts"
import { checkValidIPCBuffer, isValidVTableRoot } from "../kernel/vspace.ts"
import { setRegister } from "../machine/registerset.ts"
import type { InvocationArgs } from "./cnode.ts"
import { cteDeleteNonPreemptible, cteInsert, hasChildren, slotCapLongRunningDelete } from "./cnode.ts"
import { bindNotification, unbindNotification } from "./notification.ts"
import { deriveCap, sameObjectAs, updateCapData } from "./objecttype.ts"
import type { RegistersInvocation } from "./tcbRegisters.ts"
import {
  decodeCopyRegisters, decodeReadRegisters, decodeWriteRegisters, invokeTCBCopyRegisters, invokeTCBReadRegisters,
  invokeTCBWriteRegisters,
} from "./tcbRegisters.ts"

// ---- TCB invocations: decode ------------------------------------------------------------------------

/** A cap and the slot it was looked up in (an extra cap of the message). */
export interface CapAndSlot { readonly cap: Cap; readonly slot: SlotPtr }

/**
 * A decoded TCB invocation: everything checked, ready to perform. `ThreadControl` carries
 * Configure, SetPriority, SetMCPriority, SetSchedParams, SetIPCBuffer and SetSpace; a `null`
 * field is left unchanged. Mirrors l4v `tcb_invocation` (non-MCS, without SetTLSBase and SetFlags).
 */
export type TCBInvocation =
  | RegistersInvocation
  | {
    readonly tag: "ThreadControl"
    readonly target: PPtr
    /** The slot of the invoked thread cap: new caps are inserted only while it still names the target. */
    readonly slot: SlotPtr
    readonly faultEP: number | null
    readonly mcp: number | null
    readonly priority: number | null
    readonly cRoot: CapAndSlot | null
    readonly vRoot: CapAndSlot | null
    /** The new buffer address, and the frame cap to install (none when the address is 0). */
    readonly buffer: { readonly ptr: number; readonly frame: CapAndSlot | null } | null
  }
  | { readonly tag: "Suspend"; readonly thread: PPtr }
  | { readonly tag: "SetTLSBase"; readonly thread: PPtr; readonly tlsBase: number }
  | { readonly tag: "Resume"; readonly thread: PPtr }
  | { readonly tag: "NotificationControl"; readonly tcb: PPtr; readonly ntfn: PPtr | null }

type ThreadControl = Extract<TCBInvocation, { tag: "ThreadControl" }>
/** The invoked cap of a TCB invocation. */
export type ThreadCap = Extract<Cap, { tag: "ThreadCap" }>

const truncated: SyscallError = { tag: "TruncatedMessage" }
const illegal: SyscallError = { tag: "IllegalOperation" }

/** A ThreadControl that changes nothing, to be filled in by one decoder. */
const threadControl = (target: PPtr, slot: SlotPtr): ThreadControl => ({
  tag: "ThreadControl", target, slot, faultEP: null, mcp: null, priority: null, cRoot: null, vRoot: null, buffer: null,
})

/** A priority (or MCP) must not exceed the authority thread's MCP. Mirrors seL4 `checkPrio` / l4v `check_prio`. */
export const checkPrio = (s: KernelState, prio: number, auth: PPtr): Result<void, SyscallError> => {
  const mcp = getTcb(s, auth).tcbMCP
  return prio > mcp ? err({ tag: "RangeError", min: 0, max: mcp }) : ok(undefined)
}

/** Derive `cap` from its slot, reading only. */
const deriveFrom = (s: KernelState, cs: CapAndSlot, cap: Cap): Result<Cap, SyscallError> =>
  deriveCap(hasChildren(s, cs.slot), cap)

/** The authority thread of SetPriority/SetMCPriority/SetSchedParams: extra cap 0 must be a thread cap. */
const authorityTCB = (excaps: readonly CapAndSlot[]): Result<PPtr, SyscallError> => {
  const c = excaps[0]!.cap
  return c.tag === "ThreadCap" ? ok(c.ptr) : err({ tag: "InvalidCapability", capability: 1 })
}

/**
 * The one word of SetPriority or SetMCPriority, checked: no word or no extra cap ->
 * TruncatedMessage; authority (extra cap 0) not a thread cap -> InvalidCapability(1); the value
 * above the authority's MCP -> RangeError(0, mcp).
 */
const checkedPrioArg = (s: KernelState, args: readonly number[], excaps: readonly CapAndSlot[]): Result<number, SyscallError> => {
  if (args.length === 0 || excaps.length === 0) return err(truncated)
  const auth = authorityTCB(excaps)
  if (!auth.ok) return auth
  const c = checkPrio(s, args[0]!, auth.value)
  return c.ok ? ok(args[0]!) : c
}

/**
 * SetPriority(prio; authority TCB): no word or no extra cap -> TruncatedMessage; authority not a
 * thread cap -> InvalidCapability(1); prio above the authority's MCP -> RangeError(0, mcp).
 * Mirrors seL4 `decodeSetPriority` / l4v `decode_set_priority`.
 */
const decodeSetPriority = (s: KernelState, cap: ThreadCap, slot: SlotPtr, args: readonly number[], excaps: readonly CapAndSlot[]): Result<TCBInvocation, SyscallError> => {
  const p = checkedPrioArg(s, args, excaps)
  return p.ok ? ok({ ...threadControl(cap.ptr, slot), priority: p.value }) : p
}

/** SetMCPriority(mcp; authority TCB): as SetPriority. Mirrors seL4 `decodeSetMCPriority` / l4v `decode_set_mcpriority`. */
const decodeSetMCPriority = (s: KernelState, cap: ThreadCap, slot: SlotPtr, args: readonly number[], excaps: readonly CapAndSlot[]): Result<TCBInvocation, SyscallError> => {
  const p = checkedPrioArg(s, args, excaps)
  return p.ok ? ok({ ...threadControl(cap.ptr, slot), mcp: p.value }) : p
}

/**
 * SetSchedParams(mcp, prio; authority TCB): fewer than 2 words -> TruncatedMessage, no extra cap
 * -> TruncatedMessage; authority not a thread cap -> InvalidCapability(1); mcp, then prio, above
 * the authority's MCP -> RangeError(0, mcp). Mirrors seL4 `decodeSetSchedParams` (non-MCS) /
 * l4v `decode_set_sched_params`.
 */
const decodeSetSchedParams = (s: KernelState, cap: ThreadCap, slot: SlotPtr, args: readonly number[], excaps: readonly CapAndSlot[]): Result<TCBInvocation, SyscallError> => {
  if (args.length < 2) return err(truncated)
  if (excaps.length === 0) return err(truncated)
  const auth = authorityTCB(excaps)
  if (!auth.ok) return auth
  const cm = checkPrio(s, args[0]!, auth.value)
  if (!cm.ok) return cm
  const cp = checkPrio(s, args[1]!, auth.value)
  if (!cp.ok) return cp
  return ok({ ...threadControl(cap.ptr, slot), mcp: args[0]!, priority: args[1]! })
}

/**
 * SetIPCBuffer(vaddr; frame): no word -> TruncatedMessage, no extra cap -> TruncatedMessage;
 * address 0 removes the buffer (the cap is ignored); otherwise derive errors, then
 * checkValidIPCBuffer (not a frame or a device frame -> IllegalOperation, unaligned ->
 * AlignmentError). Mirrors seL4 `decodeSetIPCBuffer` / l4v `decode_set_ipc_buffer`.
 */
const decodeSetIPCBuffer = (s: KernelState, cap: ThreadCap, slot: SlotPtr, args: readonly number[], excaps: readonly CapAndSlot[]): Result<ThreadControl, SyscallError> => {
  if (args.length === 0) return err(truncated)
  if (excaps.length === 0) return err(truncated)
  const ptr = args[0]!
  const b = excaps[0]!
  if (ptr === 0) return ok({ ...threadControl(cap.ptr, slot), buffer: { ptr, frame: null } })
  const d = deriveFrom(s, b, b.cap)
  if (!d.ok) return d
  const v = checkValidIPCBuffer(ptr, d.value)
  if (!v.ok) return v
  return ok({ ...threadControl(cap.ptr, slot), buffer: { ptr, frame: { cap: d.value, slot: b.slot } } })
}

/**
 * SetSpace(faultEP, cRootData, vRootData; cRoot, vRoot): fewer than 3 words or 2 extra caps ->
 * TruncatedMessage; the thread's current CSpace or VSpace root is the last cap to a CNode or TCB
 * -> IllegalOperation; the new CSpace root (with its guard updated when cRootData is not 0)
 * fails to derive (its error) or is not a CNode cap -> IllegalOperation; the same for the VSpace
 * root, which must be a valid VTable root. Mirrors seL4 `decodeSetSpace` (non-MCS) / l4v
 * `decode_set_space`.
 */
const decodeSetSpace = (s: KernelState, cap: ThreadCap, slot: SlotPtr, args: readonly number[], excaps: readonly CapAndSlot[]): Result<ThreadControl, SyscallError> => {
  if (args.length < 3 || excaps.length < 2) return err(truncated)
  const [faultEP, cRootData, vRootData] = args as [number, number, number]
  const cRootArg = excaps[0]!
  const vRootArg = excaps[1]!
  if (slotCapLongRunningDelete(s, slotOf(cap.ptr, tcbCTable)) || slotCapLongRunningDelete(s, slotOf(cap.ptr, tcbVTable))) {
    return err(illegal)
  }
  const cRoot = deriveFrom(s, cRootArg, cRootData === 0 ? cRootArg.cap : updateCapData(false, cRootData, cRootArg.cap))
  if (!cRoot.ok) return cRoot
  if (cRoot.value.tag !== "CNodeCap") return err(illegal)
  const vRoot = deriveFrom(s, vRootArg, vRootData === 0 ? vRootArg.cap : updateCapData(false, vRootData, vRootArg.cap))
  if (!vRoot.ok) return vRoot
  if (!isValidVTableRoot(vRoot.value)) return err(illegal)
  return ok({
    ...threadControl(cap.ptr, slot), faultEP,
    cRoot: { cap: cRoot.value, slot: cRootArg.slot }, vRoot: { cap: vRoot.value, slot: vRootArg.slot },
  })
}

/**
 * Configure(faultEP, cRootData, vRootData, buffer; cRoot, vRoot, frame): fewer than 4 words or
 * 3 extra caps -> TruncatedMessage; then SetIPCBuffer's checks on (buffer; frame), then SetSpace's
 * on the rest. Mirrors seL4 `decodeTCBConfigure` (non-MCS) / l4v `decode_tcb_configure`.
 */
const decodeTCBConfigure = (s: KernelState, cap: ThreadCap, slot: SlotPtr, args: readonly number[], excaps: readonly CapAndSlot[]): Result<TCBInvocation, SyscallError> => {
  if (args.length < 4) return err(truncated)
  if (excaps.length < 3) return err(truncated)
  const [faultEP, cRootData, vRootData, buffer] = args as [number, number, number, number]
  const setParams = decodeSetIPCBuffer(s, cap, slot, [buffer], [excaps[2]!])
  if (!setParams.ok) return setParams
  const setSpace = decodeSetSpace(s, cap, slot, [faultEP, cRootData, vRootData], excaps.slice(0, 2))
  if (!setSpace.ok) return setSpace
  return ok({ ...setSpace.value, buffer: setParams.value.buffer })
}

/**
 * BindNotification(; notification): no extra cap -> TruncatedMessage; the thread already bound
 * -> IllegalOperation; the cap not a notification cap -> IllegalOperation; without Read ->
 * IllegalOperation; the notification bound to a thread or with waiters -> IllegalOperation.
 * Mirrors seL4 `decodeBindNotification` / l4v `decode_bind_notification`.
 */
const decodeBindNotification = (s: KernelState, cap: ThreadCap, excaps: readonly CapAndSlot[]): Result<TCBInvocation, SyscallError> => {
  if (excaps.length === 0) return err(truncated)
  if (getTcb(s, cap.ptr).tcbBoundNotification !== null) return err(illegal)
  const c = excaps[0]!.cap
  if (c.tag !== "NotificationCap") return err(illegal)
  if (!hasRight(c.rights, RightR)) return err(illegal)
  const n = getNotification(s, c.ptr)
  if (n.state.tag === "WaitingNtfn" || n.boundTCB !== null) return err(illegal)
  return ok({ tag: "NotificationControl", tcb: cap.ptr, ntfn: c.ptr })
}

/**
 * UnbindNotification: the thread not bound -> IllegalOperation.
 * Mirrors seL4 `decodeUnbindNotification` / l4v `decode_unbind_notification`.
 */
const decodeUnbindNotification = (s: KernelState, cap: ThreadCap): Result<TCBInvocation, SyscallError> =>
  getTcb(s, cap.ptr).tcbBoundNotification === null ? err(illegal) : ok({ tag: "NotificationControl", tcb: cap.ptr, ntfn: null })

/**
 * TCB_SetTLSBase(tls_base): the thread's TLS base register. A message without the word ->
 * TruncatedMessage; nothing else can fail. Mirrors seL4 `decodeSetTLSBase`.
 */
const decodeSetTLSBase = (cap: ThreadCap, args: readonly number[]): Result<TCBInvocation, SyscallError> =>
  args.length < 1 ? err({ tag: "TruncatedMessage" }) : ok({ tag: "SetTLSBase", thread: cap.ptr, tlsBase: args[0]! })

/**
 * Check an invocation of a thread cap by `thread` (the caller), reading only. The label picks the
 * operation; each checks its words and extra caps in seL4's order (see each decoder).
 *
 * **Rights**: none on the thread cap. SetPriority, SetMCPriority and SetSchedParams need an
 * authority thread cap whose MCP bounds the values; BindNotification a notification cap with Read.
 *
 * **Errors**: an unknown label, and SetFlags (not yet modelled) -> IllegalOperation;
 * TruncatedMessage, InvalidCapability(1), RangeError, AlignmentError, IllegalOperation and
 * derive errors as each decoder says. Suspend and Resume never fail.
 *
 * Mirrors seL4 `decodeTCBInvocation` (src/object/tcb.c) / l4v `decode_tcb_invocation`.
 * @category decoding
 */
export const decodeTCBInvocation = (
  s: KernelState, thread: PPtr, cap: ThreadCap, slot: SlotPtr, a: InvocationArgs,
): Result<TCBInvocation, SyscallError> => {
  const { args } = a
  const excaps: readonly CapAndSlot[] = a.extraCaps.map((c, i) => ({ cap: c, slot: a.extraSlots[i]! }))
  switch (a.label) {
    case L.TCBReadRegisters: return decodeReadRegisters(s, thread, cap, args)
    case L.TCBWriteRegisters: return decodeWriteRegisters(s, thread, cap, args)
    case L.TCBCopyRegisters: return decodeCopyRegisters(cap, args, excaps)
    case L.TCBSuspend: return ok({ tag: "Suspend", thread: cap.ptr })
    case L.TCBResume: return ok({ tag: "Resume", thread: cap.ptr })
    case L.TCBConfigure: return decodeTCBConfigure(s, cap, slot, args, excaps)
    case L.TCBSetPriority: return decodeSetPriority(s, cap, slot, args, excaps)
    case L.TCBSetMCPriority: return decodeSetMCPriority(s, cap, slot, args, excaps)
    case L.TCBSetSchedParams: return decodeSetSchedParams(s, cap, slot, args, excaps)
    case L.TCBSetIPCBuffer: return decodeSetIPCBuffer(s, cap, slot, args, excaps)
    case L.TCBSetSpace: return decodeSetSpace(s, cap, slot, args, excaps)
    case L.TCBBindNotification: return decodeBindNotification(s, cap, excaps)
    case L.TCBUnbindNotification: return decodeUnbindNotification(s, cap)
    case L.TCBSetTLSBase: return decodeSetTLSBase(cap, args)
    // SetFlags arrives in a later slice; every other label is no TCB operation.
    default: return err(illegal)
  }
}

// ---- TCB invocations: perform -----------------------------------------------------------------------

/**
 * Run `m` only if `slot` still holds a cap to the same object as `cap` (deleting an old root may
 * have removed it). Mirrors l4v `check_cap_at` (seL4 C tests `sameObjectAs` inline).
 */
const checkCapAt = (s: KernelState, cap: Cap, slot: SlotPtr, m: (s: KernelState) => KernelState): KernelState =>
  sameObjectAs(cap, getCap(s, slot)) ? m(s) : s

/**
 * Replace one of the target's cap slots: delete what is there, then insert the new cap as a copy
 * of its source, provided both the source and the invoked thread cap are still in place.
 */
const installTCBCap = (s: KernelState, tc: ThreadControl, index: number, c: CapAndSlot): KernelState => {
  const rootSlot = slotOf(tc.target, index)
  const s1 = cteDeleteNonPreemptible(s, rootSlot)
  const tCap: Cap = { tag: "ThreadCap", ptr: tc.target }
  return checkCapAt(s1, c.cap, c.slot, (x) => checkCapAt(x, tCap, tc.slot, (y) => cteInsert(y, c.cap, c.slot, rootSlot)))
}

/**
 * Perform a ThreadControl, in seL4's order: fault handler, MCP, CSpace root, VSpace root, IPC
 * buffer (a reschedule when the target is the current thread), priority.
 * Mirrors seL4 `invokeTCB_ThreadControl` (non-MCS) / l4v `invoke_tcb (ThreadControl ...)`.
 */
const invokeThreadControl = (s0: KernelState, tc: ThreadControl): KernelState => {
  let s = s0
  if (tc.faultEP !== null) s = updateTcb(s, tc.target, (t) => ({ ...t, tcbFaultHandler: tc.faultEP! }))
  if (tc.mcp !== null) s = setMCPriority(s, tc.target, tc.mcp)
  if (tc.cRoot !== null) s = installTCBCap(s, tc, tcbCTable, tc.cRoot)
  if (tc.vRoot !== null) s = installTCBCap(s, tc, tcbVTable, tc.vRoot)
  if (tc.buffer !== null) {
    const { ptr, frame } = tc.buffer
    const bufferSlot = slotOf(tc.target, tcbBuffer)
    s = updateTcb(cteDeleteNonPreemptible(s, bufferSlot), tc.target, (t) => ({ ...t, tcbIPCBuffer: ptr }))
    if (frame !== null) {
      const tCap: Cap = { tag: "ThreadCap", ptr: tc.target }
      s = checkCapAt(s, frame.cap, frame.slot, (x) => checkCapAt(x, tCap, tc.slot, (y) => cteInsert(y, frame.cap, frame.slot, bufferSlot)))
    }
    if (tc.target === s.curThread) s = rescheduleRequired(s)
  }
  if (tc.priority !== null) s = setPriority(s, tc.target, tc.priority)
  return s
}

/**
 * Perform a decoded TCB invocation by `caller` (the current thread, already in Restart); it
 * cannot fail. ReadRegisters replies itself (a Call gets the registers) and sets the caller
 * Running, so no empty reply follows it.
 * Mirrors seL4 `invokeTCB_*` (src/object/tcb.c) / l4v `invoke_tcb`.
 * @category objects
 */
export const invokeTCB = (s: KernelState, inv: TCBInvocation, caller: PPtr, isCall: boolean): KernelState =>
  match(inv)
    // Stop the thread.
    .with({ tag: "Suspend" }, (i) => suspend(s, i.thread))
    // Wake the thread if it is stopped.
    .with({ tag: "Resume" }, (i) => restart(s, i.thread))
    .with({ tag: "ThreadControl" }, (i) => invokeThreadControl(s, i))
    // Suspend and restart as asked, then copy the frame registers (the copy restarts where the
    // source would) and the other integer registers.
    .with({ tag: "CopyRegisters" }, (i) => invokeTCBCopyRegisters(s, i))
    // Suspend the source if asked; a Call gets its first n registers; the caller runs on.
    .with({ tag: "ReadRegisters" }, (i) => invokeTCBReadRegisters(s, i, caller, isCall))
    // Write the values (sanitised) into the registers in order, restart where the new FaultIP says,
    // then resume the target if asked.
    .with({ tag: "WriteRegisters" }, (i) => invokeTCBWriteRegisters(s, i))
    // Set the TLS base register; the current thread reschedules so the new base takes effect.
    // Mirrors seL4 `invokeSetTLSBase`.
    .with({ tag: "SetTLSBase" }, (i) => {
      const s1 = setRegister(s, i.thread, tlsBaseRegister, i.tlsBase)
      return i.thread === s1.curThread ? rescheduleRequired(s1) : s1
    })
    // Bind to the notification, or unbind.
    .with({ tag: "NotificationControl" }, (i) =>
      i.ntfn !== null ? bindNotification(s, i.tcb, i.ntfn) : unbindNotification(s, i.tcb))
    .exhaustive()
