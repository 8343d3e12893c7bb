/**
 * What a user-level program is written with: a program is a generator that yields kernel events
 * (syscalls and memory accesses, built with the library's seL4_* builders) and is resumed with its
 * registers when its thread next runs, as a C program on seL4 is resumed after a trap. These
 * helpers are libsel4 for generators: `yield* call(ep, msg)` is `seL4_Call` and returns the reply,
 * `yield* load(va)` is a load instruction. A program never sees kernel state: only what comes back
 * in its own registers, and its own memory through its own page tables.
 * @category library
 */
import type { Event, UserContext } from "../model/index.ts"
import type { Message, ReceivedMessage, Reply } from "../index.ts"
import { decodeMessage, decodeReply, readWord, seL4_Call, seL4_Poll, seL4_Recv, seL4_ReplyRecv, seL4_Signal, seL4_Wait, writeWord } from "../index.ts"

/** A running program: yields the next event, is resumed with its registers after it. */
export type Program = Generator<Event, void, UserContext>
/** A step of a program that returns `T` (use with `yield*`). */
export type Step<T> = Generator<Event, T, UserContext>

/** What a program is started with: the registers its starter wrote (TCB_WriteRegisters) and a debug console. */
export interface StartContext {
  /** How many times this thread was (re)started before (the low bits of its start PC). */
  readonly generation: number
  /** r8: start flags (`StartFlag`). */
  readonly flags: number
  /** r9: the program's argument (a client's index). */
  readonly arg: number
  /** seL4_DebugPutChar's role: a line on the board's console, no kernel entry; the campaign counts these. */
  readonly console: (kind: ConsoleKind, ...words: number[]) => void
  /** A line of text on the console (diagnostics). */
  readonly print: (text: string) => void
}

/** What programs print on the console (the campaign's counters read these lines). */
export type ConsoleKind =
  | "request" | "ok" | "error" | "wrong" | "duplicate"     // a client: a request issued (words: seq, label), and how it ended
  | "begin" | "served"                                       // a server took a request (or an interrupt's work) and finished it
  | "irq" | "ack"                                            // the driver holds an interrupt, and acknowledged it
  | "fault" | "hang" | "restart"                             // the supervisor: a fault message, a hung server, a restart (words: pid, ...)
  | "init" | "ready" | "setup-error" | "injected"            // a program started; the root task finished, or failed; the runtime injected a fault

/** Start flags in r8. */
export const StartFlag = {
  /** Keep the state in the program's private memory (else start fresh). */
  KeepState: 1,
} as const

/** Any event; resumes with the registers. */
export function* sys(ev: Event): Step<UserContext> { return yield ev }
/** seL4_Call: the reply as the caller reads it. */
export function* call(ep: number, m: Message): Step<ReceivedMessage> { return decodeMessage(yield seL4_Call(ep, m)) }
/** A kernel invocation (a Call on a kernel object's cap): Ok, or the seL4 error. */
export function* invoke(ev: Event): Step<Reply> { return decodeReply(yield ev) }
/** seL4_Recv on an endpoint (or a notification): the message or signal. */
export function* recv(ep: number): Step<ReceivedMessage> { return decodeMessage(yield seL4_Recv(ep)) }
/** seL4_ReplyRecv. */
export function* replyRecv(ep: number, m: Message): Step<ReceivedMessage> { return decodeMessage(yield seL4_ReplyRecv(ep, m)) }
/** seL4_Wait on a notification: the signalled word. */
export function* wait(ntfn: number): Step<number> { return (yield seL4_Wait(ntfn)).badge }
/** seL4_Poll: the signalled word (0 if nothing). */
export function* poll(ntfn: number): Step<number> { return (yield seL4_Poll(ntfn)).badge }
/** seL4_Signal. */
export function* signal(ntfn: number): Step<void> { yield seL4_Signal(ntfn) }
/** A load: the word at `va` (through the thread's own VSpace; a VMFault if unmapped). */
export function* load(va: number): Step<number> { return (yield readWord(va)).mrs[0]! }
/** A store. */
export function* store(va: number, value: number): Step<void> { yield writeWord(va, value >>> 0) }

/**
 * A single-producer single-consumer ring of `entryWords`-word entries in shared memory, sDDF's
 * queue shape: word 0 the consumer's head, word 1 the producer's tail, then `capacity` entries.
 * Each side keeps its own index in memory it may write; the other reads it.
 */
export class Ring {
  constructor(readonly base: number, readonly capacity: number, readonly entryWords: number) {}
  private slot(i: number): number { return this.base + 4 * (2 + (i % this.capacity) * this.entryWords) }
  /** Words the ring takes in memory. */
  get words(): number { return 2 + this.capacity * this.entryWords }
  /** Enqueue (producer); false when full. */
  *push(entry: readonly number[]): Step<boolean> {
    const head = yield* load(this.base)
    const tail = yield* load(this.base + 4)
    if (((tail - head) >>> 0) >= this.capacity) return false
    for (let w = 0; w < this.entryWords; w++) yield* store(this.slot(tail) + 4 * w, entry[w] ?? 0)
    yield* store(this.base + 4, tail + 1)
    return true
  }
  /** Dequeue every entry there is (consumer). */
  *drain(): Step<number[][]> {
    const head = yield* load(this.base)
    const tail = yield* load(this.base + 4)
    const n = Math.min((tail - head) >>> 0, this.capacity)
    const out: number[][] = []
    for (let k = 0; k < n; k++) {
      const e: number[] = []
      for (let w = 0; w < this.entryWords; w++) e.push(yield* load(this.slot(head + k) + 4 * w))
      out.push(e)
    }
    if (n > 0) yield* store(this.base, head + n)
    return out
  }
}
