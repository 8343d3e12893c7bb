/**
 * The security campaign: random traces from a labelled system's set-up, run in lockstep (the impl
 * refines the spec and every invariant holds, as in every kspec campaign), with the three security
 * checks after every step, on the spec's state and on the abstraction of the impl's state (l4v's
 * argument: the impl refines the spec, so what holds of the spec holds of the impl; running the
 * checks on both shows it in the same campaign):
 *
 * - `pas_refined` (authority confinement) of the state after the step;
 * - `integrity` of the step, against the authority of the label that ran it;
 * - `nonleakage` of the step: for every partition L not affected by the label that ran it, a
 *   second state that differs only in what L may not read (the trace's pair edits) takes the
 *   same step, and L's views after it must agree. On the impl, every `implLeakEvery`-th step: the
 *   pair is made by replaying the trace into a fresh impl and editing it.
 *
 * fast-check draws the traces (`traceArb`) and the pair's edits together and shrinks both, so a
 * failure comes back as a short trace and a small pair.
 * @category security
 */
import fc from "fast-check"
import type { Cap, Event } from "../../model/index.ts"
import type { KernelState } from "../../spec/index.ts"
import { stepWithOutcome } from "../../spec/index.ts"
import type { ImplState } from "../../impl/index.ts"
import type { Choice, Op } from "../gen/choices.ts"
import { traceArb, weightsFor } from "../gen/choices.ts"
import { focusRows, focusWeights } from "../gen/focus.ts"
import { realImpl } from "../lockstep/impls.ts"
import type { ImplUnderTest } from "../lockstep/runner.ts"
import { Lockstep, defaultFullEvery, describeFailure } from "../lockstep/runner.ts"
import { statesEqual, stateDiff } from "../lockstep/diff.ts"
import type { ConfinementViolation } from "./confinement.ts"
import { checkConfinement, checkConfinementStep } from "./confinement.ts"
import type { IntegrityContext, IntegrityViolation } from "./integrity.ts"
import { checkIntegrity } from "./integrity.ts"
import { applyEditsImpl } from "./implEdits.ts"
import { resolveSecurityChoice } from "./probe.ts"
import type { EditChoice, LeakReport } from "./nonleakage.ts"
import { applyEdits, editChoicesArb, fixedLabels, resolveEdits, showEdit, stateDifference, viewDiff } from "./nonleakage.ts"
import type { Label } from "./policy.ts"
import { subjectReads } from "./policy.ts"
import type { LabelledSystem } from "./system.ts"
import { subjectOf } from "./system.ts"

/** The three checks, by their l4v names. */
export const securityChecks = ["pas_refined", "integrity", "nonleakage"] as const
export type SecurityCheck = (typeof securityChecks)[number]

/** What one check did: steps checked and time spent, on the spec and on the impl's abstraction. */
export interface CheckStats {
  steps: number
  ms: number
  implSteps: number
  implMs: number
  /** Nonleakage: pairs (observer x step with at least one edit) checked. */
  pairs: number
  implPairs: number
}

export interface SecurityStats {
  traces: number
  steps: number
  readonly checks: Record<SecurityCheck, CheckStats>
}

export const newStats = (): SecurityStats => ({
  traces: 0, steps: 0,
  checks: Object.fromEntries(securityChecks.map((c) => [c, { steps: 0, ms: 0, implSteps: 0, implMs: 0, pairs: 0, implPairs: 0 }])) as Record<SecurityCheck, CheckStats>,
})

/** Add `b`'s counts to `a`. */
export const addStats = (a: SecurityStats, b: SecurityStats): void => {
  a.traces += b.traces
  a.steps += b.steps
  for (const c of securityChecks) for (const k of Object.keys(a.checks[c]) as (keyof CheckStats)[]) a.checks[c][k] += b.checks[c][k]
}

