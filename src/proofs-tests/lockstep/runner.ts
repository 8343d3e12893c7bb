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
import type { ImplState } from "../../impl/index.ts"
import { absGlobals, absState } from "../relation/abstract.ts"
import { IncrementalAbs } from "../relation/incremental.ts"
import type { Choice } from "../gen/choices.ts"
import { resolveChoice } from "../gen/choices.ts"
import { deepEqual, stateDiff, statesEqual } from "./diff.ts"
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
  /** Deep-freeze spec states, so a mutating spec function throws (default true). */
  readonly freeze?: boolean
  /** Called after each step with what it did. */
  readonly onStep?: (outcome: Outcome, ev: Event) => void
  /**
   * Incremental checking: after each step compare only what the step changed (spec side by
   * reference, impl side by an exact scan) and run the invariants' incremental forms; run the full
   * relation, every invariant and the impl checks every `fullEvery` steps and at the end of the
   * trace. On any failure the trace is replayed with full checking after every step, so the
   * failure reported is the one full checking reports. 0 or undefined: full checking every step.
   * Applies to impls abstracted by the relation's `absState`.
   */
  readonly fullEvery?: number
}

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
  const freeze = opts.freeze ?? true
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
  const every = opts.fullEvery ?? 0
  if (every > 0 && impl.abs === (absState as unknown)) {
    return runIncremental(impl, config, next, opts, every, spec, k, events, outcomes)
  }
  for (let i = 0; ; i++) {
    const ev = next(spec, i)
    if (ev === undefined) return done(null)
    events.push(ev)
    const step = i + 1
    let r: { state: KernelState; outcome: Outcome }
    try { r = stepWithOutcome(spec, ev) } catch (e) {
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

/** Compare the cached impl image with the spec on the keys either side changed, and the globals. */
const changedAgree = (inc: IncrementalAbs, k: ImplState, spec: KernelState, objects: Iterable<number>, slots: Iterable<number>): boolean => {
  for (const p of objects) if (!deepEqual(inc.kheap.get(p), spec.kheap.get(p))) return false
  for (const sl of slots) {
    if (!deepEqual(inc.caps.get(sl), spec.caps.get(sl)) || inc.isOriginal.has(sl) !== spec.isOriginal.has(sl) ||
      inc.cdt.get(sl) !== spec.cdt.get(sl) || !deepEqual(inc.cdtList.get(sl), spec.cdtList.get(sl))) return false
  }
  const g = absGlobals(k)
  for (const key of Object.keys(g) as (keyof typeof g)[]) if (!deepEqual(g[key], (spec as unknown as typeof g)[key])) return false
  return true
}

/**
 * The incremental loop (see `RunOptions.fullEvery`). Soundness: the relation holds at step i-1
 * (checked), the cached image equals absState(impl) (IncrementalAbs), the spec changed only at the
 * keys of `stateDelta` and the image only at the keys of its update; so equality on those keys and
 * the globals is equality of the whole states. Incremental invariants are sound given the previous
 * state satisfied them; periodic ones and the impl checks run every `every` steps and at the end.
 */
const runIncremental = <K>(
  impl: ImplUnderTest<K>, config: BootConfig, next: (s: KernelState, i: number) => Event | undefined, opts: RunOptions,
  every: number, spec0: KernelState, k: K, events: Event[], outcomes: Outcome[],
): RunResult => {
  const checkInv = opts.invariants ?? true
  const freeze = opts.freeze ?? true
  const ks = k as unknown as ImplState
  let spec = spec0
  const inc = new IncrementalAbs(ks)
  const replay = (): RunResult => {
    const { onStep: _o, fullEvery: _f, ...rest } = opts
    return runLockstep(impl, config, (_s, i) => events[i], { ...rest, fullEvery: 0 })
  }
  const fullCheck = (): boolean => {
    const a = absState(ks)
    if (!statesEqual(spec, a)) return false
    inc.rebuild(ks, a)
    if (checkInv && (checkAll(spec).length > 0 || (impl.implChecks?.(k).length ?? 0) > 0)) return false
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
    try { r = stepWithOutcome(spec, ev) } catch { return replay() }
    try { impl.step(k, ev) } catch { return replay() }
    outcomes.push(r.outcome)
    opts.onStep?.(r.outcome, ev)
    if (isErrorResult(r.outcome) && !deepEqual(spec, withoutCallerRegisters(spec, r.state))) return replay()
    const prev = spec
    spec = freeze ? deepFreeze(r.state) : r.state
    sinceFull++
    if (sinceFull >= every) {
      sinceFull = 0
      if (!fullCheck()) return replay()
      continue
    }
    const d = stateDelta(prev, spec)
    const a = inc.update(ks)
    const ok = a.all ? statesEqual(spec, inc.asState(ks)) : changedAgree(inc, ks, spec, [...d.objects, ...a.objects], [...d.slots, ...a.slots])
    if (!ok) return replay()
    if (checkInv && checkChanged(spec, prev, d).length > 0) return replay()
  }
}

/** Run a trace of choices, each resolved against the spec state before it. */
export const runChoices = <K>(impl: ImplUnderTest<K>, config: BootConfig, choices: readonly Choice[], opts?: RunOptions): RunResult =>
  runLockstep(impl, config, (s, i) => (i < choices.length ? resolveChoice(s, choices[i]!) : undefined), opts)

/** Replay recorded events. */
export const runEvents = <K>(impl: ImplUnderTest<K>, config: BootConfig, events: readonly Event[], opts?: RunOptions): RunResult =>
  runLockstep(impl, config, (_s, i) => events[i], opts)
