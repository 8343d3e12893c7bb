/**
 * The work of the search on one state: rebuild it, check it, and try every event of its
 * alphabet on it. This is what a worker thread runs (and the in-process search too).
 *
 * **Rebuilding a state.** The search keeps no states: a state is its path, the event indices
 * from the initial state. A worker rebuilds the spec state by stepping the spec along the path,
 * and the impl state by stepping a copy of the parent's impl (`cloneKernel`), keeping the last
 * state it built at each depth. The search hands out states in BFS order, in runs of
 * consecutive states, and consecutive states share their ancestors, so nearly every state is
 * built from a cached parent with one spec step and one impl step. The impl state of a path is
 * therefore exactly the state the impl reaches along it: nothing is reconstructed from the
 * spec, so no assumption about the impl's hidden state (MDB link order, firstBadged bits,
 * stale values) enters the proof.
 *
 * **Checking a state** (once per distinct state): every spec invariant and every impl-only
 * invariant holds, and the user's state property, if any; for the initial state, also the full
 * relation (`absState` against the spec: every other state's relation is checked on its edge),
 * and before it the set-up, replayed from boot in lockstep with every check after every event.
 *
 * **An edge** (every event of the alphabet): the spec step and an impl step from a copy of the
 * impl state, neither may throw; a failed invocation changes nothing but the caller's registers
 * (the runner's frame check); the user's edge property; the relation: the canonical hash of the
 * abstraction of the successor impl state (`abstractHash`, computed in place) equals that of the
 * successor spec state (a 64-bit stand-in for `absState(k') = s'`, checked on every edge, so an
 * impl write the spec did not make is caught on the edge that makes it); then the successor's key.
 *
 * **The key.** By default the canonical fingerprint of the spec state: when two paths reach one
 * spec state, the search goes on from the impl state the first (shortest) path left. The impl
 * has state the spec does not (the order of its MDB list, firstBadged bits, the badge word of an
 * idle notification, which seL4's C leaves stale too), so a bug that shows only after another
 * path's hidden details is outside the claim. With `implState` the key is the pair (spec
 * fingerprint, fingerprint of everything the impl keeps between entries): every impl state is
 * explored, at the cost of the states that differ only in those details.
 * @category prove
 */
import vm from "node:vm"
import type { Event } from "../../model/index.ts"
import type { KernelState, Outcome } from "../../spec/index.ts"
import { stepWithOutcome } from "../../spec/index.ts"
import type { Violation } from "../../spec/invariants/index.ts"
import type { StateDelta } from "../../spec/invariants/index.ts"
import { checkAll, checkChanged, invariants, stateDelta } from "../../spec/invariants/index.ts"
import type { ImplState } from "../../impl/index.ts"
import type { Failure, ImplUnderTest, SpecUnderTest } from "../lockstep/runner.ts"
import { isErrorResult, onlyCallerRegistersChanged, runEvents, withoutCallerRegisters } from "../lockstep/runner.ts"
import { stateDiff, statesEqual } from "../lockstep/diff.ts"
import { absState } from "../relation/abstract.ts"
import { implInvariants } from "../relation/implInvariants.ts"
import { alphabet } from "./alphabet.ts"
import type { Print, Renaming } from "./canonical.ts"
import { abstractHash, canonicalRenaming, identity, implHash, specHash, specHashFrom } from "./canonical.ts"
import { cloneKernel, cloneProblems, releaseKernel } from "./clone.ts"
import { combine } from "./hash.ts"
import type { Scope } from "./scope.ts"

/** A property of a state (a predicate, or a violation list: empty when it holds). */
export type StateProperty = (s: KernelState) => boolean | readonly Violation[]
/** A property of an edge: the state before, the event, the state after, what the entry did. */
export type EdgeProperty = (pre: KernelState, event: Event, post: KernelState, outcome: Outcome) => boolean | readonly Violation[]

/** A user's own properties, checked beside the relation and the invariants. */
export interface UserProperties {
  /** Checked on every distinct state (named `name` in violations). */
  readonly state?: StateProperty
  /** Checked on every edge. */
  readonly edge?: EdgeProperty
  /** The name violations carry (default "property"). */
  readonly name?: string
}

