/**
 * Hostile input: kernel entries made of random words, not the generator's well-formed choices.
 * Any syscall with any cap pointer, message info, message words, extra caps and receive slot;
 * interrupts on any line; user faults with any words. seL4 must handle every such entry (the
 * kernel entry is total), so both layers must too, still refining each other with every
 * invariant intact. `rawEventArb` is the fast-check form (it shrinks); `hostileStream` a plain
 * PRNG stream for runs of tens of millions of events, where fast-check's machinery would cost
 * more than the kernel.
 */
import fc from "fast-check"
import type { BootConfig, Event } from "../../model/index.ts"
import { SyscallKinds, UserFaultKinds } from "../../model/index.ts"
import type { ImplUnderTest } from "../lockstep/runner.ts"
import { defaultDeadlineMs, describeFailure, runLockstep } from "../lockstep/runner.ts"

/** A word, often small (slot numbers, labels, depths), often any 32-bit value, sometimes an edge. */
const word = fc.oneof(fc.nat({ max: 300 }), fc.nat({ max: 0xffff_ffff }), fc.constantFrom(0, 1, 31, 32, 33, 0xffff_ffff))

/** Syscalls of raw words: any syscall, any cptr, any message info, message words, extra caps, receive slot and pending interrupt. */
export const rawSyscallArb: fc.Arbitrary<Event> = fc.record({
  tag: fc.constant("Syscall" as const),
  syscall: fc.constantFrom(...SyscallKinds),
  cptr: word,
  msgInfo: fc.oneof(fc.nat({ max: 0xffff_ffff }), fc.record({ l: fc.nat({ max: 40 }), e: fc.nat({ max: 3 }), n: fc.nat({ max: 127 }) }).map(({ l, e, n }) => (l << 12 | e << 7 | n) >>> 0)),
  mrs: fc.array(word, { maxLength: 12 }),
  extraCaps: fc.array(word, { maxLength: 3 }),
  recvSlot: fc.array(word, { maxLength: 3 }),
  // An interrupt pending during the entry: any line, often the timer's.
  pendingIRQ: fc.oneof(fc.constant(0), word),
}, { requiredKeys: ["tag", "syscall", "cptr", "msgInfo", "mrs", "extraCaps", "recvSlot"] })

/** Any event of raw words: mostly syscalls, and interrupts on any line, ticks and user faults. */
export const rawEventArb: fc.Arbitrary<Event> = fc.oneof(
  { arbitrary: rawSyscallArb, weight: 8 },
  { arbitrary: fc.constant<Event>({ tag: "TimerTick" }), weight: 1 },
  { arbitrary: word.map((irq): Event => ({ tag: "Interrupt", irq })), weight: 1 },
  { arbitrary: fc.record({ tag: fc.constant("UserFault" as const), kind: fc.constantFrom(...UserFaultKinds), words: fc.array(word, { maxLength: 3 }) }), weight: 1 },
)

/** xorshift32: a tiny, fast, seedable PRNG (never 0 when seeded non-zero). */
const xorshift = (seed: number): (() => number) => {
  let x = (seed >>> 0) || 0x9e3779b9
  return () => {
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    return x
  }
}

/** The same distribution as `rawEventArb`, drawn from a plain PRNG: an endless stream from `seed`. */
export const hostileStream = (seed: number): (() => Event) => {
  const next = xorshift(seed)
  const edges = [0, 1, 31, 32, 33, 0xffff_ffff]
  const w = (): number => {
    const r = next()
    switch (r % 3) {
      case 0: return (r >>> 2) % 301
      case 1: return next()
      default: return edges[(r >>> 2) % edges.length]!
    }
  }
  const words = (max: number): number[] => Array.from({ length: next() % (max + 1) }, w)
  return () => {
    const k = next() % 11
    if (k < 8) {
      const r = next()
      const msgInfo = r % 2 === 0 ? next() : ((((r >>> 1) % 41) << 12) | (((r >>> 7) % 4) << 7) | ((r >>> 9) % 128)) >>> 0
      const e = { tag: "Syscall" as const, syscall: SyscallKinds[next() % SyscallKinds.length]!, cptr: w(), msgInfo, mrs: words(12), extraCaps: words(3), recvSlot: words(3) }
      // One in four with an interrupt pending during the entry (mostly the timer's line).
      const p = next() % 8
      return p < 2 ? { ...e, pendingIRQ: p === 0 ? 0 : w() } : e
    }
    if (k === 8) return { tag: "TimerTick" }
    if (k === 9) return { tag: "Interrupt", irq: w() }
    return { tag: "UserFault", kind: UserFaultKinds[next() % UserFaultKinds.length]!, words: words(3) }
  }
}

/** A hostile trace that failed: which one, why, and its events (a trace file replays it). */
export interface HostileFailure {
  readonly trace: number
  readonly description: string
  readonly events: readonly Event[]
}

export interface HostileRun {
  readonly events: number
  readonly traces: number
  readonly ms: number
  /** Refinement or invariant failures, throws and loops, in trace order. */
  readonly failures: readonly HostileFailure[]
}

/**
 * Drive both layers with `events` hostile events from `seed`, in traces of `traceLength` from a
 * fresh boot, checking refinement and every invariant (incrementally, in full every `fullEvery`
 * steps and at each trace's end), each trace under the watchdog.
 */
export const runHostile = <K>(
  impl: ImplUnderTest<K>, config: BootConfig, o: { seed: number; events: number; traceLength: number; fullEvery: number; onTrace?: (events: number) => void },
): HostileRun => {
  const next = hostileStream(o.seed)
  const failures: HostileFailure[] = []
  const t0 = performance.now()
  let done = 0
  let traces = 0
  while (done < o.events) {
    const n = Math.min(o.traceLength, o.events - done)
    const drawn: Event[] = []
    const r = runLockstep(impl, config, (_s, i) => (i < n ? (drawn[i] = next()) : undefined), { fullEvery: o.fullEvery, deadlineMs: defaultDeadlineMs })
    // A stopped trace leaves the rest of its events undrawn: draw them, so the stream stays in step.
    for (let i = drawn.length; i < n; i++) next()
    if (r.failure !== null) failures.push({ trace: traces, description: describeFailure(r.failure), events: r.events })
    done += n
    traces++
    o.onTrace?.(done)
  }
  return { events: done, traces, ms: performance.now() - t0, failures }
}
