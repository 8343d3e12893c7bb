/**
 * The register-transfer TCB invocations (their part of seL4 src/object/tcb.c, aarch32, non-MCS):
 * decodeReadRegisters, decodeWriteRegisters, decodeCopyRegisters and invokeTCB_ReadRegisters,
 * invokeTCB_WriteRegisters, invokeTCB_CopyRegisters, with the flag bits and the aarch32 Arch_*
 * hooks. decodeTCBInvocation in object/tcb.ts dispatches here.
 * @category objects
 */
import { Reg, frameRegisters, gpRegisters, msgRegisters, nMsgRegisters, sanitiseRegister, wordFromMessageInfo } from "../../model/index.ts"
import { getSyscallArg } from "../api/syscall.ts"
import { rescheduleRequired, restart, setThreadState, suspend } from "../kernel/thread.ts"
import { lookupIPCBuffer } from "../kernel/vspace.ts"
import { getRegister, getRestartPC, setNextPC, setRegister } from "../machine/registerset.ts"
import type { Exception, ImplState, ImplTcb } from "../state.ts"
import { EXCEPTION_NONE, ThreadStateRestart, ThreadStateRunning, extraCapSlot, getTcbImpl, syscallError } from "../state.ts"
import type { ThreadCap } from "./tcb.ts"
import { tcbOfCap } from "./tcb.ts"

/** C `CopyRegistersFlags`, `ReadRegistersFlags`, `WriteRegistersFlags`: bit numbers in the flags word. */
const CopyRegisters_suspendSource = 0
const CopyRegisters_resumeTarget = 1
const CopyRegisters_transferFrame = 2
const CopyRegisters_transferInteger = 3
const ReadRegisters_suspend = 0
const WriteRegisters_resume = 0

/** `n_frameRegisters + n_gpRegisters`: the registers Read/WriteRegisters can name (19). */
const nTransferRegisters = frameRegisters.length + gpRegisters.length

/** Is bit `b` of the flags word set? */
const flagSet = (flags: number, b: number): boolean => ((flags >>> b) & 1) !== 0

/** aarch32 has no extra transfer registers: C `Arch_decodeTransfer` returns 0. */
const archDecodeTransfer = (_flags: number): number => 0

/** aarch32: nothing to transfer. C `Arch_performTransfer`. */
const archPerformTransfer = (_arch: number, _src: ImplTcb, _dest: ImplTcb): Exception => EXCEPTION_NONE

/** aarch32 without a hypervisor: nothing to do. C `Arch_postModifyRegisters`. */
const archPostModifyRegisters = (_t: ImplTcb): void => {}

// ---- decode -------------------------------------------------------------------------------------

/**
 * ReadRegisters(flags, n): flag bit 0 suspends the source first.
 *
 * **Errors** (in order): TruncatedMessage (< 2 arguments); RangeError(1, 19) (n outside 1..19);
 * IllegalOperation (the target is the caller).
 * @refines spec/object/tcbRegisters#decodeReadRegisters
 */
export function decodeReadRegisters(k: ImplState, cap: ThreadCap, length: number, call: boolean): Exception {
  if (length < 2) return syscallError(k, { tag: "TruncatedMessage" })
  const flags = getSyscallArg(k, 0)
  const n = getSyscallArg(k, 1)
  if (n < 1 || n > nTransferRegisters) return syscallError(k, { tag: "RangeError", min: 1, max: nTransferRegisters })
  const transferArch = archDecodeTransfer(flags >>> 8)
  const thread = tcbOfCap(k, cap)
  if (thread === k.curThread) return syscallError(k, { tag: "IllegalOperation" })
  setThreadState(k, k.curThread, ThreadStateRestart)
  return invokeTCB_ReadRegisters(k, thread, flagSet(flags, ReadRegisters_suspend), n, transferArch, call)
}

/**
 * WriteRegisters(flags, n, values...): flag bit 0 resumes the target afterwards.
 *
 * **Errors** (in order): TruncatedMessage (< 2 arguments, or fewer than n values); IllegalOperation
 * (the target is the caller).
 * @refines spec/object/tcbRegisters#decodeWriteRegisters
 */
export function decodeWriteRegisters(k: ImplState, cap: ThreadCap, length: number): Exception {
  if (length < 2) return syscallError(k, { tag: "TruncatedMessage" })
  const flags = getSyscallArg(k, 0)
  const w = getSyscallArg(k, 1)
  if (length - 2 < w) return syscallError(k, { tag: "TruncatedMessage" })
  const transferArch = archDecodeTransfer(flags >>> 8)
  const thread = tcbOfCap(k, cap)
  if (thread === k.curThread) return syscallError(k, { tag: "IllegalOperation" })
  setThreadState(k, k.curThread, ThreadStateRestart)
  return invokeTCB_WriteRegisters(k, thread, flagSet(flags, WriteRegisters_resume), w, transferArch)
}

/**
 * CopyRegisters(flags; source TCB in extra cap 0): flag bits 0 suspendSource, 1 resumeTarget,
 * 2 transferFrame, 3 transferInteger.
 *
 * **Errors** (in order): TruncatedMessage (no argument or no extra cap); InvalidCapability(1)
 * (extra cap not a ThreadCap).
 * @refines spec/object/tcbRegisters#decodeCopyRegisters
 */
