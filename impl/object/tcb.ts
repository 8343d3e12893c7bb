/**
 * The TCB invocations (seL4 src/object/tcb.c, non-MCS): decodeTCBInvocation with one decoder per
 * label (Configure, SetPriority, SetMCPriority, SetSchedParams, SetIPCBuffer, SetSpace, Suspend,
 * Resume, Bind/UnbindNotification, SetTLSBase) and the invokeTCB_* that perform them. The
 * register-transfer invocations (Read/Write/CopyRegisters) are in object/tcbRegisters.ts; what
 * they call lives in its seL4 home: the ready queues, suspend, restart and the priority changes in
 * kernel/thread.ts, the IPC buffer checks in kernel/vspace.ts.
 * @category decoding
 */
import type { Cap } from "../../model/index.ts"
import { InvocationLabel as L, RightR, tcbBuffer, tcbCTable, tcbVTable } from "../../model/index.ts"
import { tlsBaseRegister } from "../../model/index.ts"
import { getSyscallArg } from "../api/syscall.ts"
import { rescheduleRequired, restart, setMCPriority, setPriority, setThreadState, suspend } from "../kernel/thread.ts"
import { checkValidIPCBuffer, isValidVTableRoot } from "../kernel/vspace.ts"
import { setRegister } from "../machine/registerset.ts"
import type { Cte, ImplNotification, ImplState, ImplTcb } from "../state.ts"
import {
  EXCEPTION_NONE, EXCEPTION_SYSCALL_ERROR, type Exception, ThreadStateRestart, extraCapSlot, getNotificationImpl, getTcbImpl, tcbSlot, syscallError,
} from "../state.ts"
import { cteDeleteNonPreemptible, cteInsert, slotCapLongRunningDelete } from "./cnode.ts"
import { bindNotification, unbindNotification } from "./notification.ts"
import { decodeCopyRegisters, decodeReadRegisters, decodeWriteRegisters } from "./tcbRegisters.ts"
import { deriveCap, sameObjectAs, updateCapData } from "./objecttype.ts"

/** The invoked cap of a TCB invocation. */
export type ThreadCap = Extract<Cap, { tag: "ThreadCap" }>

/** C `NULL_PRIO`. */
const nullPrio = 0
/** `seL4_MinPrio`. */
const minPrio = 0

/** C `thread_control_flag` (non-MCS). */
const thread_control_update_priority = 0x1
const thread_control_update_ipc_buffer = 0x2
const thread_control_update_space = 0x4
const thread_control_update_mcp = 0x8

/** The TCB a thread cap names. */
export const tcbOfCap = (k: ImplState, cap: ThreadCap): ImplTcb => getTcbImpl(k, cap.ptr)

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
 * Decode (and, when valid, perform) an invocation of a thread cap. Labels 2..15 as seL4 non-MCS
 * without SMP or the debug API; every other label, SetFlags (16) included, is IllegalOperation. On success the caller is left Restart (handleInvocation replies), except
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
 * SetSpace's checks on the new roots, which Configure makes too: the target's current roots must
 * not be long-running to delete; each new root, its data word applied when not 0, must derive,
 * the CSpace root to a CNode cap and the VSpace root to a valid VTable root. The derived caps, or
 * null with the error set.
 */
const deriveSpaceRoots = (
  k: ImplState, target: ImplTcb, cRootSlot: Cte, vRootSlot: Cte, cRootData: number, vRootData: number,
): { readonly cRootCap: Cap; readonly vRootCap: Cap } | null => {
  if (slotCapLongRunningDelete(tcbSlot(target, tcbCTable)) || slotCapLongRunningDelete(tcbSlot(target, tcbVTable))) {
    syscallError(k, { tag: "IllegalOperation" })
    return null
  }
  const cRootCap = deriveCap(k, cRootSlot, cRootData !== 0 ? updateCapData(false, cRootData, cRootSlot.cap) : cRootSlot.cap)
  if (cRootCap === null) return null
  if (cRootCap.tag !== "CNodeCap") { syscallError(k, { tag: "IllegalOperation" }); return null }
  const vRootCap = deriveCap(k, vRootSlot, vRootData !== 0 ? updateCapData(false, vRootData, vRootSlot.cap) : vRootSlot.cap)
  if (vRootCap === null) return null
  if (!isValidVTableRoot(vRootCap)) { syscallError(k, { tag: "IllegalOperation" }); return null }
  return { cRootCap, vRootCap }
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
  const roots = deriveSpaceRoots(k, target, cRootSlot, vRootSlot, cRootData, vRootData)
  if (roots === null) return EXCEPTION_SYSCALL_ERROR

  setThreadState(k, k.curThread, ThreadStateRestart)
  return invokeTCB_ThreadControl(
    k, target, slot, faultEP, nullPrio, nullPrio, roots.cRootCap, cRootSlot, roots.vRootCap, vRootSlot, bufferAddr, bufferCap,
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

  const target = tcbOfCap(k, cap)
  const roots = deriveSpaceRoots(k, target, cRootSlot, vRootSlot, cRootData, vRootData)
  if (roots === null) return EXCEPTION_SYSCALL_ERROR

  setThreadState(k, k.curThread, ThreadStateRestart)
  return invokeTCB_ThreadControl(
    k, target, slot, faultEP, nullPrio, nullPrio, roots.cRootCap, cRootSlot, roots.vRootCap, vRootSlot, 0, { tag: "NullCap" }, null,
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
    cteDeleteNonPreemptible(k, rootSlot)
    if (sameObjectAs(cRootNewCap, cRootSrcSlot!.cap) && sameObjectAs(tCap, slot!.cap)) {
      cteInsert(k, cRootNewCap, cRootSrcSlot!, rootSlot)
    }
  }

  if ((updateFlags & thread_control_update_space) !== 0) {
    const rootSlot = tcbSlot(target, tcbVTable)
    cteDeleteNonPreemptible(k, rootSlot)
    if (sameObjectAs(vRootNewCap, vRootSrcSlot!.cap) && sameObjectAs(tCap, slot!.cap)) {
      cteInsert(k, vRootNewCap, vRootSrcSlot!, rootSlot)
    }
  }

  if ((updateFlags & thread_control_update_ipc_buffer) !== 0) {
    const bufferSlot = tcbSlot(target, tcbBuffer)
    cteDeleteNonPreemptible(k, bufferSlot)
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
 * @refines spec/object/tcb#decodeSetTLSBase
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
