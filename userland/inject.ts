/**
 * Fault injection, in the style of MINIX 3's campaign (Herder et al., DSN'09): at random times a
 * random server's next instruction is replaced, or preceded, by a faulty one. The kinds:
 *
 * - `wild-read`, `wild-write`: a load or store at an address the server does not own (another
 *   process's private page, the null page, the kernel window, a random address): a VMFault;
 * - `bad-cap`: a Call on a cap pointer that does not resolve: a CapFault;
 * - `unknown-syscall`: a trap with a syscall number the kernel does not know;
 * - `exception`: an undefined instruction (a UserException): the server crashes;
 * - `junk-syscall`: a Send, NBSend or Call on any of its caps with random words: an error, a cap
 *   fault, or a junk message another server must survive;
 * - `corrupt-reply`: the server's next reply carries a wrong word (the client must notice);
 * - `loop`: the server spins in the middle of a request, never blocking (the watchdog's case);
 * - `crash-mid-request`: a crash between taking a request and answering it;
 * - `dead-driver-irq`: the timer driver crashes holding an interrupt it has not acknowledged.
 * @category library
 */
import type { Event } from "../model/index.ts"
import { SyscallKinds } from "../model/index.ts"
import { raw, readWord, seL4_Call, unknownSyscall, userException, writeWord } from "../index.ts"
import { Pid, Slot, privateVA, regionVA, servers } from "./layout.ts"
import type { Injection, Injector, ProcessView } from "./runtime.ts"

export const FaultKinds = [
  "wild-read", "wild-write", "bad-cap", "unknown-syscall", "exception", "junk-syscall", "corrupt-reply", "loop", "crash-mid-request", "dead-driver-irq",
] as const
export type FaultKind = (typeof FaultKinds)[number]

/** A seeded PRNG (mulberry32): the campaign's only source of randomness. */
export const prng = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface InjectorOptions {
  readonly rng: () => number
  /** Cycles from one injection to arming the next. */
  readonly gap: number
  readonly kinds?: readonly FaultKind[]
  /** The servers faults go into (default all four). */
  readonly targets?: readonly number[]
}

/** What each kind needs of its target, and which targets it fits. */
const fits = (k: FaultKind, pid: number): boolean =>
  k === "dead-driver-irq" ? pid === Pid.timerDriver : k === "corrupt-reply" ? pid === Pid.nameServer || pid === Pid.fileServer : true

/** An injector armed with one fault at a time: it fires at the first instruction of a target that suits the kind. */
export class FaultInjector {
  enabled = true
  injected = 0
  /** Armed faults that found no suitable moment within 4 gaps (another kind and target are drawn). */
  expired = 0
  readonly byKind = new Map<FaultKind, number>()
  private armed: { kind: FaultKind; pid: number; since: number } | null = null
  /** Inject at most this many. */
  limit = Infinity
  private nextArm: number
  private readonly kinds: readonly FaultKind[]
  private readonly targets: readonly number[]

  constructor(private readonly o: InjectorOptions, start = 0) {
    this.kinds = o.kinds ?? FaultKinds
    this.targets = o.targets ?? servers
    this.nextArm = start + o.gap
  }

  private pick<T>(xs: readonly T[]): T { return xs[Math.floor(this.o.rng() * xs.length)]! }
  private word(): number { return Math.floor(this.o.rng() * 4294967296) >>> 0 }

  /** An address `pid` does not own: another's private page, the null page, the kernel window, or any address outside its region. */
  private wildAddress(pid: number): number {
    switch (Math.floor(this.o.rng() * 4)) {
      case 0: { const other = this.pick([...servers, Pid.supervisor, Pid.firstClient].filter((p) => p !== pid)); return privateVA(other) + 4 * Math.floor(this.o.rng() * 16) }
      case 1: return 4 * Math.floor(this.o.rng() * 1024)
      case 2: return (0xe000_0000 + 4 * Math.floor(this.o.rng() * 0x0800_0000)) >>> 0
      default: { const a = (this.word() & ~3) >>> 0; return (a >>> 20) === (regionVA >>> 20) ? (a ^ 0x8000_0000) >>> 0 : a }
    }
  }

  /**
   * The runtime's hook. `gap` cycles after the last injection a fault kind and a target that fits
   * it are drawn; the fault goes in at the target's first instruction whose moment suits the kind
   * (in the middle of a request, holding an interrupt, about to reply), or another pair is drawn
   * after 4 gaps.
   */
  readonly hook: Injector = (p, next, cycle) => {
    if (!this.enabled || this.injected >= this.limit) return null
    if (this.armed !== null && cycle - this.armed.since > 4 * this.o.gap) { this.armed = null; this.expired++ }
    if (this.armed === null) {
      if (cycle < this.nextArm) return null
      const kind = this.pick(this.kinds)
      const pids = this.targets.filter((t) => fits(kind, t))
      if (pids.length === 0) return null
      this.armed = { kind, pid: this.pick(pids), since: cycle }
    }
    const a = this.armed
    if (p.looping || p.pid !== a.pid) return null
    const inj = this.make(a.kind, p, next)
    if (inj === null) return null
    this.armed = null
    this.nextArm = cycle + this.o.gap
    this.injected++
    this.byKind.set(a.kind, (this.byKind.get(a.kind) ?? 0) + 1)
    return inj
  }

  private make(kind: FaultKind, p: ProcessView, next: Event): Injection | null {
    switch (kind) {
      case "wild-read": return { kind, before: readWord(this.wildAddress(p.pid)) }
      case "wild-write": return { kind, before: writeWord(this.wildAddress(p.pid), this.word()) }
      // A cap pointer the server's one-level CSpace cannot resolve (its guard does not match): a
      // CapFault. (A Call on an empty slot that does resolve is an InvalidCapability error the
      // server sees, seL4's answer: junk-syscall makes those.)
      case "bad-cap": return { kind, before: seL4_Call(((this.word() | 0x40) & ~0x1f | (this.word() & 0x1f)) >>> 0, { label: 1, mrs: [1] }) }
      case "unknown-syscall": return { kind, before: unknownSyscall(8 + Math.floor(this.o.rng() * 1000)) }
      case "exception": return { kind, before: userException(Math.floor(this.o.rng() * 16), this.word()) }
      case "junk-syscall": {
        const cptrs = Array.from({ length: 32 }, (_, i) => i).filter((i) => i !== Slot.serve)
        const n = Math.floor(this.o.rng() * 5)
        return { kind, before: raw(this.pick(["Send", "NBSend", "Call"] as const satisfies readonly (typeof SyscallKinds)[number][]), this.pick(cptrs), (this.word() & 0xffff_f07f) >>> 0, Array.from({ length: n }, () => this.word())) }
      }
      case "corrupt-reply":
        // The next reply with contents, one word flipped.
        if (next.tag !== "Syscall" || (next.syscall !== "ReplyRecv" && next.syscall !== "Reply") || next.mrs.length < 2) return null
        return { kind, replace: { ...next, mrs: next.mrs.map((w, i) => (i === 1 ? (w ^ 0x5a5a_5a5a) >>> 0 : w)) } }
      case "loop": return p.inRequest ? { kind, loop: true } : null
      case "crash-mid-request": return p.inRequest ? { kind, before: userException(1, 0xdead) } : null
      case "dead-driver-irq": return p.holdsIRQ ? { kind, before: userException(2, 0x1a) } : null
    }
  }
}
