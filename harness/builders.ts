/**
 * Event builders: every kernel entry a test can make, as the libsel4 call that makes it. An
 * invocation builder takes libsel4's arguments in libsel4's order (the invoked cap first, extra
 * caps where libsel4 puts them) and computes the label, the message info and the message words
 * exactly as libsel4's generated stub does; the event is the `seL4_Call` that stub makes.
 * Syscall builders take a `Message` (label, words, caps) and compute its message info. Timer
 * ticks, interrupts and user faults have builders too.
 *
 * Every argument is a 32-bit word, as in C: a value outside 0..2^32-1 is the caller's mistake,
 * and `raw` builds any event from raw words for hostile input. proofs-tests/library/builders.test.ts
 * ties each invocation builder to its entry in the ABI table (model/abi.ts): same label, same
 * message words, same extra caps.
 * @category library
 */
import type { InterruptEvent, MemoryAccessEvent, SyscallEvent, SyscallKind, TimerTickEvent, UserFaultEvent } from "../model/index.ts"
import { InvocationLabel as L, messageInfo } from "../model/index.ts"

/** A message a thread sends: its label, words (MR0..) and extra-cap pointers. */
export interface Message {
  readonly label?: number
  readonly mrs?: readonly number[]
  /** Extra-cap pointers (at most 3), looked up in the sender's CSpace. */
  readonly caps?: readonly number[]
  /** The length field of the message info; default `mrs.length` (a longer length sends zeros). */
  readonly length?: number
}

/** Where a receiver wants a transferred cap: libsel4's `seL4_SetCapReceivePath(root, index, depth)`. */
export interface ReceivePath {
  readonly root: number
  readonly index: number
  readonly depth: number
}

const syscall = (kind: SyscallKind, cptr: number, m: Message = {}, recvPath?: ReceivePath): SyscallEvent => {
  const mrs = m.mrs ?? []
  const caps = m.caps ?? []
  const e: SyscallEvent = {
    tag: "Syscall", syscall: kind, cptr, msgInfo: messageInfo(m.label ?? 0, m.length ?? mrs.length, caps.length), mrs, extraCaps: caps,
  }
  return recvPath === undefined ? e : { ...e, recvSlot: [recvPath.root, recvPath.index, recvPath.depth] }
}

/**
 * Any syscall from raw words: the message info word as given (any label, length or cap count,
 * even ones libsel4 would never build), the message words and extra-cap pointers as given.
 */
export const raw = (kind: SyscallKind, cptr: number, msgInfo: number, mrs: readonly number[] = [], extraCaps: readonly number[] = []): SyscallEvent =>
  ({ tag: "Syscall", syscall: kind, cptr, msgInfo, mrs, extraCaps })

// ---- the syscalls ---------------------------------------------------------------------------------

/** `seL4_Send`: invoke `dest` and block until the message is taken (no reply). */
export const seL4_Send = (dest: number, m?: Message): SyscallEvent => syscall("Send", dest, m)
/** `seL4_NBSend`: as Send, but never blocks (dropped if nobody waits). */
export const seL4_NBSend = (dest: number, m?: Message): SyscallEvent => syscall("NBSend", dest, m)
/** `seL4_Call`: invoke `dest` and wait for the reply. */
export const seL4_Call = (dest: number, m?: Message): SyscallEvent => syscall("Call", dest, m)
/** `seL4_Recv`: wait for a message on an endpoint or a signal on a notification. */
export const seL4_Recv = (src: number, recvPath?: ReceivePath): SyscallEvent => syscall("Recv", src, {}, recvPath)
/** `seL4_NBRecv`: as Recv, but return at once if nothing is there. */
export const seL4_NBRecv = (src: number, recvPath?: ReceivePath): SyscallEvent => syscall("NBRecv", src, {}, recvPath)
/** `seL4_Reply`: reply to the thread whose Call this thread received last. */
export const seL4_Reply = (m?: Message): SyscallEvent => syscall("Reply", 0, m)
/** `seL4_ReplyRecv`: reply, then wait on `src`. */
export const seL4_ReplyRecv = (src: number, m?: Message, recvPath?: ReceivePath): SyscallEvent => syscall("ReplyRecv", src, m, recvPath)
/** `seL4_Yield`: go to the back of this priority's ready queue. */
export const seL4_Yield = (): SyscallEvent => syscall("Yield", 0)
/** `seL4_Signal`: signal a notification (a Send with no message). */
export const seL4_Signal = (dest: number): SyscallEvent => syscall("Send", dest)
/** `seL4_Wait`: wait on a notification (a Recv). */
export const seL4_Wait = (src: number): SyscallEvent => syscall("Recv", src)
/** `seL4_Poll`: read a notification without blocking (an NBRecv). */
export const seL4_Poll = (src: number): SyscallEvent => syscall("NBRecv", src)

