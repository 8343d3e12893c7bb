/**
 * The vocabulary of kspec's invariants: a named predicate that returns what it found wrong, and
 * layers that compose named predicates (l4v's `valid_pspace` -> `valid_state` -> `invs`).
 * @category invariants
 */
import type { KernelState } from "../state.ts"

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
}

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

/** The fields of an invariant, with its predicate written as `find(s, report)`. */
export interface InvariantDef {
  readonly name: string
  readonly statement: string
  readonly mirrors: string
  readonly threatenedBy: readonly string[]
  /** Call `report(message)` once per violation found. */
  readonly find: (s: KernelState, report: (message: string) => void) => void
}

/**
 * Build an invariant from a `find` that reports messages. A predicate that throws (on a state
 * far outside its assumptions) is reported as a violation of that invariant, never rethrown.
 */
export const defineInvariant = (d: InvariantDef): Invariant => ({
  name: d.name,
  statement: d.statement,
  mirrors: d.mirrors,
  threatenedBy: d.threatenedBy,
  check: (s) => {
    const out: Violation[] = []
    const report = (message: string) => { out.push({ invariant: d.name, message }) }
    try {
      d.find(s, report)
    } catch (e) {
      report(`the check itself threw: ${e instanceof Error ? e.message : String(e)}`)
    }
    return out
  },
})
