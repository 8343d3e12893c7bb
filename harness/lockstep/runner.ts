/**
 * The lockstep refinement harness: boot the spec and the impl from one configuration, feed both
 * the same events, and after every step check that the abstraction of the impl state equals
 * the spec state, that every invariant holds, that neither layer threw, and that a failed
 * invocation changed nothing but the caller's registers and IPC buffer. The first failure stops the run.
 *
 * `Lockstep` is the stepwise form: `step(event)` returns what the entry did and any failure, and
 * both layers' states stay open to inspection between steps. `runLockstep` (and `runChoices`,
 * `runEvents`) run a whole trace on it.
 */
import vm from "node:vm"
import type { BootConfig, Event, PPtr, SyscallEvent } from "../../model/index.ts"
import { defaultBootConfig, errorNames, ipcBufferWords } from "../../model/index.ts"
import type { KernelState, Outcome } from "../../spec/index.ts"
import { boot, getTcb, stepWithOutcome } from "../../spec/index.ts"
import type { Frame } from "../../spec/machine/memory.ts"
import { lookupIPCBuffer } from "../../spec/kernel/vspace.ts"
import { translate, userVSpaceRoot } from "../../spec/machine/mmu.ts"
import type { Violation } from "../../spec/invariants/index.ts"
import type { InvariantSelection } from "../../spec/invariants/index.ts"
import { CapRefIndex, checkAll, checkChanged, checkPeriodic, stateDelta } from "../../spec/invariants/index.ts"
import type { StateDelta } from "../../spec/invariants/delta.ts"
import type { ImplState, Kernel } from "../../impl/index.ts"
import { absState, sharingWalks } from "../relation/abstract.ts"
import { SlotLocator, agreesInFull, agreesOn } from "../relation/incremental.ts"
import type { Choice } from "../gen/choices.ts"
import type { RestartInfo } from "../gen/restarts.ts"
import { Restarts } from "../gen/restarts.ts"
import { resolveChoice, simulatedStep } from "../gen/choices.ts"
import { deepEqual, fingerprint, stateDiff, statesEqual } from "./diff.ts"
import { deepFreeze } from "./freeze.ts"
import { realImpl } from "./impls.ts"

/** What the runner needs of an implementation: boot it, step it, and abstract its state. */
export interface ImplUnderTest<K> {
  readonly boot: (config: BootConfig) => K
  readonly step: (k: K, ev: Event) => void
  readonly abs: (k: K) => KernelState
  /** Implementation-only invariants (list links, bitmaps); violations as messages. */
  readonly implChecks?: (k: K) => readonly Violation[]
  /**
   * The spec to check against, when it is not the real one: a planted spec mutant (a self-test
   * that the checks catch a wrong spec too). The relation, the invariants and the generators stay the real ones.
   */
  readonly spec?: SpecUnderTest
}

/** A spec's two entry points, as the runner calls them. */
export interface SpecUnderTest {
  readonly boot: (config: BootConfig) => KernelState
  readonly stepWithOutcome: (s: KernelState, ev: Event) => { state: KernelState; outcome: Outcome }
}

/**
 * Why a lockstep run stopped: the impl's abstract state differs from the spec's (`diff`: the
 * paths where they differ, spec | impl), an invariant broke, a failed invocation changed more
 * than the caller's registers and IPC buffer, or a layer threw.
 */
export type Failure =
  | { readonly kind: "divergence"; readonly step: number; readonly diff: readonly string[] }
  | { readonly kind: "invariant"; readonly step: number; readonly violations: readonly Violation[] }
  | { readonly kind: "frame"; readonly step: number; readonly diff: readonly string[] }
  | { readonly kind: "throw"; readonly step: number; readonly layer: "spec" | "impl"; readonly message: string }
  | { readonly kind: "nontermination"; readonly step: number; readonly phase: Phase; readonly ms: number }