// ---- other kernel entries ---------------------------------------------------------------------------

/** The kernel timer fires: the current thread's time slice ticks. */
export const timerTick = (): TimerTickEvent => ({ tag: "TimerTick" })
/** Interrupt line `irq` fires. */
export const interrupt = (irq: number): InterruptEvent => ({ tag: "Interrupt", irq })
/** The current thread takes a VM fault (a data fault unless `instructionFault`). */
export const vmFault = (address: number, fsr: number, instructionFault = false): UserFaultEvent =>
  ({ tag: "UserFault", kind: "VMFault", words: [address, fsr, instructionFault ? 1 : 0] })
/** The current thread traps with a syscall number the kernel does not know. */
export const unknownSyscall = (syscallNumber: number): UserFaultEvent => ({ tag: "UserFault", kind: "UnknownSyscall", words: [syscallNumber] })
/** The current thread raises a user exception (an undefined instruction, say). */
export const userException = (number: number, code: number): UserFaultEvent => ({ tag: "UserFault", kind: "UserException", words: [number, code] })
/** The current thread loads the word at `vaddr` into r2 (MR0), through its VSpace; a VMFault if that does not translate for reading. */
export const readWord = (vaddr: number): MemoryAccessEvent => ({ tag: "MemoryAccess", kind: "Read", vaddr })
/** The current thread stores `value` at `vaddr`, through its VSpace; a VMFault if that does not translate for writing. */
export const writeWord = (vaddr: number, value: number): MemoryAccessEvent => ({ tag: "MemoryAccess", kind: "Write", vaddr, value })
/** The current thread jumps to `vaddr` (its next instruction is fetched there); a VMFault (a prefetch abort) if that is not executable. */
export const execute = (vaddr: number): MemoryAccessEvent => ({ tag: "MemoryAccess", kind: "Execute", vaddr })

// ---- invocations ------------------------------------------------------------------------------------

/** The `seL4_Call` a libsel4 invocation stub makes. */
const invoke = (service: number, label: number, mrs: readonly number[], caps: readonly number[] = []): SyscallEvent =>
  syscall("Call", service, { label, mrs, caps })
const bool = (b: boolean): number => (b ? 1 : 0)

/** seL4_CapRights_t as a word: bit 0 Write, 1 Read, 2 Grant, 3 GrantReply. */
export const capRights = (r: { readonly read?: boolean; readonly write?: boolean; readonly grant?: boolean; readonly grantReply?: boolean }): number =>
  bool(r.write ?? false) | (bool(r.read ?? false) << 1) | (bool(r.grant ?? false) << 2) | (bool(r.grantReply ?? false) << 3)
/** libsel4's rights constants. */
export const seL4_AllRights = 15
export const seL4_CanRead = 2
export const seL4_CanWrite = 1
export const seL4_CanGrant = 4
export const seL4_CanGrantReply = 8
export const seL4_ReadWrite = 3
export const seL4_NoRights = 0

// CNode

