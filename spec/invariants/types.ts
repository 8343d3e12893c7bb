/**
 * The vocabulary of kspec's invariants: a named predicate that returns what it found wrong, and
 * layers that compose named predicates (l4v's `valid_pspace` -> `valid_state` -> `invs`).
 * @category invariants
 */
import type { Cap, PPtr, SlotPtr } from "../../model/index.ts"
import type { KernelState, KObject } from "../state.ts"
import type { StateDelta } from "./delta.ts"

/** One thing an invariant found wrong: which invariant, and a message naming the slot or object. */
export interface Violation {
  readonly invariant: string
  readonly message: string
}

/**
 * A named invariant of the abstract state.
 *
 * `check` is total: it never throws, whatever the state, and returns an empty array exactly when
 * the invariant holds.
 */
export interface Invariant {
  /** l4v-style snake_case, e.g. `valid_mdb.untyped_inc` or `pspace_aligned`. */
  readonly name: string
  /** One or two English sentences. */
  readonly statement: string
  /** The l4v definition it mirrors, e.g. `l4v Invariants_AI untyped_inc`, or `none (kspec-specific)`. */
  readonly mirrors: string
  /** Operations that can break it (seL4 invocation or Haskell function names). */
  readonly threatenedBy: readonly string[]
  readonly check: (s: KernelState) => readonly Violation[]
  /**
   * How the incremental checker runs it: "incremental" invariants have `checkChanged`, which looks
   * only at what a step changed (sound given that `prev` satisfied the invariant); "periodic" ones
   * run in full on the periodic full check (every K steps and at the end of each trace).
   */
  readonly mode: "incremental" | "periodic"
  /** The violations among what changed from `prev` to `s` (only for mode "incremental"). */
  readonly checkChanged?: (s: KernelState, prev: KernelState, delta: StateDelta) => readonly Violation[]
  /**
   * The keys `checkChanged` visits (only for mode "incremental"): `checkChanged(s, prev, delta)` is
   * `check(scopedView(s, scope(s, prev, delta)))`, so invariants with the same scope can share a view.
   */
  readonly scope?: (s: KernelState, prev: KernelState, delta: StateDelta) => IncrementalScope
  /**
   * For an invariant of each object on its own (`InvariantDef.eachObject`): add to `out` the
   * violations at object `p`, which holds `o`. The checker runs it on the changed objects directly,
   * with no view of the state.
   */
  readonly atObject?: (s: KernelState, p: PPtr, o: KObject, out: Violation[]) => void
  /** For an invariant of each cap on its own (`InvariantDef.eachCap`): add to `out` the violations at `slot`, which holds `c`. */
  readonly atCap?: (s: KernelState, slot: SlotPtr, c: Cap, out: Violation[]) => void
}

/**
 * Which keys an incremental check iterates: the predicate's own `find` runs over a view of the
 * state whose heap (and caps, isOriginal) iterate only these keys; lookups still see everything.
 * A map left undefined iterates in full.
 */
export interface IncrementalScope {
  readonly objects?: ReadonlySet<PPtr>
  readonly slots?: ReadonlySet<SlotPtr>
  /** The CDT edges to iterate, by child: `cdt` visits only these keys. */
  readonly edges?: ReadonlySet<SlotPtr>
  /** The child lists to iterate, by parent: `cdtList` visits only these keys. */
  readonly lists?: ReadonlySet<SlotPtr>
  /** The step changed nothing the invariant reads: it holds as it did in `prev`, and is not run. */
  readonly nothing?: boolean
}

/**
 * `f`, remembering its last result: a scope several invariants share is computed once per change
 * (a WeakMap per delta cost more in garbage collection than the checks it saved).
 */
export const oncePerChange = <T>(f: (s: KernelState, prev: KernelState, d: StateDelta) => T): ((s: KernelState, prev: KernelState, d: StateDelta) => T) => {
  let last: { s: KernelState; prev: KernelState; d: StateDelta; r: T } | null = null
  return (s, prev, d) => {
    if (last !== null && last.d === d && last.s === s && last.prev === prev) return last.r
    const r = f(s, prev, d)
    last = { s, prev, d, r }
    return r
  }
}

/** The scope of a step that changed nothing an invariant reads. */
export const nothingChanged: IncrementalScope = { nothing: true }
/** The scope that iterates every key: the whole check. */
export const everything: IncrementalScope = {}
/** The scope of a check that iterates no keys (it reads globals and looks objects up): it runs, cheaply. */
export const noKeys: IncrementalScope = { objects: new Set(), slots: new Set(), edges: new Set(), lists: new Set() }
/** The scope of an invariant that reads only objects, each on its own: the changed ones. */
export const changedObjects = (d: StateDelta): IncrementalScope => (d.objects.size === 0 ? nothingChanged : { objects: d.objects })
/** The scope of an invariant that reads only slots (caps, originality): the changed ones. */
export const changedSlots = (d: StateDelta): IncrementalScope => (d.slots.size === 0 ? nothingChanged : { slots: d.slots })