/** Why a security trace stopped. */
export type SecurityFailure = {
  /** The events of the trace, set-up included. */
  readonly events: readonly Event[]
  /** How many of them are the root task's set-up. */
  readonly setupLength: number
  /** The step (1-based, after set-up) that failed. */
  readonly step: number
  readonly description: string
} & (
  | { readonly check: "lockstep" }
  | { readonly check: "pas_refined"; readonly layer: "spec" | "impl"; readonly violations: readonly ConfinementViolation[] }
  | { readonly check: "integrity"; readonly layer: "spec" | "impl"; readonly subject: Label; readonly violations: readonly IntegrityViolation[] }
  | { readonly check: "nonleakage"; readonly layer: "spec" | "impl"; readonly leak: LeakReport }
)

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

export interface TraceOptions {
  /** The checks to run (default: all three). */
  readonly checks?: ReadonlySet<SecurityCheck>
  /** Run the checks on the impl's abstraction too (default true). */
  readonly impl?: boolean
  /** Check the impl's abstraction (pas_refined, integrity) every this many steps (default 4). */
  readonly implEvery?: number
  /** Check the impl's nonleakage every this many steps (default 16; 0: never); a multiple of implEvery. */
  readonly implLeakEvery?: number
  /** Counters to add to. */
  readonly stats?: SecurityStats
  /** Called after each step with the spec state after it. */
  readonly onStep?: (spec: KernelState) => void
}

/** What one security trace did. */
export interface SecurityRun {
  readonly events: readonly Event[]
  readonly failure: SecurityFailure | null
  /** The spec state at the end (or at the failure). */
  readonly final: KernelState
}



/** Per system: each partition's readable labels, and the fixed labels of each (observer, subject) pair. */
const flowCache = new WeakMap<LabelledSystem, { reads: Map<Label, Set<Label>>; fixed: Map<string, Set<Label>> }>()
const flowOf = (sys: LabelledSystem) => {
  let f = flowCache.get(sys)
  if (f === undefined) {
    f = { reads: new Map(sys.partitions.map((l) => [l, subjectReads(sys.policy, l)])), fixed: new Map() }
    flowCache.set(sys, f)
  }
  return f
}
const fixedFor = (sys: LabelledSystem, l: Label, u: Label): Set<Label> => {
  const f = flowOf(sys)
  const k = `${l}\u0000${u}`
  let s = f.fixed.get(k)
  if (s === undefined) { s = fixedLabels(sys, l, u); f.fixed.set(k, s) }
  return s
}

/** Does `cap` name an object of a label other than `u`? */
const crossesLabel = (sys: LabelledSystem, u: Label, cap: Cap): boolean => {
  const p = cap.tag === "ReplyCap" ? cap.tcb : "ptr" in cap ? cap.ptr : undefined
  return p !== undefined && sys.labels.object(p) !== u
}

/** The domains whose ready queues the scheduler itself reordered: the new one, when the step moved on the domain schedule. */
const schedulerDomains = (pre: KernelState, post: KernelState): Set<number> =>
  pre.domainIndex !== post.domainIndex || post.domainTime > pre.domainTime ? new Set([post.curDomain]) : new Set()

const describeConfinement = (vs: readonly ConfinementViolation[]): string => vs.slice(0, 6).map((v) => `  ${v.rule}: ${v.message}`).join("\n")
const describeIntegrity = (vs: readonly IntegrityViolation[]): string =>
  vs.slice(0, 6).map((v) => `  ${v.class} of ${v.label}, ${v.where}: ${v.change}\n    not allowed: ${v.rule}`).join("\n")
const describeLeak = (k: LeakReport): string => [
  `  observer ${k.observer}, step run by ${k.subject}`,
  `  the pair differs only where ${k.observer} may not read:`,
  ...k.edits.map((e) => `    ${showEdit(e)}`),
  `  after the step, ${k.observer}'s views differ (first state | second state):`,
  ...k.postDiff.map((d) => `    ${d}`),
].join("\n")

/**
 * One trace: the system's set-up, then `choices` resolved against the state, each step checked in
 * lockstep and by the security checks. `edits` make the nonleakage pairs.
 */
