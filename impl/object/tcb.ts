/**
 * TCB queue operations, extra-cap lookup, message-register writes and the TCB invocations (seL4
 * src/object/tcb.c, include/object/tcb.h, non-MCS): ready queues with the two-level priority
 * bitmap, endpoint queues threaded through `tcbEPNext`/`tcbEPPrev`, `lookupExtraCaps`, `setMR`, and
 * decodeTCBInvocation with its decoders and invokes (Read/Write/CopyRegisters, Configure,
 * SetPriority, SetMCPriority, SetSchedParams, SetIPCBuffer, SetSpace, Suspend, Resume,
 * Bind/UnbindNotification). `setPriority`/`setMCPriority` (C src/kernel/thread.c) live here too.
 * @category scheduling
 */
import type { Cap } from "../../model/index.ts"
import {
  InvocationLabel as L, Reg, RightR, frameRegisters, gpRegisters, msgRegisters, nMsgRegisters, sanitiseRegister, tcbBuffer, tcbCTable, tcbVTable, wordFromMessageInfo,
} from "../../model/index.ts"
import { tlsBaseRegister } from "../../model/index.ts"
import { getSyscallArg } from "../api/syscall.ts"
import { rescheduleRequired, restart, setMCPriority, setPriority, setThreadState, suspend } from "../kernel/thread.ts"
import { checkValidIPCBuffer, isValidVTableRoot, lookupIPCBuffer } from "../kernel/vspace.ts"
import { getRegister, getRestartPC, setNextPC, setRegister } from "../machine/registerset.ts"
import type { Cte, ImplNotification, ImplState, ImplTcb } from "../state.ts"
import {
  EXCEPTION_NONE, EXCEPTION_SYSCALL_ERROR, type Exception, ThreadStateRestart, ThreadStateRunning, getNotificationImpl,
  getTcbImpl, tcbSlot, syscallError,
} from "../state.ts"
import { cteDelete, cteInsert, slotCapLongRunningDelete } from "./cnode.ts"
import { bindNotification, unbindNotification } from "./notification.ts"
import { deriveCap, sameObjectAs, updateCapData } from "./objecttype.ts"

// ---- TCB invocations ----------------------------------------------------------------------------

type ThreadCap = Extract<Cap, { tag: "ThreadCap" }>

/** C `NULL_PRIO`. */
const nullPrio = 0
/** `seL4_MinPrio`. */
const minPrio = 0

/** C `thread_control_flag` (non-MCS). */
const thread_control_update_priority = 0x1
const thread_control_update_ipc_buffer = 0x2
const thread_control_update_space = 0x4
const thread_control_update_mcp = 0x8

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

/** The TCB a thread cap names. */
const tcbOfCap = (k: ImplState, cap: ThreadCap): ImplTcb => getTcbImpl(k, cap.ptr)

/** Extra cap `i`'s slot for this invocation, or null (C `current_extra_caps.excaprefs[i]`). */
const extraCapSlot = (k: ImplState, i: number): Cte | null => k.currentExtraCaps[i] ?? null

/** aarch32 has no extra transfer registers: C `Arch_decodeTransfer` returns 0. */
const archDecodeTransfer = (_flags: number): number => 0
/** aarch32: nothing to transfer. C `Arch_performTransfer`. */
const archPerformTransfer = (_arch: number, _src: ImplTcb, _dest: ImplTcb): Exception => EXCEPTION_NONE
/** aarch32 without a hypervisor: nothing to do. C `Arch_postModifyRegisters`. */
const archPostModifyRegisters = (_t: ImplTcb): void => {}

/**
 * A priority above the authority's MCP is a RangeError(0, mcp). C `checkPrio`.
 * @refines spec/object/tcb#checkPrio
 */
function checkPrio(k: ImplState, prio: number, auth: ImplTcb): Exception {
  const mcp = auth.tcbMCP
  if (prio > mcp) return syscallError(k, { tag: "RangeError", min: minPrio, max: mcp })
  return EXCEPTION_NONE
}