/** A map whose lookups see all of `base` and whose iteration visits only the keys of `only` that `base` holds. */
class ScopedMap<K, V> implements ReadonlyMap<K, V> {
  /** The entries iterated, found once: the invariants that share a view iterate the same ones. */
  private found: [K, V][] | null = null
  constructor(private readonly base: ReadonlyMap<K, V>, private readonly only: ReadonlySet<K>) {}
  get size(): number { return this.base.size }
  get(k: K): V | undefined { return this.base.get(k) }
  has(k: K): boolean { return this.base.has(k) }
  private list(): [K, V][] {
    if (this.found !== null) return this.found
    const out: [K, V][] = []
    for (const k of this.only) { const v = this.base.get(k); if (v !== undefined || this.base.has(k)) out.push([k, v as V]) }
    return (this.found = out)
  }
  // Arrays rather than generators: these run on every step of incremental checking.
  entries(): MapIterator<[K, V]> { return this.list()[Symbol.iterator]() }
  keys(): MapIterator<K> { return this.list().map(([k]) => k)[Symbol.iterator]() }
  values(): MapIterator<V> { return this.list().map(([, v]) => v)[Symbol.iterator]() }
  [Symbol.iterator](): MapIterator<[K, V]> { return this.entries() }
  forEach(f: (v: V, k: K, m: ReadonlyMap<K, V>) => void): void { for (const [k, v] of this.entries()) f(v, k, this) }
}
class ScopedSet<K> implements ReadonlySet<K> {
  constructor(private readonly base: ReadonlySet<K>, private readonly only: ReadonlySet<K>) {}
  get size(): number { return this.base.size }
  has(k: K): boolean { return this.base.has(k) }
  *keys(): SetIterator<K> { for (const k of this.only) if (this.base.has(k)) yield k }
  values(): SetIterator<K> { return this.keys() }
  *entries(): SetIterator<[K, K]> { for (const k of this.keys()) yield [k, k] }
  [Symbol.iterator](): SetIterator<K> { return this.keys() }
  forEach(f: (v: K, k: K, s: ReadonlySet<K>) => void): void { for (const k of this.keys()) f(k, k, this) }
}

/** `s` with its heap, caps, isOriginal and CDT iterating only the keys of `scope`. */
export const scopedView = (s: KernelState, scope: IncrementalScope): KernelState => ({
  ...s,
  kheap: scope.objects === undefined ? s.kheap : new ScopedMap(s.kheap, scope.objects),
  caps: scope.slots === undefined ? s.caps : new ScopedMap(s.caps, scope.slots),
  isOriginal: scope.slots === undefined ? s.isOriginal : new ScopedSet(s.isOriginal, scope.slots),
  cdt: scope.edges === undefined ? s.cdt : new ScopedMap(s.cdt, scope.edges),
  cdtList: scope.lists === undefined ? s.cdtList : new ScopedMap(s.cdtList, scope.lists),
})

/** A named conjunction of invariants and smaller layers (l4v `valid_pspace`, `valid_mdb`, `invs`). */
export interface Layer {
  readonly name: string
  readonly members: readonly (Invariant | Layer)[]
  readonly check: (s: KernelState) => readonly Violation[]
}

export const isLayer = (x: Invariant | Layer): x is Layer => "members" in x

/**
 * Compose invariants and layers into a named layer whose violations are all of its members'
 * violations, in member order. An invariant reached through two members is checked once.
 */
export const all = (name: string, ...members: readonly (Invariant | Layer)[]): Layer => {
  const flat = leaves({ name, members, check: () => [] })
  return { name, members, check: (s) => flat.flatMap((inv) => inv.check(s)) }
}

/** The invariants under a layer, each once, in first-reached order. */
export const leaves = (x: Invariant | Layer): readonly Invariant[] => {
  const out: Invariant[] = []
  const seen = new Set<string>()
  const walk = (y: Invariant | Layer): void => {
    if (isLayer(y)) { for (const m of y.members) walk(m); return }
    if (seen.has(y.name)) return
    seen.add(y.name)
    out.push(y)
  }
  walk(x)
  return out
}

/** Does `s` satisfy the invariant or layer? */
export const holds = (x: Invariant | Layer, s: KernelState): boolean => x.check(s).length === 0