export const seL4_CNode_Revoke = (service: number, index: number, depth: number): SyscallEvent => invoke(service, L.CNodeRevoke, [index, depth])
export const seL4_CNode_Delete = (service: number, index: number, depth: number): SyscallEvent => invoke(service, L.CNodeDelete, [index, depth])
export const seL4_CNode_CancelBadgedSends = (service: number, index: number, depth: number): SyscallEvent =>
  invoke(service, L.CNodeCancelBadgedSends, [index, depth])
export const seL4_CNode_Copy = (
  service: number, destIndex: number, destDepth: number, srcRoot: number, srcIndex: number, srcDepth: number, rights: number,
): SyscallEvent => invoke(service, L.CNodeCopy, [destIndex, destDepth, srcIndex, srcDepth, rights], [srcRoot])
export const seL4_CNode_Mint = (
  service: number, destIndex: number, destDepth: number, srcRoot: number, srcIndex: number, srcDepth: number, rights: number, badge: number,
): SyscallEvent => invoke(service, L.CNodeMint, [destIndex, destDepth, srcIndex, srcDepth, rights, badge], [srcRoot])
export const seL4_CNode_Move = (
  service: number, destIndex: number, destDepth: number, srcRoot: number, srcIndex: number, srcDepth: number,
): SyscallEvent => invoke(service, L.CNodeMove, [destIndex, destDepth, srcIndex, srcDepth], [srcRoot])
export const seL4_CNode_Mutate = (
  service: number, destIndex: number, destDepth: number, srcRoot: number, srcIndex: number, srcDepth: number, badge: number,
): SyscallEvent => invoke(service, L.CNodeMutate, [destIndex, destDepth, srcIndex, srcDepth, badge], [srcRoot])
/** Pivot's cap moves to dest (rebadged `destBadge`), src's to pivot (rebadged `pivotBadge`). */
export const seL4_CNode_Rotate = (
  service: number, destIndex: number, destDepth: number, destBadge: number,
  pivotRoot: number, pivotIndex: number, pivotDepth: number, pivotBadge: number,
  srcRoot: number, srcIndex: number, srcDepth: number,
): SyscallEvent =>
  invoke(service, L.CNodeRotate, [destIndex, destDepth, destBadge, pivotIndex, pivotDepth, pivotBadge, srcIndex, srcDepth], [pivotRoot, srcRoot])
export const seL4_CNode_SaveCaller = (service: number, index: number, depth: number): SyscallEvent => invoke(service, L.CNodeSaveCaller, [index, depth])

// Untyped

export const seL4_Untyped_Retype = (
  service: number, type: number, sizeBits: number, root: number, nodeIndex: number, nodeDepth: number, nodeOffset: number, numObjects: number,
): SyscallEvent => invoke(service, L.UntypedRetype, [type, sizeBits, nodeIndex, nodeDepth, nodeOffset, numObjects], [root])

// TCB

/** Reads `count` registers (seL4_UserContext order) into the reply's words; `archFlags` go in bits 8-15. */
export const seL4_TCB_ReadRegisters = (service: number, suspendSource: boolean, archFlags: number, count: number): SyscallEvent =>
  invoke(service, L.TCBReadRegisters, [(bool(suspendSource) | ((archFlags & 0xff) << 8)) >>> 0, count])
/** Writes `regs` (seL4_UserContext order; `count` of them, default all given). */
export const seL4_TCB_WriteRegisters = (service: number, resumeTarget: boolean, archFlags: number, regs: readonly number[], count = regs.length): SyscallEvent =>
  invoke(service, L.TCBWriteRegisters, [(bool(resumeTarget) | ((archFlags & 0xff) << 8)) >>> 0, count, ...regs])