/**
 * Decode (and, when valid, perform) an invocation of a thread cap. Labels 2..14 as seL4 non-MCS
 * without SMP or the debug API; every other label, SetTLSBase (15) and SetFlags (16) included, is
 * IllegalOperation. On success the caller is left Restart (handleInvocation replies), except
 * ReadRegisters, which replies itself and leaves it Running.
 *
 * **Rights**: a ThreadCap (no rights bits).
 * **Errors**: IllegalOperation (label), then per invocation as its decoder.
 * **Mirrors**: seL4 `decodeTCBInvocation` (src/object/tcb.c), l4v `decode_tcb_invocation`.
 * @category decoding
 * @refines spec/object/tcb#decodeTCBInvocation
 */
export function decodeTCBInvocation(
  k: ImplState, invLabel: number, length: number, cap: ThreadCap, slot: Cte, call: boolean,
): Exception {
  switch (invLabel) {
    // Read another thread's registers into the reply.
    case L.TCBReadRegisters:
      return decodeReadRegisters(k, cap, length, call)
    // Write another thread's registers from the message.
    case L.TCBWriteRegisters:
      return decodeWriteRegisters(k, cap, length)
    // Copy registers from the thread in extra cap 0.
    case L.TCBCopyRegisters:
      return decodeCopyRegisters(k, cap, length)
    // Suspend: no checks.
    case L.TCBSuspend:
      setThreadState(k, k.curThread, ThreadStateRestart)
      return invokeTCB_Suspend(k, tcbOfCap(k, cap))
    // Resume: no checks.
    case L.TCBResume:
      setThreadState(k, k.curThread, ThreadStateRestart)
      return invokeTCB_Resume(k, tcbOfCap(k, cap))
    // Configure = SetIPCBuffer + SetSpace.
    case L.TCBConfigure:
      return decodeTCBConfigure(k, cap, length, slot)
    case L.TCBSetPriority:
      return decodeSetPriority(k, cap, length)
    case L.TCBSetMCPriority:
      return decodeSetMCPriority(k, cap, length)
    case L.TCBSetSchedParams:
      return decodeSetSchedParams(k, cap, length)
    case L.TCBSetIPCBuffer:
      return decodeSetIPCBuffer(k, cap, length, slot)
    case L.TCBSetSpace:
      return decodeSetSpace(k, cap, length, slot)
    case L.TCBBindNotification:
      return decodeBindNotification(k, cap)
    case L.TCBUnbindNotification:
      return decodeUnbindNotification(k, cap)
    case L.TCBSetTLSBase:
      return decodeSetTLSBase(k, cap, length)
    // Haskell: "throw IllegalOperation" (SetFlags is not in kspec yet).
    default:
      return syscallError(k, { tag: "IllegalOperation" })
  }
}

/**
 * CopyRegisters(flags; source TCB in extra cap 0): flag bits 0 suspendSource, 1 resumeTarget,
 * 2 transferFrame, 3 transferInteger.
 *
 * **Errors** (in order): TruncatedMessage (no argument or no extra cap); InvalidCapability(1)
 * (extra cap not a ThreadCap).
 * @refines spec/object/tcb#decodeCopyRegisters
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

/**
 * ReadRegisters(flags, n): flag bit 0 suspends the source first.
 *
 * **Errors** (in order): TruncatedMessage (< 2 arguments); RangeError(1, 19) (n outside 1..19);
 * IllegalOperation (the target is the caller).
 * @refines spec/object/tcb#decodeReadRegisters
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
 * @refines spec/object/tcb#decodeWriteRegisters
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
 * Configure(faultEP, cRootData, vRootData, bufferAddr; cRoot, vRoot, buffer caps): SetIPCBuffer's
 * checks, then SetSpace's.
 *
 * **Errors** (in order): TruncatedMessage (< 4 arguments or < 3 extra caps); if bufferAddr ≠ 0:
 * deriveCap errors of the buffer cap, IllegalOperation (not a frame / device frame),
 * AlignmentError (bufferAddr not 2^9-aligned); IllegalOperation (deleting the target's current
 * CSpace or VSpace root would be long-running); deriveCap errors of the (guard-updated) cRoot;
 * IllegalOperation (not a CNode); deriveCap errors of the vRoot; IllegalOperation (not a valid
 * VTable root).
 * @refines spec/object/tcb#decodeTCBConfigure
 */