/** What every invariant says of itself, for the reference (`kspec docs`) and for reports. */
interface InvariantDoc {
  readonly name: string
  readonly statement: string
  readonly mirrors: string
  readonly threatenedBy: readonly string[]
}

/** An invariant whose predicate searches the whole state, written as `find(s, report)`. */
export interface FindDef extends InvariantDoc {
  /** Call `report(message)` once per violation found. */
  readonly find: (s: KernelState, report: (message: string) => void) => void
  /**
   * Optional incremental form: the keys `find` must visit to find every violation a step can have
   * introduced, given that `prev` satisfied the invariant. `find` then runs over `scopedView`.
   */
  readonly scope?: (s: KernelState, prev: KernelState, delta: StateDelta) => IncrementalScope
  readonly eachObject?: never
  readonly eachCap?: never
}

/**
 * An invariant of each object on its own: it holds when `eachObject` reports nothing for any
 * object in the heap. Only a changed object can break it, so its incremental form visits the
 * changed objects.
 */
export interface EachObjectDef extends InvariantDoc {
  readonly eachObject: (s: KernelState, p: PPtr, o: KObject, report: (message: string) => void) => void
  readonly find?: never
  readonly scope?: never
  readonly eachCap?: never
}

/**
 * An invariant of each cap on its own (with its slot's originality): it holds when `eachCap`
 * reports nothing for any cap. Only a changed slot can break it.
 */
export interface EachCapDef extends InvariantDoc {
  readonly eachCap: (s: KernelState, slot: SlotPtr, c: Cap, report: (message: string) => void) => void
  readonly find?: never
  readonly scope?: never
  readonly eachObject?: never
}

/** The fields of an invariant: its predicate as a search of the state, or as a check of each object or each cap. */
export type InvariantDef = FindDef | EachObjectDef | EachCapDef

const noViolations: readonly Violation[] = Object.freeze([])

/**
 * Build an invariant from its definition. A predicate that throws (on a state far outside its
 * assumptions) is reported as a violation of that invariant, never rethrown.
 */
export const defineInvariant = (d: InvariantDef): Invariant => {
  // One reporter per invariant, writing to the list of the run under way (no predicate runs
  // another, so runs never nest): a run that finds nothing makes no list and no closure.
  let sink: Violation[] | null = null
  const report = (message: string): void => { (sink ??= []).push({ invariant: d.name, message }) }
  const threw = (e: unknown): void => report(`the check itself threw: ${e instanceof Error ? e.message : String(e)}`)
  const eachObject = d.eachObject
  const eachCap = d.eachCap
  const find = d.find ?? (eachObject !== undefined
    ? (s: KernelState, r: (message: string) => void) => { for (const [p, o] of s.kheap) eachObject(s, p, o, r) }
    : (s: KernelState, r: (message: string) => void) => { for (const [slot, c] of s.caps) eachCap!(s, slot, c, r) })
  const run = (s: KernelState): readonly Violation[] => {
    sink = null
    try { find(s, report) } catch (e) { threw(e) }
    return sink ?? noViolations
  }
  // A scope is total like `check`: one that throws (on a state far outside its assumptions) widens to everything.
  const given = d.scope ?? (eachObject !== undefined ? (_s: KernelState, _p: KernelState, delta: StateDelta) => changedObjects(delta)
    : eachCap !== undefined ? (_s: KernelState, _p: KernelState, delta: StateDelta) => changedSlots(delta) : undefined)
  const scope = given === undefined ? undefined : (s: KernelState, prev: KernelState, delta: StateDelta): IncrementalScope => {
    try { return given(s, prev, delta) } catch { return everything }
  }
  return {
    name: d.name,
    statement: d.statement,
    mirrors: d.mirrors,
    threatenedBy: d.threatenedBy,
    check: run,
    mode: scope === undefined ? "periodic" : "incremental",
    ...(scope === undefined ? {} : {
      scope,
      checkChanged: (s: KernelState, prev: KernelState, delta: StateDelta) => {
        const sc = scope(s, prev, delta)
        return sc.nothing === true ? noViolations : run(scopedView(s, sc))
      },
    }),
    ...(eachObject === undefined ? {} : {
      atObject: (s: KernelState, p: PPtr, o: KObject, out: Violation[]) => {
        sink = out
        try { eachObject(s, p, o, report) } catch (e) { threw(e) }
      },
    }),
    ...(eachCap === undefined ? {} : {
      atCap: (s: KernelState, slot: SlotPtr, c: Cap, out: Violation[]) => {
        sink = out
        try { eachCap(s, slot, c, report) } catch (e) { threw(e) }
      },
    }),
  }
}
