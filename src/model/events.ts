/**
 * Kernel events: one event is one kernel entry. Every word in an event is untrusted; both layers
 * handle any word as seL4 would.
 * @category decoding
 */

/** The syscalls in the model so far (libsel4 syscall.xml numbering is kept for UnknownSyscall later). */
export const SyscallKinds = ["Send", "NBSend", "Call"] as const
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
}

export type Event = SyscallEvent
export type EventTag = Event["tag"]
