// Fault injection, one kind at a time: every fault is injected, each crash reaches the
// supervisor as a fault message, each loop is found by the watchdog, each corrupted reply is
// caught by its client; and in every case no request is lost or answered twice, no private word
// changes behind its owner, and the faulty server answers again.
import { describe, expect, it } from "vitest"
import type { FaultKind } from "../../userland/inject.ts"
import { FaultKinds } from "../../userland/inject.ts"
import { runCampaign } from "../../userland/campaign.ts"

const crashes: readonly FaultKind[] = ["wild-read", "wild-write", "bad-cap", "unknown-syscall", "exception", "crash-mid-request", "dead-driver-irq"]
const seed = Number(process.env.KSPEC_SEED ?? 17)

describe(`fault injection, one kind at a time (seed ${seed})`, () => {
  for (const kind of FaultKinds) {
    it(`${kind}: injected, handled, recovered; nothing lost, duplicated or overwritten`, () => {
      const r = runCampaign({ seed, faults: 12, faultsPerRun: 12, kinds: [kind], lockstepEvery: 0 })
      expect(r.setupErrors).toEqual([])
      expect(r.injected).toBe(12)
      expect(r.byKind[kind]).toBe(12)
      expect(r.lost).toBe(0)
      expect(r.duplicates).toBe(0)
      expect(r.integrity).toEqual([])
      expect(r.kernelFailures).toEqual([])
      expect(r.recovered).toBe(12)
      if (crashes.includes(kind)) expect(r.faultMessages).toBe(12)
      if (kind === "loop") expect(r.hangs).toBe(12)
      if (kind === "corrupt-reply") {
        expect(r.wrong).toBe(12)
        expect(r.restarts).toBe(0)
      } else expect(r.wrong).toBe(0)
      if (kind === "crash-mid-request") expect(r.errors).toBeGreaterThan(0)
    })
  }

  it("every kind at once, in lockstep with the spec: refinement and every invariant after every step", () => {
    const r = runCampaign({ seed, faults: 12, lockstepEvery: 1, lockstepFaults: 12, drain: 9_000 })
    expect(r.lockstepRuns).toBe(1)
    expect(r.checkedSteps).toBeGreaterThan(3_000)
    expect(r.kernelFailures).toEqual([])
    expect(r.lost + r.duplicates + r.integrity.length).toBe(0)
    expect(r.restarts).toBeGreaterThan(3)
  })
})

describe("the injector's events", () => {
  it("carry 32-bit words only (0 to 2^32-1), as the builders require", () => {
    const r = runCampaign({ seed, faults: 60, faultsPerRun: 60, lockstepEvery: 0, drain: 3_000, keepFirst: true, system: { traceLimit: 1_000_000 } })
    const injected = new Set(r.first!.console.filter((c) => c.kind === "injected").map((c) => `${c.pid}@${c.cycle}`))
    const events = r.first!.trace.filter((t) => injected.has(`${t.pid}@${t.cycle}`)).map((t) => t.event)
    expect(events.length).toBeGreaterThan(30)
    const words = (e: (typeof events)[number]): number[] =>
      e.tag === "Syscall" ? [e.cptr, e.msgInfo, ...e.mrs, ...e.extraCaps] : e.tag === "MemoryAccess" ? [e.vaddr, e.value ?? 0] : e.tag === "UserFault" ? [...e.words] : e.tag === "Interrupt" ? [e.irq] : []
    for (const e of events) for (const w of words(e)) expect(Number.isInteger(w) && w >= 0 && w <= 0xffff_ffff, JSON.stringify(e)).toBe(true)
  })
})
