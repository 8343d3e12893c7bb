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
import { InitialSlot, InvocationLabel as L, defaultBootConfig, messageInfo } from "../../model/index.ts"
import { Kernel } from "../../impl/index.ts"
import { boot, stepWithOutcome } from "../../spec/index.ts"
import { absState } from "../relation/abstract.ts"
import { stateDiff, statesEqual } from "../lockstep/diff.ts"
import { resolveChoice, traceArb } from "../gen/choices.ts"
import { PingPongSlots as S, clientCall, pingPongSetup, serverReplyRecv } from "../scenarios/pingpong.ts"
import { suiteBudget } from "./budget.ts"
import { describeFailure, runEvents } from "../lockstep/runner.ts"
import { realImpl } from "../lockstep/impls.ts"

const sys = (syscall: "Call" | "ReplyRecv" | "Send" | "Recv" | "NBRecv", cptr: number, msgInfo: number, mrs: number[] = [], extraCaps: number[] = []): Event =>
  ({ tag: "Syscall", syscall, cptr, msgInfo, mrs, extraCaps })

/** A slot for a copy of the endpoint cap with fewer rights. */
const weakEp = 110
/**
 * Rounds of a ping-pong: mostly a Call and its ReplyRecv, with each fastpath precondition broken
 * now and then, and the odd lone event that puts client and server out of step.
 */
const pingPongRound: fc.Arbitrary<readonly Event[]> = fc.oneof(
  { arbitrary: fc.tuple(fc.nat({ max: 8 }), fc.nat({ max: 8 })).map(([n, m]) => [clientCall(n), serverReplyRecv(m)]), weight: 20 },
  { arbitrary: fc.nat({ max: 8 }).map((n) => [clientCall(n)]), weight: 1 },
  { arbitrary: fc.nat({ max: 8 }).map((n) => [serverReplyRecv(n)]), weight: 1 },
  ...([

  // A message info word of any shape: long messages, extra caps, odd labels.
  { arbitrary: fc.tuple(fc.constantFrom("Call", "ReplyRecv") as fc.Arbitrary<"Call" | "ReplyRecv">, fc.nat({ max: 0xffff_ffff }), fc.nat({ max: 3 })).map(([k, w, e]) => sys(k, S.ep, w, [1, 2, 3, 4, 5, 6], [S.ep, InitialSlot.InitThreadCNode, 1].slice(0, e))), weight: 3 },
  // A copy of the endpoint cap with some rights (maybe without Grant/GrantReply or Write), then Call through it.
  { arbitrary: fc.nat({ max: 15 }).map((r) => sys("Call", InitialSlot.InitThreadCNode, messageInfo(L.CNodeMint, 6, 1), [weakEp, 32, S.ep, 32, r, 0], [InitialSlot.InitThreadCNode])), weight: 1 },
  { arbitrary: fc.nat({ max: 4 }).map((n) => sys("Call", weakEp, messageInfo(1, n))), weight: 2 },
  { arbitrary: fc.constant(sys("Call", InitialSlot.InitThreadCNode, messageInfo(L.CNodeDelete, 2), [weakEp, 32])), weight: 1 },
  // The server's priority changes; the client yields; time passes; faults happen.
  { arbitrary: fc.nat({ max: 255 }).map((p) => sys("Call", S.server, messageInfo(L.TCBSetPriority, 1, 1), [p], [InitialSlot.InitThreadTCB])), weight: 1 },
  { arbitrary: fc.constant<Event>({ tag: "Syscall", syscall: "Yield", cptr: 0, msgInfo: 0, mrs: [], extraCaps: [] }), weight: 1 },
  { arbitrary: fc.constant<Event>({ tag: "TimerTick" }), weight: 1 },
  { arbitrary: fc.constant(sys("NBRecv", S.ep, 0)), weight: 1 },
  { arbitrary: fc.constant(sys("Send", S.ep, messageInfo(0, 1), [9])), weight: 1 },
  ] as { arbitrary: fc.Arbitrary<Event>; weight: number }[]).map(({ arbitrary, weight }) => ({ arbitrary: arbitrary.map((e) => [e]), weight })),
)

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