export const runSecurityTrace = <K>(
  sys: LabelledSystem, impl: ImplUnderTest<K>, choices: readonly Choice[], edits: readonly EditChoice[], o: TraceOptions = {},
): SecurityRun => {
  const checks = o.checks ?? new Set(securityChecks)
  const onImpl = o.impl ?? true
  const implEvery = Math.max(1, o.implEvery ?? 4)
  const leakEvery = o.implLeakEvery ?? 16
  const stats = o.stats ?? newStats()
  const specStep = impl.spec?.stepWithOutcome ?? stepWithOutcome
  const l = new Lockstep(impl, sys.config, { fullEvery: defaultFullEvery })
  const setupLength = sys.setup.length
  const fail = (step: number, f: DistributiveOmit<SecurityFailure, "events" | "setupLength" | "step">): SecurityRun =>
    ({ events: l.events.slice(), failure: { events: l.events.slice(), setupLength, step, ...f } as SecurityFailure, final: l.spec })
  for (const ev of sys.setup) {
    const r = l.step(ev)
    if (r.failure !== null) return fail(0, { check: "lockstep", description: `during set-up: ${describeFailure(r.failure)}` })
  }
  const observers = sys.nonleakageSkipped === null && checks.has("nonleakage") ? sys.partitions : []
  const { reads } = flowOf(sys)
  const ctx: IntegrityContext = { labels: sys.labels, policy: sys.policy, exempt: sys.confinement.exemptThreads }
  /** Time `f` against `check` on `layer`, counting the step. */
  const timed = <V>(check: "pas_refined" | "integrity", layer: "spec" | "impl", f: () => V): V => {
    const t0 = performance.now()
    const v = f()
    const c = stats.checks[check]
    if (layer === "spec") { c.ms += performance.now() - t0; c.steps++ } else { c.implMs += performance.now() - t0; c.implSteps++ }
    return v
  }
  /** pas_refined (on the whole state, or on what the step changed) and integrity, on one layer's states around a step. */
  const checkStep = (layer: "spec" | "impl", step: number, u: Label, pre: KernelState, post: KernelState, whole: boolean): SecurityRun | null => {
    if (checks.has("pas_refined")) {
      const v = timed("pas_refined", layer, () => whole ? checkConfinement(post, sys.confinement) : checkConfinementStep(pre, post, sys.confinement))
      if (v.length > 0) return fail(step, { check: "pas_refined", layer, violations: v, description: `authority outside the policy after step ${step} (${layer}):\n${describeConfinement(v)}` })
    }
    if (checks.has("integrity")) {
      const v = timed("integrity", layer, () => checkIntegrity(pre, post, u, ctx, schedulerDomains(pre, post)))
      if (v.length > 0) return fail(step, { check: "integrity", layer, subject: u, violations: v, description: `step ${step}, run by ${u}, changed what it may not (${layer}):\n${describeIntegrity(v)}` })
    }
    return null
  }
  let pre = l.spec
  stats.traces++
  for (let i = 0; i < choices.length; i++) {
    const u = subjectOf(sys, pre)
    const ev = resolveSecurityChoice(pre, choices[i]!, (cap) => crossesLabel(sys, u, cap))
    // The impl's abstraction is checked on a sample of the steps: its state before and after them.
    const preAbs = onImpl && (i % implEvery === 0 || i === choices.length - 1) ? l.abs() : null
    const prefix = preAbs !== null && leakEvery > 0 && observers.length > 0 && i % leakEvery === 0 ? l.events.slice() : null
    const r = l.step(ev)
    const step = i + 1
    if (r.failure !== null) return fail(step, { check: "lockstep", description: describeFailure(r.failure) })
    const post = l.spec
    stats.steps++
    o.onStep?.(post)
    // pas_refined incremental (what the step changed) with a whole-state check every 16 steps and at the end.
    const specFailure = checkStep("spec", step, u, pre, post, step % 16 === 0 || step === choices.length)
    if (specFailure !== null) return specFailure
    const pairs: { observer: Label; edits: ReturnType<typeof resolveEdits>; second: KernelState }[] = []
    if (observers.length > 0) {
      const t0 = performance.now()
      for (const obs of observers) {
        const es = resolveEdits(pre, sys.labels, fixedFor(sys, obs, u), edits, sys.confinement.exemptThreads)
        if (es.length === 0) continue
        const t = applyEdits(pre, es)
        let t2: KernelState
        try { t2 = specStep(t, ev).state } catch (e) {
          return fail(step, { check: "nonleakage", layer: "spec", leak: { observer: obs, subject: u, edits: es, preDiff: stateDifference(pre, t), postDiff: [`the spec threw on the second state: ${(e as Error).message}`] }, description: `the spec threw on a varied state at step ${step}: ${(e as Error).message}` })
        }
        stats.checks.nonleakage.pairs++
        pairs.push({ observer: obs, edits: es, second: t })
        const d = viewDiff(post, t2, reads.get(obs)!, sys.labels, obs)
        if (d.length > 0) {
          const leak: LeakReport = { observer: obs, subject: u, edits: es, preDiff: stateDifference(pre, t), postDiff: d }
          stats.checks.nonleakage.ms += performance.now() - t0
          return fail(step, { check: "nonleakage", layer: "spec", leak, description: `step ${step} leaks to ${obs} (spec):\n${describeLeak(leak)}` })
        }
      }
      stats.checks.nonleakage.ms += performance.now() - t0
      stats.checks.nonleakage.steps++
    }
    if (preAbs !== null) {
      const postAbs = l.abs()
      const implFailure = checkStep("impl", step, u, preAbs, postAbs, true)
      if (implFailure !== null) return implFailure
      if (prefix !== null && pairs.length > 0) {
        const t0 = performance.now()
        for (const p of pairs) {
          const k = impl.boot(sys.config)
          for (const e of prefix) impl.step(k, e)
          applyEditsImpl(k as unknown as ImplState, p.edits)
          const before = impl.abs(k)
          if (!statesEqual(before, p.second)) {
            return fail(step, { check: "nonleakage", layer: "impl", leak: { observer: p.observer, subject: u, edits: p.edits, preDiff: [], postDiff: stateDiff(p.second, before) }, description: `the impl's edited state does not abstract to the spec's at step ${step}:\n  ${stateDiff(p.second, before).join("\n  ")}` })
          }
          impl.step(k, ev)
          const d = viewDiff(postAbs, impl.abs(k), reads.get(p.observer)!, sys.labels, p.observer)
          stats.checks.nonleakage.implPairs++
          if (d.length > 0) {
            const leak: LeakReport = { observer: p.observer, subject: u, edits: p.edits, preDiff: stateDifference(preAbs, before), postDiff: d }
            return fail(step, { check: "nonleakage", layer: "impl", leak, description: `step ${step} leaks to ${p.observer} (impl):\n${describeLeak(leak)}` })
          }
        }
        stats.checks.nonleakage.implMs += performance.now() - t0
        stats.checks.nonleakage.implSteps++
      }
    }
    pre = post
  }
  const end = l.finish()
  if (end !== null) return fail(choices.length, { check: "lockstep", description: describeFailure(end) })
  return { events: l.events.slice(), failure: null, final: l.spec }
}

