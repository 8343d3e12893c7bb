import { describe, expect, it } from "vitest"
import fc from "fast-check"
import { PMap, PSet } from "../../spec/persistent.ts"
import { mapSome } from "../../spec/state.ts"
import { deepFreeze } from "../../harness/lockstep/freeze.ts"
import { deepEqual } from "../../harness/lockstep/diff.ts"

/**
 * Keys whose 32-bit hashes are equal (the hash mixes `k | 0` with the high word `k / 2^32 | 0`):
 * `(t ^ j) + j * 2^32` for j = 0..3 and `t + 0.5` all hash as `t` does, so the trie builds
 * collision nodes, grows them past two leaves, rebinds and deletes within them, and pushes them
 * down beside keys of other hashes (t = 0..7 share low hash bits only by chance).
 */
const collidingKeyArb = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 3 })).map(([t, j]) => (t ^ j) + j * 2 ** 32),
  fc.integer({ min: 0, max: 7 }).map((t) => t + 0.5),
)

/** Random writes to a persistent map and a native Map, key ranges chosen to force deep tries, holes and hash collisions. */
const opsArb = fc.array(
  fc.record({ del: fc.boolean(), key: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 2000 }).map((k) => 0x8000_0000 + k * 16), fc.constant(2 ** 33 + 16), collidingKeyArb), v: fc.integer() }),
  { maxLength: 400 },
)
/** Short write sequences over colliding keys only (and a few others), so collision nodes hold three or more leaves. */
const collidingOpsArb = fc.array(
  fc.record({ del: fc.boolean(), key: fc.oneof({ weight: 4, arbitrary: collidingKeyArb }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 40 }) }), v: fc.integer({ min: 0, max: 3 }) }),
  { maxLength: 60 },
)
const buildMap = (ops: readonly { del: boolean; key: number; v: number }[]): PMap<number, number> => {
  let m = PMap.empty<number, number>()
  for (const o of ops) m = o.del ? m.without(o.key) : m.with(o.key, o.v)
  return m
}
const buildNative = (ops: readonly { del: boolean; key: number; v: number }[]): Map<number, number> => {
  const m = new Map<number, number>()
  for (const o of ops) if (o.del) m.delete(o.key); else m.set(o.key, o.v)
  return m
}
/** The keys bound differently in two maps (by ===), as a sorted array. */
const trulyChanged = (a: ReadonlyMap<number, unknown>, b: ReadonlyMap<number, unknown>): number[] =>
  [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.has(k) !== b.has(k) || a.get(k) !== b.get(k)).sort((x, y) => x - y)
const sorted = (ks: readonly number[]): number[] => [...ks].sort((x, y) => x - y)
/** `m` agrees with the native `ref` on every read: entries in order, size, each key, and keys in neither. */
const agrees = (m: PMap<number, number>, ref: ReadonlyMap<number, number>, probes: readonly number[] = []): void => {
  expect([...m]).toEqual([...ref])
  expect(m.size).toBe(ref.size)
  for (const [k, v] of ref) { expect(m.has(k)).toBe(true); expect(m.get(k)).toBe(v) }
  for (const k of probes) { expect(m.has(k)).toBe(ref.has(k)); expect(m.get(k)).toBe(ref.get(k)) }
}

