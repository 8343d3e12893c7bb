// The user-level system without faults: the root task builds it from the boot caps, every
// server answers, every client's requests are answered correctly, in the impl and in lockstep
// with the spec (refinement and every invariant after every step).
import { describe, expect, it } from "vitest"
import { Pid, processName, servers } from "../../userland/layout.ts"
import type { Runtime } from "../../userland/runtime.ts"
import { bootSystem } from "../../userland/system.ts"

const counts = (rt: Runtime) => {
  const m = new Map<string, number>()
  for (const r of rt.console) m.set(`${processName(r.pid)}:${r.kind}`, (m.get(`${processName(r.pid)}:${r.kind}`) ?? 0) + 1)
  return (pid: number, kind: string) => m.get(`${processName(pid)}:${kind}`) ?? 0
}

describe("the user-level system, no faults", () => {
  it("the root task builds it, every server serves, every client request is answered correctly", () => {
    const rt = bootSystem({ clients: 3 })
    rt.run(15_000)
    expect(rt.failure).toBeNull()
    expect(rt.text).toEqual([])
    const n = counts(rt)
    expect(n(0, "ready")).toBe(1)
    for (const s of servers) expect(n(s, "served"), processName(s)).toBeGreaterThan(5)
    for (let i = 0; i < 3; i++) {
      const c = Pid.firstClient + i
      expect(n(c, "ok"), processName(c)).toBeGreaterThan(20)
      for (const bad of ["error", "wrong", "duplicate"]) expect(n(c, bad), `${processName(c)} ${bad}`).toBe(0)
    }
    expect(n(Pid.supervisor, "fault") + n(Pid.supervisor, "hang") + n(Pid.supervisor, "restart")).toBe(0)
    expect(rt.audit()).toEqual([])
  })

  it("in lockstep with the spec: the impl refines the spec and every invariant holds after every step", () => {
    const rt = bootSystem({ clients: 2, lockstep: true })
    rt.run(3_000)
    expect(rt.failure).toBeNull()
    expect(rt.machine.finish()).toBeNull()
    expect(rt.machine.checkedSteps).toBeGreaterThan(1_000)
    const n = counts(rt)
    expect(n(Pid.firstClient, "ok")).toBeGreaterThan(5)
  })

  it("the memory audit reads each process's private words through its own page tables", () => {
    const rt = bootSystem({ clients: 1 })
    rt.run(5_000)
    // The file server's files and the name server's table are in its shadow: the audit compares them.
    expect(rt.audit()).toEqual([])
    const fs = rt.processes().find((p) => p.pid === Pid.fileServer)
    expect(fs).toBeDefined()
  })
})
