// The stepwise lockstep harness: each step's outcome, both layers' states between steps, a
// planted bug reported at the step it shows with the state diff (under full and incremental
// checking alike), a throw reported as a failure, and the whole-trace runner agreeing with it.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  Lockstep, clientServer, decodeMessage, defaultBootConfig, lockstep, observe, realImpl, runChoices, seL4_Call, seL4_ReplyRecv, seL4_Send,
  seL4_Yield, stateDiff, traceArb,
} from "kspec"
import type { ImplUnderTest, Kernel } from "kspec"
import { loadMutant } from "../mutants/build.ts"
import { mutants } from "../mutants/mutants.ts"

const mutant = (name: string) => loadMutant(mutants.find((m) => m.name === name)!)

/** A client (the root task) and a server on an endpoint; the client also holds a cap badged 5. */
const badgedClientServer = () => {
  const { system, ep, server } = clientServer()
  const badged = system.mint(ep, 5)
  return { events: system.events, badged, ep, server }
}

describe("lockstep(config): one kernel entry at a time", () => {
  it("returns each entry's outcome, and the impl's abstract state equals the spec's between steps", () => {
    const { events, badged, ep, server } = badgedClientServer()
    const h = lockstep(defaultBootConfig)
    expect(h.run(events)).toBeNull()
    const client = h.spec.curThread
    const call = h.step(seL4_Call(badged, { label: 3, mrs: [10, 20] }))
    expect(call).toMatchObject({ thread: client, outcome: { syscall: "Call", invocation: "EndpointCap", result: "Blocked" }, failure: null })
    expect(h.spec.curThread).toBe(server.ptr)
    expect(decodeMessage(observe(h.spec, server.ptr))).toMatchObject({ label: 3, mrs: [10, 20], badge: 5 })
    expect(stateDiff(h.spec, h.abs())).toEqual([])
    expect(h.step(seL4_ReplyRecv(ep, { mrs: [7] })).failure).toBeNull()
    expect(decodeMessage(observe(h.spec, client))).toMatchObject({ label: 0, mrs: [7], badge: 0 })
    expect(h.impl.curThread.base).toBe(h.spec.curThread)
    expect(h.outcomes.length).toBe(h.events.length)
  })

  it("reports a planted bug at the step it shows, with the state diff, and then stays stopped", async () => {
    const { events, badged } = badgedClientServer()
    const h = lockstep(defaultBootConfig, { impl: await mutant("badge-not-delivered") })
    expect(h.run(events)).toBeNull()
    // A Send takes the slow path (a Call here would take the fastpath, which the mutant leaves alone).
    const r = h.step(seL4_Send(badged, { mrs: [1] }))
    expect(r.failure).toMatchObject({ kind: "divergence", step: events.length + 1 })
    expect(r.failure?.kind === "divergence" ? r.failure.diff.join("\n") : "").toMatch(/badge: spec 5 \| impl 0/)
    // Stopped: another step changes nothing and returns the same failure.
    const again = h.step(seL4_Yield())
    expect(again.failure).toBe(r.failure)
    expect(h.events.length).toBe(events.length + 1)
  })

  it("reports the same failure, at the same step, under incremental checking", async () => {
    const { events, badged } = badgedClientServer()
    const impl = await mutant("badge-not-delivered")
    const run = (fullEvery: number) => {
      const h = lockstep(defaultBootConfig, { impl, fullEvery })
      h.run([...events, seL4_Send(badged, { mrs: [1] }), seL4_Yield()])
      return { failure: h.failure, events: h.events.length }
    }
    const full = run(0)
    expect(full.failure).not.toBeNull()
    expect(run(32)).toEqual(full)
  })

  it("reports a layer that throws as a failure naming it", () => {
    const throwing: ImplUnderTest<Kernel> = { ...realImpl, step: () => { throw new Error("boom") } }
    const h = new Lockstep(throwing, defaultBootConfig)
    expect(h.step(seL4_Yield())).toMatchObject({ outcome: undefined, failure: { kind: "throw", layer: "impl", step: 1, message: "Error: boom" } })
  })

  it("runChoices is a loop of stepChoice", () => {
    fc.assert(fc.property(traceArb(40), (choices) => {
      const h = lockstep()
      for (const c of choices) h.stepChoice(c)
      const r = runChoices(realImpl, defaultBootConfig, choices)
      expect(h.events).toEqual(r.events)
      expect(h.outcomes).toEqual(r.outcomes)
      expect(h.failure).toBe(null)
      expect(stateDiff(h.spec, r.spec)).toEqual([])
    }), { numRuns: 20, seed: 3 })
  })
})