export function decodeTCBConfigure(k: ImplState, cap: ThreadCap, length: number, slot: Cte): Exception {
  const cRootSlot = extraCapSlot(k, 0)
  const vRootSlot = cRootSlot === null ? null : extraCapSlot(k, 1)
  let bufferSlot = vRootSlot === null ? null : extraCapSlot(k, 2)
  if (length < 4 || cRootSlot === null || vRootSlot === null || bufferSlot === null) {
    return syscallError(k, { tag: "TruncatedMessage" })
  }
  const faultEP = getSyscallArg(k, 0)
  const cRootData = getSyscallArg(k, 1)
  const vRootData = getSyscallArg(k, 2)
  const bufferAddr = getSyscallArg(k, 3)
  let cRootCap = cRootSlot.cap
  let vRootCap = vRootSlot.cap
  let bufferCap = bufferSlot.cap

  // The buffer: no frame at all when the address is 0.
  if (bufferAddr === 0) {
    bufferSlot = null
  } else {
    const d = deriveCap(k, bufferSlot, bufferCap)
    if (d === null) return EXCEPTION_SYSCALL_ERROR
    bufferCap = d
    const e = checkValidIPCBuffer(k, bufferAddr, bufferCap)
    if (e !== EXCEPTION_NONE) return e
  }

  const target = tcbOfCap(k, cap)
  if (slotCapLongRunningDelete(tcbSlot(target, tcbCTable)) || slotCapLongRunningDelete(tcbSlot(target, tcbVTable))) {
    return syscallError(k, { tag: "IllegalOperation" })
  }

  if (cRootData !== 0) cRootCap = updateCapData(false, cRootData, cRootCap)
  const dc = deriveCap(k, cRootSlot, cRootCap)
  if (dc === null) return EXCEPTION_SYSCALL_ERROR
  cRootCap = dc
  if (cRootCap.tag !== "CNodeCap") return syscallError(k, { tag: "IllegalOperation" })

  if (vRootData !== 0) vRootCap = updateCapData(false, vRootData, vRootCap)
  const dv = deriveCap(k, vRootSlot, vRootCap)
  if (dv === null) return EXCEPTION_SYSCALL_ERROR
  vRootCap = dv
  if (!isValidVTableRoot(vRootCap)) return syscallError(k, { tag: "IllegalOperation" })

  setThreadState(k, k.curThread, ThreadStateRestart)
  return invokeTCB_ThreadControl(
    k, target, slot, faultEP, nullPrio, nullPrio, cRootCap, cRootSlot, vRootCap, vRootSlot, bufferAddr, bufferCap,
    bufferSlot, thread_control_update_space | thread_control_update_ipc_buffer,
  )
}

/**
 * The authority TCB of SetPriority/SetMCPriority/SetSchedParams: the ThreadCap in extra cap 0
 * (the caller has checked it is present), or InvalidCapability(1).
 */
function authTCBOf(k: ImplState): ImplTcb | null {
  const authCap = extraCapSlot(k, 0)!.cap
  if (authCap.tag !== "ThreadCap") {
    syscallError(k, { tag: "InvalidCapability", capability: 1 })
    return null
  }
  return getTcbImpl(k, authCap.ptr)
}

/**
 * The one word of SetPriority or SetMCPriority, checked against the authority TCB in extra cap 0
 * (TruncatedMessage, InvalidCapability(1), RangeError(0, mcp) in that order); null with the error set.
 * @refines spec/object/tcb#checkedPrioArg
 */
