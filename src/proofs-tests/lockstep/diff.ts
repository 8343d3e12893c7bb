/**
 * State comparison: a fast structural equality for abstract states, and, when two differ, a
 * readable list of the paths where their canonical JSON differs.
 */
import type { KernelState } from "../../spec/index.ts"
import { toCanonicalJSON } from "../../spec/index.ts"

/** Structural equality of plain data (objects, arrays, Maps, Sets, primitives). */
export const deepEqual = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return false
    for (const [k, v] of a) if (!b.has(k) || !deepEqual(v, b.get(k))) return false
    return true
  }
  if (a instanceof Set) {
    if (!(b instanceof Set) || a.size !== b.size) return false
    for (const v of a) if (!b.has(v)) return false
    return true
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false
    return true
  }
  if (Array.isArray(b) || b instanceof Map || b instanceof Set) return false
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  for (const k of ka) if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false
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
