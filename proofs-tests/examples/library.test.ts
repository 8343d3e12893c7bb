import fc from "fast-check"
import { expect, it } from "vitest"
import {
  Kernel, PingPongSlots, absState, boot, checkAll, clientCall, defaultBootConfig, describeFailure, observe,
  pingPongSetup, realImpl, runChoices, step, traceArb,
} from "kspec"

// The impl refines the spec on random traces, with every invariant checked after every step.
it("the impl refines the spec", () => {
  fc.assert(fc.property(traceArb(50), (choices) => {
    const r = runChoices(realImpl, defaultBootConfig, choices)
    if (r.failure) throw new Error(describeFailure(r.failure))
  }), { numRuns: 20, seed: 42 })
})

// Your own property: a Call's words and label reach the server blocked in Recv, unbadged.
it("the server receives the client's Call", () => {
  const s = [...pingPongSetup(), clientCall(3, 9)].reduce(step, boot(defaultBootConfig))
  const server = s.curThread
  const regs = observe(s, server)
  expect(regs.mrs.slice(0, 3)).toEqual([1, 2, 3])
  expect(regs.msgInfo >>> 12).toBe(9)
  expect(regs.badge).toBe(0)
  expect(checkAll(s)).toEqual([])
})

// The impl agrees, fastpath and all.
it("the impl's server sees the same", () => {
  const k = Kernel.boot(defaultBootConfig)
  for (const e of [...pingPongSetup(), clientCall(3, 9)]) k.step(e)
  expect(observe(absState(k), k.curThread.base).mrs.slice(0, 3)).toEqual([1, 2, 3])
  expect(k.fastpathHits).toBe(1)
  expect(PingPongSlots.ep).toBe(100)
})