/**
 * The generator's weights for security campaigns: the IPC, notification and scheduling mix, timer
 * ticks often enough that every domain runs several times a trace, rights probes (`Raw`, see
 * probe.ts), and none of the invocations no partition holds the caps for (IRQs, domains, ASIDs).
 */
export const securityWeights = (sys: LabelledSystem): Readonly<Record<Op, number>> => ({
  ...weightsFor(sys.config),
  IRQControl: 0, IRQHandler: 0, Interrupt: 1, DomainSet: 0, DomainSchedule: 0, ASIDPool: 0, PDFlush: 0, InvokeOther: 1, Raw: 12,
  Send: 12, Call: 12, Recv: 14, NBRecv: 3, Reply: 5, ReplyRecv: 6, Signal: 24, Wait: 12, Poll: 6, BindNotification: 4, UnbindNotification: 1,
  TimerTick: 30, Yield: 5, Retype: 5, Copy: 3, Mint: 3, Move: 2, Mutate: 1, Rotate: 1, Delete: 3, Revoke: 2, SetPriority: 3, Suspend: 0, Resume: 10, UserFault: 1,
})

export interface SecurityCampaignOptions extends TraceOptions {
  readonly seed: number
  readonly runs: number
  readonly depth: number
  /** Shrink a failure (default true). */
  readonly shrink?: boolean
  readonly weights?: Readonly<Record<Op, number>>
  /** Aim the traces at these rows of the outcome table (as `kspec fuzz --focus`): their ops get two thirds of the weight. */
  readonly focus?: readonly string[]
  /** Stop after this many milliseconds. */
  readonly timeLimitMs?: number
  /** Stop shrinking after this many milliseconds (the smallest failure so far is kept). */
  readonly shrinkLimitMs?: number
  readonly stopRuns?: () => boolean
  /** When it returns true, shrinking ends with the smallest failing trace found so far. */
  readonly stopShrink?: () => boolean
  /** Called for each candidate trace tried while shrinking. */
  readonly onShrinkStep?: () => void
  /** Called once, with the unshrunk trace, when the first failure is found. */
  readonly onFailureFound?: (run: SecurityRun) => void
}

