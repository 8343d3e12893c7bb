/**
 * Kernel entry (seL4 src/api/syscall.c): handleSyscall, handleInvocation, and the user step that
 * writes the event's registers into the current thread before the trap.
 * @category decoding
 */
import type { Event, SyscallEvent } from "../../model/index.ts"
import { Reg, messageInfoFromWord, msgMaxExtraCaps, msgMaxLength, nMsgRegisters } from "../../model/index.ts"
import { handleFault } from "../kernel/faulthandler.ts"
import { lookupCapAndSlot } from "../kernel/cspace.ts"
import { activateThread, schedule, setThreadState } from "../kernel/thread.ts"
import { lookupIPCBuffer } from "../kernel/vspace.ts"
import { replyFromKernel_error, replyFromKernel_success_empty } from "../object/endpoint.ts"
import { decodeInvocation } from "../object/objecttype.ts"
import { lookupExtraCaps } from "../object/tcb.ts"
import type { ImplState, ImplTcb } from "../state.ts"
import { EXCEPTION_NONE, EXCEPTION_SYSCALL_ERROR, type Exception, ThreadStateRunning } from "../state.ts"

/**
 * What the user thread did before trapping: write the cap pointer (into r0, which ARM's seL4 uses
 * as both cap and badge register), the message info, the message words (MR0.. as given; the rest
 * keep their values) and the buffer's extra-cap pointers (padded with 0).
 */
export function userStep(thread: ImplTcb, ev: SyscallEvent): void {
  thread.badge = ev.cptr >>> 0
  thread.msgInfo = ev.msgInfo >>> 0
  const n = Math.min(ev.mrs.length, msgMaxLength)
  for (let i = 0; i < n; i++) thread.mrs[i] = ev.mrs[i]! >>> 0
  for (let i = 0; i < msgMaxExtraCaps; i++) thread.extraCaps[i] = (ev.extraCaps[i] ?? 0) >>> 0
  const rs = ev.recvSlot
  if (rs !== undefined) {
    if (rs.length > 0) thread.receiveCNode = rs[0]! >>> 0
    if (rs.length > 1) thread.receiveIndex = rs[1]! >>> 0
    if (rs.length > 2) thread.receiveDepth = rs[2]! >>> 0
  }
  // Entering the kernel from user mode saves the restart address (ARM: FaultIP := the return address).
  thread.regs[Reg.FaultIP] = thread.regs[Reg.NextIP]!
}

/**
 * Invoke the cap at `cptr`: look up the cap and the extra caps (a failure is a cap fault, handled
 * only when blocking), decode and perform; a decode error is replied only to a Call; success
 * replies an empty message to a Call and leaves the thread Running.
 * @refines spec/api/syscall#handleInvocation
 */
export function handleInvocation(k: ImplState, isCall: boolean, isBlocking: boolean, cptr: number): Exception {
  const thread = k.curThread
  const info = thread.msgInfo

  // faulting section
  let st = lookupCapAndSlot(k, thread, cptr)
  if (st !== EXCEPTION_NONE) {
    k.currentFault = { tag: "CapFault", address: cptr, inReceivePhase: false, failure: k.currentLookupFault }
    if (isBlocking) handleFault(k, thread)
    return EXCEPTION_NONE
  }
  const slot = k.lookupSlotResult!
  const cap = slot.cap

  const hasBuffer = lookupIPCBuffer(false, thread)
  st = lookupExtraCaps(k, thread, hasBuffer, info)
  if (st !== EXCEPTION_NONE) {
    if (isBlocking) handleFault(k, thread)
    return EXCEPTION_NONE
  }

  // syscall error section
  const mi = messageInfoFromWord(info)
  let length = mi.length
  if (length > nMsgRegisters && !hasBuffer) length = nMsgRegisters
  st = decodeInvocation(k, mi.label, length, cptr, slot, cap, isBlocking, isCall)
  if (st === EXCEPTION_SYSCALL_ERROR) {
    if (isCall) replyFromKernel_error(k, thread)
    return EXCEPTION_NONE
  }
  if (thread.tcbState.tag === "Restart") {
    if (isCall) replyFromKernel_success_empty(thread)
    setThreadState(k, thread, ThreadStateRunning)
  }
  return EXCEPTION_NONE
}

/**
 * One syscall: dispatch by kind; the invoked cap pointer is read from the cap register.
 * @refines spec/api/syscall#handleSyscall
 */
export function handleSyscall(k: ImplState, ev: SyscallEvent): void {
  // The cap register (r0) of the current thread.
  const cptr = k.curThread.badge
  switch (ev.syscall) {
    case "Send":
      handleInvocation(k, false, true, cptr)
      break
    case "NBSend":
      handleInvocation(k, false, false, cptr)
      break
    case "Call":
      handleInvocation(k, true, true, cptr)
      break
    default:
      break
  }
}

/**
 * One kernel entry, as seL4's callKernel: the current thread's user step, the event, then
 * schedule and activate. The idle thread makes no syscalls: such an event changes nothing.
 * @refines spec/api/syscall#callKernel
 */
export function callKernel(k: ImplState, ev: Event): void {
  switch (ev.tag) {
    case "Syscall": {
      if (k.curThread === k.idleThread) return
      userStep(k.curThread, ev)
      handleSyscall(k, ev)
      break
    }
    default:
      break
  }
  schedule(k)
  activateThread(k)
}
