/**
 * The register-transfer TCB invocations: ReadRegisters, WriteRegisters and CopyRegisters (their
 * part of seL4 src/object/tcb.c: `decodeReadRegisters`, `decodeWriteRegisters`,
 * `decodeCopyRegisters`, `invokeTCB_ReadRegisters`, `invokeTCB_WriteRegisters`,
 * `invokeTCB_CopyRegisters`; l4v A/Decode_A, A/Tcb_A `invoke_tcb`). `decodeTCBInvocation` and
 * `invokeTCB` in object/tcb.ts dispatch here.
 * @category objects
 */
import type { PPtr, SyscallError } from "../../model/index.ts"
import { frameRegisters, gpRegisters, messageInfo, sanitiseRegister } from "../../model/index.ts"
import type { Result } from "../result.ts"
import { err, ok } from "../result.ts"
import type { KernelState } from "../state.ts"
import { contextWith, tcbWith, updateTcb } from "../state.ts"
import { rescheduleRequired, restart, setThreadState, suspend } from "../kernel/thread.ts"
import { setMRs } from "../kernel/ipcTransfer.ts"
import { lookupIPCBuffer } from "../kernel/vspace.ts"
import { getRegister, getRestartPC, setNextPC, setRegister } from "../machine/registerset.ts"
import type { CapAndSlot, ThreadCap } from "./tcb.ts"

/** The register-transfer invocations, decoded (part of `TCBInvocation`). Mirrors l4v `tcb_invocation`'s three cases. */
export type RegistersInvocation =
  | { readonly tag: "ReadRegisters"; readonly src: PPtr; readonly suspendSource: boolean; readonly count: number }
  | { readonly tag: "WriteRegisters"; readonly dest: PPtr; readonly resumeTarget: boolean; readonly values: readonly number[] }
  | {
    readonly tag: "CopyRegisters"; readonly dest: PPtr; readonly src: PPtr; readonly suspendSource: boolean
    readonly resumeTarget: boolean; readonly transferFrame: boolean; readonly transferInteger: boolean
  }

/** Registers Read/Write/CopyRegisters transfer, in message order: frame registers, then the rest. */
const transferRegisters: readonly number[] = [...frameRegisters, ...gpRegisters]

const truncated: SyscallError = { tag: "TruncatedMessage" }
const illegal: SyscallError = { tag: "IllegalOperation" }

// ---- decode -------------------------------------------------------------------------------------------

/**
 * ReadRegisters(flags, n): read the first n registers of another thread. n outside 1..19 ->
 * RangeError(1, 19); the invoked thread is the caller -> IllegalOperation.
 * Mirrors seL4 `decodeReadRegisters` / l4v `decode_read_registers`.
 */
export const decodeReadRegisters = (s: KernelState, thread: PPtr, cap: ThreadCap, args: readonly number[]): Result<RegistersInvocation, SyscallError> => {
  if (args.length < 2) return err(truncated)
  const [flags, n] = args as [number, number]
  if (n < 1 || n > transferRegisters.length) return err({ tag: "RangeError", min: 1, max: transferRegisters.length })
  if (cap.ptr === thread) return err(illegal)
  return ok({ tag: "ReadRegisters", src: cap.ptr, suspendSource: (flags & 1) !== 0, count: n })
}

/**
 * WriteRegisters(flags, n, values...): fewer than n values -> TruncatedMessage; the invoked
 * thread is the caller -> IllegalOperation. Mirrors seL4 `decodeWriteRegisters` / l4v `decode_write_registers`.
 */
export const decodeWriteRegisters = (s: KernelState, thread: PPtr, cap: ThreadCap, args: readonly number[]): Result<RegistersInvocation, SyscallError> => {
  if (args.length < 2) return err(truncated)
  const [flags, n] = args as [number, number]
  const values = args.slice(2)
  if (values.length < n) return err(truncated)
  if (cap.ptr === thread) return err(illegal)
  return ok({ tag: "WriteRegisters", dest: cap.ptr, resumeTarget: (flags & 1) !== 0, values: values.slice(0, n) })
}

/**
 * CopyRegisters(flags; source TCB): no flags word or no extra cap -> TruncatedMessage; the extra
 * cap not a thread cap -> InvalidCapability(1). Copying from or to the caller is allowed.
 * Mirrors seL4 `decodeCopyRegisters` / l4v `decode_copy_registers`.
 */
