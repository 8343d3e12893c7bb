/**
 * The user-level runtime: a CPU for the programs of userland/. Each step it asks the machine
 * which thread the kernel chose, and runs that thread's program to its next event (a syscall or a
 * memory access), which it hands to the kernel; when the idle thread runs, time passes to the next
 * device interrupt. The kernel timer ticks every `tickEvery` cycles and devices raise their lines
 * on their periods, so a program that never blocks is preempted as on the hardware.
 *
 * A thread runs the program image its PC points at: whoever starts a thread (the root task, the
 * supervisor) writes its PC with TCB_WriteRegisters, `entry + 4 * generation`, and when the
 * runtime next finds that thread current with a PC it did not leave there, it starts that image
 * afresh: a restart. The runtime keeps no other per-thread state that a program could use: a
 * program sees only its registers and its memory.
 *
 * The runtime is also where faults are injected (`Injector`: a program's next instruction
 * replaced or preceded by a faulty one, as MINIX 3's campaign mutated driver binaries) and where
 * memory integrity is audited: every word a thread stores in its private page is remembered, and
 * `audit()` reads each back through that thread's own page tables: a word that changed without
 * its owner storing it is an isolation failure.
 * @category library
 */
import type { Event, PPtr, UserContext } from "../model/index.ts"
import { userException } from "../index.ts"
import type { Machine } from "./machine.ts"
import type { ConsoleKind, Program, StartContext } from "./lib.ts"
import { pidOfImage, privateVA, processName } from "./layout.ts"

/** A program image: started with its start context. */
export type ImageTable = ReadonlyMap<number, (ctx: StartContext) => Program>

/** A device that raises interrupt line `irq` every `period` cycles. */
export interface Device { readonly irq: number; readonly period: number }

/** A line on the console. */
export interface ConsoleRecord { readonly cycle: number; readonly pid: number; readonly kind: ConsoleKind; readonly words: readonly number[] }

/** One entry of the run's trace (for the timeline). */
export interface TraceEntry { readonly cycle: number; readonly pid: number; readonly event: Event }

/** What an injector does to a thread's next instruction. */
export interface Injection {
  /** The fault kind, as the campaign counts it. */
  readonly kind: string
  /** Run this event before the program's next one. */
  readonly before?: Event
  /** Run this event instead of the program's next one. */
  readonly replace?: Event
  /** From now on the program spins (loads of its own page) until restarted. */
  readonly loop?: boolean
}
/** Called before each program event of each process; returns an injection or null. */
export type Injector = (p: ProcessView, next: Event, cycle: number) => Injection | null

/** What an injector (or a report) may see of a process: the runtime's bookkeeping, not kernel state. */
export interface ProcessView {
  readonly pid: number
  readonly name: string
  readonly generation: number
  /** The program said it holds a request (between receiving it and replying). */
  readonly inRequest: boolean
  /** The program just received an interrupt's signal and has not acknowledged it. */
  readonly holdsIRQ: boolean
  readonly looping: boolean
}

interface Proc extends ProcessView {
  thread: PPtr
  pid: number
  name: string
  generation: number
  gen: Program | null
  /** The program yielded an event that ran: resume it with the registers when the thread runs next. */
  resume: boolean
  pending: Event | null
  lastPc: number
  inRequest: boolean
  holdsIRQ: boolean
  looping: boolean
  /** Private-page words this thread stored (vaddr -> value), for the audit. */
  readonly shadow: Map<number, number>
}

export interface RuntimeOptions {
  /** Cycles between kernel timer ticks (default 50). */
  readonly tickEvery?: number
  readonly devices?: readonly Device[]
  readonly injector?: Injector
  /** Keep the trace of every event (default: the first `traceLimit`). */
  readonly traceLimit?: number
}

/** The CPU: runs the current thread's program, or lets time pass (see the module comment). */
export class Runtime {
  cycle = 0
  /** The lockstep failure or runtime defect that stopped the run, if any. */
  failure: string | null = null
  readonly console: ConsoleRecord[] = []
  readonly trace: TraceEntry[] = []
  readonly integrity: string[] = []
  /** Text lines programs printed. */
  readonly text: string[] = []
  private readonly procs = new Map<PPtr, Proc>()
  private readonly tickEvery: number
  private readonly devices: readonly Device[]
  private readonly nextFire: number[]
  private nextTick: number
  private readonly rootThread: PPtr
  private readonly traceLimit: number
  /** Extra console listeners (progress, counters). */
  onConsole: ((r: ConsoleRecord) => void) | null = null

  constructor(readonly machine: Machine, readonly images: ImageTable, readonly rootImage: number, private readonly opts: RuntimeOptions = {}) {
    this.tickEvery = opts.tickEvery ?? 50
    this.devices = opts.devices ?? []
    this.nextFire = this.devices.map((d) => d.period)
    this.nextTick = this.tickEvery
    this.rootThread = machine.current()
    this.traceLimit = opts.traceLimit ?? 20_000
  }

  /** The processes the runtime has started, by pid. */
  processes(): readonly ProcessView[] { return [...this.procs.values()] }

  /** Run until `cycles` cycles have passed (or a failure). */
  run(cycles: number): void {
    const end = this.cycle + cycles
    while (this.cycle < end && this.failure === null) this.stepOnce()
  }

