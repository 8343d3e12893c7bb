// The argument-boundary table names real arguments, and the boundary choices of an ordinary
// campaign put every bounded argument on both sides of its bound: just past it the decoder
// refuses (the error docs/syscalls.md lists), at it the same check passes.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { abiEntry } from "../../model/abi.ts"
import { defaultBootConfig } from "../../model/index.ts"
import { argAlignments, argBounds, boundAt } from "../../harness/gen/boundaries.ts"
import { messageLengthEdges } from "../../harness/gen/resolveUtil.ts"
import { messageInfoFromWord, msgMaxLength } from "../../model/index.ts"
import { capAt } from "../../harness/query.ts"
import { resolveChoice, traceArb } from "../../harness/gen/choices.ts"
import { lockstep } from "../../harness/lockstep/runner.ts"

// The four cache operations of a page directory (and of a frame) share one decoder: a bound counts as
// reached when any of them reaches it.
const family = (entry: string): string => entry.replace(/_(Clean_Data|Invalidate_Data|CleanInvalidate_Data|Unify_Instruction)$/, "_<flush>")

describe("argument boundaries", () => {
  it("every bounded argument is an argument of its ABI entry", () => {
    for (const b of [...argBounds, ...argAlignments]) {
      expect(abiEntry(b.entry)?.args.map((a) => a.name), `${b.entry}.${b.arg}`).toContain(b.arg)
    }
  })

  it("a campaign puts every bounded argument on both sides of its bound, the outside ending in an error the ABI table lists", () => {
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
        const entry = r.outcome === undefined ? undefined : abiEntry(r.outcome.invocation)
        if (e.tag !== "Syscall" || entry === undefined) continue
        for (const b of argBounds.filter((x) => x.entry === entry.name)) {
          const i = entry.args.findIndex((a) => a.name === b.arg)
          const range = boundAt(b, s, s.curThread, e)
          if (i < 0 || i >= e.mrs.length || range === undefined) continue
          const [lo, hi] = range
          const v = e.mrs[i]!
          const k = `${family(entry.name)}.${b.arg}`
          const m = seen.get(k) ?? seen.set(k, { outside: new Set(), inside: new Set() }).get(k)!
          if (v === ((lo - 1) >>> 0) || v === hi + 1) {
            m.outside.add(r.outcome!.result)
            expect([...errorsOf(entry.name), "CapFault"], `${k} = ${v}`).toContain(r.outcome!.result)
          }
          if (v === lo || v === hi) m.inside.add(r.outcome!.result)
        }
      }
}), { numRuns: 700, seed: 17 })
    const missing = [...new Set(argBounds.map((b) => `${family(b.entry)}.${b.arg}`))].filter((k) => (seen.get(k)?.outside.size ?? 0) === 0 || (seen.get(k)?.inside.size ?? 0) === 0)
    if (process.env.KSPEC_VERBOSE) console.log([...seen].map(([k, v]) => `${k}: outside ${[...v.outside]} inside ${[...v.inside]}`).join("\n"))
    expect(missing).toEqual([])
  }, 120_000)

  it("a campaign sends messages of every edge length to a waiting receiver, which is told at most seL4_MsgMaxLength words", () => {
    // Lengths past the maximum fit the 7-bit field and are clamped by the kernel: a receiver that
    // was waiting on the endpoint is told min(length, 120) words, or fewer (no receive buffer).
    const delivered = new Set<number>()
    fc.assert(fc.property(traceArb(150), (trace) => {
      const h = lockstep(defaultBootConfig, { fullEvery: 32 })
      for (const c of trace) {
        const s = h.spec
        const e = resolveChoice(s, c)
        const cap = e.tag === "Syscall" && (e.syscall === "Send" || e.syscall === "NBSend" || e.syscall === "Call") ? capAt(s, s.curThread, e.cptr) : undefined
        const ep = cap?.tag === "EndpointCap" ? s.kheap.get(cap.ptr) : undefined
        const receiver = ep?.tag === "Endpoint" && ep.state.tag === "RecvEP" ? ep.state.queue[0] : undefined
        const r = h.step(e)
        expect(r.failure).toBeNull()
        // Delivered: a Send that completed, or a Call whose caller now waits for the reply (not a fault's message).
        const got = receiver === undefined || (r.outcome?.result !== "Success" && r.outcome?.result !== "Blocked") ? undefined : h.spec.kheap.get(receiver)
        if (e.tag !== "Syscall" || got?.tag !== "TCB" || got.tcbState.tag !== "Running") continue
        const length = e.msgInfo & 0x7f
        expect(messageInfoFromWord(got.tcbContext.msgInfo).length).toBeLessThanOrEqual(Math.min(length, msgMaxLength))
        if (messageLengthEdges.includes(length)) delivered.add(length)
      }
    }), { numRuns: 300, seed: 17 })
    expect([...delivered].sort((a, b) => a - b)).toEqual([...messageLengthEdges].sort((a, b) => a - b))
  }, 120_000)
})