export const decodeCopyRegisters = (cap: ThreadCap, args: readonly number[], excaps: readonly CapAndSlot[]): Result<RegistersInvocation, SyscallError> => {
  const flags = args[0]
  const src = excaps[0]?.cap
  if (flags === undefined || src === undefined) return err(truncated)
  if (src.tag !== "ThreadCap") return err({ tag: "InvalidCapability", capability: 1 })
  return ok({
    tag: "CopyRegisters", dest: cap.ptr, src: src.ptr, suspendSource: (flags & 1) !== 0, resumeTarget: (flags & 2) !== 0,
    transferFrame: (flags & 4) !== 0, transferInteger: (flags & 8) !== 0,
  })
}

// ---- perform ------------------------------------------------------------------------------------------

/**
 * Reply the registers `words` to the caller of ReadRegisters: badge 0, the words as message
 * registers (those past MR3 only with an IPC buffer), label 0. As seL4's `invokeTCB_ReadRegisters`
 * unfolds `replyFromKernel` (l4v `reply_from_kernel`).
 */
const replyRegisters = (s: KernelState, caller: PPtr, words: readonly number[]): KernelState => {
  const { s: s1, len } = setMRs(s, caller, lookupIPCBuffer(s, true, caller), words)
  return updateTcb(s1, caller, (tcb) => tcbWith(tcb, { tcbContext: contextWith(tcb.tcbContext, { badge: 0, msgInfo: messageInfo(0, len) }) }))
}

/**
 * Suspend and restart as asked, then copy the frame registers (the copy restarts where the source
 * would) and the other integer registers; the current thread as target reschedules.
 * Mirrors seL4 `invokeTCB_CopyRegisters` / l4v `invoke_tcb (CopyRegisters ...)`.
 */
export const invokeTCBCopyRegisters = (s: KernelState, i: Extract<RegistersInvocation, { tag: "CopyRegisters" }>): KernelState => {
  let s1 = i.suspendSource ? suspend(s, i.src) : s
  if (i.resumeTarget) s1 = restart(s1, i.dest)
  if (i.transferFrame) {
    for (const r of frameRegisters) s1 = setRegister(s1, i.dest, r, getRegister(s1, i.src, r))
    s1 = setNextPC(s1, i.dest, getRestartPC(s1, i.dest))
  }
  if (i.transferInteger) {
    for (const r of gpRegisters) s1 = setRegister(s1, i.dest, r, getRegister(s1, i.src, r))
  }
  return i.dest === s1.curThread ? rescheduleRequired(s1) : s1
}

/**
 * Suspend the source if asked; a Call gets its first n registers; the caller (`caller`, which
 * made the invocation) runs on. Mirrors seL4 `invokeTCB_ReadRegisters` / l4v
 * `invoke_tcb (ReadRegisters ...)`.
 */
export const invokeTCBReadRegisters = (
  s: KernelState, i: Extract<RegistersInvocation, { tag: "ReadRegisters" }>, caller: PPtr, isCall: boolean,
): KernelState => {
  const s1 = i.suspendSource ? suspend(s, i.src) : s
  const words = transferRegisters.slice(0, i.count).map((r) => getRegister(s1, i.src, r))
  const s2 = isCall ? replyRegisters(s1, caller, words) : s1
  return setThreadState(s2, caller, { tag: "Running" })
}

/**
 * Write the values (sanitised) into the registers in order, restart where the new FaultIP says,
 * then resume the target if asked; the current thread as target reschedules.
 * Mirrors seL4 `invokeTCB_WriteRegisters` / l4v `invoke_tcb (WriteRegisters ...)`.
 */
export const invokeTCBWriteRegisters = (s: KernelState, i: Extract<RegistersInvocation, { tag: "WriteRegisters" }>): KernelState => {
  let s1 = s
  i.values.slice(0, transferRegisters.length).forEach((v, k) => {
    const r = transferRegisters[k]!
    s1 = setRegister(s1, i.dest, r, sanitiseRegister(r, v))
  })
  s1 = setNextPC(s1, i.dest, getRestartPC(s1, i.dest))
  if (i.resumeTarget) s1 = restart(s1, i.dest)
  return i.dest === s1.curThread ? rescheduleRequired(s1) : s1
}
