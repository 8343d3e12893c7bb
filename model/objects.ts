/**
 * Kernel object types, their sizes, and the per-object vocabulary (thread states, endpoint and
 * notification states) shared by spec and impl.
 * @category objects
 */
import * as C from "./constants.ts"
import type { Fault } from "./errors.ts"
import { initialRegs } from "./registers.ts"

/** A physical address of a kernel object (its base). */
export type PPtr = number
/** A physical address of one capability slot: the slot's own address, `cnode + index * 2^slotBits`. */
export type SlotPtr = number

/**
 * Object types as numbered by seL4 on aarch32 (libsel4 objecttype.h + arch/mode objecttype.h,
 * non-MCS, no hypervisor, no SMMU).
 */
export const ObjectType = {
  Untyped: 0,
  TCB: 1,
  Endpoint: 2,
  Notification: 3,
  CNode: 4,
  PageDirectory: 5,
  SmallPage: 6,
  LargePage: 7,
  Section: 8,
  SuperSection: 9,
  PageTable: 10,
} as const
export type ObjectType = (typeof ObjectType)[keyof typeof ObjectType]
/** `seL4_ObjectTypeCount`: type words at or above this are invalid. */
export const objectTypeCount = 11

export const objectTypeName: Readonly<Record<ObjectType, string>> = {
  0: "Untyped", 1: "TCB", 2: "Endpoint", 3: "Notification", 4: "CNode", 5: "PageDirectory",
  6: "SmallPage", 7: "LargePage", 8: "Section", 9: "SuperSection", 10: "PageTable",
}

/** Frame types and their sizes in bits. Mirrors `Arch_isFrameType` / `pageBitsForSize`. */
export const frameSizeBits: Readonly<Partial<Record<ObjectType, number>>> = {
  [ObjectType.SmallPage]: C.pageBits,
  [ObjectType.LargePage]: C.largePageBits,
  [ObjectType.Section]: C.sectionBits,
  [ObjectType.SuperSection]: C.superSectionBits,
}

/** Is `t` one of the frame object types? Mirrors seL4 `Arch_isFrameType`. */
export const isFrameType = (t: number): boolean => frameSizeBits[t as ObjectType] !== undefined

/**
 * Size in bits of an object of type `t` created with user size `userSize`.
 * Mirrors seL4 `getObjectSize` (src/object/objecttype.c). Total: callers check `t` first.
 */
export const getObjectSize = (t: ObjectType, userSize: number): number => {
  switch (t) {
    case ObjectType.Untyped: return userSize
    case ObjectType.TCB: return C.tcbBits
    case ObjectType.Endpoint: return C.endpointBits
    case ObjectType.Notification: return C.notificationBits
    case ObjectType.CNode: return C.slotBits + userSize
    case ObjectType.PageDirectory: return C.pageDirBits
    case ObjectType.PageTable: return C.pageTableBits
    case ObjectType.SmallPage: return C.pageBits
    case ObjectType.LargePage: return C.largePageBits
    case ObjectType.Section: return C.sectionBits
    case ObjectType.SuperSection: return C.superSectionBits
  }
}

/**
 * Thread states (seL4 `thread_state`). `Restart` is runnable and re-executes its syscall;
 * blocked states name the object they wait on.
 */
export type ThreadState =
  | { readonly tag: "Running" }
  | { readonly tag: "Restart" }
  | { readonly tag: "Inactive" }
  | { readonly tag: "IdleThreadState" }
  | { readonly tag: "BlockedOnReceive"; readonly ep: PPtr; readonly canGrant: boolean }
  | {
    readonly tag: "BlockedOnSend"
    readonly ep: PPtr
    readonly badge: number
    readonly canGrant: boolean
    readonly canGrantReply: boolean
    readonly isCall: boolean
  }
  | { readonly tag: "BlockedOnReply" }
  | { readonly tag: "BlockedOnNotification"; readonly ntfn: PPtr }

/** Runnable states: the scheduler may pick a thread in one. Mirrors seL4 `isRunnable`. */
export const isRunnable = (st: ThreadState): boolean => st.tag === "Running" || st.tag === "Restart"

/** A list with at least one element: the type of a queue that exists only while someone waits in it. */
export type NonEmpty<T> = readonly [T, ...T[]]

/** Is the list non-empty? Narrows it to `NonEmpty`. */
export const isNonEmpty = <T>(xs: readonly T[]): xs is NonEmpty<T> => xs.length > 0

/**
 * Endpoint states (seL4 `endpoint`): queues are non-empty FIFOs of TCB pointers (an endpoint whose
 * last waiter leaves is IdleEP).
 */
export type EndpointState =
  | { readonly tag: "IdleEP" }
  | { readonly tag: "SendEP"; readonly queue: NonEmpty<PPtr> }
  | { readonly tag: "RecvEP"; readonly queue: NonEmpty<PPtr> }

/** Notification word states (seL4 `notification`): a waiting queue is non-empty, as an endpoint's. */
export type NotificationState =
  | { readonly tag: "IdleNtfn" }
  | { readonly tag: "WaitingNtfn"; readonly queue: NonEmpty<PPtr> }
  | { readonly tag: "ActiveNtfn"; readonly badge: number }

/**
 * A thread's registers: message info (r1), badge (r0), the message registers MR0-MR3 (r2-r5) and
 * the others. Message words past MR3, the extra-cap pointers and the receive slot are IPC-buffer
 * words: they live in the buffer's frame (see `ipcBufferWords`).
 */
export interface UserContext {
  readonly msgInfo: number
  readonly badge: number
  /** Message registers MR0..MR3 (`n_msgRegisters` CPU registers). */
  readonly mrs: readonly number[]
  /** The other registers, by seL4 register number (see registers.ts); entries 0..5 are unused and 0. */
  readonly regs: readonly number[]
}

export const emptyContext: UserContext = {
  msgInfo: 0, badge: 0, mrs: Array.from({ length: C.nMsgRegisters }, () => 0), regs: initialRegs(),
}

/** The per-thread fields of a TCB other than its cap slots (seL4 `tcb`). */
export interface TcbFields {
  readonly tcbState: ThreadState
  readonly tcbPriority: number
  readonly tcbMCP: number
  readonly tcbDomain: number
  readonly tcbTimeSlice: number
  /** Fault handler: a CPtr looked up in the thread's own CSpace when a fault occurs. */
  readonly tcbFaultHandler: number
  /** IPC buffer virtual address. */
  readonly tcbIPCBuffer: number
  readonly tcbBoundNotification: PPtr | null
  readonly tcbFault: Fault | null
  readonly tcbContext: UserContext
}

/** A fresh TCB as Retype creates it: Inactive, priority 0, MCP 0, full time slice. */
export const newTcbFields = (domain: number): TcbFields => ({
  tcbState: { tag: "Inactive" }, tcbPriority: 0, tcbMCP: 0, tcbDomain: domain, tcbTimeSlice: C.timeSlice,
  tcbFaultHandler: 0, tcbIPCBuffer: 0, tcbBoundNotification: null, tcbFault: null, tcbContext: emptyContext,
})

/**
 * What the kernel does with an interrupt line (seL4 `irq_state`): nothing (Inactive), signal the
 * notification in its IRQ-node slot (Signal), tick the scheduler (Timer), or reserved by the kernel.
 */
export type IRQState = "IRQInactive" | "IRQSignal" | "IRQTimer" | "IRQReserved"
