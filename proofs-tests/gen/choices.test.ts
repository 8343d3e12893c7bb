import fc from "fast-check"
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import type { BootConfig, Event } from "../../model/index.ts"
import { EventSchema, defaultBootConfig } from "../../model/index.ts"
import type { KernelState } from "../../spec/index.ts"
import { boot, step, stepWithOutcome } from "../../spec/index.ts"
import { deepFreeze } from "../../harness/lockstep/freeze.ts"
import type { Choice } from "../../harness/gen/choices.ts"
import { Ops, defaultWeights, resolveChoice, traceArb, weightsFor } from "../../harness/gen/choices.ts"
import { domainsBootConfig } from "../../harness/configs.ts"
import { threads } from "../../harness/gen/stateView.ts"
import { addressBook, buildAddressBook } from "../../harness/gen/addressBook.ts"

const config = defaultBootConfig
const sample = (runs: number, depth: number, seed: number) => fc.sample(traceArb(depth), { numRuns: runs, seed }) as Choice[][]

/** Walk traces through the spec, calling `f` with each state (deep-frozen), choice and resolved event. */
const walk = (traces: readonly Choice[][], f: (s: KernelState, c: Choice, e: Event) => void, cfg: BootConfig = config) => {
  for (const trace of traces) {
    let s = deepFreeze(boot(cfg))
    for (const c of trace) {
      const e = resolveChoice(s, c)
      f(s, c, e)
      s = deepFreeze(step(s, e))
    }
  }
}

describe("choice resolution", () => {
  it("reuses an address book only while it equals a fresh one", () => {
    let reused = 0
    let checked = 0
    const last = new Map<number, unknown>()
    walk(sample(20, 80, 31), (s) => {
      for (const { ptr: t } of threads(s)) {
        const book = addressBook(s, t)
        expect(book).toEqual(buildAddressBook(s, t).book)
        checked++
        if (book === last.get(t)) reused++
        last.set(t, book)
      }
    })
    expect(checked).toBeGreaterThan(500)
    expect(reused).toBeGreaterThan(checked / 4)
  })

  it("has one weight per op, every op drawable", () => {
    expect(Ops.length).toBe(Object.keys(defaultWeights).length)
    for (const o of Ops) expect(defaultWeights[o]).toBeGreaterThan(0)
  })

  it("is a pure function of (state, choice): same event twice, state untouched (frozen)", () => {
    walk(sample(15, 120, 11), (s, c, e) => {
      expect(resolveChoice(s, c)).toStrictEqual(e)
    })
  })

  it("resolves every choice to a valid event; while the idle thread runs, only to an interrupt or a timer tick", () => {
    let idle = 0
    walk(sample(20, 150, 12), (s, _c, e) => {
      expect(Schema.is(EventSchema)(e)).toBe(true)
      if (s.curThread === s.idleThread) {
        idle++
        expect(e.tag === "Interrupt" || e.tag === "TimerTick").toBe(true)
      }
    })
    expect(idle).toBeGreaterThanOrEqual(0)
  })

  it("with three domains too: pure, every event valid, the idle thread (an empty domain) only ticks or takes interrupts", () => {
    const traces = fc.sample(traceArb(150, weightsFor(domainsBootConfig)), { numRuns: 20, seed: 14 }) as Choice[][]
    let idle = 0
    walk(traces, (s, c, e) => {
      expect(resolveChoice(s, c)).toStrictEqual(e)
      expect(Schema.is(EventSchema)(e)).toBe(true)
      expect(stepWithOutcome(s, e).outcome.result).not.toBe("Idle")
      if (s.curThread === s.idleThread) { idle++; expect(e.tag === "Interrupt" || e.tag === "TimerTick").toBe(true) }
    }, domainsBootConfig)
    expect(idle).toBeGreaterThan(0)
  })

  it("no step is skipped: a thread other than idle is current for the syscalls and faults it makes", () => {
    let steps = 0
    let idleOutcomes = 0
    walk(sample(20, 150, 13), (s, _c, e) => {
      steps++
      if (stepWithOutcome(s, e).outcome.result === "Idle") idleOutcomes++
    })
    expect(idleOutcomes).toBe(0)
    expect(steps).toBeGreaterThan(100)
  })

  it("shrinks a failing trace to a few steps (here: a thread blocked waiting for a reply)", () => {
    const prop = fc.property(traceArb(150), (trace) => {
      let s = boot(config)
      for (const c of trace) {
        s = step(s, resolveChoice(s, c))
        if (threads(s).some((t) => t.tcb.tcbState.tag === "BlockedOnReply")) return false
      }
      return true
    })
    const r = fc.check(prop, { seed: 5, numRuns: 200 })
    expect(r.failed).toBe(true)
    const trace = r.counterexample![0] as Choice[]
    // Retype an endpoint, a TCB and a page directory, configure and resume the TCB, Call: about six.
    expect(trace.length).toBeLessThanOrEqual(10)
  })
})
