/**
 * Kernel events: one event is one kernel entry. Every word in an event is untrusted; both layers
 * handle any word as seL4 would.
 * @category decoding
 */

/** The non-MCS syscalls (libsel4 syscall.xml). A number outside these is an UnknownSyscall `UserFault`. */
export const SyscallKinds = ["Send", "NBSend", "Call", "Recv", "NBRecv", "Reply", "ReplyRecv", "Yield"] as const
export type SyscallKind = (typeof SyscallKinds)[number]

/**
 * A syscall made by the current thread. The words stand for what the thread put in its registers
 * and IPC buffer before trapping: the cap register, the message info, the message words and the
 * buffer's extra-cap pointers.
 */
export interface SyscallEvent {
  readonly tag: "Syscall"
  readonly syscall: SyscallKind
  readonly cptr: number
  readonly msgInfo: number
  /** Message words MR0.. (at most msgMaxLength). Words not given read as 0. */
  readonly mrs: readonly number[]
  /** Extra-cap pointers (at most msgMaxExtraCaps). Words not given read as 0. */
  readonly extraCaps: readonly number[]
  /**
   * The IPC buffer's receive-slot words (receiveCNode, receiveIndex, receiveDepth) the thread
   * writes before a receive: given words overwrite the buffer's, absent ones keep their values.
   */
  readonly recvSlot?: readonly number[]
  /**
   * An interrupt line the controller raises while the kernel handles this syscall (absent: none).
   * A long operation's preemption point sees it when it looks at the controller (seL4
   * `isIRQPending`: an unmasked line that exists) and stops; the entry then handles that
   * interrupt. A line no preemption point sees is not delivered by this entry.
   */
  readonly pendingIRQ?: number
}

/** The timer interrupt (seL4's kernel timer IRQ): the current thread's time slice ticks. */
export interface TimerTickEvent { readonly tag: "TimerTick" }

/**
 * Interrupt line `irq` fires (any word: a line the platform lacks is spurious). A line that is
 * masked is not delivered by the interrupt controller: the kernel entry then only reschedules.
 */
export interface InterruptEvent { readonly tag: "Interrupt"; readonly irq: number }

/** The faults a user thread can raise other than through a syscall's cap lookups. */
export const UserFaultKinds = ["VMFault", "UnknownSyscall", "UserException"] as const
export type UserFaultKind = (typeof UserFaultKinds)[number]

/**
 * The current thread traps with a fault. `words` give the fault's fields (missing words read 0):
 * VMFault [address, FSR, instruction fault (non-zero = true)], UnknownSyscall [syscall number],
 * UserException [number, code].
 */
export interface UserFaultEvent { readonly tag: "UserFault"; readonly kind: UserFaultKind; readonly words: readonly number[] }

export type Event = SyscallEvent | TimerTickEvent | InterruptEvent | UserFaultEvent
export type EventTag = Event["tag"]
