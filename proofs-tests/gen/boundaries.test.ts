// The argument-boundary table names real arguments, and the boundary choices of an ordinary
// campaign put every bounded argument on both sides of its bound: just past it the decoder
// refuses (the error docs/syscalls.md lists), at it the same check passes.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { abiEntry } from "../../model/abi.ts"
import { defaultBootConfig } from "../../model/index.ts"
import { argAlignments, argBounds, boundAt } from "../../harness/gen/boundaries.ts"
import { isBoundary, resolveChoice, traceArb } from "../../harness/gen/choices.ts"
import { lockstep } from "../../harness/lockstep/runner.ts"

describe("argument boundaries", () => {
  it("every bounded argument is an argument of its ABI entry", () => {
    for (const b of [...argBounds, ...argAlignments]) {
      expect(abiEntry(b.entry)?.args.map((a) => a.name), `${b.entry}.${b.arg}`).toContain(b.arg)
    }
  })

  it("a campaign's boundary choices reach both sides of every bound, each ending as the decoder says", () => {
    // (entry.arg) -> results seen just outside and exactly at a bound.
    const seen = new Map<string, { outside: Set<string>; inside: Set<string> }>()
    const errorsOf = (entry: string) => new Set(abiEntry(entry)!.errors.map((e) => e.error))
    fc.assert(fc.property(traceArb(150), (trace) => {
      const h = lockstep(defaultBootConfig, { fullEvery: 32 })
      for (const c of trace) {
        const s = h.spec
        const e = resolveChoice(s, c)
        const r = h.step(e)
        expect(r.failure).toBeNull()
        if (!isBoundary(c) || e.tag !== "Syscall" || r.outcome === undefined) continue
        const plain = resolveChoice(s, { ...c, hostile: 0 })
        const entry = abiEntry(r.outcome.invocation)
        if (plain.tag !== "Syscall" || entry === undefined) continue
        const i = e.mrs.findIndex((v, j) => v !== plain.mrs[j])
        if (i < 0) continue
        const arg = entry.args[i]?.name
        const b = argBounds.find((x) => x.entry === entry.name && x.arg === arg)
        if (b === undefined) continue
        const v = e.mrs[i]!
        const range = boundAt(b, s, s.curThread, e)
        if (range === undefined) continue
        const [lo, hi] = range
        const outside = v === ((lo - 1) >>> 0) || v === hi + 1
        const inside = v === lo || v === hi
        const k = `${entry.name}.${arg}`
        const m = seen.get(k) ?? seen.set(k, { outside: new Set(), inside: new Set() }).get(k)!
        if (outside) m.outside.add(r.outcome.result)
        if (inside) m.inside.add(r.outcome.result)
        if (outside) expect([...errorsOf(entry.name), "CapFault"]).toContain(r.outcome.result)
      }
    }), { numRuns: 400, seed: 17 })
    const missing = argBounds.map((b) => `${b.entry}.${b.arg}`).filter((k) => (seen.get(k)?.outside.size ?? 0) === 0 || (seen.get(k)?.inside.size ?? 0) === 0)
    expect(missing).toEqual([])
  }, 120_000)
})