/** What a lockstep run was doing: resolving the next event, stepping a layer, or checking. */
export type Phase = "generator" | "spec" | "impl" | "check"

export interface RunOptions {
  /** Check every invariant after every step (default true). */
  readonly invariants?: boolean
  /**
   * Deep-freeze spec states, so a mutating spec function throws (default true). Incremental
   * checking does not freeze; it fingerprints the state of each full check instead.
   */
  readonly freeze?: boolean
  /**
   * Called after each step with what it did, the spec state after it, and whether the event ran
   * again a syscall a preemption had stopped (`restart`).
   */
  readonly onStep?: (outcome: Outcome, ev: Event, spec: KernelState, restart: RestartInfo) => void
  /**
   * Incremental checking: after each step compare only what the spec's step changed (and the
   * globals) and run the incremental forms of the invariants checked after every step; every
   * `fullEvery` steps (more in a large state: `fullPeriod`) and at `finish()`, run the full
   * relation and the impl checks, and the other invariants' forms on everything changed since the
   * last full check (every invariant holds by induction over the changes, each checked on its
   * change, as long as no state is mutated in place, which the full check's fingerprint rules
   * out; an invariant without an incremental form would run whole there). On any failure the trace is
   * replayed with full checking after every step, so the failure reported is the one full
   * checking reports. 0 or undefined: full checking every step.
   * Applies to impls abstracted by the relation's `absState`.
   */
  readonly fullEvery?: number
  /**
   * Under incremental checking, which invariants run after every step: "all" of them (each through
   * its incremental form), or by default the ones whose forms look only at the changed keys, the
   * others (`checkedPerPeriod`) at each full check on everything changed since the last one.
   * KSPEC_EACH_STEP=all sets "all" for campaigns.
   */
  readonly eachStep?: "all" | "local"
  /**
   * A watchdog for a whole run (`runLockstep` and the runners built on it): a run still going
   * after this many milliseconds is stopped, wherever it is (V8 interrupts even a synchronous
   * loop), and reported as a `nontermination` failure at the step and in the phase it was in.
   * seL4 terminates on every entry, so a kernel entry or a check that loops is a bug found.
   * Undefined: no watchdog.
   */
  readonly deadlineMs?: number
}

export type { RestartInfo } from "../gen/restarts.ts"

/**
 * The steps between periodic full checks in state `s`: `every`, or one step per `fullCheckKeys`
 * objects and caps when that is more. A full check is linear in the state, so the period grows
 * with it and a full check costs each step about the same at any size; what the full check alone
 * sees (a stray impl write outside the deltas, the invariants without an incremental form) is seen
 * later in a large state, and always by the end of the trace (`finish`). Deterministic: it depends
 * on the state, never on time.
 */
export const fullPeriod = (every: number, s: KernelState): number => Math.max(every, Math.floor((s.kheap.size + s.caps.size) / fullCheckKeys))
/** Objects and caps per step of the full-check period in a large state (see `fullPeriod`). */
export const fullCheckKeys = 8

/** Counters for tests and benchmarks: traces that incremental checking replayed with full checking. */
export const runnerStats = { replays: 0 }

/** The campaigns' watchdog (see `RunOptions.deadlineMs`); KSPEC_DEADLINE_MS overrides it. A trace takes milliseconds. */
export const defaultDeadlineMs = Number(process.env.KSPEC_DEADLINE_MS ?? 10_000)

/** Which invariants campaigns check after every step (RunOptions.eachStep); KSPEC_EACH_STEP=all checks all of them. */
export const defaultEachStep: "all" | "local" = process.env.KSPEC_EACH_STEP === "all" ? "all" : "local"