/** A failure the search found, with the path to it. */
export interface ProveFailure {
  /** What failed, as the lockstep runner reports it; `step` numbers events from boot (set-up included). */
  readonly failure: Failure
  /** Events after the initial state up to the failure: the depth of the counterexample. */
  readonly depth: number
  /** The state whose check or edge failed. */
  readonly stateId: number
  /** The failing event's index in the state's alphabet; -1 when the state itself failed its check. */
  readonly eventIndex: number
  /** The events from the initial state to the failure, the failing one last. */
  readonly events: readonly Event[]
}

/** A run of consecutive states of one level, with their paths. */
export interface Chunk {
  /** The level (the depth of every state in the chunk). */
  readonly level: number
  /** `ids[i * (level + 1) + j]`: state i's ancestor at depth j (j = level: the state itself). */
  readonly ids: Int32Array
  /** `events[i * level + j]`: the event index that leads from state i's ancestor at depth j to depth j + 1. */
  readonly events: Uint16Array
  /** Check the states only: do not expand their edges (the last level, or a level being finished after a failure). */
  readonly checkOnly: boolean
}

/** Fields of one edge in `ChunkResult.edges`. */
export const edgeWords = 6

export interface ChunkResult {
  /** Per edge: state (index in the chunk), event index, key (lo, hi), spec print (lo, hi). */
  readonly edges: Uint32Array
  readonly failures: readonly ProveFailure[]
  /** (invocation|result) -> count, of the edges tried. */
  readonly outcomes: ReadonlyMap<string, number>
  /** The most events one state of the chunk had. */
  readonly alphabetMax: number
}

/** A state rebuilt along its path. */
interface Node {
  readonly id: number
  readonly spec: KernelState
  readonly impl: ImplState
  /** Its spec hash under the identity renaming (the incremental hash of its children starts from it). */
  readonly plain: Print
  alphabet: Event[] | undefined
  /** The parent's spec state and the step's delta (not for the initial state): its invariants are checked on what the step changed. */
  readonly prev?: KernelState
  readonly delta?: StateDelta
}

/** What an expander needs: the scope, the impl under test, symmetry, the key, and the user's properties. */
export interface ExpandOptions {
  readonly scope: Scope
  readonly impl: ImplUnderTest<ImplState>
  readonly symmetry: boolean
  /** Key states by (spec state, impl state) rather than by spec state (see the module comment). */
  readonly implState?: boolean
  readonly properties?: UserProperties
  /**
   * The watchdog (the runner's `RunOptions.deadlineMs`): a chunk of states that takes longer is
   * run again with every step under its own watchdog of this many ms, and a step that does not
   * finish is a `nontermination` failure (a kernel loop: the looping mutants). Undefined: none.
   */
  readonly deadlineMs?: number
}

/** The watchdog: run `f` in a context whose script vm stops after `ms` (node:vm's timeout, as the runner's). */
const watchContext = vm.createContext({ f: null as (() => unknown) | null })
const watchScript = new vm.Script("f()")
const watched = <T>(f: () => T, ms: number): T => {
  watchContext.f = f
  try { return watchScript.runInContext(watchContext, { timeout: ms }) as T } finally { watchContext.f = null }
}
const isWatchdog = (e: unknown): boolean => (e as { code?: unknown } | null)?.code === "ERR_SCRIPT_EXECUTION_TIMEOUT"

/** The invariants without an incremental form: checked in full on every state. */
const periodicInvariants = invariants.filter((i) => i.checkChanged === undefined)

const thrown = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e))

/** A user property's answer as violations. */
const asViolations = (r: boolean | readonly Violation[], name: string, what: string): readonly Violation[] =>
  r === true ? [] : r === false ? [{ invariant: name, message: what }] : r

/** The impl-only invariants as the runner names them. */
const implViolations = (k: ImplState): Violation[] =>
  implInvariants.flatMap((inv) => inv.check(k).map((message) => ({ invariant: inv.name, message })))

