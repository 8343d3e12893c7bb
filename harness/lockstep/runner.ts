/**
 * The lockstep refinement runner: boot the spec and the impl from one configuration, feed both
 * the same events, and after every step check that the abstraction of the impl state equals
 * the spec state, that every invariant holds, that neither layer threw, and that a failed
 * invocation changed nothing but the caller's registers. The first failure stops the run.
 */
import type { BootConfig, Event } from "../../model/index.ts"
import { errorNames } from "../../model/index.ts"
import type { KernelState, Outcome } from "../../spec/index.ts"
import { boot, stepWithOutcome } from "../../spec/index.ts"
import type { Violation } from "../../spec/invariants/index.ts"
import { checkAll, checkChanged, stateDelta } from "../../spec/invariants/index.ts"
import type { StateDelta } from "../../spec/invariants/delta.ts"
import type { ImplState } from "../../impl/index.ts"
import { absState } from "../relation/abstract.ts"
import { SlotLocator, agreesOn } from "../relation/incremental.ts"
import type { Choice } from "../gen/choices.ts"
import { resolveChoice, simulatedStep } from "../gen/choices.ts"
import { deepEqual, fingerprint, stateDiff, statesEqual } from "./diff.ts"
import { deepFreeze } from "./freeze.ts"

/** What the runner needs of an implementation: boot it, step it, and abstract its state. */
export interface ImplUnderTest<K> {
  readonly boot: (config: BootConfig) => K
  readonly step: (k: K, ev: Event) => void
  readonly abs: (k: K) => KernelState
  /** Implementation-only invariants (list links, bitmaps); violations as messages. */
  readonly implChecks?: (k: K) => readonly Violation[]
}

export type Failure =
  | { readonly kind: "divergence"; readonly step: number; readonly diff: readonly string[] }
  | { readonly kind: "invariant"; readonly step: number; readonly violations: readonly Violation[] }
  | { readonly kind: "frame"; readonly step: number; readonly diff: readonly string[] }
  | { readonly kind: "throw"; readonly step: number; readonly layer: "spec" | "impl"; readonly message: string }

export interface RunOptions {
  /** Check every invariant after every step (default true). */
  readonly invariants?: boolean
  /**
   * Deep-freeze spec states, so a mutating spec function throws (default true). Incremental
   * checking does not freeze; it fingerprints the state of each full check instead (see runIncremental).
   */
  readonly freeze?: boolean
  /** Called after each step with what it did. */
  readonly onStep?: (outcome: Outcome, ev: Event) => void
  /**
   * Incremental checking: after each step compare only what the spec's step changed (and the
   * globals) and run the invariants' incremental forms; run the full relation, every invariant and
   * the impl checks every `fullEvery` steps and at the end of the trace. On any failure the trace
   * is replayed with full checking after every step, so the failure reported is the one full
   * checking reports. 0 or undefined: full checking every step.
   * Applies to impls abstracted by the relation's `absState`.
   */
  readonly fullEvery?: number
}

/** Counters for tests and benchmarks: traces that incremental checking replayed with full checking. */
export const runnerStats = { replays: 0 }

/** The default period of the full check under incremental checking (campaigns); KSPEC_FULL_EVERY overrides it (0: full every step). */
export const defaultFullEvery = Number(process.env.KSPEC_FULL_EVERY ?? 32)

export interface RunResult {
  readonly events: readonly Event[]
  readonly outcomes: readonly Outcome[]
  readonly failure: Failure | null
  readonly spec: KernelState
}

const describeFailure = (f: Failure): string => {
  switch (f.kind) {
    case "divergence": return `step ${f.step}: impl diverges from spec:\n  ${f.diff.join("\n  ")}`
    case "invariant": return `step ${f.step}: invariant broken:\n  ${f.violations.slice(0, 8).map((v) => `${v.invariant}: ${v.message}`).join("\n  ")}`
    case "frame": return `step ${f.step}: a failed invocation changed more than the caller's registers:\n  ${f.diff.join("\n  ")}`
    case "throw": return `step ${f.step}: the ${f.layer} threw: ${f.message}`
  }
}
export { describeFailure }

/** Did the invocation fail with a syscall error (not a fault, a block, a delivery or any other outcome)? */
const isErrorResult = (o: Outcome): boolean => (errorNames as readonly string[]).includes(o.result)