export interface SecurityReport {
  readonly system: string
  readonly seed: number
  readonly stats: SecurityStats
  readonly ms: number
  readonly failure: SecurityFailure | null
  /** The final state of the last trace run (the failing one, if any): what the authority graph is drawn from. */
  readonly final: KernelState
  readonly shrinks: number
}

/** A campaign of `runs` traces on one system; the first failure is shrunk (trace and pair) and reported. */
export const runSecurityCampaign = <K>(sys: LabelledSystem, o: SecurityCampaignOptions, impl: ImplUnderTest<K> = realImpl as unknown as ImplUnderTest<K>): SecurityReport => {
  const stats = o.stats ?? newStats()
  const t0 = performance.now()
  let shrinking = false
  // While shrinking, the impl's abstraction is checked only if the failure was found there.
  let shrinkImpl = false
  let shrinkDeadline = Infinity
  let final = sys.initial
  const base = o.weights ?? securityWeights(sys)
  const weights = o.focus === undefined || o.focus.length === 0 ? base : focusWeights(focusRows(o.focus), base)
  const prop = fc.property(traceArb(o.depth, weights), editChoicesArb, (choices, edits) => {
    if (!shrinking && o.stopRuns?.() === true) return true
    // An ended shrink: every further candidate passes, so the smallest failure found is kept.
    if (shrinking && (performance.now() > shrinkDeadline || o.stopShrink?.() === true)) return true
    if (shrinking) o.onShrinkStep?.()
    const r = runSecurityTrace(sys, impl, choices, edits, shrinking ? { ...o, stats: newStats(), impl: shrinkImpl } : { ...o, stats })
    if (!shrinking) final = r.final
    if (r.failure !== null && !shrinking) {
      shrinking = true
      shrinkImpl = "layer" in r.failure && r.failure.layer === "impl"
      shrinkDeadline = performance.now() + (o.shrinkLimitMs ?? Infinity)
      o.onFailureFound?.(r)
    }
    return r.failure === null
  })
  const details = fc.check(prop, {
    seed: o.seed, numRuns: o.runs, endOnFailure: o.shrink === false,
    ...(o.timeLimitMs !== undefined ? { interruptAfterTimeLimit: o.timeLimitMs, markInterruptAsFailure: false } : {}),
  })
  let failure: SecurityFailure | null = null
  if (details.failed && details.counterexample !== null) {
    const [choices, edits] = details.counterexample
    const r = runSecurityTrace(sys, impl, choices, edits, { ...o, stats: newStats(), impl: shrinkImpl || o.impl !== false })
    failure = r.failure
    final = r.final
  }
  return { system: sys.name, seed: o.seed, stats, ms: performance.now() - t0, failure, final, shrinks: details.numShrinks }
}

/** A failure in readable lines: the check, the layer, what broke, and the trace's length. */
export const describeSecurityFailure = (f: SecurityFailure): string =>
  `${f.check === "lockstep" ? "lockstep refinement" : f.check} failed at step ${f.step} (after ${f.setupLength} set-up events, ${f.events.length - f.setupLength} trace events)\n${f.description}`