function checkedPrioArg(k: ImplState, length: number): number | null {
  if (length < 1 || extraCapSlot(k, 0) === null) {
    syscallError(k, { tag: "TruncatedMessage" })
    return null
  }
  const value = getSyscallArg(k, 0)
  const authTCB = authTCBOf(k)
  if (authTCB === null) return null
  return checkPrio(k, value, authTCB) === EXCEPTION_NONE ? value : null
}

/**
 * SetPriority(prio; authority TCB).
 *
 * **Errors** (in order): TruncatedMessage (no argument or no extra cap); InvalidCapability(1)
 * (authority not a ThreadCap); RangeError(0, authority MCP) (prio above it).
 * @refines spec/object/tcb#decodeSetPriority
 */
export function decodeSetPriority(k: ImplState, cap: ThreadCap, length: number): Exception {
  const newPrio = checkedPrioArg(k, length)
  if (newPrio === null) return EXCEPTION_SYSCALL_ERROR
  setThreadState(k, k.curThread, ThreadStateRestart)
  return invokeTCB_ThreadControl(
    k, tcbOfCap(k, cap), null, 0, nullPrio, newPrio, { tag: "NullCap" }, null, { tag: "NullCap" }, null, 0,
    { tag: "NullCap" }, null, thread_control_update_priority,
  )
}

/**
 * SetMCPriority(mcp; authority TCB).
 *
 * **Errors** (in order): TruncatedMessage (no argument or no extra cap); InvalidCapability(1)
 * (authority not a ThreadCap); RangeError(0, authority MCP) (mcp above it).
 * @refines spec/object/tcb#decodeSetMCPriority
 */
export function decodeSetMCPriority(k: ImplState, cap: ThreadCap, length: number): Exception {
  const newMcp = checkedPrioArg(k, length)
  if (newMcp === null) return EXCEPTION_SYSCALL_ERROR
  setThreadState(k, k.curThread, ThreadStateRestart)
  return invokeTCB_ThreadControl(
    k, tcbOfCap(k, cap), null, 0, newMcp, nullPrio, { tag: "NullCap" }, null, { tag: "NullCap" }, null, 0,
    { tag: "NullCap" }, null, thread_control_update_mcp,
  )
}

/**
 * SetSchedParams(mcp, prio; authority TCB): both, MCP first.
 *
 * **Errors** (in order): TruncatedMessage (< 2 arguments or no extra cap); InvalidCapability(1)
 * (authority not a ThreadCap); RangeError(0, authority MCP) for mcp, then for prio.
 * @refines spec/object/tcb#decodeSetSchedParams
 */
export function decodeSetSchedParams(k: ImplState, cap: ThreadCap, length: number): Exception {
  if (length < 2 || extraCapSlot(k, 0) === null) return syscallError(k, { tag: "TruncatedMessage" })
  const newMcp = getSyscallArg(k, 0)
  const newPrio = getSyscallArg(k, 1)
  const authTCB = authTCBOf(k)
  if (authTCB === null) return EXCEPTION_SYSCALL_ERROR
  let st = checkPrio(k, newMcp, authTCB)
  if (st !== EXCEPTION_NONE) return st
  st = checkPrio(k, newPrio, authTCB)
  if (st !== EXCEPTION_NONE) return st
  setThreadState(k, k.curThread, ThreadStateRestart)
  return invokeTCB_ThreadControl(
    k, tcbOfCap(k, cap), null, 0, newMcp, newPrio, { tag: "NullCap" }, null, { tag: "NullCap" }, null, 0,
    { tag: "NullCap" }, null, thread_control_update_mcp | thread_control_update_priority,
  )
}

/**
 * SetIPCBuffer(bufferAddr; frame cap). Address 0 removes the buffer (the cap is then not examined).
 *
 * **Errors** (in order): TruncatedMessage (no argument or no extra cap); if bufferAddr ≠ 0:
 * deriveCap errors, IllegalOperation (not a frame / device frame), AlignmentError (not
 * 2^9-aligned).
 * @refines spec/object/tcb#decodeSetIPCBuffer
 */