/** `post` with the caller's registers put back as in `pre`: equal to `pre` when only registers changed. */
const withoutCallerRegisters = (pre: KernelState, post: KernelState): KernelState => {
  const a = pre.kheap.get(pre.curThread)
  const b = post.kheap.get(pre.curThread)
  if (a?.tag !== "TCB" || b?.tag !== "TCB") return post
  return { ...post, kheap: new Map(post.kheap).set(pre.curThread, { ...b, tcbContext: a.tcbContext }) }
}

/**
 * Run one trace in lockstep. `next(spec, i)` gives event i for the current spec state (or
 * `undefined` to stop): choices resolve against the state, recorded events replay as they are.
 */
export const runLockstep = <K>(
  impl: ImplUnderTest<K>, config: BootConfig, next: (s: KernelState, i: number) => Event | undefined, opts: RunOptions = {},
): RunResult => {
  const checkInv = opts.invariants ?? true
  const every = opts.fullEvery ?? 0
  const incremental = every > 0 && impl.abs === (absState as unknown)
  const freeze = (opts.freeze ?? true) && !incremental
  const events: Event[] = []
  const outcomes: Outcome[] = []
  let spec = boot(config)
  if (freeze) deepFreeze(spec)
  let k: K
  try { k = impl.boot(config) } catch (e) {
    return { events, outcomes, spec, failure: { kind: "throw", step: 0, layer: "impl", message: String(e) } }
  }
  const done = (failure: Failure | null): RunResult => ({ events, outcomes, failure, spec })
  const check = (step: number): Failure | null => {
    const a = impl.abs(k)
    if (!statesEqual(spec, a)) return { kind: "divergence", step, diff: stateDiff(spec, a) }
    if (checkInv) {
      const v = [...checkAll(spec), ...(impl.implChecks?.(k) ?? [])]
      if (v.length > 0) return { kind: "invariant", step, violations: v }
    }
    return null
  }
  const f0 = check(0)
  if (f0) return done(f0)
  if (incremental) {
    return runIncremental(impl, config, next, opts, every, spec, k, events, outcomes)
  }
  for (let i = 0; ; i++) {
    const ev = next(spec, i)
    if (ev === undefined) return done(null)
    events.push(ev)
    const step = i + 1
    let r: { state: KernelState; outcome: Outcome }
    try { r = simulatedStep(spec, ev) ?? stepWithOutcome(spec, ev) } catch (e) {
      return done({ kind: "throw", step, layer: "spec", message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) })
    }
    try { impl.step(k, ev) } catch (e) {
      return done({ kind: "throw", step, layer: "impl", message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) })
    }
    outcomes.push(r.outcome)
    opts.onStep?.(r.outcome, ev)
    if (isErrorResult(r.outcome) && !deepEqual(spec, withoutCallerRegisters(spec, r.state))) {
      // A decode error must leave everything but the caller's registers alone.
      const pre = spec
      spec = r.state
      return done({ kind: "frame", step, diff: stateDiff(pre, withoutCallerRegisters(pre, r.state)) })
    }
    spec = freeze ? deepFreeze(r.state) : r.state
    const f = check(step)
    if (f) return done(f)
  }
}

/**
 * For a failed invocation: did the step change nothing but the caller's registers? The same
 * question full checking asks of the whole states, asked of the step's delta: every changed slot
 * and object equal before and after, except the caller's TCB context; every global equal.
 */
const onlyCallerRegistersChanged = (pre: KernelState, post: KernelState, d: StateDelta): boolean => {
  for (const sl of d.slots) {
    if (!deepEqual(pre.caps.get(sl), post.caps.get(sl)) || pre.cdt.get(sl) !== post.cdt.get(sl) ||
      !deepEqual(pre.cdtList.get(sl), post.cdtList.get(sl)) || pre.isOriginal.has(sl) !== post.isOriginal.has(sl)) return false
  }
  for (const p of d.objects) {
    const a = pre.kheap.get(p)
    const b = post.kheap.get(p)
    if (p === pre.curThread && a?.tag === "TCB" && b?.tag === "TCB") {
      if (!deepEqual({ ...a, tcbContext: null }, { ...b, tcbContext: null })) return false
    } else if (!deepEqual(a, b)) return false
  }
  for (const key of globalKeys) if (!deepEqual(pre[key], post[key])) return false
  return true
}
const globalKeys = [
  "curThread", "idleThread", "schedulerAction", "readyQueues", "curDomain", "irqStates", "irqMasks", "irqNode", "numIRQs", "numDomains",
] as const satisfies readonly (keyof KernelState)[]