/**
 * The default period of the full check under incremental checking (campaigns); KSPEC_FULL_EVERY
 * overrides it (0: full every step). What only the full check sees is a stray impl write outside
 * every delta that no later step reads (one that a step reads shows in that step's delta) and the
 * impl's own invariants; every trace ends with a full check, so the period decides only how soon
 * within a trace. At 128 rather than 32 the default campaign found the planted lockstep mutants in
 * the same CPU time (33.3 s against 34.2 s over 49 mutants x 3 seeds, the same one missed), and
 * checking at 100 objects ran 1.4x faster. At 256 rather than 128 (with sym_refs, tcb_cap_cases,
 * valid_ioc and equal_kernel_mappings moved to the full check) it finds the same 48 of 54 in 9%
 * less CPU time (32.2 s against 35.4 s; per mutant, a median 0.90 of the time), and a checked step
 * at 100 objects costs 2.3 spec steps instead of 2.8. A trace of the default depth (150) then has
 * one full check, at its end.
 */
export const defaultFullEvery = Number(process.env.KSPEC_FULL_EVERY ?? 256)

export interface RunResult {
  readonly events: readonly Event[]
  readonly outcomes: readonly Outcome[]
  readonly failure: Failure | null
  readonly spec: KernelState
  /** The most preemptions one syscall met in a row (the longest chain of restarts), when the runner counted them. */
  readonly maxRestartChain?: number
}

/** What one lockstep step did. */
export interface StepResult {
  readonly event: Event
  /** The thread that was current when the event came in (the caller of a syscall). */
  readonly thread: PPtr
  /** What the entry did, per the spec; absent when a layer threw. */
  readonly outcome: Outcome | undefined
  /** The first refinement or invariant failure, or null. Once set, every later step returns it. */
  readonly failure: Failure | null
}

/** A failure in a few readable lines. */
export const describeFailure = (f: Failure): string => {
  switch (f.kind) {
    case "divergence": return `step ${f.step}: impl diverges from spec:\n  ${f.diff.join("\n  ")}`
    case "invariant": return `step ${f.step}: invariant broken:\n  ${f.violations.slice(0, 8).map((v) => `${v.invariant}: ${v.message}`).join("\n  ")}`
    case "frame": return `step ${f.step}: a failed invocation changed more than the caller's registers and IPC buffer:\n  ${f.diff.join("\n  ")}`
    case "throw": return `step ${f.step}: the ${f.layer} threw: ${f.message}`
    case "nontermination": return `step ${f.step}: ${f.phase === "check" ? "checking the step" : f.phase === "generator" ? "resolving the event" : `the ${f.phase}`} did not finish within ${f.ms} ms: a loop that does not terminate`
  }
}

/** Did the invocation fail with a syscall error (not a fault, a block, a delivery or any other outcome)? */
export const isErrorResult = (o: Outcome): boolean => (errorNames as readonly string[]).includes(o.result)

/**
 * The words of the caller's IPC buffer, which a failed invocation may change besides its registers
 * (the event's stores, the kernel's error reply): as the kernel reaches it (its buffer cap) and as
 * the user does (its VSpace at its buffer address, a page at a time). Frame -> word indices.
 */
const callerBufferWords = (s: KernelState, t: PPtr): Map<PPtr, Set<number>> => {
  const out = new Map<PPtr, Set<number>>()
  const add = (frame: PPtr, word: number, n: number) => {
    let ws = out.get(frame)
    if (ws === undefined) out.set(frame, ws = new Set())
    for (let i = 0; i < n; i++) ws.add(word + i)
  }
  const kernel = lookupIPCBuffer(s, false, t)
  if (kernel !== null) add(kernel.frame, kernel.word, ipcBufferWords)
  const root = userVSpaceRoot(s, t)
  const buffer = getTcb(s, t).tcbIPCBuffer
  for (let i = 0; i < ipcBufferWords;) {
    const vaddr = (buffer + 4 * i) >>> 0
    // The words from here to the end of this 4 KiB page (or of the buffer).
    const n = Math.min(ipcBufferWords - i, (0x1000 - (vaddr & 0xfff)) >>> 2)
    const tr = translate(s, root, vaddr, "Write")
    if (tr.ok) add(tr.frame, tr.word, n)
    i += n
  }
  return out
}