export function decodeCopyRegisters(k: ImplState, cap: ThreadCap, length: number): Exception {
  const srcSlot = extraCapSlot(k, 0)
  if (length < 1 || srcSlot === null) return syscallError(k, { tag: "TruncatedMessage" })
  const flags = getSyscallArg(k, 0)
  const transferArch = archDecodeTransfer(flags >>> 8)
  const sourceCap = srcSlot.cap
  if (sourceCap.tag !== "ThreadCap") return syscallError(k, { tag: "InvalidCapability", capability: 1 })
  const srcTCB = getTcbImpl(k, sourceCap.ptr)
  setThreadState(k, k.curThread, ThreadStateRestart)
  return invokeTCB_CopyRegisters(
    k, tcbOfCap(k, cap), srcTCB,
    flagSet(flags, CopyRegisters_suspendSource), flagSet(flags, CopyRegisters_resumeTarget),
    flagSet(flags, CopyRegisters_transferFrame), flagSet(flags, CopyRegisters_transferInteger), transferArch,
  )
}

// ---- perform ------------------------------------------------------------------------------------

/**
 * Copy registers from `src` to `dest`: optionally suspend the source and restart the target first;
 * the frame registers (then NextIP := the target's restart PC) and/or the integer registers, as
 * words, unsanitised (as seL4: they come from another thread's context). The current thread as
 * target forces a reschedule.
 * @refines spec/object/tcbRegisters#invokeTCBCopyRegisters
 */
export function invokeTCB_CopyRegisters(
  k: ImplState, dest: ImplTcb, src: ImplTcb, suspendSource: boolean, resumeTarget: boolean, transferFrame: boolean,
  transferInteger: boolean, transferArch: number,
): Exception {
  if (suspendSource) suspend(k, src)
  if (resumeTarget) restart(k, dest)
  if (transferFrame) {
    for (let i = 0; i < frameRegisters.length; i++) {
      const r = frameRegisters[i]!
      setRegister(dest, r, getRegister(src, r))
    }
    setNextPC(dest, getRestartPC(dest))
  }
  if (transferInteger) {
    for (let i = 0; i < gpRegisters.length; i++) {
      const r = gpRegisters[i]!
      setRegister(dest, r, getRegister(src, r))
    }
  }
  archPostModifyRegisters(dest)
  if (dest === k.curThread) rescheduleRequired(k)
  return archPerformTransfer(transferArch, src, dest)
}

/**
 * Reply to the caller with the first `n` registers of `src` (frame registers, then integer
 * registers) as message words: MR0-MR3 always, the rest only with a caller IPC buffer. Optionally
 * suspends `src` first. Only a Call gets the reply; the caller ends Running either way, so
 * handleInvocation's empty success reply does not run.
 * @refines spec/object/tcbRegisters#invokeTCBReadRegisters
 */
export function invokeTCB_ReadRegisters(
  k: ImplState, src: ImplTcb, suspendSource: boolean, n: number, arch: number, call: boolean,
): Exception {
  const thread = k.curThread
  if (suspendSource) suspend(k, src)
  const e = archPerformTransfer(arch, src, thread)
  if (e !== EXCEPTION_NONE) return e
  if (call) {
    const nFrame = frameRegisters.length
    const nGp = gpRegisters.length
    const buffer = lookupIPCBuffer(k, true, thread)
    setRegister(thread, Reg.R0, 0)
    let i = 0
    for (; i < n && i < nFrame && i < nMsgRegisters; i++) {
      setRegister(thread, msgRegisters[i]!, getRegister(src, frameRegisters[i]!))
    }
    if (buffer !== null && i < n && i < nFrame) {
      for (; i < n && i < nFrame; i++) buffer[i + 1] = getRegister(src, frameRegisters[i]!)
    }
    const j = i
    for (i = 0; i < nGp && i + nFrame < n && i + nFrame < nMsgRegisters; i++) {
      setRegister(thread, msgRegisters[i + nFrame]!, getRegister(src, gpRegisters[i]!))
    }
    if (buffer !== null && i < nGp && i + nFrame < n) {
      for (; i < nGp && i + nFrame < n; i++) buffer[i + nFrame + 1] = getRegister(src, gpRegisters[i]!)
    }
    setRegister(thread, Reg.R1, wordFromMessageInfo({ label: 0, capsUnwrapped: 0, extraCaps: 0, length: i + j }))
  }
  setThreadState(k, thread, ThreadStateRunning)
  return EXCEPTION_NONE
}

/**
 * Write the first min(n, 19) transfer registers of `dest` (frame registers, then integer
 * registers) from syscall arguments 2.., sanitised; then NextIP := the restart PC; optionally
 * restart the target.
 * @refines spec/object/tcbRegisters#invokeTCBWriteRegisters
 */
export function invokeTCB_WriteRegisters(
  k: ImplState, dest: ImplTcb, resumeTarget: boolean, n0: number, arch: number,
): Exception {
  const e = archPerformTransfer(arch, k.curThread, dest)
  if (e !== EXCEPTION_NONE) return e
  const n = n0 > nTransferRegisters ? nTransferRegisters : n0
  const nFrame = frameRegisters.length
  for (let i = 0; i < nFrame && i < n; i++) {
    const r = frameRegisters[i]!
    setRegister(dest, r, sanitiseRegister(r, getSyscallArg(k, i + 2)))
  }
  for (let i = 0; i < gpRegisters.length && i + nFrame < n; i++) {
    const r = gpRegisters[i]!
    setRegister(dest, r, sanitiseRegister(r, getSyscallArg(k, i + nFrame + 2)))
  }
  setNextPC(dest, getRestartPC(dest))
  archPostModifyRegisters(dest)
  if (resumeTarget) restart(k, dest)
  if (dest === k.curThread) rescheduleRequired(k)
  return EXCEPTION_NONE
}
