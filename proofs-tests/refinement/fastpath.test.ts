/**
 * The IPC fastpath is an optimisation, not a semantics: wherever it applies, an impl that takes
 * it and one forced down the slow path end every step in the same abstract state. Checked on
 * ping-pong traces (where the fastpath mostly applies, and its preconditions are knocked out
 * one by one: long messages, extra caps, caps without Grant or Write, other priorities, ticks) and on
 * the general lockstep traces. The fastpath must also have been taken, or the property says nothing.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { Event } from "../../model/index.ts"
import { defaultBootConfig } from "../../model/index.ts"
import { Kernel } from "../../impl/index.ts"
import { boot, stepWithOutcome } from "../../spec/index.ts"
import { absState } from "../../harness/relation/abstract.ts"
import { stateDiff, statesEqual } from "../../harness/lockstep/diff.ts"
import { resolveChoice, traceArb } from "../../harness/gen/choices.ts"
import { PingPongSlots as S, pingPongRound, pingPongSetup } from "../../harness/scenarios/pingpong.ts"
import { suiteBudget } from "./budget.ts"
import { describeFailure, runEvents } from "../../harness/lockstep/runner.ts"
import { realImpl } from "../../harness/lockstep/impls.ts"

/** Run the events on a fastpath impl and a slow-path impl; the first step where they differ, or null. */
const compare = (setup: readonly Event[], events: readonly Event[]): { diff: string[] | null; hits: number } => {
  const fast = Kernel.boot(defaultBootConfig, { fastpath: true })
  const slow = Kernel.boot(defaultBootConfig, { fastpath: false })
  for (const e of setup) { fast.step(e); slow.step(e) }
  const before = fast.fastpathHits
  for (let i = 0; i < events.length; i++) {
    fast.step(events[i]!)
    slow.step(events[i]!)
    const a = absState(fast)
    const b = absState(slow)
    if (!statesEqual(a, b)) return { diff: [`step ${i}:`, ...stateDiff(b, a)], hits: fast.fastpathHits - before }
  }
  return { diff: null, hits: fast.fastpathHits - before }
}

describe("the IPC fastpath agrees with the slow path wherever it applies", () => {
  const b = suiteBudget()
  it(`on ping-pong traces with broken preconditions (seed=${b.seed})`, () => {
    let hits = 0
    let plain = 0
    fc.assert(
      fc.property(fc.array(pingPongRound, { minLength: 1, maxLength: 40 }).map((rs) => rs.flat()), (events) => {
        const r = compare(pingPongSetup(), events)
        hits += r.hits
        plain += events.filter((e) => e.tag === "Syscall" && (e.syscall === "Call" || e.syscall === "ReplyRecv") && e.cptr === S.ep && (e.msgInfo & 0x1ff) <= 4).length
        if (r.diff !== null) throw new Error(r.diff.join("\n"))
      }),
      { seed: b.seed, numRuns: b.runs * 2 },
    )
    // The property is only worth something if the fastpath ran: a good share of the short Calls
    // and ReplyRecvs on the endpoint take it (others find the wrong thread current or a broken precondition).
    expect(hits).toBeGreaterThan(plain / 4)
    if (process.env.KSPEC_VERBOSE) console.log(`fastpath taken ${hits} times for ${plain} short Calls/ReplyRecvs`)
  })

  it(`and the fastpath impl refines the spec on the same traces, invariants included (seed=${b.seed})`, () => {
    fc.assert(
      fc.property(fc.array(pingPongRound, { minLength: 1, maxLength: 40 }).map((rs) => rs.flat()), (events) => {
        const r = runEvents(realImpl, defaultBootConfig, [...pingPongSetup(), ...events])
        if (r.failure) throw new Error(describeFailure(r.failure))
      }),
      { seed: b.seed, numRuns: b.runs },
    )
  })

  it(`on the general lockstep traces (seed=${b.seed})`, () => {
    fc.assert(
      fc.property(traceArb(b.depth), (choices) => {
        let s = boot(defaultBootConfig)
        const events: Event[] = []
        for (const c of choices) {
          const e = resolveChoice(s, c)
          s = stepWithOutcome(s, e).state
          events.push(e)
        }
        const r = compare([], events)
        if (r.diff !== null) throw new Error(r.diff.join("\n"))
      }),
      { seed: b.seed, numRuns: b.runs },
    )
  })
})
