// Each check on hand-made changes of a labelled system's state (the pipe: a sender that may only
// signal two notifications of a receiver): what it must flag, named, and what it must let pass.
import { describe, expect, it } from "vitest"
import { RightR, numPriorities } from "../../model/index.ts"
import type { KernelState } from "../../spec/index.ts"
import { getTcb, slotOf } from "../../spec/index.ts"
import { setCap, setObject, tcbWith, updateState, updateTcb } from "../../spec/state.ts"
import { storeWords } from "../../spec/machine/memory.ts"
import { checkConfinement, checkConfinementStep } from "../../harness/security/confinement.ts"
import { stateAuthority } from "../../harness/security/extract.ts"
import { checkIntegrity } from "../../harness/security/integrity.ts"
import { applyEdits, checkNonleakageStep, editTargets, resolveEdits, viewDiff } from "../../harness/security/nonleakage.ts"
import { stepWithOutcome } from "../../spec/index.ts"
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
  it("a Zombie confers Control over the table it empties (l4v cap_auth_conferred): the receiver's thread as a Zombie in the sender's CNode is outside the policy", () => {
    const free = cspaceSlot(sender!, 42)
    const s1 = setCap(s0, free, { tag: "ZombieCap", ptr: receiver!, zombieType: 32, number: 5 })
    expect(checkConfinement(s1, sys.confinement).map((v) => v.message)).toContain(`(Sender, Control, Receiver) is not in the policy; it comes from sbta_caps: Zombie(0x${receiver!.toString(16)}, TCB, 5 left) in slot 0x${free.toString(16)}`)
    // Its own thread's Zombie is the sender's own authority.
    expect(checkConfinement(setCap(s0, free, { tag: "ZombieCap", ptr: sender!, zombieType: 32, number: 5 }), sys.confinement)).toEqual([])
    expect([...stateAuthority(s1, sys.labels).values()].some((e) => e.from === "Sender" && e.auth === "Control" && e.to === "Receiver")).toBe(true)
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

describe("integrity of memory words (integrity_mem)", () => {
  const csys = loadSystem("client-server")
  const cctx = { labels: csys.labels, policy: csys.policy, exempt: csys.confinement.exemptThreads }
  const c0 = csys.initial
  const [client] = csys.threads.get("Client")!
  const [server] = csys.threads.get("Server")!
  const bufferOf = (s: KernelState, t: number): number => { const c = s.caps.get(slotOf(t, 4)); if (c?.tag !== "FrameCap") throw new Error("no buffer"); return c.ptr }
  const board = (() => { const c = c0.caps.get(slotOf((c0.caps.get(slotOf(server!, 0)) as { ptr: number }).ptr, PartitionSlot.Shared + 2)); if (c?.tag !== "FrameCap") throw new Error("no board"); return c.ptr })()
  it("a label's own words change freely; another label's only with Write (trm_write), named by address", () => {
    const wrote = storeWords(c0, board, 5, [0xbeef])
    expect(checkIntegrity(c0, wrote, "Server", cctx)).toEqual([])
    const v = checkIntegrity(c0, wrote, "Client", cctx)
    expect(v).toMatchObject([{ class: "memory", label: "Server", where: `word 0x${(board + 20).toString(16)} (frame 0x${board.toString(16)}, word 5)`, change: "0x0 -> 0xbeef" }])
    expect(v[0]!.rule).toMatch(/trm_lrefl.*trm_write.*trm_ipc/)
    expect(checkIntegrity(c0, wrote, "Logger", cctx).map((x) => x.class)).toEqual(["memory"])
  })
  it("the IPC buffer of a receiver that was waiting and now runs may be written by the sender's step (trm_ipc); not while it still waits", () => {
    const buf = bufferOf(c0, server!)
    const waiting = updateTcb(c0, server!, (t) => tcbWith(t, { tcbState: { tag: "BlockedOnReceive", ep: 0, canGrant: false } }))
    const delivered = updateTcb(storeWords(waiting, buf, 9, [7]), server!, (t) => tcbWith(t, { tcbState: { tag: "Running" } }))
    expect(checkIntegrity(waiting, delivered, "Client", cctx).filter((x) => x.class === "memory")).toEqual([])
    expect(checkIntegrity(waiting, storeWords(waiting, buf, 9, [7]), "Client", cctx).map((x) => x.class)).toEqual(["memory"])
    // Past the 128-word buffer, the frame is not the buffer.
    expect(checkIntegrity(waiting, updateTcb(storeWords(waiting, buf, 200, [7]), server!, (t) => tcbWith(t, { tcbState: { tag: "Running" } })), "Client", cctx).filter((x) => x.class === "memory").length).toBe(1)
    void client
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
  it("a word of the receiver's frames is outside the sender's view, inside the receiver's; the pair varies only frames outside the view", () => {
    const buf = (s0.caps.get(slotOf(receiver!, 4)) as { ptr: number }).ptr
    const t = applyEdits(s0, [{ tag: "MemoryWord", frame: buf, word: 3, value: 77 }])
    expect(viewDiff(s0, t, senderReads, sys.labels, "Sender")).toEqual([])
    expect(viewDiff(s0, t, receiverReads, sys.labels, "Receiver").join("\n")).toMatch(new RegExp(`kheap\\[0x${buf.toString(16)}\\] \\(Frame, Receiver\\)\\.words`))
    const frames = editTargets(s0, sys.labels, senderReads).frames
    expect(frames).toContain(buf)
    expect(frames.some((f) => sys.labels.object(f) === "Sender")).toBe(false)
    const es = resolveEdits(s0, sys.labels, senderReads, [{ kind: 1, target: 0, field: 13, value: 5 }])
    expect(es).toMatchObject([{ tag: "MemoryWord", word: 3, value: 5 }])
  })
  it("a step that copies the receiver's notification word into the sender's registers leaks; the kernel's own steps do not", () => {
    const edits = [{ tag: "NotificationWord" as const, ntfn: doorbell, badge: 9 }]
    const leaky = (s: KernelState): KernelState => {
      const n = s.kheap.get(doorbell)
      const word = n?.tag === "Notification" && n.state.tag === "ActiveNtfn" ? n.state.badge : 0
      return updateTcb(s, sender!, (t) => tcbWith(t, { tcbContext: { ...t.tcbContext, badge: word } }))
    }
    const leak = checkNonleakageStep(s0, leaky, "Sender", "Sender", sys, edits)
    expect(leak?.postDiff).toEqual([`kheap[0x${sender!.toString(16)}] (TCB, Sender).tcbContext.badge: 0 | 9`])
    expect(leak?.preDiff.join("\n")).toMatch(/badge/)
    // The real kernel: a timer tick, a signal of the doorbell by the sender, a yield.
    for (const ev of [{ tag: "TimerTick" as const }, { tag: "Syscall" as const, syscall: "Send" as const, cptr: PartitionSlot.Shared, msgInfo: 0, mrs: [], extraCaps: [] }, { tag: "Syscall" as const, syscall: "Yield" as const, cptr: 0, msgInfo: 0, mrs: [], extraCaps: [] }]) {
      expect(checkNonleakageStep(s0, (s) => stepWithOutcome(s, ev).state, "Sender", "Sender", sys, edits)).toBeNull()
    }
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
