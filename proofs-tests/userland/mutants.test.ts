// The isolation checks can fail: each property the campaign claims has a planted bug that
// breaks it, and the campaign reports the break. A leaked mapping lets one server's wild stores
// land in another's memory (the audit sees it); without a fault handler, a restart, the watchdog
// or the restarted server's error reply, requests are lost; a kernel bug in the impl is caught by
// the lockstep run.
import { describe, expect, it } from "vitest"
import { runCampaign } from "../../userland/campaign.ts"
import { Pid } from "../../userland/layout.ts"
import { mutants } from "../mutants/mutants.ts"
import { loadMutant } from "../mutants/build.ts"

const seed = Number(process.env.KSPEC_SEED ?? 17)

describe(`planted bugs break isolation, and the campaign says so (seed ${seed})`, () => {
  it("the file server's private page also mapped in the name server: the name server's wild stores change the file server's words", () => {
    const r = runCampaign({ seed, faults: 60, faultsPerRun: 60, kinds: ["wild-write"], targets: [Pid.nameServer], lockstepEvery: 0, drain: 6_000, system: { bugs: { sharePrivatePage: true } } })
    expect(r.integrity.length).toBeGreaterThan(0)
    expect(r.integrity[0]).toMatch(/^file-server: word at 0x1015[0-9a-f]{3} is 0x[0-9a-f]+, it stored 0x[0-9a-f]+$/)
    // The same faults without the leak: nothing changes behind the file server.
    const clean = runCampaign({ seed, faults: 60, faultsPerRun: 60, kinds: ["wild-write"], targets: [Pid.nameServer], lockstepEvery: 0, drain: 6_000 })
    expect(clean.integrity).toEqual([])
  })

  it("no fault handler: a crashed server stops for good and its clients' requests are lost", () => {
    const r = runCampaign({ seed, faults: 3, faultsPerRun: 3, kinds: ["exception"], targets: [Pid.fileServer], lockstepEvery: 0, drain: 9_000, system: { bugs: { noFaultHandler: true } } })
    expect(r.faultMessages).toBe(0)
    expect(r.lost).toBeGreaterThan(0)
  })

  it("a supervisor that restarts nothing: requests are lost", () => {
    const r = runCampaign({ seed, faults: 3, faultsPerRun: 3, kinds: ["exception"], targets: [Pid.nameServer], lockstepEvery: 0, drain: 9_000, system: { bugs: { noRestart: true } } })
    expect(r.faultMessages).toBeGreaterThan(0)
    expect(r.restarts).toBe(0)
    expect(r.lost).toBeGreaterThan(0)
    expect(r.recovered).toBeLessThan(r.injected)
  })

  it("no watchdog: a server looping in a request is never restarted, and its clients wait forever", () => {
    const r = runCampaign({ seed, faults: 2, faultsPerRun: 2, kinds: ["loop"], targets: [Pid.fileServer], lockstepEvery: 0, drain: 9_000, system: { bugs: { noWatchdog: true } } })
    expect(r.hangs).toBe(0)
    expect(r.lost).toBeGreaterThan(0)
  })

  it("a restarted server that forgets the caller it held: that client waits forever", () => {
    const r = runCampaign({ seed, faults: 6, faultsPerRun: 6, kinds: ["crash-mid-request"], targets: [Pid.nameServer, Pid.fileServer], lockstepEvery: 0, drain: 9_000, system: { bugs: { forgetHeldCaller: true } } })
    expect(r.restarts).toBeGreaterThan(0)
    expect(r.lost).toBeGreaterThan(0)
  })

  it("a kernel bug in the impl (badges not delivered) is caught by the lockstep run", async () => {
    const m = mutants.find((x) => x.name === "badge-not-delivered")!
    // Its own build directory, so the mutant suites running alongside are not disturbed.
    const impl = await loadMutant({ ...m, name: `userland-test-${m.name}` })
    const r = runCampaign({ seed, faults: 1, lockstepEvery: 1, lockstepFaults: 1, drain: 2_000, system: { lockstepImpl: impl as never } })
    expect(r.kernelFailures.length).toBe(1)
    expect(r.kernelFailures[0]).toMatch(/^seed \d+: cycle \d+: step \d+: /)
  })
})
