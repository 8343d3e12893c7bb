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
 * buffer's extra-cap pointers. The buffer words are user stores through the thread's VSpace at
 * its IPC buffer address: a store that does not translate (or may not write) is a VMFault, and
 * the syscall is not made. Words not given keep their values.
 */
export interface SyscallEvent {
  readonly tag: "Syscall"
  readonly syscall: SyscallKind
  readonly cptr: number
  readonly msgInfo: number
  /** Message words MR0.. (at most msgMaxLength): MR0-MR3 into registers, the rest into the IPC buffer. */
  readonly mrs: readonly number[]
  /** Extra-cap pointers (at most msgMaxExtraCaps) into the buffer's `caps_or_badges`. */
  readonly extraCaps: readonly number[]
  /** The IPC buffer's receive-slot words (receiveCNode, receiveIndex, receiveDepth) the thread writes before a receive. */
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

/** What a user thread does with a virtual address: load a word, store a word, or jump there. */
export const MemoryAccessKinds = ["Read", "Write", "Execute"] as const
export type MemoryAccessKind = (typeof MemoryAccessKinds)[number]

/**
 * The current thread touches user memory: it reads the word at `vaddr` into r2 (MR0), writes
 * `value` there (absent: 0), or jumps to `vaddr` (its next instruction is fetched from there). The
 * MMU translates `vaddr` through the thread's VSpace; when that succeeds with the rights the
 * access needs, no kernel entry happens. Otherwise the thread takes a VMFault (a data abort, or a
 * prefetch abort for Execute) to its fault handler, as the hardware reports it.
 */
export interface MemoryAccessEvent {
  readonly tag: "MemoryAccess"
  readonly kind: MemoryAccessKind
  readonly vaddr: number
  readonly value?: number
}

export type Event = SyscallEvent | TimerTickEvent | InterruptEvent | UserFaultEvent | MemoryAccessEvent
export type EventTag = Event["tag"]
/** Every event tag, once (the record makes a tag added to `Event` and missing here a type error). */
export const EventTags: readonly EventTag[] = Object.keys({ Syscall: 0, TimerTick: 0, Interrupt: 0, UserFault: 0, MemoryAccess: 0 } satisfies Record<EventTag, 0>) as EventTag[]