describe("persistent maps and sets behave as native ones, insertion order included", () => {
  it("PMap agrees with Map on every read after any writes, and old versions are unchanged", () => {
    fc.assert(fc.property(opsArb, (ops) => {
      let m = PMap.empty<number, number>()
      const ref = new Map<number, number>()
      const versions: [PMap<number, number>, string][] = []
      for (const o of ops) {
        if (o.del) { m = m.without(o.key); ref.delete(o.key) } else { m = m.with(o.key, o.v); ref.set(o.key, o.v) }
        expect(m.size).toBe(ref.size)
        expect(m.get(o.key)).toBe(ref.get(o.key))
        if (versions.length < 20) versions.push([m, JSON.stringify([...m])])
      }
      expect([...m]).toEqual([...ref])
      expect([...m.keys()]).toEqual([...ref.keys()])
      expect([...m.values()]).toEqual([...ref.values()])
      const each: [number, number][] = []
      m.forEach((v, k) => each.push([k, v]))
      expect(each).toEqual([...ref])
      const probe = ops[0]?.key ?? 0
      expect(m.some((_v, k) => k === probe)).toBe(ref.has(probe))
      // mapSome (spec/state.ts) reads a persistent and a native map alike.
      const found = (v: number, k: number) => k === probe && v === ref.get(probe)
      expect(mapSome(m, found)).toBe(ref.has(probe))
      expect(mapSome(ref, found)).toBe(ref.has(probe))
      expect(mapSome(ref, () => false)).toBe(false)
      for (const [k, v] of ref) expect(m.get(k)).toBe(v)
      expect(deepEqual(m, ref)).toBe(true)
      for (const [old, json] of versions) expect(JSON.stringify([...old])).toBe(json)
    }), { seed: 5, numRuns: 200 })
  })
  it("changedKeys finds exactly the keys whose binding changed, and nothing when none did", () => {
    fc.assert(fc.property(opsArb, opsArb, (base, ops) => {
      let m0 = PMap.empty<number, number>()
      for (const o of base) m0 = o.del ? m0.without(o.key) : m0.with(o.key, o.v)
      let m1 = m0
      for (const o of ops) m1 = o.del ? m1.without(o.key) : m1.with(o.key, o.v)
      const truth = new Set<number>()
      for (const k of new Set([...m0.keys(), ...m1.keys()])) if (m0.has(k) !== m1.has(k) || m0.get(k) !== m1.get(k)) truth.add(k)
      const found = m1.changedKeys(m0)
      expect(sorted(found)).toEqual(sorted([...truth]))
      if (ops.length === 0) expect(found).toEqual([])
    }), { seed: 7, numRuns: 200 })
  })
  it("PSet agrees with Set", () => {
    fc.assert(fc.property(opsArb, (ops) => {
      let s = PSet.empty<number>()
      const ref = new Set<number>()
      for (const o of ops) if (o.del) { s = s.without(o.key); ref.delete(o.key) } else { s = s.with(o.key); ref.add(o.key) }
      expect([...s]).toEqual([...ref])
      expect(s.size).toBe(ref.size)
      expect(deepEqual(s, ref)).toBe(true)
      // forEach as Set's: each member as value and key, in order, the set itself third, `this` as given.
      const seen: unknown[] = []
      const self = { tag: "this" }
      s.forEach(function (this: unknown, v, k, set) { seen.push([v, k, set === s, this]) }, self)
      expect(seen).toEqual([...ref].map((k) => [k, k, true, self]))
    }), { seed: 5, numRuns: 100 })
  })
  it("a persistent map refuses native mutation and survives deep freezing", () => {
    const m = deepFreeze(PMap.from<number, string>([[1, "a"], [2, "b"]]))
    // Every native mutator of both, on maps and sets alike.
    for (const f of ["set", "delete", "clear"] as const) expect(() => (m as unknown as Map<number, string>)[f](1, "x")).toThrow(/purity/)
    for (const f of ["add", "delete", "clear"] as const) expect(() => (PSet.from([1]) as unknown as Set<number>)[f](2)).toThrow(/purity/)
    expect([...m.with(3, "c").without(1)]).toEqual([[2, "b"], [3, "c"]])
    expect(deepEqual(m, new Map([[2, "b"], [1, "a"]]))).toBe(true)
    expect(deepEqual(m, new Map([[1, "a"], [2, "c"]]))).toBe(false)
  })

  it("colliding keys: every write and delete inside collision nodes agrees with Map, old versions unchanged", () => {
    fc.assert(fc.property(collidingOpsArb, (ops) => {
      let m = PMap.empty<number, number>()
      const ref = new Map<number, number>()
      const probes = [...new Set(ops.map((o) => o.key))]
      const versions: [PMap<number, number>, [number, number][]][] = []
      for (const o of ops) {
        if (o.del) { m = m.without(o.key); ref.delete(o.key) } else { m = m.with(o.key, o.v); ref.set(o.key, o.v) }
        agrees(m, ref, probes)
        versions.push([m, [...ref]])
      }
      for (const [old, entries] of versions) agrees(old, new Map(entries), probes)
      // Deleting every key in any order empties the map through the collision nodes.
      for (const k of [...ref.keys()].reverse()) { m = m.without(k); ref.delete(k); agrees(m, ref, probes) }
    }), { seed: 31, numRuns: 300 })
  })
  it("compaction (holes outnumbering live entries) keeps Map's insertion order, and changedKeys across it is exact", () => {
    fc.assert(fc.property(fc.integer({ min: 34, max: 150 }), fc.integer({ min: 0, max: 2 ** 31 }), fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 60 }), (n, salt, readds) => {
      const keys = Array.from({ length: n }, (_, i) => (i * 7919 + salt) % 100_003)
      let m = PMap.empty<number, number>()
      const ref = new Map<number, number>()
      for (const k of keys) { m = m.with(k, k + 1); ref.set(k, k + 1) }
      const before = m
      // Delete four keys in five, so the holes outnumber both 32 and the live entries and the order vector is rebuilt.
      for (const [i, k] of keys.entries()) {
        if (i % 5 === 2) continue
        m = m.without(k); ref.delete(k)
        expect(m.size).toBe(ref.size)
        if (i % 16 === 0) expect([...m]).toEqual([...ref])
      }
      for (const r of readds) { const k = keys[r % n]!; m = m.with(k, r); ref.set(k, r) }
      agrees(m, ref, keys)
      // Compaction rewrites every entry it keeps: those still bound to the same value are not changes.
      expect(sorted(m.changedKeys(before))).toEqual(trulyChanged(m, before))
    }), { seed: 32, numRuns: 30 })
  })
  it("changedKeys against a native Map reports exactly the changed keys (PMap vs Map)", () => {
    fc.assert(fc.property(opsArb, opsArb, (a, b) => {
      const m = buildMap(a)
      // The older map: a native copy of m rewritten by b (shares keys with m), and an unrelated one.
      const older = new Map(m)
      for (const o of b) if (o.del) older.delete(o.key); else older.set(o.key, o.v)
      expect(sorted(m.changedKeys(older))).toEqual(trulyChanged(m, older))
      const unrelated = buildNative(b)
      expect(sorted(m.changedKeys(unrelated))).toEqual(trulyChanged(m, unrelated))
      expect(m.changedKeys(new Map(m))).toEqual([])
    }), { seed: 33, numRuns: 100 })
  })
  it("PSet.changedKeys finds exactly the added and removed members, against a native Set and against a PSet", () => {
    fc.assert(fc.property(opsArb, opsArb, (a, b) => {
      let s0 = PSet.empty<number>()
      for (const o of a) s0 = o.del ? s0.without(o.key) : s0.with(o.key)
      let s1 = s0
      for (const o of b) s1 = o.del ? s1.without(o.key) : s1.with(o.key)
      const truth = [...new Set([...s0, ...s1])].filter((k) => s0.has(k) !== s1.has(k)).sort((x, y) => x - y)
      expect(sorted(s1.changedKeys(new Set(s0)))).toEqual(truth)
      expect(sorted(s0.changedKeys(new Set(s1)))).toEqual(truth)
      expect(sorted(s1.changedKeys(s0))).toEqual(truth)
      expect(s1.changedKeys(new Set(s1))).toEqual([])
    }), { seed: 34, numRuns: 100 })
  })
  it("remap equals new Map([...m].map(f)), order included: renames, swaps, value-only changes, identity, and two keys onto one", () => {
    // Keys in the map and keys outside it (rename targets), colliding ones included.
    const domain = [0, 1, 2, 3, 4, 5, 1 + 2 ** 32, 0.5, 1.5, 0x8000_0010, 0x8000_0020, 2 ** 33 + 16, 18, 40]
    const fArb = fc.record({
      // per domain key: -1 keeps the key, else the index of its new key
      rename: fc.oneof(
        fc.array(fc.oneof(fc.constant(-1), fc.nat(domain.length - 1)), { minLength: domain.length, maxLength: domain.length }),
        // an injective renaming (a permutation of the domain), the common case the in-place path serves
        fc.shuffledSubarray(domain.map((_, i) => i), { minLength: domain.length, maxLength: domain.length }),
        fc.constant(domain.map(() => -1)),
      ),
      bump: fc.array(fc.boolean(), { minLength: domain.length, maxLength: domain.length }),
    })
    const entriesArb = fc.array(fc.record({ del: fc.boolean(), key: fc.constantFrom(...domain), v: fc.integer({ min: 0, max: 9 }) }), { maxLength: 40 })
    fc.assert(fc.property(entriesArb, fArb, (ops, { rename, bump }) => {
      const m = buildMap(ops)
      const snapshot = [...m]
      const f = (k: number, v: number): readonly [number, number] => {
        const i = domain.indexOf(k)
        return [rename[i]! < 0 ? k : domain[rename[i]!]!, bump[i] ? v + 100 : v]
      }
      const expected = new Map([...m].map(([k, v]) => f(k, v)))
      const r = m.remap(f)
      agrees(r, expected, domain)
      expect([...m]).toEqual(snapshot)
      // The result is a sound map: later writes, deletes and diffs behave as on the native one.
      const ref = new Map(expected)
      let r2 = r
      for (const k of domain) { r2 = r2.with(k, 7); ref.set(k, 7) }
      agrees(r2, ref, domain)
      for (const k of trulyChanged(m, r)) expect(r.changedKeys(m)).toContain(k)
      for (const k of [...expected.keys()]) { r2 = r.without(k); const e = new Map(expected); e.delete(k); agrees(r2, e, domain) }
      // PSet.remap renames members the same way (new Set([...s].map(f))).
      const s = PSet.from(m.keys())
      const g = (k: number): number => f(k, 0)[0]
      const rs = s.remap(g)
      expect([...rs]).toEqual([...new Set([...s].map(g))])
      expect(rs.size).toBe(new Set([...s].map(g)).size)
      for (const k of domain) expect(rs.has(k)).toBe(new Set([...s].map(g)).has(k))
    }), { seed: 35, numRuns: 400 })
  })
  it("remap: fixed cases (a swap, a rename onto a later key whose value also changes, identity)", () => {
    const m = PMap.from<number, string>([[1, "a"], [2, "b"], [3, "c"]])
    expect([...m.remap((k, v) => [k === 1 ? 2 : k === 2 ? 1 : k, v])]).toEqual([[2, "a"], [1, "b"], [3, "c"]])
    expect([...m.remap((k, v) => [k === 1 ? 3 : k, k === 3 ? "C" : v])]).toEqual([[3, "C"], [2, "b"]])
    expect([...m.remap((k, v) => [k === 3 ? 1 : k, v])]).toEqual([[1, "c"], [2, "b"]])
    expect([...m.remap((k, v) => [k, v])]).toEqual([...m])
    expect([...PSet.from<number>([1, 2, 3]).remap((k) => (k === 3 ? 11 : k + 10))]).toEqual([11, 12])
  })
})

