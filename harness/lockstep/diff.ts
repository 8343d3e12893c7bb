/**
 * State comparison: a fast structural equality for abstract states, and, when two differ, a
 * readable list of the paths where their canonical JSON differs.
 */
import type { KernelState } from "../../spec/index.ts"
import { toCanonicalJSON } from "../../spec/index.ts"
import { PMap, PSet } from "../../spec/persistent.ts"

// The spec's persistent maps and sets compare like native ones (and equal a native one with the same entries).
const isMap = (x: object): x is ReadonlyMap<unknown, unknown> => x instanceof Map || x instanceof PMap
const isSet = (x: object): x is ReadonlySet<unknown> => x instanceof Set || x instanceof PSet

/**
 * Results of comparing two persistent maps: they never change, so a pair compared once (the kernel
 * window every page directory shares, say) need not be compared again.
 */
const pmapEqual = new WeakMap<object, WeakMap<object, boolean>>()

/** Structural equality of plain data (objects, arrays, Maps, Sets, persistent maps and sets, primitives). */
export const deepEqual = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false
  if (a instanceof PMap && b instanceof PMap) {
    const known = pmapEqual.get(a)?.get(b)
    if (known !== undefined) return known
    const r = mapsEqual(a, b)
    let m = pmapEqual.get(a)
    if (m === undefined) { m = new WeakMap(); pmapEqual.set(a, m) }
    m.set(b, r)
    return r
  }
  if (isMap(a)) return isMap(b) && mapsEqual(a, b)
  if (isSet(a)) {
    if (!isSet(b) || a.size !== b.size) return false
    for (const v of a) if (!b.has(v)) return false
    return true
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false
    return true
  }
  if (Array.isArray(b) || isMap(b) || isSet(b)) return false
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  for (const k of ka) if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false
  return true
}

const mapsEqual = (a: ReadonlyMap<unknown, unknown>, b: ReadonlyMap<unknown, unknown>): boolean => {
  if (a.size !== b.size) return false
  for (const [k, v] of a) if (!b.has(k) || !deepEqual(v, b.get(k))) return false
  return true
}

export const statesEqual = (a: KernelState, b: KernelState): boolean => deepEqual(a, b)

/** The paths where two JSON values differ, each with both sides, at most `limit` of them. */
export const jsonDiff = (a: unknown, b: unknown, limit = 12): string[] => {
  const out: string[] = []
  const show = (v: unknown) => (v === undefined ? "(absent)" : JSON.stringify(v))
  const walk = (x: unknown, y: unknown, path: string) => {
    if (out.length >= limit) return
    if (JSON.stringify(x) === JSON.stringify(y)) return
    const bothObjects = typeof x === "object" && typeof y === "object" && x !== null && y !== null && Array.isArray(x) === Array.isArray(y)
    if (!bothObjects) { out.push(`${path}: spec ${show(x)} | impl ${show(y)}`); return }
    const keys = new Set([...Object.keys(x as object), ...Object.keys(y as object)])
    for (const k of keys) walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], path === "" ? k : `${path}.${k}`)
  }
  walk(a, b, "")
  return out
}

/** The differences between the spec state and the abstraction of the impl state. */
export const stateDiff = (spec: KernelState, implAbs: KernelState, limit?: number): string[] =>
  jsonDiff(toCanonicalJSON(spec), toCanonicalJSON(implAbs), limit)

/**
 * A 32-bit fingerprint of plain data (the same kinds `deepEqual` compares), for noticing that a
 * value kept from earlier has since been mutated in place: fingerprint it when kept and again
 * later. Map and set keys are numbers in the kernel state; records contribute their values in key
 * order (not their key names), so it is a fingerprint of one object graph over time, not a
 * canonical hash of equal values.
 */
const frozenPrints = new WeakMap<object, number>()

/**
 * Strings are immutable, so each one's contribution is computed once (a record's tag, mixed char
 * by char, cost more than the rest of the record).
 */
const stringPrints = new Map<string, number>()
const stringPrint = (v: string): number => {
  let p = stringPrints.get(v)
  if (p === undefined) {
    p = 0x811c9dc5 ^ v.length
    for (let i = 0; i < v.length; i++) p = Math.imul(p ^ v.charCodeAt(i), 0x01000193)
    if (stringPrints.size < 4096) stringPrints.set(v, p)
  }
  return p
}

export const fingerprint = (x: unknown): number => {
  let h = 0x811c9dc5
  const mix = (v: number) => { h = Math.imul(h ^ v, 0x01000193) }
  // A persistent map reached twice (the kernel window every page directory shares) is walked once:
  // a mutation inside it still changes the fingerprint, and the walk stays linear in the state.
  const seen = new Set<object>()
  const walk = (v: unknown): void => {
    switch (typeof v) {
      // A 32-bit integer in one mix; any other number as its two halves and a marker.
      case "number": if ((v | 0) === v) mix(v); else { mix(v | 0); mix((v / 4294967296) | 0); mix(11) } return
      case "string": mix(stringPrint(v)); return
      case "boolean": mix(v ? 3 : 4); return
      case "bigint": mix(Number(BigInt.asIntN(32, v))); mix(Number(BigInt.asIntN(32, v >> 32n))); return
      case "object": break
      default: mix(5); return
    }
    if (v === null) { mix(7); return }
    if (Array.isArray(v)) {
      mix(v.length)
      for (let i = 0; i < v.length; i++) {
        const e: unknown = v[i]
        // Words (message registers, registers) inline.
        if (typeof e === "number" && (e | 0) === e) mix(e)
        else walk(e)
      }
      return
    }
    if (isMap(v)) {
      if (v instanceof PMap) {
        if (seen.has(v)) { mix(9); return }
        seen.add(v)
        // A frozen persistent map is frozen through (deepFreeze's rule) and cannot change: its print is kept.
        if (Object.isFrozen(v)) {
          let f = frozenPrints.get(v)
          if (f === undefined) { f = fingerprint(new Map(v)); frozenPrints.set(v, f) }
          mix(f)
          return
        }
      }
      mix(v.size); for (const [k, e] of v) { mix(k as number); walk(e) } return
    }
    if (isSet(v)) { mix(v.size); for (const e of v) mix(e as number); return }
    // Plain records: the values in key order (the same graph keeps its key order).
    for (const k in v) walk((v as Record<string, unknown>)[k])
  }
  walk(x)
  return h >>> 0
}
