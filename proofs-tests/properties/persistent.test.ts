import { describe, expect, it } from "vitest"
import fc from "fast-check"
import { PMap, PSet } from "../../spec/persistent.ts"
import { deepFreeze } from "../../harness/lockstep/freeze.ts"
import { deepEqual } from "../../harness/lockstep/diff.ts"

/** Random writes to a persistent map and a native Map, key ranges chosen to force deep tries and holes. */
const opsArb = fc.array(
  fc.record({ del: fc.boolean(), key: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 2000 }).map((k) => 0x8000_0000 + k * 16), fc.constant(2 ** 33 + 16)), v: fc.integer() }),
  { maxLength: 400 },
)

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
      for (const [k, v] of ref) expect(m.get(k)).toBe(v)
      expect(deepEqual(m, ref)).toBe(true)
      for (const [old, json] of versions) expect(JSON.stringify([...old])).toBe(json)
    }), { seed: 5, numRuns: 200 })
  })
  it("changedKeys finds every key whose binding changed, and nothing when none did", () => {
    fc.assert(fc.property(opsArb, opsArb, (base, ops) => {
      let m0 = PMap.empty<number, number>()
      for (const o of base) m0 = o.del ? m0.without(o.key) : m0.with(o.key, o.v)
      let m1 = m0
      for (const o of ops) m1 = o.del ? m1.without(o.key) : m1.with(o.key, o.v)
      const truth = new Set<number>()
      for (const k of new Set([...m0.keys(), ...m1.keys()])) if (m0.has(k) !== m1.has(k) || m0.get(k) !== m1.get(k)) truth.add(k)
      const found = m1.changedKeys(m0)
      for (const k of truth) expect(found).toContain(k)
      expect(new Set(found).size).toBe(found.length)
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
    }), { seed: 5, numRuns: 100 })
  })
  it("a persistent map refuses native mutation and survives deep freezing", () => {
    const m = deepFreeze(PMap.from<number, string>([[1, "a"], [2, "b"]]))
    expect(() => (m as unknown as Map<number, string>).set(3, "c")).toThrow(/purity/)
    expect(() => (PSet.from([1]) as unknown as Set<number>).add(2)).toThrow(/purity/)
    expect([...m.with(3, "c").without(1)]).toEqual([[2, "b"], [3, "c"]])
    expect(deepEqual(m, new Map([[2, "b"], [1, "a"]]))).toBe(true)
    expect(deepEqual(m, new Map([[1, "a"], [2, "c"]]))).toBe(false)
  })
})