/** Frame `o` with the words at `words` taken from `from` instead. */
const withWordsFrom = (o: Frame, from: Frame, words: ReadonlySet<number>): Frame => {
  const m = new Map(o.words)
  for (const i of words) {
    const w = from.words.get(i)
    if (w === undefined) m.delete(i)
    else m.set(i, w)
  }
  return { ...o, words: m }
}

/** `post` with the caller's registers and IPC-buffer words put back as in `pre`: equal to `pre` when only those changed. */
export const withoutCallerRegisters = (pre: KernelState, post: KernelState): KernelState => {
  const a = pre.kheap.get(pre.curThread)
  const b = post.kheap.get(pre.curThread)
  if (a?.tag !== "TCB" || b?.tag !== "TCB") return post
  const kheap = new Map(post.kheap).set(pre.curThread, { ...b, tcbContext: a.tcbContext })
  for (const [p, words] of callerBufferWords(pre, pre.curThread)) {
    const fa = pre.kheap.get(p)
    const fb = post.kheap.get(p)
    if (fa?.tag === "Frame" && fb?.tag === "Frame") kheap.set(p, withWordsFrom(fb, fa, words))
  }
  return { ...post, kheap }
}

/**
 * For a failed invocation: did the step change nothing but the caller's registers (and IPC-buffer
 * words)? The same question full checking asks of the whole states, asked of the step's delta:
 * every changed slot and object equal before and after, except the caller's TCB context and
 * buffer words; every global equal.
 */
export const onlyCallerRegistersChanged = (pre: KernelState, post: KernelState, d: StateDelta): boolean => {
  for (const sl of d.slots) {
    if (!deepEqual(pre.caps.get(sl), post.caps.get(sl)) || pre.cdt.get(sl) !== post.cdt.get(sl) ||
      !deepEqual(pre.cdtList.get(sl), post.cdtList.get(sl)) || pre.isOriginal.has(sl) !== post.isOriginal.has(sl)) return false
  }
  let buffers: Map<PPtr, Set<number>> | undefined
  for (const p of d.objects) {
    const a = pre.kheap.get(p)
    const b = post.kheap.get(p)
    if (p === pre.curThread && a?.tag === "TCB" && b?.tag === "TCB") {
      if (!deepEqual({ ...a, tcbContext: null }, { ...b, tcbContext: null })) return false
    } else if (a?.tag === "Frame" && b?.tag === "Frame") {
      buffers ??= callerBufferWords(pre, pre.curThread)
      const words = buffers.get(p)
      if (!deepEqual(a, words === undefined ? b : withWordsFrom(b, a, words))) return false
    } else if (!deepEqual(a, b)) return false
  }
  for (const key of globalKeys) if (!deepEqual(pre[key], post[key])) return false
  return true
}
const globalKeys = [
  "curThread", "idleThread", "schedulerAction", "readyQueues", "curDomain", "domainList", "domainIndex", "domainStartIndex", "domainTime",
  "irqStates", "irqMasks", "irqNode", "numIRQs", "numDomains", "workUnitsCompleted", "workUnitsLimit", "resetChunkBits", "irqPending",
] as const satisfies readonly (keyof KernelState)[]

/** The error V8 raises when a watchdog (`vm` timeout) stops a run: never caught as a layer's throw. */
const isWatchdog = (e: unknown): boolean => (e as { code?: unknown } | null)?.code === "ERR_SCRIPT_EXECUTION_TIMEOUT"

const thrown = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e))

