/**
 * The ABI table (model/abi.ts) against the code: every label is covered, every name is the one
 * the outcome table uses, every error tag is a SyscallError, and a short lockstep campaign sees
 * no (invocation, error) pair the table does not list.
 */
import { describe, expect, it } from "vitest"
import type { Cap, CapTag } from "../../model/index.ts"
import { InvocationLabel, SyscallKinds, defaultBootConfig, errorNames } from "../../model/index.ts"
import type { InvocationLabelName } from "../../model/index.ts"
import { abi, abiAllows, capDispatch, notModelled } from "../../model/abi.ts"
import { invocationName } from "../../spec/index.ts"
import { runCampaign } from "../../harness/lockstep/campaign.ts"
import { realImpl } from "../../harness/lockstep/impls.ts"

const sampleCap = (tag: CapTag): Cap => ({ tag, ptr: 0x1000, tcb: 0x1000, irq: 1, radix: 1, guard: 0, guardSize: 0, badge: 0, rights: 15 } as unknown as Cap)
const campaignSeed = Number(process.env.KSPEC_SEED ?? 4242)

describe("the ABI table", () => {
  it("has one entry per syscall, named as the outcome table names them", () => {
    expect(abi.filter((e) => e.kind === "syscall").map((e) => e.name)).toEqual([...SyscallKinds])
  })
  it("covers every invocation label, or lists it as not modelled", () => {
    const labels = Object.keys(InvocationLabel) as InvocationLabelName[]
    const missing = labels.filter((l) => !abi.some((e) => e.label === l) && notModelled[l] === undefined)
    expect(missing).toEqual([])
    expect(labels.filter((l) => abi.some((e) => e.label === l) && notModelled[l] !== undefined)).toEqual([])
  })
  it("names each label's entry as the spec's outcome table does", () => {
    for (const e of abi.filter((x) => x.label !== undefined)) {
      expect(invocationName(sampleCap(e.cap!), InvocationLabel[e.label!]), e.name).toBe(e.name)
    }
    for (const e of abi.filter((x) => x.kind === "invocation" && x.label === undefined)) {
      expect(invocationName(sampleCap(e.cap!), 0)).toBe(e.name)
    }
  })
  it("names are unique and every error tag is a SyscallError", () => {
    expect(new Set(abi.map((e) => e.name)).size).toBe(abi.length)
    const tags = new Set<string>(errorNames)
    for (const e of abi) for (const x of e.errors) expect(tags.has(x.error), `${e.name}: ${x.error}`).toBe(true)
    for (const d of capDispatch) for (const x of [...(d.errors ?? []), ...(d.otherLabels ? [d.otherLabels] : [])]) expect(tags.has(x.error)).toBe(true)
  })
  it("describes the dispatch of every cap type", () => {
    const caps = new Set(capDispatch.map((d) => d.cap))
    for (const t of ["NullCap", "UntypedCap", "EndpointCap", "NotificationCap", "ReplyCap", "CNodeCap", "ThreadCap", "DomainCap", "IRQControlCap", "IRQHandlerCap", "FrameCap", "PageTableCap", "PageDirectoryCap"] as CapTag[]) {
      expect(caps.has(t), t).toBe(true)
    }
  })
  it(`a lockstep campaign (40 traces, seed ${campaignSeed}) observes no (invocation, error) pair outside the table`, () => {
    const r = runCampaign(realImpl, { config: defaultBootConfig, seed: campaignSeed, runs: 40, depth: 150, shrink: false })
    expect(r.failure === null ? "ok" : r.failure.description).toBe("ok")
    const errors = new Set<string>(errorNames)
    const seen = [...r.cells.keys()].map((k) => k.split("|") as [string, string]).filter(([, res]) => errors.has(res))
    const unlisted = seen.filter(([inv, res]) => !abiAllows(inv, res)).map(([inv, res]) => `${inv}: ${res}`)
    expect(unlisted).toEqual([])
    // The check is not vacuous: the campaign saw errors from several invocations.
    expect(new Set(seen.map(([inv]) => inv)).size).toBeGreaterThan(5)
  })
})
