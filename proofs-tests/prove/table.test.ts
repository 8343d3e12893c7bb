import { describe, expect, it } from "vitest"
import { FingerprintTable, collisionProbability } from "../../harness/prove/table.ts"

describe("the fingerprint table", () => {
  it("adds each 64-bit fingerprint once, grows past its first capacity, and answers membership", () => {
    const t = new FingerprintTable(16)
    const keys: [number, number][] = []
    let x = 0x12345678
    const rnd = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0)
    for (let i = 0; i < 50_000; i++) keys.push([rnd(), rnd()])
    for (const [lo, hi] of keys) expect(t.add(lo, hi)).toBe(true)
    expect(t.size).toBe(50_000)
    expect(t.capacity).toBeGreaterThanOrEqual(100_000)
    for (const [lo, hi] of keys.slice(0, 1000)) { expect(t.add(lo, hi)).toBe(false); expect(t.has(lo, hi)).toBe(true) }
    expect(t.has(1, 2)).toBe(keys.some(([lo, hi]) => lo === 1 && hi === 2))
    expect(t.size).toBe(50_000)
  })
  it("tells apart fingerprints that share a lane, and stores the zero fingerprint", () => {
    const t = new FingerprintTable()
    expect(t.add(7, 1)).toBe(true)
    expect(t.add(7, 2)).toBe(true)
    expect(t.add(8, 1)).toBe(true)
    expect(t.add(0, 0)).toBe(true)
    expect(t.add(0, 0)).toBe(false)
    expect(t.has(0, 0)).toBe(true)
    expect(t.size).toBe(4)
  })
  it("estimates the collision probability as TLC does: n^2 / 2^65", () => {
    expect(collisionProbability(1)).toBe(0)
    expect(collisionProbability(1e6) / (1e12 / 2 ** 65)).toBeCloseTo(1, 5)
    expect(collisionProbability(2 ** 40)).toBe(1)
  })
})