/** Count an outcome under `invocation|result` (nested maps: no string is built per edge). */
const byOutcome = new Map<string, Map<string, string>>()
const count = (m: Map<string, number>, o: Outcome): void => {
  let inner = byOutcome.get(o.invocation)
  if (inner === undefined) { inner = new Map(); byOutcome.set(o.invocation, inner) }
  let key = inner.get(o.result)
  if (key === undefined) { key = `${o.invocation}|${o.result}`; inner.set(o.result, key) }
  m.set(key, (m.get(key) ?? 0) + 1)
}

export class Expander {
  private readonly cache: (Node | undefined)[] = []
  private readonly irqs: readonly number[]
  private readonly implChecks: (k: ImplState) => readonly Violation[]
  /** The initial state (the root of the search, id 0). */
  readonly root: Node
  /** Why the initial state cannot be searched (a layer threw in the set-up), or null. */
  readonly rootProblem: string | null = null

  /** The spec's step: the real spec's, or a planted spec mutant's (`impl.spec`). */
  private readonly specStep: SpecUnderTest["stepWithOutcome"]
  /** Every step under its own watchdog (the chunk being run again after the chunk's watchdog fired). */
  private guarded = false

  constructor(private readonly opts: ExpandOptions) {
    const { scope, impl } = opts
    this.irqs = scope.spec.irqs.map((q) => q.irq)
    this.implChecks = impl.implChecks ?? implViolations
    this.specStep = impl.spec?.stepWithOutcome ?? stepWithOutcome
    // A spec mutant starts from its own state after the set-up (a spec that throws there is the real one's state, failing at once).
    // The set-up under the watchdog too (a looping mutant may loop there).
    const ms = opts.deadlineMs
    const setUp = <T>(f: () => T): T => (ms === undefined ? f() : watched(f, ms))
    const problem = (layer: "spec" | "impl", e: unknown): string =>
      isWatchdog(e) ? `the ${layer} did not finish a set-up event within ${ms} ms` : `the ${layer} threw during the set-up: ${thrown(e)}`
    let initial = scope.initial
    if (impl.spec !== undefined) {
      const spec = impl.spec
      try {
        initial = setUp(() => {
          let s = spec.boot(scope.config)
          for (const e of scope.setup) s = spec.stepWithOutcome(s, e).state
          return s
        })
      } catch (e) {
        this.rootProblem = problem("spec", e)
      }
    }
    let k: ImplState
    try {
      k = setUp(() => {
        const k0 = impl.boot(scope.config)
        for (const e of scope.setup) impl.step(k0, e)
        return k0
      })
    } catch (e) {
      // A kernel that throws (or loops) in the set-up: searched from nothing, failing at once.
      this.rootProblem ??= problem("impl", e)
      k = impl.boot(scope.config)
    }
    const copyProblems = cloneProblems(k, cloneKernel(k))
    if (copyProblems.length > 0) throw new Error(`kspec prove cannot copy this impl's state (update harness/prove/clone.ts): ${copyProblems.slice(0, 5).join("; ")}`)
    this.root = { id: 0, spec: initial, impl: k, plain: specHash(initial), alphabet: undefined }
    this.cache[0] = this.root
  }

  private alphabetOf(n: Node): Event[] {
    n.alphabet ??= alphabet(n.spec, this.opts.scope.spec.alphabet, this.irqs)
    return n.alphabet
  }

  /** The state at the end of a path (ids and events of one state in a chunk), from the deepest cached ancestor. */
  private node(c: Chunk, i: number): Node {
    const L = c.level
    const ids = c.ids
    const base = i * (L + 1)
    let l = L
    while (l > 0 && this.cache[l]?.id !== ids[base + l]) l--
    for (let j = l + 1; j <= L; j++) {
      const parent = this.cache[j - 1]!
      const ev = this.alphabetOf(parent)[c.events[i * L + j - 1]!]!
      const spec = this.specStep(parent.spec, ev).state
      const impl = cloneKernel(parent.impl)
      this.opts.impl.step(impl, ev)
      const delta = stateDelta(parent.spec, spec)
      const plain = specHashFrom(parent.spec, parent.plain, spec, delta)
      // The state it replaces is no longer anyone's parent: its memory goes to the next copies.
      const old = this.cache[j]
      if (old !== undefined && j > 0) releaseKernel(old.impl)
      this.cache[j] = { id: ids[base + j]!, spec, impl, plain, alphabet: undefined, prev: parent.spec, delta }
    }
    for (let j = L + 1; j < this.cache.length; j++) { const old = this.cache[j]; if (old !== undefined) releaseKernel(old.impl) }
    this.cache.length = L + 1
    return this.cache[L]!
  }

