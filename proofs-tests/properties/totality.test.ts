import fc from "fast-check"
import { describe, it } from "vitest"
import type { Event } from "../../model/index.ts"
import { SyscallKinds, UserFaultKinds, defaultBootConfig } from "../../model/index.ts"
import { runEvents } from "../../harness/lockstep/runner.ts"
import { realImpl } from "../../harness/lockstep/impls.ts"
import { suiteBudget } from "../refinement/budget.ts"

const word = fc.oneof(fc.nat({ max: 300 }), fc.nat({ max: 0xffff_ffff }), fc.constantFrom(0, 1, 31, 32, 33, 0xffff_ffff))
/** Syscalls of raw words: any syscall, any cptr, any message info, message words, extra caps and receive slot. */
const rawSyscall: fc.Arbitrary<Event> = fc.record({
  tag: fc.constant("Syscall" as const),
  syscall: fc.constantFrom(...SyscallKinds),
  cptr: word,
  msgInfo: fc.oneof(fc.nat({ max: 0xffff_ffff }), fc.record({ l: fc.nat({ max: 40 }), e: fc.nat({ max: 3 }), n: fc.nat({ max: 127 }) }).map(({ l, e, n }) => (l << 12 | e << 7 | n) >>> 0)),
  mrs: fc.array(word, { maxLength: 12 }),
  extraCaps: fc.array(word, { maxLength: 3 }),
  recvSlot: fc.array(word, { maxLength: 3 }),
})
/** Any event of raw words: mostly syscalls, and interrupts on any line, ticks and user faults. */
const rawEvent: fc.Arbitrary<Event> = fc.oneof(
  { arbitrary: rawSyscall, weight: 8 },
  { arbitrary: fc.constant<Event>({ tag: "TimerTick" }), weight: 1 },
  { arbitrary: word.map((irq): Event => ({ tag: "Interrupt", irq })), weight: 1 },
  { arbitrary: fc.record({ tag: fc.constant("UserFault" as const), kind: fc.constantFrom(...UserFaultKinds), words: fc.array(word, { maxLength: 3 }) }), weight: 1 },
)

describe("totality: random raw words never make either layer throw", () => {
  const b = suiteBudget()
  it(`neither layer throws on ${b.runs * 2} traces of raw events, and the impl still refines the spec (seed=${b.seed})`, () => {
    fc.assert(
      fc.property(fc.array(rawEvent, { minLength: 1, maxLength: 60 }), (events) => {
        const r = runEvents(realImpl, defaultBootConfig, events)
        if (r.failure) throw new Error(JSON.stringify(r.failure))
      }),
      { seed: b.seed, numRuns: b.runs * 2 },
    )
  })
})