/**
 * The spec and an implementation side by side, one kernel entry at a time.
 *
 * Full checking (the default) compares the whole abstract impl state with the spec state and runs
 * every invariant after every step, and deep-freezes spec states so a spec function that mutates
 * its input throws. Incremental checking (`fullEvery` > 0; campaigns use it) compares only what the
 * spec's step changed, runs the incremental forms of the invariants checked after every step, and
 * does the full check (the whole relation, compared in place; the impl checks; the other
 * invariants' forms on the change since the last full check) every `fullEvery` steps (more in a
 * large state: `fullPeriod`) and at `finish()`. What the per-step check cannot see (a stray impl write
 * outside the delta) the next full check sees; on any failure or doubt the events so far are
 * replayed with full checking, so the failure reported, and its step, are exactly full
 * checking's. Purity under incremental checking: the state of each full check is fingerprinted,
 * and the next full check fails if that state has changed since; a mutation of an object created
 * since is caught only by full checking.
 */
export class Lockstep<K> {
  private specState: KernelState
  private k!: K
  private readonly eventLog: Event[] = []
  private readonly outcomeLog: Outcome[] = []
  private stopped: Failure | null = null
  /** Per thread, the syscall a preemption stopped (seL4 restarts it; kspec's trace must). */
  private readonly restarts = new Restarts()
  private every: number
  private freeze: boolean
  private readonly checkInv: boolean
  /** The invariants checked after every step under incremental checking (see RunOptions.eachStep). */
  private readonly eachStep: InvariantSelection
  // Incremental checking only.
  private loc: SlotLocator | null = null
  /** The caps naming each object in the spec state, advanced by every step's delta (for the invariants' incremental forms). */
  private refs: CapRefIndex | null = null
  private kept: KernelState
  private keptPrint = 0
  private sinceFull = 0
  /** Steps until the next periodic full check: `every`, or more in a large state (see `fullPeriod`). */
  private period = 0
  /** What the run is doing now (read by the watchdog when it stops a run). */
  phase: Phase = "check"

  constructor(readonly implUnderTest: ImplUnderTest<K>, readonly config: BootConfig, private readonly opts: RunOptions = {}) {
    this.checkInv = opts.invariants ?? true
    this.eachStep = (opts.eachStep ?? defaultEachStep) === "all" ? "all" : "each-step"
    const every = opts.fullEvery ?? 0
    this.every = every > 0 && implUnderTest.abs === (absState as unknown) ? every : 0
    this.freeze = (opts.freeze ?? true) && this.every === 0
    this.specState = (implUnderTest.spec?.boot ?? boot)(config)
    this.kept = this.specState
    if (this.freeze) deepFreeze(this.specState)
    try { this.k = implUnderTest.boot(config) } catch (e) {
      this.stopped = { kind: "throw", step: 0, layer: "impl", message: String(e) }
      return
    }
    this.stopped = this.fullCheck(0)
    if (this.every > 0 && this.stopped === null) {
      this.loc = new SlotLocator(this.k as unknown as ImplState)
      this.refs = CapRefIndex.of(this.specState)
      this.keptPrint = fingerprint(this.specState)
      this.period = fullPeriod(this.every, this.specState)
    }
  }

  /** The spec's state after the steps so far. */
  get spec(): KernelState { return this.specState }
  /** The implementation's state (mutable: treat it as read-only). */
  get impl(): K { return this.k }
  /** The abstraction of the impl's state: equal to `spec` while the run is clean. */
  abs(): KernelState { return this.implUnderTest.abs(this.k) }
  /** The events stepped so far (after a failure: up to the failing one). */
  get events(): readonly Event[] { return this.eventLog }
  /** The outcome of each event stepped. */
  get outcomes(): readonly Outcome[] { return this.outcomeLog }
  /** The first failure, or null while the run is clean. */
  get failure(): Failure | null { return this.stopped }
  /**
   * The syscall thread `t` must run again, if a preemption stopped its last one: seL4 restarts it
   * (the thread's PC is still at the syscall); kspec has no instruction stream, so a generator
   * re-issues it (`resolveChoice`'s `restart`).
   */
  pendingRestart(t: PPtr): SyscallEvent | undefined { return this.restarts.of(t) }
  /** The most preemptions one syscall has met in a row in this run (the longest chain of restarts). */
  get maxRestartChain(): number { return this.restarts.maxChain }