/**
 * The incremental loop (see `RunOptions.fullEvery`). After each step: the spec's delta (by shared
 * structure), the relation on the delta's keys and the globals (`agreesOn`), the incremental
 * invariants on the delta. Every `every` steps and at the end: the full relation, every invariant,
 * the impl checks, and the purity check. Whatever the per-step check cannot see (a stray impl
 * write outside the delta, a periodic invariant) the next full check sees; any failure is replayed
 * with full checking, so the step and the report are exactly full checking's.
 *
 * Purity: full checking deep-freezes every spec state; freezing costs as much as the spec step
 * and slows the spec (frozen and fresh objects make its property accesses polymorphic), so here
 * the state of each full check is fingerprinted instead, and the next full check fails if that
 * state has changed since. That catches a spec function mutating anything the state of the last
 * full check holds (later states share most of it); a mutation of an object created since is
 * caught only by full checking, which the suite's lockstep tests use.
 */
const runIncremental = <K>(
  impl: ImplUnderTest<K>, config: BootConfig, next: (s: KernelState, i: number) => Event | undefined, opts: RunOptions,
  every: number, spec0: KernelState, k: K, events: Event[], outcomes: Outcome[],
): RunResult => {
  const checkInv = opts.invariants ?? true
  const ks = k as unknown as ImplState
  let spec = spec0
  const loc = new SlotLocator(ks)
  let kept = spec
  let keptPrint = fingerprint(spec)
  // Replay what ran with full checking, then go on with the trace (a false alarm, such as MDB
  // links too broken to read locally, must not cut the trace short); steps already reported to
  // onStep are not reported again.
  const replay = (): RunResult => {
    runnerStats.replays++
    const { onStep, fullEvery: _f, ...rest } = opts
    const ran = events.length
    let n = 0
    return runLockstep(impl, config, (s, i) => (i < ran ? events[i] : next(s, i)), {
      ...rest, fullEvery: 0, ...(onStep !== undefined ? { onStep: (o: Outcome, e: Event) => { if (++n > ran) onStep(o, e) } } : {}),
    })
  }
  const fullCheck = (): boolean => {
    if (fingerprint(kept) !== keptPrint) return false
    if (!statesEqual(spec, absState(ks))) return false
    loc.rebuild(ks)
    if (checkInv && (checkAll(spec).length > 0 || (impl.implChecks?.(k).length ?? 0) > 0)) return false
    kept = spec
    keptPrint = fingerprint(spec)
    return true
  }
  let sinceFull = 0
  for (let i = 0; ; i++) {
    const ev = next(spec, i)
    if (ev === undefined) {
      if (sinceFull > 0 && !fullCheck()) return replay()
      return { events, outcomes, failure: null, spec }
    }
    events.push(ev)
    let r: { state: KernelState; outcome: Outcome }
    try { r = simulatedStep(spec, ev) ?? stepWithOutcome(spec, ev) } catch { return replay() }
    try { impl.step(k, ev) } catch { return replay() }
    outcomes.push(r.outcome)
    opts.onStep?.(r.outcome, ev)
    const prev = spec
    spec = r.state
    const d = stateDelta(prev, spec)
    if (isErrorResult(r.outcome) && !onlyCallerRegistersChanged(prev, spec, d)) return replay()
    loc.noteObjects(ks, d.objects)
    sinceFull++
    if (sinceFull >= every) {
      sinceFull = 0
      if (!fullCheck()) return replay()
      continue
    }
    if (!agreesOn(ks, spec, d, loc)) return replay()
    if (checkInv && checkChanged(spec, prev, d).length > 0) return replay()
  }
}

/** Run a trace of choices, each resolved against the spec state before it. */
export const runChoices = <K>(impl: ImplUnderTest<K>, config: BootConfig, choices: readonly Choice[], opts?: RunOptions): RunResult =>
  runLockstep(impl, config, (s, i) => (i < choices.length ? resolveChoice(s, choices[i]!) : undefined), opts)

/** Replay recorded events. */
export const runEvents = <K>(impl: ImplUnderTest<K>, config: BootConfig, events: readonly Event[], opts?: RunOptions): RunResult =>
  runLockstep(impl, config, (_s, i) => events[i], opts)
