/**
 * Kernel entry (seL4 src/api/syscall.c and include/api/syscall.h, non-MCS): callKernel for every
 * event, handleSyscall, handleInvocation, handleRecv, handleReply, handleYield, getSyscallArg, the
 * interrupt entry, and the user step that writes the event's registers into the current thread
 * before the trap.
 * @category decoding
 */
import type { Event, Fault, LookupFailure, MemoryAccessEvent, SyscallEvent, UserFaultEvent } from "../../model/index.ts"
import {
  Reg, RightR, bufferCapsWord, bufferMsgWord, bufferReceiveWord, msgMaxExtraCaps, msgMaxLength, nMsgRegisters, tcbCaller, timerIRQ,
} from "../../model/index.ts"
import { fastpath_call, fastpath_reply_recv } from "../fastpath/fastpath.ts"
import { handleFault } from "../kernel/faulthandler.ts"
import { lookupCapAndSlot, lookupSlot } from "../kernel/cspace.ts"
import { deleteCallerCap, doReplyTransfer, lookupExtraCaps } from "../kernel/ipcTransfer.ts"
import { activateThread, rescheduleRequired, schedule, setThreadState, tcbSchedAppend, tcbSchedDequeue } from "../kernel/thread.ts"
import { lookupIPCBuffer } from "../kernel/vspace.ts"
import { miLabel, miLength, setRegister, updateRestartPC } from "../machine/registerset.ts"
import { loadWord, storeWord } from "../machine/memory.ts"
import { mmuResult, translate, userVSpaceRoot } from "../machine/mmu.ts"
import { receiveIPC, replyFromKernel_error, replyFromKernel_success_empty } from "../object/endpoint.ts"
import { handleInterrupt } from "../object/interrupt.ts"
import { receiveSignal } from "../object/notification.ts"
import { decodeInvocation } from "../object/objecttype.ts"
import { isIRQPending } from "../model/preemption.ts"
import type { ImplFrame, ImplPageDirectory, ImplState, ImplTcb } from "../state.ts"
import {
  EXCEPTION_NONE, EXCEPTION_PREEMPTED, EXCEPTION_SYSCALL_ERROR, type Exception, KernelBug, ThreadStateRunning, getNotificationImpl, getTcbImpl,
  tcbSlot,
} from "../state.ts"

/**
 * Syscall argument `i` of the current thread: MR0-MR3 from its registers, the rest from its IPC
 * buffer (C `getSyscallArg(i, ipc_buffer)`, include/api/syscall.h; the decode's buffer is
 * `k.currentIPCBuffer`). Callers check the message length first, which is at most 4 without a buffer.
 * @refines spec/api/syscall#getSyscallArg
 */
export const getSyscallArg = (k: ImplState, i: number): number =>
  i < nMsgRegisters ? k.curThread.mrs[i]! : k.currentIPCBuffer![bufferMsgWord(i)]!

/** userStep's IPC-buffer stores: the frame and the index of word 0 of the 4 KiB page of the last translation (vpage -1: none yet). */
const bufferStore = { vpage: -1, frame: null as ImplFrame | null, pageWord: 0 }

/**
 * One store of the user into its IPC buffer (word `word`): translated through its VSpace, once
 * per 4 KiB page. False, with the VMFault in `k.currentFault`, when it does not translate for a write.
 */
function userBufferStore(k: ImplState, thread: ImplTcb, pd: ImplPageDirectory, word: number, value: number): boolean {
  const vaddr = (thread.tcbIPCBuffer + 4 * word) >>> 0
  if (vaddr >>> 12 !== bufferStore.vpage) {
    const frame = translate(k, pd, vaddr, "Write")
    if (frame === null) {
      k.currentFault = { tag: "VMFault", address: vaddr, fsr: mmuResult.fsr, instructionFault: false }
      return false
    }
    bufferStore.vpage = vaddr >>> 12
    bufferStore.frame = frame
    bufferStore.pageWord = mmuResult.word - ((vaddr & 0xfff) >>> 2)
  }
  storeWord(bufferStore.frame!, bufferStore.pageWord + ((vaddr & 0xfff) >>> 2), value)
  return true
}

