/**
 * Restarts of preempted syscalls. A long operation stopped by a preemption point leaves its
 * thread `Restart`; seL4 runs the syscall again when the thread next runs (its PC is still at the
 * syscall). kspec has no instruction stream, so whoever draws a trace remembers, per thread, the
 * syscall to re-issue (`resolveChoice`'s `restart`), and counts how many preemptions in a row one
 * syscall meets (a chain of restarts).
 */
import type { Event, PPtr, SyscallEvent } from "../../model/index.ts"
import type { Outcome } from "../../spec/index.ts"

/**
 * What a step meant for preempted syscalls: whether the event ran again, unchanged, the syscall a
 * preemption stopped last time its thread entered the kernel (`restarted`), and for how many
 * preemptions in a row that syscall has now been stopped (`chain`: 0 when it completed or was no
 * restart; 1 when a first run was preempted; n when its (n-1)th restart was preempted again).
 */
export interface RestartInfo {
  readonly restarted: boolean
  readonly chain: number
}

const sameWords = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((w, i) => w === b[i])

/** Is `b` the syscall `a` again (the same words; the pending interrupt line is the machine's, not the thread's)? */
export const sameSyscall = (a: SyscallEvent, b: Event): boolean =>
  b.tag === "Syscall" && a.syscall === b.syscall && a.cptr === b.cptr && a.msgInfo === b.msgInfo && sameWords(a.mrs, b.mrs) &&
  sameWords(a.extraCaps, b.extraCaps) && sameWords(a.recvSlot ?? [], b.recvSlot ?? [])

/** Per thread, the syscall a preemption stopped and how many times in a row; and the longest chain seen. */
export class Restarts {
  private readonly pending = new Map<PPtr, { readonly ev: SyscallEvent; readonly chain: number }>()
  private longest = 0

  /** The syscall thread `t` must run again, if a preemption stopped its last one. */
  of(t: PPtr): SyscallEvent | undefined { return this.pending.get(t)?.ev }
  /** The most preemptions one syscall met in a row so far (the longest chain of restarts). */
  get maxChain(): number { return this.longest }

  /** Note what the entry `ev` by `thread` did to its pending restart. */
  note(thread: PPtr, ev: Event, outcome: Outcome): RestartInfo {
    if (outcome.result === "Idle" || (ev.tag !== "Syscall" && ev.tag !== "UserFault")) return { restarted: false, chain: 0 }
    const p = this.pending.get(thread)
    const restarted = p !== undefined && sameSyscall(p.ev, ev)
    if (outcome.result !== "Preempted" || ev.tag !== "Syscall") {
      this.pending.delete(thread)
      return { restarted, chain: 0 }
    }
    const chain = restarted ? p.chain + 1 : 1
    this.pending.set(thread, { ev, chain })
    this.longest = Math.max(this.longest, chain)
    return { restarted, chain }
  }

  /** Take over `other`'s memory (a replay that replaced a run). */
  copyFrom(other: Restarts): void {
    this.pending.clear()
    for (const [t, r] of other.pending) this.pending.set(t, r)
    this.longest = other.longest
  }
}