export const seL4_TCB_CopyRegisters = (
  service: number, source: number, suspendSource: boolean, resumeTarget: boolean, transferFrame: boolean, transferInteger: boolean, archFlags: number,
): SyscallEvent => invoke(service, L.TCBCopyRegisters, [
  (bool(suspendSource) | (bool(resumeTarget) << 1) | (bool(transferFrame) << 2) | (bool(transferInteger) << 3) | ((archFlags & 0xff) << 8)) >>> 0,
], [source])
export const seL4_TCB_Configure = (
  service: number, faultEP: number, cspaceRoot: number, cspaceRootData: number, vspaceRoot: number, vspaceRootData: number,
  buffer: number, bufferFrame: number,
): SyscallEvent => invoke(service, L.TCBConfigure, [faultEP, cspaceRootData, vspaceRootData, buffer], [cspaceRoot, vspaceRoot, bufferFrame])
export const seL4_TCB_SetPriority = (service: number, authority: number, priority: number): SyscallEvent =>
  invoke(service, L.TCBSetPriority, [priority], [authority])
export const seL4_TCB_SetMCPriority = (service: number, authority: number, mcp: number): SyscallEvent =>
  invoke(service, L.TCBSetMCPriority, [mcp], [authority])
export const seL4_TCB_SetSchedParams = (service: number, authority: number, mcp: number, priority: number): SyscallEvent =>
  invoke(service, L.TCBSetSchedParams, [mcp, priority], [authority])
export const seL4_TCB_SetIPCBuffer = (service: number, buffer: number, bufferFrame: number): SyscallEvent =>
  invoke(service, L.TCBSetIPCBuffer, [buffer], [bufferFrame])
export const seL4_TCB_SetSpace = (
  service: number, faultEP: number, cspaceRoot: number, cspaceRootData: number, vspaceRoot: number, vspaceRootData: number,
): SyscallEvent => invoke(service, L.TCBSetSpace, [faultEP, cspaceRootData, vspaceRootData], [cspaceRoot, vspaceRoot])
export const seL4_TCB_Suspend = (service: number): SyscallEvent => invoke(service, L.TCBSuspend, [])
export const seL4_TCB_Resume = (service: number): SyscallEvent => invoke(service, L.TCBResume, [])
export const seL4_TCB_BindNotification = (service: number, notification: number): SyscallEvent =>
  invoke(service, L.TCBBindNotification, [], [notification])
export const seL4_TCB_UnbindNotification = (service: number): SyscallEvent => invoke(service, L.TCBUnbindNotification, [])
export const seL4_TCB_SetTLSBase = (service: number, tlsBase: number): SyscallEvent => invoke(service, L.TCBSetTLSBase, [tlsBase])
export const seL4_TCB_SetFlags = (service: number, clear: number, set: number): SyscallEvent => invoke(service, L.TCBSetFlags, [clear, set])

// IRQs

export const seL4_IRQControl_Get = (service: number, irq: number, root: number, index: number, depth: number): SyscallEvent =>
  invoke(service, L.IRQIssueIRQHandler, [irq, index, depth], [root])
export const seL4_IRQHandler_Ack = (service: number): SyscallEvent => invoke(service, L.IRQAckIRQ, [])
export const seL4_IRQHandler_SetNotification = (service: number, notification: number): SyscallEvent =>
  invoke(service, L.IRQSetIRQHandler, [], [notification])
export const seL4_IRQHandler_Clear = (service: number): SyscallEvent => invoke(service, L.IRQClearIRQHandler, [])

// Domains

export const seL4_DomainSet_Set = (service: number, domain: number, thread: number): SyscallEvent =>
  invoke(service, L.DomainSetSet, [domain & 0xff], [thread])
/**
 * `duration` is an `seL4_Time` (64 bits): on a 32-bit kernel it takes two message words, low word
 * first; a number must be a whole tick count below 2^53 (a bigint reaches 2^64 - 1).
 */
export const seL4_DomainSet_ScheduleConfigure = (service: number, index: number, domain: number, duration: number | bigint): SyscallEvent => {
  const d = BigInt.asUintN(64, BigInt(duration))
  return invoke(service, L.DomainScheduleConfigure, [index, domain & 0xff, Number(d & 0xffff_ffffn), Number(d >> 32n)])
}
export const seL4_DomainSet_ScheduleSetStart = (service: number, index: number): SyscallEvent =>
  invoke(service, L.DomainScheduleSetStart, [index])

// IRQ control on ARM (not modelled by kspec: IllegalOperation)