  /** One kernel entry in both layers, then the check. After a failure it does nothing and returns the failure again. */
  step(ev: Event): StepResult {
    const thread = this.specState.curThread
    if (this.stopped !== null) return { event: ev, thread, outcome: undefined, failure: this.stopped }
    return this.every > 0 ? this.stepIncremental(ev, thread) : this.stepFull(ev, thread)
  }

  /** Resolve a generator choice against the spec state (see `resolveChoice`, with any pending restart) and step it. */
  stepChoice(c: Choice): StepResult {
    return this.step(resolveChoice(this.specState, c, this.pendingRestart(this.specState.curThread)))
  }

  /** Step each event in turn; stops at the first failure, which it returns (null if none). */
  run(events: Iterable<Event>): Failure | null {
    for (const ev of events) if (this.step(ev).failure !== null) break
    return this.finish()
  }

  /**
   * End of a trace: under incremental checking, the full check of whatever ran since the last
   * one (a no-op under full checking). Returns the run's failure, or null.
   */
  finish(): Failure | null {
    if (this.stopped === null && this.every > 0 && this.sinceFull > 0 && !this.periodicCheck()) this.replayFull()
    return this.stopped
  }

  /** The run so far as a plain result. */
  result(): RunResult {
    return { events: this.eventLog, outcomes: this.outcomeLog, failure: this.stopped, spec: this.specState }
  }

  private fullCheck(step: number): Failure | null {
    return sharingWalks(this.k as unknown as ImplState, () => this.fullCheckShared(step))
  }

  private fullCheckShared(step: number): Failure | null {
    const a = this.implUnderTest.abs(this.k)
    if (!statesEqual(this.specState, a)) return { kind: "divergence", step, diff: stateDiff(this.specState, a) }
    if (this.checkInv) {
      const v = [...checkAll(this.specState), ...(this.implUnderTest.implChecks?.(this.k) ?? [])]
      if (v.length > 0) return { kind: "invariant", step, violations: v }
    }
    return null
  }

  private stepBoth(ev: Event, step: number): { state: KernelState; outcome: Outcome } | Failure {
    let r: { state: KernelState; outcome: Outcome }
    this.phase = "spec"
    // The generator's look-ahead steps the real spec: a planted spec steps afresh.
    const spec = this.implUnderTest.spec
    try { r = spec === undefined ? simulatedStep(this.specState, ev) ?? stepWithOutcome(this.specState, ev) : spec.stepWithOutcome(this.specState, ev) } catch (e) {
      if (isWatchdog(e)) throw e
      return { kind: "throw", step, layer: "spec", message: thrown(e) }
    }
    this.phase = "impl"
    try { this.implUnderTest.step(this.k, ev) } catch (e) {
      if (isWatchdog(e)) throw e
      return { kind: "throw", step, layer: "impl", message: thrown(e) }
    }
    this.phase = "check"
    return r
  }

  private stepFull(ev: Event, thread: PPtr): StepResult {
    this.eventLog.push(ev)
    const step = this.eventLog.length
    const r = this.stepBoth(ev, step)
    if ("kind" in r) return this.stop(ev, thread, undefined, r)
    this.outcomeLog.push(r.outcome)
    const info = this.restarts.note(thread, ev, r.outcome)
    this.opts.onStep?.(r.outcome, ev, r.state, info)
    const pre = this.specState
    if (isErrorResult(r.outcome) && !deepEqual(pre, withoutCallerRegisters(pre, r.state))) {
      // A decode error must leave everything but the caller's registers (and IPC buffer) alone.
      this.specState = r.state
      return this.stop(ev, thread, r.outcome, { kind: "frame", step, diff: stateDiff(pre, withoutCallerRegisters(pre, r.state)) })
    }
    this.specState = this.freeze ? deepFreeze(r.state) : r.state
    const f = this.fullCheck(step)
    return f !== null ? this.stop(ev, thread, r.outcome, f) : { event: ev, thread, outcome: r.outcome, failure: null }
  }