  /** The events along state i's path (for a counterexample). */
  private pathEvents(c: Chunk, i: number): Event[] {
    const out: Event[] = []
    for (let j = 0; j < c.level; j++) out.push(this.alphabetOf(this.cache[j]!)[c.events[i * c.level + j]!]!)
    return out
  }

  /** The state's own check: relation, spec invariants, impl invariants, the user's state property. */
  private checkState(n: Node, step: number): Failure | null {
    if (n.id === 0) {
      // The initial state: the set-up's traces are traces too, so the set-up runs in lockstep with
      // every check after every event (a bug may show part-way and be gone by its end), and the
      // runner reports where it went wrong; then the initial state's own check.
      // Under the watchdog only if the set-up looped when the search built its state: it ran to its
      // end there, and the checks always end (one watchdog over the whole replay would misfire on a slow machine).
      const looped = this.rootProblem?.includes("did not finish") === true
      const setup = runEvents({ ...this.opts.impl, implChecks: this.implChecks }, this.opts.scope.config, this.opts.scope.setup,
        looped && this.opts.deadlineMs !== undefined ? { deadlineMs: this.opts.deadlineMs } : {})
      return setup.failure ?? this.checkOne(n, step)
    }
    return this.checkOne(n, step)
  }

  private checkOne(n: Node, step: number): Failure | null {
    if (n.id === 0) {
      if (this.rootProblem !== null) return { kind: "throw", step, layer: this.rootProblem.startsWith("the spec") ? "spec" : "impl", message: this.rootProblem }
      // Any other state's relation was checked on the edge that found it (its impl state is that
      // edge's, rebuilt by the same steps); the initial state has no such edge: compare in full.
      const a = absState(n.impl)
      if (!statesEqual(n.spec, a)) return { kind: "divergence", step, diff: stateDiff(n.spec, a) }
    }
    // Every invariant: those with an incremental form on what the step from the parent changed
    // (exact, as the parent satisfied them: it was checked before it was expanded), the rest in full.
    const specV = n.prev === undefined || n.delta === undefined ? checkAll(n.spec) : [...checkChanged(n.spec, n.prev, n.delta), ...periodicInvariants.flatMap((i) => i.check(n.spec))]
    const v = [...specV, ...this.implChecks(n.impl)]
    const p = this.opts.properties
    if (p?.state !== undefined) v.push(...asViolations(p.state(n.spec), p.name ?? "property", "the state property does not hold"))
    return v.length > 0 ? { kind: "invariant", step, violations: v } : null
  }

  /**
   * Check each state of the chunk and, unless `checkOnly`, try every event on it. Under a
   * watchdog, the whole chunk runs under one (cheap: a watchdog costs about 0.1 ms); if it fires,
   * the chunk runs again with each step under its own, to name the step that does not finish.
   */
  expand(c: Chunk): ChunkResult {
    const ms = this.opts.deadlineMs
    if (ms === undefined) return this.expandChunk(c)
    try {
      return watched(() => this.expandChunk(c), ms)
    } catch (e) {
      if (!isWatchdog(e)) throw e
      this.guarded = true
      try { return this.expandChunk(c) } finally { this.guarded = false }
    }
  }

  /** A step of one layer, under its own watchdog when guarded. */
  private run<T>(f: () => T): T {
    return this.guarded ? watched(f, this.opts.deadlineMs!) : f()
  }