export const seL4_IRQControl_GetTrigger = (service: number, irq: number, trigger: number, root: number, index: number, depth: number): SyscallEvent =>
  invoke(service, L.ARMIRQIssueIRQHandlerTrigger, [irq, trigger, index, depth], [root])
export const seL4_IRQControl_IssueSGISignal = (service: number, irq: number, target: number, root: number, index: number, depth: number): SyscallEvent =>
  invoke(service, L.ARMIRQIssueSGISignal, [irq, target, index, depth], [root])

// Virtual memory (aarch32): libsel4's arch_include/arm and sel4_arch_include/aarch32 interfaces

/** libsel4's VM attributes: `seL4_ARM_Default_VMAttributes` is PageCacheable | ParityEnabled. */
export const seL4_ARM_PageCacheable = 1
export const seL4_ARM_ParityEnabled = 2
export const seL4_ARM_ExecuteNever = 4
export const seL4_ARM_Default_VMAttributes = 3

export const seL4_ARM_PageDirectory_Clean_Data = (service: number, start: number, end: number): SyscallEvent =>
  invoke(service, L.ARMPDClean_Data, [start, end])
export const seL4_ARM_PageDirectory_Invalidate_Data = (service: number, start: number, end: number): SyscallEvent =>
  invoke(service, L.ARMPDInvalidate_Data, [start, end])
export const seL4_ARM_PageDirectory_CleanInvalidate_Data = (service: number, start: number, end: number): SyscallEvent =>
  invoke(service, L.ARMPDCleanInvalidate_Data, [start, end])
export const seL4_ARM_PageDirectory_Unify_Instruction = (service: number, start: number, end: number): SyscallEvent =>
  invoke(service, L.ARMPDUnify_Instruction, [start, end])
export const seL4_ARM_PageTable_Map = (service: number, vspace: number, vaddr: number, attr: number): SyscallEvent =>
  invoke(service, L.ARMPageTableMap, [vaddr, attr], [vspace])
export const seL4_ARM_PageTable_Unmap = (service: number): SyscallEvent => invoke(service, L.ARMPageTableUnmap, [])
export const seL4_ARM_Page_Map = (service: number, vspace: number, vaddr: number, rights: number, attr: number): SyscallEvent =>
  invoke(service, L.ARMPageMap, [vaddr, rights, attr], [vspace])
export const seL4_ARM_Page_Unmap = (service: number): SyscallEvent => invoke(service, L.ARMPageUnmap, [])
export const seL4_ARM_Page_Clean_Data = (service: number, startOffset: number, endOffset: number): SyscallEvent =>
  invoke(service, L.ARMPageClean_Data, [startOffset, endOffset])
export const seL4_ARM_Page_Invalidate_Data = (service: number, startOffset: number, endOffset: number): SyscallEvent =>
  invoke(service, L.ARMPageInvalidate_Data, [startOffset, endOffset])
export const seL4_ARM_Page_CleanInvalidate_Data = (service: number, startOffset: number, endOffset: number): SyscallEvent =>
  invoke(service, L.ARMPageCleanInvalidate_Data, [startOffset, endOffset])
export const seL4_ARM_Page_Unify_Instruction = (service: number, startOffset: number, endOffset: number): SyscallEvent =>
  invoke(service, L.ARMPageUnify_Instruction, [startOffset, endOffset])
/** The reply's MR0 is the frame's physical address (`decodeMessage(...).mrs[0]`). */
export const seL4_ARM_Page_GetAddress = (service: number): SyscallEvent => invoke(service, L.ARMPageGetAddress, [])
export const seL4_ARM_ASIDControl_MakePool = (service: number, untyped: number, root: number, index: number, depth: number): SyscallEvent =>
  invoke(service, L.ARMASIDControlMakePool, [index, depth], [untyped, root])
export const seL4_ARM_ASIDPool_Assign = (service: number, vspace: number): SyscallEvent => invoke(service, L.ARMASIDPoolAssign, [], [vspace])