/**
 * What the user thread did before trapping. First its stores into its IPC buffer (message words
 * past MR3, extra-cap pointers, receive-slot words, as given), through its VSpace: the first that
 * does not translate for a write is a data abort (false, the VMFault in `k.currentFault`; no
 * syscall). Then the registers: the cap pointer into r0 (which ARM's seL4 uses as both cap and
 * badge register), the message info, MR0-MR3 as given.
 */
export function userStep(k: ImplState, thread: ImplTcb, ev: SyscallEvent): boolean {
  const mrs = ev.mrs
  const n = mrs.length < msgMaxLength ? mrs.length : msgMaxLength
  const xs = ev.extraCaps
  const nx = xs.length < msgMaxExtraCaps ? xs.length : msgMaxExtraCaps
  const rs = ev.recvSlot
  const nr = rs === undefined ? 0 : rs.length < 3 ? rs.length : 3
  if (n > nMsgRegisters || nx > 0 || nr > 0) {
    const pd = userVSpaceRoot(k, thread)
    bufferStore.vpage = -1
    for (let i = nMsgRegisters; i < n; i++) if (!userBufferStore(k, thread, pd, bufferMsgWord(i), mrs[i]!)) return false
    for (let i = 0; i < nx; i++) if (!userBufferStore(k, thread, pd, bufferCapsWord + i, xs[i]!)) return false
    for (let i = 0; i < nr; i++) if (!userBufferStore(k, thread, pd, bufferReceiveWord + i, rs![i]!)) return false
  }
  thread.badge = ev.cptr >>> 0
  thread.msgInfo = ev.msgInfo >>> 0
  const tmrs = thread.mrs
  const m = n < nMsgRegisters ? n : nMsgRegisters
  for (let i = 0; i < m; i++) tmrs[i] = mrs[i]! >>> 0
  return true
}

/**
 * A user thread's access to its memory, through the MMU: a read loads the word into r2 (MR0), a
 * write stores the value, an execute jumps (NextIP := vaddr). True when it translated (no kernel
 * entry); false with the VMFault in `k.currentFault` (a data abort at the instruction, FaultIP :=
 * NextIP; a prefetch abort at the target, FaultIP := vaddr).
 * @refines spec/api/syscall#userMemoryAccess
 */