export function decodeSetIPCBuffer(k: ImplState, cap: ThreadCap, length: number, slot: Cte): Exception {
  let bufferSlot = extraCapSlot(k, 0)
  if (length < 1 || bufferSlot === null) return syscallError(k, { tag: "TruncatedMessage" })
  const cptrBufferPtr = getSyscallArg(k, 0)
  let bufferCap = bufferSlot.cap
  if (cptrBufferPtr === 0) {
    bufferSlot = null
  } else {
    const d = deriveCap(k, bufferSlot, bufferCap)
    if (d === null) return EXCEPTION_SYSCALL_ERROR
    bufferCap = d
    const e = checkValidIPCBuffer(k, cptrBufferPtr, bufferCap)
    if (e !== EXCEPTION_NONE) return e
  }
  setThreadState(k, k.curThread, ThreadStateRestart)
  return invokeTCB_ThreadControl(
    k, tcbOfCap(k, cap), slot, 0, nullPrio, nullPrio, { tag: "NullCap" }, null, { tag: "NullCap" }, null,
    cptrBufferPtr, bufferCap, bufferSlot, thread_control_update_ipc_buffer,
  )
}

/**
 * SetSpace(faultEP, cRootData, vRootData; cRoot, vRoot caps): new fault handler cptr and CSpace /
 * VSpace roots, each root optionally re-guarded/badged by its data word and derived.
 *
 * **Errors** (in order): TruncatedMessage (< 3 arguments or < 2 extra caps); IllegalOperation
 * (deleting the target's current CSpace or VSpace root would be long-running); deriveCap errors of
 * the cRoot; IllegalOperation (not a CNode); deriveCap errors of the vRoot; IllegalOperation (not
 * a valid VTable root).
 * @refines spec/object/tcb#decodeSetSpace
 */
export function decodeSetSpace(k: ImplState, cap: ThreadCap, length: number, slot: Cte): Exception {
  const cRootSlot = extraCapSlot(k, 0)
  const vRootSlot = cRootSlot === null ? null : extraCapSlot(k, 1)
  if (length < 3 || cRootSlot === null || vRootSlot === null) return syscallError(k, { tag: "TruncatedMessage" })
  const faultEP = getSyscallArg(k, 0)
  const cRootData = getSyscallArg(k, 1)
  const vRootData = getSyscallArg(k, 2)
  let cRootCap = cRootSlot.cap
  let vRootCap = vRootSlot.cap

  const target = tcbOfCap(k, cap)
  if (slotCapLongRunningDelete(tcbSlot(target, tcbCTable)) || slotCapLongRunningDelete(tcbSlot(target, tcbVTable))) {
    return syscallError(k, { tag: "IllegalOperation" })
  }

  if (cRootData !== 0) cRootCap = updateCapData(false, cRootData, cRootCap)
  const dc = deriveCap(k, cRootSlot, cRootCap)
  if (dc === null) return EXCEPTION_SYSCALL_ERROR
  cRootCap = dc
  if (cRootCap.tag !== "CNodeCap") return syscallError(k, { tag: "IllegalOperation" })

  if (vRootData !== 0) vRootCap = updateCapData(false, vRootData, vRootCap)
  const dv = deriveCap(k, vRootSlot, vRootCap)
  if (dv === null) return EXCEPTION_SYSCALL_ERROR
  vRootCap = dv
  if (!isValidVTableRoot(vRootCap)) return syscallError(k, { tag: "IllegalOperation" })

  setThreadState(k, k.curThread, ThreadStateRestart)
  return invokeTCB_ThreadControl(
    k, target, slot, faultEP, nullPrio, nullPrio, cRootCap, cRootSlot, vRootCap, vRootSlot, 0, { tag: "NullCap" }, null,
    thread_control_update_space,
  )
}