  private stop(event: Event, thread: PPtr, outcome: Outcome | undefined, f: Failure): StepResult {
    this.stopped = f
    return { event, thread, outcome, failure: f }
  }

  /**
   * The periodic full check of incremental mode: purity of the kept state, the whole relation, the
   * impl checks, the invariants left to this check (`checkedPerPeriod`) on everything changed since
   * the kept state, and any invariant that has no incremental form. None is run in full: the
   * step-by-step ones have been checked on every step's change since the state that last passed (and
   * `step`, when given, is the step this check ends, whose change is checked here), the others on
   * the change since then, and the purity check shows no state was changed behind the deltas' back.
   */
  private periodicCheck(step?: { readonly prev: KernelState; readonly delta: StateDelta }): boolean {
    if (fingerprint(this.kept) !== this.keptPrint) return false
    const ks = this.k as unknown as ImplState
    if (!sharingWalks(ks, () => this.periodicChecks(ks, step))) return false
    this.kept = this.specState
    this.keptPrint = fingerprint(this.specState)
    this.sinceFull = 0
    this.period = fullPeriod(this.every, this.specState)
    return true
  }

  /** periodicCheck's checks of the impl against the spec, and of both states' invariants. */
  private periodicChecks(ks: ImplState, step?: { readonly prev: KernelState; readonly delta: StateDelta }): boolean {
    // In place first; the abstraction has the last word when that comparison cannot tell.
    if (!agreesInFull(ks, this.specState) && !statesEqual(this.specState, absState(ks))) return false
    this.loc!.rebuild(ks)
    if (this.checkInv) {
      const s = this.specState
      if (step !== undefined && checkChanged(s, step.prev, step.delta, this.eachStep).length > 0) return false
      // The invariants left to this check, on everything changed since the last one (which passed).
      if (this.eachStep !== "all" && checkChanged(s, this.kept, stateDelta(this.kept, s, this.refs!), "per-period").length > 0) return false
      if (checkPeriodic(s).length > 0 || (this.implUnderTest.implChecks?.(this.k).length ?? 0) > 0) return false
    }
    return true
  }

  private stepIncremental(ev: Event, thread: PPtr): StepResult {
    this.eventLog.push(ev)
    const r = this.stepBoth(ev, this.eventLog.length)
    if ("kind" in r) return this.replayFull(thread)
    this.outcomeLog.push(r.outcome)
    const info = this.restarts.note(thread, ev, r.outcome)
    this.opts.onStep?.(r.outcome, ev, r.state, info)
    const prev = this.specState
    this.specState = r.state
    const d = stateDelta(prev, r.state, this.refs!)
    this.refs!.advance(prev, r.state, d)
    const ok = (!isErrorResult(r.outcome) || onlyCallerRegistersChanged(prev, r.state, d)) && this.checkDelta(prev, d)
    return ok ? { event: ev, thread, outcome: r.outcome, failure: null } : this.replayFull(thread)
  }

  /** The per-step check of incremental mode (with the periodic full check when due). */
  private checkDelta(prev: KernelState, d: StateDelta): boolean {
    const ks = this.k as unknown as ImplState
    this.loc!.noteObjects(ks, d.objects)
    if (++this.sinceFull >= this.period) return this.periodicCheck({ prev, delta: d })
    if (!agreesOn(ks, this.specState, d, this.loc!, prev)) return false
    return !this.checkInv || checkChanged(this.specState, prev, d, this.eachStep).length === 0
  }