  private expandChunk(c: Chunk): ChunkResult {
    const n = c.ids.length / (c.level + 1)
    const edges: number[] = []
    const failures: ProveFailure[] = []
    const outcomes = new Map<string, number>()
    let alphabetMax = 0
    const setupSteps = this.opts.scope.setup.length
    const props = this.opts.properties
    for (let i = 0; i < n; i++) {
      const node = this.node(c, i)
      const stateFailure = this.checkState(node, setupSteps + c.level)
      if (stateFailure !== null) {
        failures.push({ failure: stateFailure, depth: c.level, stateId: node.id, eventIndex: -1, events: this.pathEvents(c, i) })
        continue
      }
      if (c.checkOnly) continue
      const evs = this.alphabetOf(node)
      if (evs.length > alphabetMax) alphabetMax = evs.length
      const step = setupSteps + c.level + 1
      for (let e = 0; e < evs.length; e++) {
        const ev = evs[e]!
        const fail = (f: Failure): void => { failures.push({ failure: f, depth: c.level + 1, stateId: node.id, eventIndex: e, events: [...this.pathEvents(c, i), ev] }) }
        let r: { state: KernelState; outcome: Outcome }
        const ms = this.opts.deadlineMs ?? 0
        try { r = this.run(() => this.specStep(node.spec, ev)) } catch (x) {
          fail(isWatchdog(x) ? { kind: "nontermination", step, phase: "spec", ms } : { kind: "throw", step, layer: "spec", message: thrown(x) })
          continue
        }
        const k = cloneKernel(node.impl)
        try { this.run(() => this.opts.impl.step(k, ev)) } catch (x) {
          fail(isWatchdog(x) ? { kind: "nontermination", step, phase: "impl", ms } : { kind: "throw", step, layer: "impl", message: thrown(x) })
          continue
        }
        count(outcomes, r.outcome)
        const d = stateDelta(node.spec, r.state)
        if (isErrorResult(r.outcome) && !onlyCallerRegistersChanged(node.spec, r.state, d)) {
          fail({ kind: "frame", step, diff: stateDiff(node.spec, withoutCallerRegisters(node.spec, r.state)) })
          continue
        }
        if (props?.edge !== undefined) {
          const v = asViolations(props.edge(node.spec, ev, r.state, r.outcome), props.name ?? "property", "the edge property does not hold")
          if (v.length > 0) { fail({ kind: "invariant", step, violations: v }); continue }
        }
        const plain = specHashFrom(node.spec, node.plain, r.state, d)
        const ren: Renaming = this.opts.symmetry ? canonicalRenaming(r.state) : identity
        const sp = ren.moved.length === 0 ? plain : specHash(r.state, ren)
        // The relation on this edge: the impl's abstraction hashes as the spec state does.
        const ap = abstractHash(k, ren)
        if (ap.lo !== sp.lo || ap.hi !== sp.hi) { fail({ kind: "divergence", step, diff: stateDiff(r.state, absState(k)) }); continue }
        if (this.opts.implState === true) {
          const ip = implHash(k, ren)
          const [klo, khi] = combine(sp.lo, sp.hi, ip.lo, ip.hi)
          edges.push(i, e, klo, khi, sp.lo, sp.hi)
        } else edges.push(i, e, sp.lo, sp.hi, sp.lo, sp.hi)
        // This copy is done with (a state is rebuilt from its path when expanded): its memory arrays go to the next copies.
        releaseKernel(k)
      }
    }
    return { edges: Uint32Array.from(edges), failures, outcomes, alphabetMax }
  }

  /** The key of the initial state, as the edges compute theirs. */
  rootKey(): { readonly key: Print; readonly spec: Print } {
    const ren = this.opts.symmetry ? canonicalRenaming(this.root.spec) : identity
    const sp = ren.moved.length === 0 ? this.root.plain : specHash(this.root.spec, ren)
    if (this.opts.implState !== true) return { key: sp, spec: sp }
    const ip = implHash(this.root.impl, ren)
    const [lo, hi] = combine(sp.lo, sp.hi, ip.lo, ip.hi)
    return { key: { lo, hi }, spec: sp }
  }
}