/**
 * BindNotification(; notification cap).
 *
 * **Errors** (in order): TruncatedMessage (no extra cap); IllegalOperation (the TCB already has a
 * bound notification); IllegalOperation (not a NotificationCap); IllegalOperation (no Read right);
 * IllegalOperation (the notification has waiters or is bound to a TCB).
 * @refines spec/object/tcb#decodeBindNotification
 */
export function decodeBindNotification(k: ImplState, cap: ThreadCap): Exception {
  const ntfnSlot = extraCapSlot(k, 0)
  if (ntfnSlot === null) return syscallError(k, { tag: "TruncatedMessage" })
  const tcb = tcbOfCap(k, cap)
  if (tcb.tcbBoundNotification !== null) return syscallError(k, { tag: "IllegalOperation" })
  const ntfnCap = ntfnSlot.cap
  if (ntfnCap.tag !== "NotificationCap") return syscallError(k, { tag: "IllegalOperation" })
  const ntfn = getNotificationImpl(k, ntfnCap.ptr)
  if ((ntfnCap.rights & RightR) === 0) return syscallError(k, { tag: "IllegalOperation" })
  if (ntfn.ntfnQueueHead !== null || ntfn.ntfnBoundTCB !== null) return syscallError(k, { tag: "IllegalOperation" })
  setThreadState(k, k.curThread, ThreadStateRestart)
  return invokeTCB_NotificationControl(tcb, ntfn)
}

/**
 * UnbindNotification().
 *
 * **Errors**: IllegalOperation (the TCB has no bound notification).
 * @refines spec/object/tcb#decodeUnbindNotification
 */
export function decodeUnbindNotification(k: ImplState, cap: ThreadCap): Exception {
  const tcb = tcbOfCap(k, cap)
  if (tcb.tcbBoundNotification === null) return syscallError(k, { tag: "IllegalOperation" })
  setThreadState(k, k.curThread, ThreadStateRestart)
  return invokeTCB_NotificationControl(tcb, null)
}

/** @refines spec/object/tcb#invokeTCB */
export function invokeTCB_Suspend(k: ImplState, thread: ImplTcb): Exception {
  suspend(k, thread)
  return EXCEPTION_NONE
}

/** @refines spec/object/tcb#invokeTCB */
export function invokeTCB_Resume(k: ImplState, thread: ImplTcb): Exception {
  restart(k, thread)
  return EXCEPTION_NONE
}

/**
 * The common perform step of Configure, SetPriority, SetMCPriority, SetSchedParams, SetIPCBuffer
 * and SetSpace, driven by `updateFlags`. In order: fault handler (space), MCP, CSpace root, VSpace
 * root (each: delete the old cap, then insert the new one only if its source slot still holds the
 * same object and the invoked slot still holds this thread's cap), IPC buffer (same, plus the
 * address and a reschedule if the target is current), priority last. Cannot fail in kspec (the
 * deletes are atomic).
 * @refines spec/object/tcb#invokeThreadControl
 */
