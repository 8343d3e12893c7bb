// l4v's policy definitions, on hand-built graphs: each policy_wellformed condition is checked and
// flagged, the closure meets them, subjectReads / subjectAffects follow l4v's rules, and caps
// confer the authority l4v's cap_auth_conferred says.
import { describe, expect, it } from "vitest"
import type { Cap } from "../../model/index.ts"
import { RightG, RightGR, RightR, RightW } from "../../model/index.ts"
import { capAuthority, capRightsToAuth } from "../../harness/security/extract.ts"
import type { Auth, Edge } from "../../harness/security/policy.ts"
import { Policy, auths, canAffect, policyWellformed, reflexiveEdges, subjectAffects, subjectReads, wellformedClosure } from "../../harness/security/policy.ts"

const e = (from: string, auth: Auth, to: string): Edge => ({ from, auth, to })
const withSelf = (labels: string[], edges: Edge[]) => new Policy([...reflexiveEdges(labels), ...edges])
const conditions = (p: Policy, agent: string) => policyWellformed(p, agent).map((w) => w.condition)

describe("policy_wellformed, condition by condition", () => {
  it("a label with all authority over itself and nothing else is well formed", () => {
    expect(policyWellformed(withSelf(["A"], []), "A")).toEqual([])
  })
  it("flags Control over another label, for the running label only", () => {
    const p = withSelf(["A", "B"], [e("A", "Control", "B")])
    expect(conditions(p, "A")).toContain("control_within_agent")
    expect(conditions(p, "B")).not.toContain("control_within_agent")
  })
  it("flags a missing authority of the running label over itself", () => {
    expect(conditions(new Policy(reflexiveEdges(["A"]).filter((x) => x.auth !== "Read")), "A")).toEqual(["agent_self_authority"])
  })
  it("Grant and Receive on one endpoint need Control both ways", () => {
    expect(conditions(withSelf(["A", "B"], [e("A", "Grant", "E"), e("B", "Receive", "E")]), "A")).toContain("grant_receive_control")
  })
  it("Call needs SyncSend; Call and Receive need Reply; Reply needs DeleteDerived back; DeleteDerived is transitive", () => {
    expect(conditions(withSelf(["A"], [e("A", "Call", "E")]), "A")).toContain("call_syncsend")
    expect(conditions(withSelf(["A", "B"], [e("A", "Call", "E"), e("A", "SyncSend", "E"), e("B", "Receive", "E")]), "A")).toContain("call_receive_reply")
    expect(conditions(withSelf(["A", "B"], [e("B", "Reply", "A")]), "A")).toContain("reply_deletederived")
    expect(conditions(withSelf(["A"], [e("A", "DeleteDerived", "B"), e("B", "DeleteDerived", "C")]), "A")).toContain("deletederived_transitive")
  })
  it("a receiver that may also grant on an endpoint another label may Call makes the policy ill formed (mutual Control)", () => {
    const p = wellformedClosure([e("A", "Call", "E"), e("B", "Receive", "E"), e("B", "Grant", "E")], ["A", "B"])
    expect(conditions(p, "A")).toContain("call_receive_grant_control")
  })
  it("the closure of a Call channel meets every condition, for both ends", () => {
    const p = wellformedClosure([e("A", "Call", "E"), e("B", "Receive", "E"), e("A", "Reset", "E"), e("B", "Reset", "E")], ["A", "B"])
    expect(policyWellformed(p, "A")).toEqual([])
    expect(policyWellformed(p, "B")).toEqual([])
    expect(p.has("B", "Reply", "A") && p.has("A", "DeleteDerived", "B") && p.has("A", "SyncSend", "E")).toBe(true)
  })
})

describe("subjectReads and subjectAffects (l4v InfoFlow.thy)", () => {
  // The pipe: S may notify R's notification; nothing flows back.
  const pipe = withSelf(["S", "R"], [e("S", "Notify", "R"), e("S", "Reset", "R")])
  it("notifying gives no read: the sender reads only itself, and may affect the receiver", () => {
    expect([...subjectReads(pipe, "S")]).toEqual(["S"])
    expect([...subjectReads(pipe, "R")]).toEqual(["R"])
    expect(subjectAffects(pipe, "S").has("R")).toBe(true)
    expect(canAffect(pipe, "S", "R")).toBe(true)
    expect(canAffect(pipe, "R", "S")).toBe(false)
  })
  // A Call channel through an endpoint of its own label: each end reads the other.
  const call = wellformedClosure([e("C", "Call", "E"), e("C", "Reset", "E"), e("S", "Receive", "E"), e("S", "Reset", "E")], ["C", "S"])
  it("a caller reads the endpoint and its receivers (reads_ep, read_sync_ep_read_receivers); the receiver reads its callers", () => {
    expect(subjectReads(call, "C")).toEqual(new Set(["C", "E", "S"]))
    expect(subjectReads(call, "S")).toEqual(new Set(["S", "E", "C"]))
    expect(canAffect(call, "S", "C") && canAffect(call, "C", "S")).toBe(true)
  })
  it("Write makes the writer readable by readers of the page; Read makes the page readable", () => {
    const p = withSelf(["A", "B"], [e("A", "Read", "P"), e("B", "Write", "P")])
    expect(subjectReads(p, "A")).toEqual(new Set(["A", "P", "B"]))
    expect(subjectAffects(p, "B").has("P")).toBe(true)
  })
})

describe("cap_auth_conferred", () => {
  const authsOf = (c: Cap) => [...capAuthority(c).auths].sort()
  it("endpoint rights: Reset always; Read is Receive, Write SyncSend, GrantReply with Write Call, Grant everything", () => {
    expect(capRightsToAuth(RightR, true).sort()).toEqual(["Receive", "Reset"])
    expect(capRightsToAuth(RightW | RightGR, true).sort()).toEqual(["Call", "Reset", "SyncSend"])
    expect(capRightsToAuth(RightGR, true).sort()).toEqual(["Reset"])
    expect(capRightsToAuth(RightG, true).length).toBe(auths.length)
  })
  it("a notification's Write is Notify and its Grant bits nothing; a non-master reply cap is Reply; a frame is Read and Write", () => {
    expect(authsOf({ tag: "NotificationCap", ptr: 0x100, badge: 1, rights: RightW | RightG })).toEqual(["Notify", "Reset"])
    expect(authsOf({ tag: "ReplyCap", tcb: 0x200, isMaster: false, canGrant: false })).toEqual(["Reply"])
    expect(authsOf({ tag: "ReplyCap", tcb: 0x200, isMaster: true, canGrant: true }).length).toBe(auths.length)
    expect(authsOf({ tag: "FrameCap", ptr: 0x1000, sizeBits: 12, vmRights: "ReadWrite", isDevice: false, mapped: null })).toEqual(["Read", "Write"])
    expect(capAuthority({ tag: "FrameCap", ptr: 0x1000, sizeBits: 12, vmRights: "ReadOnly", isDevice: false, mapped: null }).refs).toEqual([[0x1000, 0x1000]])
  })
})