export function userMemoryAccess(k: ImplState, thread: ImplTcb, ev: MemoryAccessEvent): boolean {
  const vaddr = ev.vaddr >>> 0
  const kind = ev.kind
  const frame = translate(k, userVSpaceRoot(k, thread), vaddr, kind)
  if (kind === "Execute") {
    setRegister(thread, Reg.NextIP, vaddr)
    if (frame !== null) return true
    setRegister(thread, Reg.FaultIP, vaddr)
    k.currentFault = { tag: "VMFault", address: vaddr, fsr: mmuResult.fsr, instructionFault: true }
    return false
  }
  if (frame === null) {
    updateRestartPC(thread)
    k.currentFault = { tag: "VMFault", address: vaddr, fsr: mmuResult.fsr, instructionFault: false }
    return false
  }
  if (kind === "Read") setRegister(thread, Reg.R2, loadWord(frame, mmuResult.word))
  else storeWord(frame, mmuResult.word, (ev.value ?? 0) >>> 0)
  return true
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

  const buffer = lookupIPCBuffer(k, false, thread)
  st = lookupExtraCaps(k, thread, buffer, info)
  if (st !== EXCEPTION_NONE) {
    if (isBlocking) handleFault(k, thread)
    return EXCEPTION_NONE
  }

  // syscall error section
  let length = miLength(info)
  if (length > nMsgRegisters && buffer === null) length = nMsgRegisters
  k.currentIPCBuffer = buffer
  st = decodeInvocation(k, miLabel(info), length, cptr, slot, cap, isBlocking, isCall)
  // Preempted: the thread stays Restart and will run the syscall again (Inactive if the work so far suspended it).
  if (st === EXCEPTION_PREEMPTED) return st
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
 * Receive on the cap named by the cap register: an endpoint (with Read; the caller-slot reply cap
 * is deleted first) or a notification (with Read, and not bound to another thread). A failed
 * lookup or any other cap is a CapFault in the receive phase (MissingCapability(0) for a wrong
 * cap).
 * @refines spec/api/syscall#handleRecv
 */
export function handleRecv(k: ImplState, isBlocking: boolean): void {
  const thread = k.curThread
  const epCPtr = thread.badge
  if (lookupSlot(k, thread, epCPtr) !== EXCEPTION_NONE) {
    // current_lookup_fault has been set by the lookup.
    k.currentFault = { tag: "CapFault", address: epCPtr, inReceivePhase: true, failure: k.currentLookupFault }
    handleFault(k, thread)
    return
  }
  const cap = k.lookupSlotResult!.cap
  switch (cap.tag) {
    // Endpoint: drop any unused reply cap, then receive.
    case "EndpointCap":
      if ((cap.rights & RightR) === 0) break
      deleteCallerCap(k, thread)
      receiveIPC(k, thread, cap, isBlocking)
      return
    // Notification: wait, unless it is bound to someone else.
    case "NotificationCap": {
      const bound = getNotificationImpl(k, cap.ptr).ntfnBoundTCB
      if ((cap.rights & RightR) === 0 || (bound !== null && bound !== thread)) break
      receiveSignal(k, thread, cap, isBlocking)
      return
    }
    default:
      break
  }
  k.currentLookupFault = missingCapability0
  k.currentFault = { tag: "CapFault", address: epCPtr, inReceivePhase: true, failure: missingCapability0 }
  handleFault(k, thread)
}

/** `lookup_fault_missing_capability_new(0)`, shared (lookup failures are immutable values). */
const missingCapability0: LookupFailure = { tag: "MissingCapability", bitsLeft: 0 }

/**
 * Reply through the current thread's caller slot: a reply cap there answers its caller; an empty
 * slot does nothing.
 * @refines spec/api/syscall#handleReply
 */
export function handleReply(k: ImplState): void {
  const callerSlot = tcbSlot(k.curThread, tcbCaller)
  const callerCap = callerSlot.cap
  switch (callerCap.tag) {
    case "ReplyCap": {
      if (callerCap.isMaster) break
      const caller = getTcbImpl(k, callerCap.tcb)
      // Haskell error: "handleReply: caller must not be the current thread"
      if (caller === k.curThread) throw new KernelBug("handleReply: caller must not be the current thread")
      doReplyTransfer(k, k.curThread, caller, callerSlot, callerCap.canGrant)
      return
    }
    // Do nothing when no caller is pending.
    case "NullCap":
      return
    default:
      break
  }
  throw new KernelBug("handleReply: invalid caller cap")
}

/**
 * Give up the CPU: the current thread goes to the back of its ready queue, and a reschedule is
 * required.
 * @refines spec/api/syscall#handleYield
 */
export function handleYield(k: ImplState): void {
  tcbSchedDequeue(k, k.curThread)
  tcbSchedAppend(k, k.curThread)
  rescheduleRequired(k)
}

/**
 * After a preempted invocation: handle the interrupt the controller reports (C `checkInterrupt`:
 * `getActiveIRQ`, then `handleInterrupt`).
 * @refines spec/api/syscall#checkInterrupt
 */
function checkInterrupt(k: ImplState): void {
  if (isIRQPending(k)) handleInterrupt(k, k.pendingIRQ!)
}

/**
 * One syscall: dispatch by kind; the invoked cap pointer is read from the cap register (r0). A
 * preempted invocation is followed by the interrupt that preempted it.
 * @refines spec/api/syscall#handleSyscall
 */
export function handleSyscall(k: ImplState, ev: SyscallEvent): void {
  const cptr = k.curThread.badge
  switch (ev.syscall) {
    case "Send":
      if (handleInvocation(k, false, true, cptr) !== EXCEPTION_NONE) checkInterrupt(k)
      break
    case "NBSend":
      if (handleInvocation(k, false, false, cptr) !== EXCEPTION_NONE) checkInterrupt(k)
      break
    case "Call":
      if (handleInvocation(k, true, true, cptr) !== EXCEPTION_NONE) checkInterrupt(k)
      break
    case "Recv":
      handleRecv(k, true)
      break
    case "Reply":
      handleReply(k)
      break
    case "ReplyRecv":
      handleReply(k)
      handleRecv(k, true)
      break
    case "NBRecv":
      handleRecv(k, false)
      break
    case "Yield":
      handleYield(k)
      break
  }
}

/**
 * The fault a `UserFault` event describes (missing words read 0). Field widths as seL4 aarch32
 * stores them (`seL4_Fault_VMFault_new` keeps 14 FSR bits, `seL4_Fault_UserException_new` 28 code
 * bits).
 */
export function userFaultFromEvent(ev: UserFaultEvent): Fault {
  const w = (i: number): number => (ev.words[i] ?? 0) >>> 0
  switch (ev.kind) {
    case "VMFault":
      return { tag: "VMFault", address: w(0), fsr: (w(1) & 0x3fff) >>> 0, instructionFault: w(2) !== 0 }
    case "UnknownSyscall":
      return { tag: "UnknownSyscall", syscallNumber: w(0) }
    case "UserException":
      return { tag: "UserException", number: w(0), code: (w(1) & 0xfffffff) >>> 0 }
  }
}

/**
 * One kernel entry, as seL4's callKernel: the event, then schedule and activate. The idle thread
 * makes no syscalls and raises no faults: such an event changes nothing (not even the scheduler).
 * Call and ReplyRecv first try the IPC fastpath, which, when it applies, finishes the entry itself.
 * An interrupt the controller does not deliver (line out of range or masked) only reschedules.
 * @refines spec/api/syscall#stepWithOutcome
 */
export function callKernel(k: ImplState, ev: Event): void {
  switch (ev.tag) {
    case "Syscall": {
      const cur = k.curThread
      if (cur === k.idleThread) return
      const stored = userStep(k, cur, ev)
      // Entering the kernel from user mode saves the restart address (ARM: FaultIP := the return address).
      updateRestartPC(cur)
      if (!stored) {
        // A store into the IPC buffer aborted: seL4 handleVMFaultEvent.
        handleFault(k, cur)
        break
      }
      if (k.fastpathEnabled) {
        if ((ev.syscall === "Call" && fastpath_call(k, cur.badge, cur.msgInfo)) ||
          (ev.syscall === "ReplyRecv" && fastpath_reply_recv(k, cur.badge, cur.msgInfo))) {
          k.fastpathHits++
          return
        }
      }
      // The interrupt controller holds the event's line pending while the kernel runs.
      k.pendingIRQ = ev.pendingIRQ === undefined ? null : ev.pendingIRQ >>> 0
      handleSyscall(k, ev)
      k.pendingIRQ = null
      break
    }
    case "UserFault": {
      const cur = k.curThread
      if (cur === k.idleThread) return
      // Entering the kernel saves the restart address (FaultIP := NextIP).
      updateRestartPC(cur)
      k.currentFault = userFaultFromEvent(ev)
      handleFault(k, cur)
      break
    }
    case "MemoryAccess": {
      const cur = k.curThread
      if (cur === k.idleThread) return
      // An access that translates is the user's alone: no kernel entry.
      if (userMemoryAccess(k, cur, ev)) return
      handleFault(k, cur)
      break
    }
    case "Interrupt":
      handleInterruptEntry(k, ev.irq)
      break
    case "TimerTick":
      handleInterruptEntry(k, timerIRQ)
      break
  }
  schedule(k)
  activateThread(k)
}

/**
 * An interrupt entry: the controller reports `irq` only if the line exists and is unmasked.
 * @refines spec/object/interrupt#handleInterrupt
 */
function handleInterruptEntry(k: ImplState, irq: number): void {
  const line = irq >>> 0
  if (line >= k.numIRQs || k.irqMasks[line]) return
  handleInterrupt(k, line)
}