  /**
   * Replay the events so far with full checking after every step and take over its state: the
   * failure it finds is the run's (its events end at the failing step); if it finds none (a false
   * alarm, such as MDB links too broken to read locally), the run goes on under full checking.
   * Steps already reported to onStep are not reported again.
   */
  private replayFull(thread: PPtr = this.specState.curThread): StepResult {
    runnerStats.replays++
    const { onStep: _s, fullEvery: _f, ...rest } = this.opts
    const full = new Lockstep(this.implUnderTest, this.config, { ...rest, fullEvery: 0 })
    const events = this.eventLog.splice(0)
    this.outcomeLog.length = 0
    let last: StepResult | undefined
    for (const e of events) {
      last = full.step(e)
      if (last.failure !== null) break
    }
    this.eventLog.push(...full.eventLog)
    this.outcomeLog.push(...full.outcomeLog)
    this.specState = full.specState
    this.k = full.k
    this.restarts.copyFrom(full.restarts)
    this.stopped = full.stopped
    this.every = 0
    this.freeze = full.freeze
    return last === undefined || last.failure === null ? { ...last!, thread } : last
  }
}

/**
 * A stepwise lockstep run against the spec, from `config` (default: the default boot
 * configuration): of the real impl unless `opts.impl` names another (a mutant, say). Full
 * checking after every step unless `opts.fullEvery` says otherwise.
 */
export function lockstep(config?: BootConfig, opts?: RunOptions): Lockstep<Kernel>
export function lockstep<K>(config: BootConfig, opts: RunOptions & { readonly impl: ImplUnderTest<K> }): Lockstep<K>
export function lockstep<K>(config: BootConfig = defaultBootConfig, opts: RunOptions & { readonly impl?: ImplUnderTest<K> } = {}): Lockstep<K> {
  const { impl, ...rest } = opts
  return new Lockstep(impl ?? (realImpl as unknown as ImplUnderTest<K>), config, rest)
}

/**
 * Run one trace in lockstep. `next(spec, i, restart)` gives event i for the current spec state (or
 * `undefined` to stop), `restart` being the syscall the current thread must run again after a
 * preemption, if any: choices resolve against the state, recorded events replay as they are.
 */
export const runLockstep = <K>(
  impl: ImplUnderTest<K>, config: BootConfig, next: (s: KernelState, i: number, restart: SyscallEvent | undefined) => Event | undefined,
  opts: RunOptions = {},
): RunResult => {
  const l = new Lockstep(impl, config, opts)
  const run = (): void => {
    for (let i = 0; l.failure === null; i++) {
      l.phase = "generator"
      const ev = next(l.spec, i, l.pendingRestart(l.spec.curThread))
      if (ev === undefined) break
      l.step(ev)
    }
    l.phase = "check"
    l.finish()
  }
  if (opts.deadlineMs === undefined) {
    run()
    return l.result()
  }
  try {
    watchdogContext.run = run
    try {
      watchdogScript.runInContext(watchdogContext, { timeout: opts.deadlineMs })
    } finally {
      watchdogContext.run = null
    }
  } catch (e) {
    if (!isWatchdog(e)) throw e
    const step = l.phase === "generator" ? l.events.length + 1 : l.events.length
    return { ...l.result(), failure: { kind: "nontermination", step, phase: l.phase, ms: opts.deadlineMs }, maxRestartChain: l.maxRestartChain }
  }
  return { ...l.result(), maxRestartChain: l.maxRestartChain }
}

/** One context and one compiled script for every watched run (a fresh context per trace cost a tenth of a campaign). */
const watchdogContext = vm.createContext({ run: null }) as { run: (() => unknown) | null }
const watchdogScript = new vm.Script("run()")

/** Run a trace of choices, each resolved against the spec state before it. */
export const runChoices = <K>(impl: ImplUnderTest<K>, config: BootConfig, choices: readonly Choice[], opts?: RunOptions): RunResult =>
  runLockstep(impl, config, (s, i, restart) => (i < choices.length ? resolveChoice(s, choices[i]!, restart) : undefined), opts)

/** Replay recorded events. */
export const runEvents = <K>(impl: ImplUnderTest<K>, config: BootConfig, events: readonly Event[], opts?: RunOptions): RunResult =>
  runLockstep(impl, config, (_s, i) => events[i], opts)
