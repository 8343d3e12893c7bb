/**
 * Incremental checking stays sound: a change outside what a step touched is still caught, at the
 * step it happens (the impl-side scan is exact) or at the next full check (impl-only invariants,
 * periodic spec invariants), and the failure reported is the one full checking reports.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { Event } from "../../model/index.ts"
import { defaultBootConfig } from "../../model/index.ts"
import type { Kernel } from "../../impl/index.ts"
import { boot } from "../../spec/index.ts"
import type { KernelState } from "../../spec/state.ts"
import { checkAll, checkChanged, invariantModes, invariants, stateDelta, validCap } from "../../spec/invariants/index.ts"
import { traceArb } from "../gen/choices.ts"
import { realImpl } from "../lockstep/impls.ts"
import type { ImplUnderTest } from "../lockstep/runner.ts"
import { runChoices, runEvents } from "../lockstep/runner.ts"
import { loadMutant } from "../mutants/build.ts"
import { mutants } from "../mutants/mutants.ts"
import { pingPongRound, pingPongSetup } from "../scenarios/pingpong.ts"
import { absState } from "./abstract.ts"
import { IncrementalAbs } from "./incremental.ts"

/** The real impl with `corrupt` applied right after step `at`. */
const corruptedAfter = (at: number, corrupt: (k: Kernel) => void): ImplUnderTest<Kernel> => {
  let n = 0
  return { ...realImpl, boot: (c) => { n = 0; return realImpl.boot(c) }, step: (k, ev) => { realImpl.step(k, ev); if (++n === at) corrupt(k) } }
}

const events: Event[] = fc.sample(fc.array(pingPongRound, { minLength: 8, maxLength: 8 }).map((rs) => rs.flat()), { numRuns: 1, seed: 7 })[0]!
const trace = [...pingPongSetup(), ...events]

describe("incremental checking catches changes outside the tracked set", () => {
  const cases: [string, (k: Kernel) => void, "divergence" | "invariant"][] = [
    ["an idle TCB's priority", (k) => { k.idleThread.tcbPriority = 77 }, "divergence"],
    ["a CTE's cap in the root CNode", (k) => {
      const root = [...k.objects.values()].find((o) => o.tag === "CNode" && o !== k.irqNode)!
      const c = root.tag === "CNode" ? root.slots.find((x) => x !== undefined && x.cap.tag === "EndpointCap") : undefined
      if (c !== undefined && c.cap.tag === "EndpointCap") c.cap = { ...c.cap, rights: c.cap.rights ^ 1 }
      else k.idleThread.tcbMCP = 3
    }, "divergence"],
    ["an endpoint queue link of an unqueued thread (impl-only: the periodic full check)", (k) => { k.idleThread.tcbEPNext = k.curThread }, "invariant"],
  ]
  for (const [what, corrupt, kind] of cases) {
    it(`${what}: reported as full checking reports it`, () => {
      const full = runEvents(corruptedAfter(pingPongSetup().length + 3, corrupt), defaultBootConfig, trace)
      const incr = runEvents(corruptedAfter(pingPongSetup().length + 3, corrupt), defaultBootConfig, trace, { fullEvery: 32 })
      expect(full.failure?.kind).toBe(kind)
      expect(incr.failure).toEqual(full.failure)
      expect(incr.events.length).toBe(full.events.length)
    })
  }

  it("the impl-side scan finds a corrupted untouched object at the step it happens (no full check needed)", () => {
    const k = realImpl.boot(defaultBootConfig)
    const inc = new IncrementalAbs(k)
    expect(inc.update(k).objects.size).toBe(0)
    k.idleThread.tcbPriority = 9
    const d = inc.update(k)
    expect(d.all || d.objects.has(k.idleThread.base)).toBe(true)
    expect(inc.asState(k)).toEqual(absState(k))
  })

  it("a spec-side violation in an untouched object is missed by the incremental forms and caught by the full check", () => {
    const s0 = boot(defaultBootConfig)
    // Point an endpoint cap (or any object cap) at nothing: valid_cap (periodic) breaks.
    const [slot, cap] = [...s0.caps].find(([, c]) => c.tag === "CNodeCap")!
    const bad: KernelState = { ...s0, caps: new Map(s0.caps).set(slot, { ...cap, ptr: 0x7000_0000 } as typeof cap) }
    // Outside the tracked set: a delta that does not name the slot.
    expect(checkChanged(bad, s0, { objects: new Set(), slots: new Set() })).toEqual([])
    expect(checkAll(bad).some((v) => v.invariant === validCap.name)).toBe(true)
    // And when the delta is computed (by reference), the changed slot is tracked.
    expect(stateDelta(s0, bad).slots.has(slot)).toBe(true)
  })

  it("every invariant has a mode, and the incremental ones agree with full checking on boot", () => {
    expect(invariantModes.size).toBe(invariants.length)
    const s = boot(defaultBootConfig)
    expect(checkChanged(s, s, stateDelta(s, s))).toEqual([])
  })
})

describe("the cached impl image is exact", () => {
  it("equals absState after every step of random traces, and its delta covers every change", () => {
    for (const t of fc.sample(traceArb(80), { numRuns: 5, seed: 99 })) {
      let inc: IncrementalAbs | null = null
      let prev: KernelState | null = null
      runChoices({
        ...realImpl,
        step: (k, ev) => {
          realImpl.step(k, ev)
          inc ??= new IncrementalAbs(k, prev ?? undefined)
          const d = inc.update(k)
          const now = absState(k)
          expect(inc.asState(k)).toEqual(now)
          if (!d.all && prev !== null) {
            const sd = stateDelta(prev, now)
            for (const p of now.kheap.keys()) if (!d.objects.has(p)) expect(now.kheap.get(p)).toEqual(prev.kheap.get(p))
            for (const s of sd.slots) if (!d.slots.has(s)) expect([now.caps.get(s), now.cdt.get(s), now.cdtList.get(s), now.isOriginal.has(s)]).toEqual([prev.caps.get(s), prev.cdt.get(s), prev.cdtList.get(s), prev.isOriginal.has(s)])
          }
          prev = now
        },
      }, defaultBootConfig, t, { invariants: false })
    }
  })
})

describe("incremental and full checking report the same first failure", () => {
  const traces = fc.sample(traceArb(100), { numRuns: 6, seed: 4242 })
  it("on random traces of the real impl", () => {
    for (const t of traces) expect(runChoices(realImpl, defaultBootConfig, t, { fullEvery: 8 }).failure).toEqual(runChoices(realImpl, defaultBootConfig, t).failure)
  })
  for (const m of mutants) {
    it(`mutant ${m.name}`, async () => {
      const impl = await loadMutant(m)
      for (const t of traces) {
        const full = runChoices(impl, defaultBootConfig, t)
        const incr = runChoices(impl, defaultBootConfig, t, { fullEvery: 8 })
        expect(incr.failure).toEqual(full.failure)
        expect(incr.events.length).toBe(full.events.length)
      }
      const pp = runEvents(impl, defaultBootConfig, trace, { fullEvery: 8 })
      expect(pp.failure).toEqual(runEvents(impl, defaultBootConfig, trace).failure)
    }, 60_000)
  }
})
