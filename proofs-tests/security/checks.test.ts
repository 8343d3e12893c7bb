// Each check on hand-made changes of a labelled system's state (the pipe: a sender that may only
// signal two notifications of a receiver): what it must flag, named, and what it must let pass.
import { describe, expect, it } from "vitest"
import { RightR, numPriorities } from "../../model/index.ts"
import type { KernelState } from "../../spec/index.ts"
import { getTcb, slotOf } from "../../spec/index.ts"
import { setCap, setObject, tcbWith, updateState, updateTcb } from "../../spec/state.ts"
import { checkConfinement, checkConfinementStep } from "../../harness/security/confinement.ts"
import { checkIntegrity } from "../../harness/security/integrity.ts"
import { applyEdits, viewDiff } from "../../harness/security/nonleakage.ts"
import { subjectReads } from "../../harness/security/policy.ts"
import { PartitionSlot, loadSystem, partitionCNodeBits } from "../../harness/security/system.ts"

const sys = loadSystem("pipe")
const s0 = sys.initial
const [sender] = sys.threads.get("Sender")!
const [receiver, receiver2] = sys.threads.get("Receiver")!
const ctx = { labels: sys.labels, policy: sys.policy, exempt: sys.confinement.exemptThreads }
/** The slot of index `i` of a thread's CSpace. */
const cspaceSlot = (t: number, i: number): number => {
  const c = s0.caps.get(slotOf(t, 0))
  if (c?.tag !== "CNodeCap") throw new Error("no CSpace")
  return slotOf(c.ptr, i)
}
const capIn = (t: number, i: number) => s0.caps.get(cspaceSlot(t, i))!
const ntfnOf = (t: number, i: number): number => { const c = capIn(t, i); if (c.tag !== "NotificationCap") throw new Error("no notification"); return c.ptr }
const doorbell = ntfnOf(sender!, PartitionSlot.Shared)

describe("authority confinement (pas_refined)", () => {
  it("holds after set-up, whole and incrementally", () => {
    expect(checkConfinement(s0, sys.confinement)).toEqual([])
    expect(checkConfinementStep(s0, s0, sys.confinement)).toEqual([])
  })
  it("flags a cap that gives the sender Receive on the receiver's notification, with the cap and slot it came from", () => {
    const free = cspaceSlot(sender!, 40)
    const s1 = setCap(s0, free, { tag: "NotificationCap", ptr: doorbell, badge: 0, rights: RightR })
    for (const v of [checkConfinement(s1, sys.confinement), checkConfinementStep(s0, s1, sys.confinement)]) {
      expect(v.map((x) => x.message)).toContain(`(Sender, Receive, Receiver) is not in the policy; it comes from sbta_caps: Notification(0x${doorbell.toString(16)}, badge=0, R) in slot 0x${free.toString(16)}`)
    }
  })
  it("flags a thread in a domain its label may not run in, and a DomainCap (domain_sep_inv)", () => {
    const s1 = updateTcb(s0, sender!, (t) => tcbWith(t, { tcbDomain: 1 }))
    expect(checkConfinement(s1, sys.confinement).map((v) => v.rule)).toEqual(["tcb_domain_map_wellformed"])
    const s2 = setCap(s0, cspaceSlot(sender!, 41), { tag: "DomainCap" })
    expect(checkConfinement(s2, sys.confinement).map((v) => v.rule)).toContain("domain_sep_inv")
  })
})