export function invokeTCB_ThreadControl(
  k: ImplState, target: ImplTcb, slot: Cte | null, faultep: number, mcp: number, priority: number,
  cRootNewCap: Cap, cRootSrcSlot: Cte | null, vRootNewCap: Cap, vRootSrcSlot: Cte | null,
  bufferAddr: number, bufferCap: Cap, bufferSrcSlot: Cte | null, updateFlags: number,
): Exception {
  const tCap: Cap = { tag: "ThreadCap", ptr: target.base }

  if ((updateFlags & thread_control_update_space) !== 0) target.tcbFaultHandler = faultep

  if ((updateFlags & thread_control_update_mcp) !== 0) setMCPriority(target, mcp)

  if ((updateFlags & thread_control_update_space) !== 0) {
    const rootSlot = tcbSlot(target, tcbCTable)
    cteDelete(k, rootSlot)
    if (sameObjectAs(cRootNewCap, cRootSrcSlot!.cap) && sameObjectAs(tCap, slot!.cap)) {
      cteInsert(k, cRootNewCap, cRootSrcSlot!, rootSlot)
    }
  }

  if ((updateFlags & thread_control_update_space) !== 0) {
    const rootSlot = tcbSlot(target, tcbVTable)
    cteDelete(k, rootSlot)
    if (sameObjectAs(vRootNewCap, vRootSrcSlot!.cap) && sameObjectAs(tCap, slot!.cap)) {
      cteInsert(k, vRootNewCap, vRootSrcSlot!, rootSlot)
    }
  }

  if ((updateFlags & thread_control_update_ipc_buffer) !== 0) {
    const bufferSlot = tcbSlot(target, tcbBuffer)
    cteDelete(k, bufferSlot)
    target.tcbIPCBuffer = bufferAddr >>> 0
    if (bufferSrcSlot !== null && sameObjectAs(bufferCap, bufferSrcSlot.cap) && sameObjectAs(tCap, slot!.cap)) {
      cteInsert(k, bufferCap, bufferSrcSlot, bufferSlot)
    }
    if (target === k.curThread) rescheduleRequired(k)
  }

  if ((updateFlags & thread_control_update_priority) !== 0) setPriority(k, target, priority)

  return EXCEPTION_NONE
}

/**
 * Copy registers from `src` to `dest`: optionally suspend the source and restart the target first;
 * the frame registers (then NextIP := the target's restart PC) and/or the integer registers, as
 * words, unsanitised (as seL4: they come from another thread's context). The current thread as
 * target forces a reschedule.
 * @refines spec/object/tcb#invokeTCB
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
 * @refines spec/object/tcb#invokeTCB
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
    const hasBuffer = lookupIPCBuffer(true, thread)
    setRegister(thread, Reg.R0, 0)
    let i = 0
    for (; i < n && i < nFrame && i < nMsgRegisters; i++) {
      setRegister(thread, msgRegisters[i]!, getRegister(src, frameRegisters[i]!))
    }
    if (hasBuffer && i < n && i < nFrame) {
      for (; i < n && i < nFrame; i++) thread.mrs[i] = getRegister(src, frameRegisters[i]!)
    }
    const j = i
    for (i = 0; i < nGp && i + nFrame < n && i + nFrame < nMsgRegisters; i++) {
      setRegister(thread, msgRegisters[i + nFrame]!, getRegister(src, gpRegisters[i]!))
    }
    if (hasBuffer && i < nGp && i + nFrame < n) {
      for (; i < nGp && i + nFrame < n; i++) thread.mrs[i + nFrame] = getRegister(src, gpRegisters[i]!)
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
 * @refines spec/object/tcb#invokeTCB
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

/**
 * Bind `ntfn` to the TCB, or (null) unbind its notification.
 * @refines spec/object/tcb#invokeTCB
 */
export function invokeTCB_NotificationControl(tcb: ImplTcb, ntfn: ImplNotification | null): Exception {
  if (ntfn !== null) bindNotification(tcb, ntfn)
  else unbindNotification(tcb)
  return EXCEPTION_NONE
}

/**
 * TCB_SetTLSBase: one word, the new TLS base (none: TruncatedMessage).
 * @refines spec/object/tcb#decodeTCBInvocation
 */
function decodeSetTLSBase(k: ImplState, cap: ThreadCap, length: number): Exception {
  if (length < 1) return syscallError(k, { tag: "TruncatedMessage" })
  const tlsBase = getSyscallArg(k, 0)
  setThreadState(k, k.curThread, ThreadStateRestart)
  return invokeSetTLSBase(k, tcbOfCap(k, cap), tlsBase)
}

/**
 * Write the TLS base register; the current thread must reschedule for it to take effect.
 * @refines spec/object/tcb#invokeTCB
 */
function invokeSetTLSBase(k: ImplState, thread: ImplTcb, tlsBase: number): Exception {
  setRegister(thread, tlsBaseRegister, tlsBase)
  if (thread === k.curThread) rescheduleRequired(k)
  return EXCEPTION_NONE
}
