/**
 * Scheduler states the random campaign reaches seldom, each the start of a family of traces: a
 * signal wakes a bound thread out of an endpoint receive while a thread of the same priority waits
 * ready. Stopping the woken thread for a moment (cancelIPC) must not make the scheduler choose
 * anew, so the woken thread goes behind the ready one; the impl must agree step by step, on the
 * scenario and on random traces from it.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { Event } from "../../model/index.ts"
import { defaultBootConfig } from "../../model/index.ts"
import { boot, stepWithOutcome } from "../../spec/index.ts"
import type { KernelState } from "../../spec/index.ts"
import { readyQueueIndex } from "../../spec/state.ts"
import { capAt } from "../../harness/query.ts"
import { seL4_Signal } from "../../harness/builders.ts"
import { resolveChoice, traceArb } from "../../harness/gen/choices.ts"
import { describeFailure, runEvents } from "../../harness/lockstep/runner.ts"
import { realImpl } from "../../harness/lockstep/impls.ts"
import { BoundWakeSlots as S, boundWakeSetup } from "../../harness/scenarios/boundWake.ts"
import { suiteBudget } from "./budget.ts"

const run = (events: readonly Event[]): KernelState => events.reduce((s, e) => stepWithOutcome(s, e).state, boot(defaultBootConfig))
const ptrOf = (s: KernelState, cptr: number): number => {
  const c = capAt(s, s.curThread, cptr)
  if (c === undefined || !("ptr" in c)) throw new Error(`no object cap at ${cptr}`)
  return c.ptr
}
const state = (s: KernelState, t: number): string | undefined => { const o = s.kheap.get(t); return o?.tag === "TCB" ? o.tcbState.tag : undefined }

describe("a signal wakes a bound thread out of an endpoint receive, with an equal thread ready", () => {
  it("the woken thread goes behind the ready one; the root thread runs on; the impl agrees at every step", () => {
    const setup = boundWakeSetup()
    const s0 = run(setup)
    const bound = ptrOf(s0, S.bound)
    const ready = ptrOf(s0, S.ready)
    const rootThread = s0.curThread
    // The scene as meant: the bound thread receiving, the other ready in the queue, the root running.
    expect(state(s0, bound)).toBe("BlockedOnReceive")
    expect(s0.readyQueues.get(readyQueueIndex(0, 255))).toEqual([ready])
    const events = [...setup, seL4_Signal(S.ntfn)]
    const s = run(events)
    expect(state(s, bound)).toBe("Running")
    expect(s.curThread).toBe(rootThread)
    expect(s.readyQueues.get(readyQueueIndex(0, 255))).toEqual([ready, bound])
    const r = runEvents(realImpl, defaultBootConfig, events, { fullEvery: 0 })
    expect(r.failure === null ? "" : describeFailure(r.failure)).toBe("")
  })

  const b = suiteBudget()
  it(`and random traces from there (seed=${b.seed})`, () => {
    const setup = boundWakeSetup()
    const s0 = run(setup)
    fc.assert(
      fc.property(traceArb(60), (choices) => {
        let s = s0
        const events: Event[] = [...setup]
        for (const c of choices) {
          const e = resolveChoice(s, c)
          s = stepWithOutcome(s, e).state
          events.push(e)
        }
        const r = runEvents(realImpl, defaultBootConfig, events)
        if (r.failure) throw new Error(describeFailure(r.failure))
      }),
      { seed: b.seed, numRuns: 12 },
    )
  })
})