describe("integrity", () => {
  const changed = (s: KernelState): KernelState => updateTcb(s, receiver!, (t) => tcbWith(t, { tcbPriority: 7 }))
  it("lets a label change its own objects, and flags the same change made by another label, naming the field and the rule", () => {
    expect(checkIntegrity(s0, changed(s0), "Receiver", ctx)).toEqual([])
    const v = checkIntegrity(s0, changed(s0), "Sender", ctx)
    expect(v).toMatchObject([{ class: "object", label: "Receiver", change: "tcbPriority 100 -> 7" }])
    expect(v[0]!.rule).toContain("troa_lrefl")
  })
  it("allows a signal's change of the receiver's notification (troa_ntfn with Notify), flags a cap written into the receiver's CNode", () => {
    const n = s0.kheap.get(doorbell)!
    if (n.tag !== "Notification") throw new Error("no notification")
    expect(checkIntegrity(s0, setObject(s0, doorbell, { ...n, state: { tag: "ActiveNtfn", badge: 3 } }), "Sender", ctx)).toEqual([])
    const slot = cspaceSlot(receiver!, 45)
    const v = checkIntegrity(s0, setCap(s0, slot, capIn(sender!, PartitionSlot.Thread)), "Sender", ctx)
    expect(v.map((x) => x.class)).toEqual(["slot"])
    expect(v[0]!.rule).toContain("cnode_integrity")
  })
  it("lets another domain's ready queue gain a thread at the front only", () => {
    const q = 1 * numPriorities + 100
    const front = updateState(s0, { readyQueues: new Map([...s0.readyQueues, [q, [receiver2!, ...(s0.readyQueues.get(q) ?? [])]]]) })
    expect(checkIntegrity(s0, front, "Sender", ctx)).toEqual([])
    const base = updateState(s0, { readyQueues: new Map([...s0.readyQueues, [q, [receiver!]]]) })
    const back = updateState(base, { readyQueues: new Map([...base.readyQueues, [q, [receiver!, receiver2!]]]) })
    expect(checkIntegrity(base, back, "Sender", ctx).map((x) => x.class)).toEqual(["ready_queue"])
  })
  it("waking the receiver from a wait on a notification the sender may signal is allowed (troa_tcb_send), from a send it is not", () => {
    const waiting = updateTcb(s0, receiver!, (t) => tcbWith(t, { tcbState: { tag: "BlockedOnNotification", ntfn: doorbell } }))
    const woken = updateTcb(waiting, receiver!, (t) => tcbWith(t, { tcbState: { tag: "Running" }, tcbContext: { ...t.tcbContext, badge: 1 } }))
    expect(checkIntegrity(waiting, woken, "Sender", ctx)).toEqual([])
    const sending = updateTcb(s0, receiver!, (t) => tcbWith(t, { tcbState: { tag: "BlockedOnSend", ep: doorbell, badge: 0, canGrant: false, canGrantReply: false, isCall: false } }))
    const pulled = updateTcb(sending, receiver!, (t) => tcbWith(t, { tcbState: { tag: "Running" }, tcbContext: { ...t.tcbContext, badge: 1 } }))
    expect(checkIntegrity(sending, pulled, "Sender", ctx).map((x) => x.class)).toEqual(["object"])
  })
})

describe("nonleakage: the observer's view", () => {
  const senderReads = subjectReads(sys.policy, "Sender")
  const receiverReads = subjectReads(sys.policy, "Receiver")
  it("a notification word the sender may only signal is outside its view, inside the receiver's", () => {
    const t = applyEdits(s0, [{ tag: "NotificationWord", ntfn: doorbell, badge: 9 }])
    expect(viewDiff(s0, t, senderReads, sys.labels, "Sender")).toEqual([])
    expect(viewDiff(s0, t, receiverReads, sys.labels, "Receiver")).toEqual([`kheap[0x${doorbell.toString(16)}] (Notification, Receiver).state.tag: "IdleNtfn" | "ActiveNtfn"`, `kheap[0x${doorbell.toString(16)}] (Notification, Receiver).state.badge: (absent) | 9`])
  })
  it("the domain schedule's time is in every view", () => {
    expect(viewDiff(s0, updateState(s0, { domainTime: s0.domainTime + 1n }), senderReads, sys.labels, "Sender")[0]).toMatch(/^domainTime/)
  })
  it("a priority edit moves a queued thread to its new queue, as the kernel's own dequeue and enqueue do", () => {
    const queued = [...s0.readyQueues.values()].flat().find((t) => sys.labels.object(t) === "Receiver")!
    const t = applyEdits(s0, [{ tag: "Priority", tcb: queued, value: 42 }])
    expect(getTcb(t, queued).tcbPriority).toBe(42)
    expect(t.readyQueues.get(getTcb(t, queued).tcbDomain * numPriorities + 42)).toEqual([queued])
  })
})

it("the CSpace layout of a partition", () => {
  expect(capIn(sender!, PartitionSlot.Thread)).toEqual({ tag: "ThreadCap", ptr: sender })
  expect(capIn(sender!, PartitionSlot.CNode)).toMatchObject({ tag: "CNodeCap", radix: partitionCNodeBits })
  expect(capIn(sender!, PartitionSlot.Untyped).tag).toBe("UntypedCap")
})