  /** One machine step: a due tick or interrupt, else the current thread's next event (or time passing while idle). */
  stepOnce(): void {
    if (this.cycle >= this.nextTick) {
      this.nextTick += this.tickEvery
      this.kernel({ tag: "TimerTick" }, -1)
      return
    }
    for (let d = 0; d < this.devices.length; d++) {
      if (this.cycle >= this.nextFire[d]!) {
        this.nextFire[d]! += this.devices[d]!.period
        this.kernel({ tag: "Interrupt", irq: this.devices[d]!.irq }, -1)
        return
      }
    }
    if (this.machine.idle()) {
      // Nothing to run: time passes to the next interrupt.
      this.cycle = Math.min(this.nextTick, ...this.nextFire)
      return
    }
    const t = this.machine.current()
    const p = this.procOf(t)
    let ev: Event
    if (p.looping) ev = { tag: "MemoryAccess", kind: "Read", vaddr: privateVA(p.pid) }
    else {
      if (p.pending === null) {
        const r = p.gen!.next(p.resume ? this.machine.registers() : (undefined as unknown as UserContext))
        p.resume = false
        // A program that returns has run off its end: an undefined instruction.
        p.pending = r.done === true ? userException(0, 0xe0f) : r.value
        if (r.done === true) p.gen = (function* () { /* nothing after the end */ })() as Program
      }
      ev = p.pending
      const inj = this.opts.injector?.(p, ev, this.cycle) ?? null
      if (inj !== null) {
        this.say(p.pid, "injected", [])
        this.injected.push({ cycle: this.cycle, pid: p.pid, kind: inj.kind, generation: p.generation, inRequest: p.inRequest })
        if (inj.loop === true) { p.looping = true; return }
        if (inj.replace !== undefined) { ev = inj.replace; p.pending = null; p.resume = true }
        else if (inj.before !== undefined) ev = inj.before
      } else {
        p.pending = null
        p.resume = true
      }
    }
    this.kernel(ev, p.pid)
    p.lastPc = this.machine.pc(t)
    if (ev.tag === "MemoryAccess" && ev.kind === "Write") this.noteStore(p, ev.vaddr, ev.value ?? 0)
  }

  /** Injections made so far. */
  readonly injected: { readonly cycle: number; readonly pid: number; readonly kind: string; readonly generation: number; readonly inRequest: boolean }[] = []

  private kernel(ev: Event, pid: number): void {
    if (this.trace.length < this.traceLimit) this.trace.push({ cycle: this.cycle, pid, event: ev })
    this.cycle++
    const f = this.machine.step(ev)
    if (f !== null) this.failure = `cycle ${this.cycle - 1}: ${f}`
  }

  /** The process a thread runs, (re)starting its program when its PC moved under it. */
  private procOf(t: PPtr): Proc {
    const pc = this.machine.pc(t)
    const p = this.procs.get(t)
    if (p !== undefined && p.lastPc === pc && p.gen !== null) return p
    const root = t === this.rootThread && pc === 0
    const image = root ? this.rootImage : (pc & ~0xfff) >>> 0
    const generation = root ? 0 : (pc & 0xfff) >>> 2
    const [flags, arg] = this.machine.args(t)
    const pid = root ? 0 : pidOfImage(image, arg)
    const q: Proc = p ?? {
      thread: t, pid, name: processName(pid), generation, gen: null, resume: false, pending: null, lastPc: pc,
      inRequest: false, holdsIRQ: false, looping: false, shadow: new Map(),
    }
    q.pid = pid; q.name = processName(pid); q.generation = generation; q.lastPc = pc
    q.pending = null; q.resume = false; q.inRequest = false; q.holdsIRQ = false; q.looping = false
    const make = this.images.get(image)
    const ctx: StartContext = {
      generation, flags, arg,
      console: (kind, ...words) => {
        if (kind === "begin" || kind === "served") q.inRequest = kind === "begin"
        else if (kind === "irq" || kind === "ack") q.holdsIRQ = kind === "irq"
        this.say(q.pid, kind, words)
      },
      print: (text) => { this.text.push(`[${this.cycle}] ${q.name}: ${text}`) },
    }
    // A PC that points at no image is a jump into nowhere: the thread takes an undefined-instruction fault.
    q.gen = make !== undefined ? make(ctx) : (function* (): Program { yield userException(0, 0xbad) })()
    this.procs.set(t, q)
    this.say(pid, "init", [generation])
    return q
  }

  private say(pid: number, kind: ConsoleKind, words: readonly number[]): void {
    const r: ConsoleRecord = { cycle: this.cycle, pid, kind, words }
    if (this.console.length < this.traceLimit) this.console.push(r)
    this.onConsole?.(r)
  }

  private noteStore(p: Proc, vaddr: number, value: number): void {
    const page = privateVA(p.pid)
    if (vaddr < page || vaddr >= page + 0x1000) return
    // Stored only if it did not fault: the thread reads its own word back through its own page tables.
    if (this.machine.peek(p.thread, vaddr & ~3) === (value >>> 0)) p.shadow.set(vaddr & ~3, value >>> 0)
  }

  /**
   * Memory integrity: every word each process stored in its private page must still read back
   * as stored, through its own VSpace. Returns (and records) the words that changed.
   */
  audit(): readonly string[] {
    const found: string[] = []
    for (const p of this.procs.values()) {
      for (const [va, v] of p.shadow) {
        const now = this.machine.peek(p.thread, va)
        if (now !== v) found.push(`${p.name}: word at 0x${va.toString(16)} is ${now === undefined ? "unmapped" : `0x${now.toString(16)}`}, it stored 0x${v.toString(16)}`)
      }
    }
    this.integrity.push(...found)
    // Report each changed word once: believe what is there now.
    for (const p of this.procs.values()) for (const va of [...p.shadow.keys()]) { const now = this.machine.peek(p.thread, va); if (now !== undefined) p.shadow.set(va, now) }
    return found
  }
}
