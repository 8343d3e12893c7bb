import { describe, expect, it } from "vitest"
import type { Cte, ImplFrame } from "../../impl/index.ts"
import {
  Cte as CteRecord, ImplEndpoint, ImplNotification, ImplPageDirectory, ImplTcb, Kernel, cnodeSlot, getCNodeImpl, getPageDirectoryImpl,
  getPageTableImpl, getTcbImpl, ImplCNode, pde_pde_section_new, readyQueuesIndex, slotObject, tcbSchedEnqueue, tcbSlot,
} from "../../impl/index.ts"
import type { Cap } from "../../model/index.ts"
import { InitialSlot, defaultBootConfig, tcbBuffer, tcbCTable } from "../../model/index.ts"
import { bootLayout } from "../../spec/kernel/boot.ts"
import {
  bitmapAgreesWithQueues, cdtRunsNested, checkImplInvariants, checkRunsNested, epQueueLinksSymmetric, epQueueMembership,
  implInvariants, mdbAcyclic, mdbChunked, mdbLinksInHeap, mdbLinksSymmetric, mdbNoLinksAtEmptySlots, readyQueueLinksSymmetric,
  frameMemoryShaped, slotPointersLive, tcbQueuedIffInReadyQueue, vspacePointersLive, vspaceWordsEncoded,
} from "../../harness/relation/implInvariants.ts"

const L = bootLayout(defaultBootConfig)
const booted = () => Kernel.boot(defaultBootConfig)
const rootSlot = (k: Kernel, i: number): Cte => cnodeSlot(getCNodeImpl(k, L.rootCNode), i)
const place = (slot: Cte, cap: Cap, revocable = false, firstBadged = false) => {
  slot.cap = cap
  slot.revocable = revocable
  slot.firstBadged = firstBadged
}
const link = (a: Cte, b: Cte) => {
  a.next = b
  b.prev = a
}

describe("implementation invariants", () => {
  for (const inv of implInvariants) {
    it(`initial state satisfies ${inv.name}`, () => {
      expect(inv.check(booted())).toEqual([])
    })
  }

  it("every invariant has a name, a statement and a mirror", () => {
    for (const inv of implInvariants) {
      expect(inv.name.length).toBeGreaterThan(0)
      expect(inv.statement.length).toBeGreaterThan(20)
      expect(inv.mirrors).toMatch(/l4v/)
    }
  })

  it("mdbLinksSymmetric flags a missing back link", () => {
    const k = booted()
    const s2 = rootSlot(k, InitialSlot.InitThreadCNode)
    s2.next!.prev = null
    expect(mdbLinksSymmetric.check(k).length).toBeGreaterThan(0)
  })

  it("mdbAcyclic flags a cycle", () => {
    const k = booted()
    const s2 = rootSlot(k, InitialSlot.InitThreadCNode)
    const ct = tcbSlot(getTcbImpl(k, L.rootTcb), tcbCTable)
    link(ct, s2) // s2 -> ct -> s2
    expect(mdbAcyclic.check(k).length).toBeGreaterThan(0)
  })

  it("mdbNoLinksAtEmptySlots flags links at and to an empty slot", () => {
    const k = booted()
    const s2 = rootSlot(k, InitialSlot.InitThreadCNode)
    const empty = rootSlot(k, 40)
    empty.next = s2
    expect(mdbNoLinksAtEmptySlots.check(k).length).toBeGreaterThan(0)
    const k2 = booted()
    const e2 = rootSlot(k2, 41)
    e2.revocable = true
    expect(mdbNoLinksAtEmptySlots.check(k2).length).toBeGreaterThan(0)
    const k3 = booted()
    tcbSlot(getTcbImpl(k3, L.rootTcb), tcbBuffer).cap = { tag: "NullCap" } // slot 10 now links to an empty slot
    expect(mdbNoLinksAtEmptySlots.check(k3).length).toBeGreaterThan(0)
  })

  it("mdbLinksInHeap flags a link to a slot outside every object", () => {
    const k = booted()
    const s2 = rootSlot(k, InitialSlot.InitThreadCNode)
    const stray = new CteRecord(0x7000_0000)
    stray.cap = { tag: "DomainCap" }
    const ct = s2.next!
    link(ct, stray)
    expect(mdbLinksInHeap.check(k).length).toBeGreaterThan(0)
  })

  it("cdtRunsNested holds on boot and flags crossing descendant runs", () => {
    const k = booted()
    expect(cdtRunsNested.check(k)).toEqual([])
    // Three slots a -> b -> c where a parents b, b parents c, but a does not parent c: b's run
    // runs past a's. The kernel's isMDBParentOf is transitive, so build the crossing with a
    // hand-made parent relation over a hand-linked list.
    const [a, b, c] = [rootSlot(k, 30), rootSlot(k, 31), rootSlot(k, 32)]
    place(a, { tag: "DomainCap" }, true, true)
    place(b, { tag: "DomainCap" }, true)
    place(c, { tag: "DomainCap" })
    link(a, b)
    link(b, c)
    const crossing = (x: Cte, y: Cte) => (x === a && y === b) || (x === b && y === c)
    expect(checkRunsNested(k, crossing).length).toBeGreaterThan(0)
  })

  it("mdbChunked flags same-region caps in different lists and a foreign slot inside a chunk", () => {
    const k = booted()
    // A second DomainCap as its own list: same region as slot 11's, different list.
    place(rootSlot(k, 30), { tag: "DomainCap" }, true, true)
    expect(mdbChunked.check(k).length).toBeGreaterThan(0)
    const k2 = booted()
    // Put a foreign cap (the domain cap, moved) between the root CNode cap (slot 2) and its copy in the TCB.
    const s2 = rootSlot(k2, InitialSlot.InitThreadCNode)
    const ct = s2.next!
    const mid = rootSlot(k2, 31)
    place(mid, { tag: "DomainCap" })
    link(s2, mid)
    link(mid, ct)
    place(rootSlot(k2, InitialSlot.Domain), { tag: "NullCap" }) // keep DomainCaps to one
    rootSlot(k2, InitialSlot.Domain).revocable = false
    rootSlot(k2, InitialSlot.Domain).firstBadged = false
    expect(mdbChunked.check(k2).some((v) => v.includes("outside"))).toBe(true)
  })

  it("readyQueueLinksSymmetric flags broken queue links and a thread in the wrong queue", () => {
    const k = booted()
    const t = getTcbImpl(k, L.rootTcb)
    tcbSchedEnqueue(k, t)
    expect(readyQueueLinksSymmetric.check(k)).toEqual([])
    t.tcbSchedPrev = t // head with a prev link
    expect(readyQueueLinksSymmetric.check(k).length).toBeGreaterThan(0)
    const k2 = booted()
    const t2 = getTcbImpl(k2, L.rootTcb)
    tcbSchedEnqueue(k2, t2)
    t2.tcbPriority = 3 // now in the wrong queue
    expect(readyQueueLinksSymmetric.check(k2).length).toBeGreaterThan(0)
    const k3 = booted()
    const t3 = getTcbImpl(k3, L.rootTcb)
    tcbSchedEnqueue(k3, t3)
    k3.readyQueueEnd[readyQueuesIndex(0, 255)] = null // head without end
    expect(readyQueueLinksSymmetric.check(k3).length).toBeGreaterThan(0)
  })

  it("tcbQueuedIffInReadyQueue flags a queued bit without a queue, a queue member without the bit, and stray links", () => {
    const k = booted()
    const t = getTcbImpl(k, L.rootTcb)
    tcbSchedEnqueue(k, t)
    expect(tcbQueuedIffInReadyQueue.check(k)).toEqual([])
    t.tcbQueued = false
    expect(tcbQueuedIffInReadyQueue.check(k).some((v) => v.includes("not marked queued"))).toBe(true)
    const k2 = booted()
    getTcbImpl(k2, L.rootTcb).tcbQueued = true // marked but in no queue
    expect(tcbQueuedIffInReadyQueue.check(k2).some((v) => v.includes("in no ready queue"))).toBe(true)
    const k3 = booted()
    getTcbImpl(k3, L.rootTcb).tcbSchedNext = getTcbImpl(k3, L.idleTcb) // links while not queued
    expect(tcbQueuedIffInReadyQueue.check(k3).some((v) => v.includes("has ready-queue links"))).toBe(true)
  })

  it("bitmapAgreesWithQueues flags a stray bit and a missing bit", () => {
    const k = booted()
    k.readyQueuesL2Bitmap[0] = 1
    expect(bitmapAgreesWithQueues.check(k).length).toBeGreaterThan(0)
    const k2 = booted()
    tcbSchedEnqueue(k2, getTcbImpl(k2, L.rootTcb))
    expect(bitmapAgreesWithQueues.check(k2)).toEqual([])
    k2.readyQueuesL1Bitmap[0] = 0
    expect(bitmapAgreesWithQueues.check(k2).length).toBeGreaterThan(0)
  })

  /** A booted kernel with an extra TCB at `p` (no caps; the impl invariants do not look at caps of TCBs). */
  const withTcb = (k: Kernel, p: number): ImplTcb => {
    const t = new ImplTcb(p, 0)
    k.objects.set(p, t)
    return t
  }
  /** Link threads into an intrusive EP/ntfn queue, head first. */
  const chain = (ts: ImplTcb[]) => {
    ts.forEach((t, i) => {
      t.tcbEPPrev = ts[i - 1] ?? null
      t.tcbEPNext = ts[i + 1] ?? null
    })
  }

  it("epQueueLinksSymmetric flags an idle endpoint with waiters", () => {
    const k = booted()
    const ep = new ImplEndpoint(0x2000_0000)
    k.objects.set(ep.base, ep)
    expect(epQueueLinksSymmetric.check(k)).toEqual([])
    ep.epQueueHead = getTcbImpl(k, L.rootTcb)
    ep.epQueueTail = ep.epQueueHead
    expect(epQueueLinksSymmetric.check(k).length).toBeGreaterThan(0)
  })

  it("epQueueLinksSymmetric holds on a linked endpoint queue and flags a broken prev link", () => {
    const k = booted()
    const [a, b, c] = [withTcb(k, 0x0300_1000), withTcb(k, 0x0300_1200), withTcb(k, 0x0300_1400)]
    const ep = new ImplEndpoint(0x0300_0000)
    k.objects.set(ep.base, ep)
    ep.epState = "Send"
    chain([a, b, c])
    ep.epQueueHead = a
    ep.epQueueTail = c
    expect(epQueueLinksSymmetric.check(k)).toEqual([])
    expect(epQueueMembership.check(k)).toEqual([])
    c.tcbEPPrev = a
    expect(epQueueLinksSymmetric.check(k).some((v) => v.includes("prev link"))).toBe(true)
  })

  it("epQueueLinksSymmetric flags notification queues: a waiting state with no waiters, a wrong tail, an active state with waiters", () => {
    const k = booted()
    const [a, b] = [withTcb(k, 0x0300_1000), withTcb(k, 0x0300_1200)]
    const n = new ImplNotification(0x0300_0020)
    k.objects.set(n.base, n)
    n.ntfnState = "Waiting"
    expect(epQueueLinksSymmetric.check(k).some((v) => v.includes("Notification 0x3000020: queue empty in a waiting state"))).toBe(true)
    chain([a, b])
    n.ntfnQueueHead = a
    n.ntfnQueueTail = b
    expect(epQueueLinksSymmetric.check(k)).toEqual([])
    n.ntfnQueueTail = a
    expect(epQueueLinksSymmetric.check(k).some((v) => v.includes("tail is not the last"))).toBe(true)
    n.ntfnQueueTail = b
    n.ntfnState = "Active"
    expect(epQueueLinksSymmetric.check(k).some((v) => v.includes("non-empty in a non-waiting state"))).toBe(true)
  })

  it("epQueueMembership flags a thread in an endpoint queue and a notification queue, and stray EP links", () => {
    const k = booted()
    const [a, b] = [withTcb(k, 0x0300_1000), withTcb(k, 0x0300_1200)]
    const ep = new ImplEndpoint(0x0300_0000)
    const n = new ImplNotification(0x0300_0020)
    k.objects.set(ep.base, ep)
    k.objects.set(n.base, n)
    ep.epState = "Recv"
    ep.epQueueHead = a
    ep.epQueueTail = a
    n.ntfnState = "Waiting"
    n.ntfnQueueHead = a
    n.ntfnQueueTail = a
    expect(epQueueMembership.check(k).some((v) => v.includes("is in the queue of"))).toBe(true)
    n.ntfnState = "Idle"
    n.ntfnQueueHead = null
    n.ntfnQueueTail = null
    expect(epQueueMembership.check(k)).toEqual([])
    b.tcbEPPrev = a // b is in no queue
    expect(epQueueMembership.check(k).some((v) => v.includes("0x3001200 is in no endpoint or notification queue"))).toBe(true)
  })

  it("vspaceWordsEncoded flags a reserved PDE type, a global user section and a large PTE's padding bits", () => {
    const k = booted()
    const pd = getPageDirectoryImpl(k, L.rootPD)
    pd.pd[5] = 3
    expect(vspaceWordsEncoded.check(k).some((v) => v.includes("reserved type 3"))).toBe(true)
    pd.pd[5] = pde_pde_section_new(0x0400_0000, 0, 0, 0, 0, 5, 3, 1, 0, 0, 0, 1)
    expect(vspaceWordsEncoded.check(k).some((v) => v.includes("user section PDE marked global"))).toBe(true)
    pd.pd[5] = 0
    getPageTableImpl(k, L.rootPT).pt[16] = (0x0400_0000 | 0x40 | 1) >>> 0
    expect(vspaceWordsEncoded.check(k).some((v) => v.includes("padding bits"))).toBe(true)
  })

  it("vspacePointersLive flags an ASID pool entry pointing at a replaced page directory", () => {
    const k = booted()
    const pool = k.armKSASIDTable[0]!
    pool.array[1] = new ImplPageDirectory(L.rootPD)
    expect(vspacePointersLive.check(k).some((v) => v.includes("ASID 1: page directory"))).toBe(true)
  })

  it("slotPointersLive flags a kept pointer to another object, and not one a removal has voided", () => {
    const k = booted()
    const slot = rootSlot(k, InitialSlot.InitThreadCNode)
    const cap = slot.cap as Extract<Cap, { tag: "CNodeCap" }>
    expect(slotObject(k, slot, cap.ptr)).toBe(getCNodeImpl(k, L.rootCNode))
    expect(slotPointersLive.check(k)).toEqual([])
    slot.obj = getTcbImpl(k, L.rootTcb)
    expect(slotPointersLive.check(k)).toEqual([`slot 0x${slot.addr.toString(16)} keeps the TCB at 0x${L.rootTcb.toString(16)} for its CNodeCap, whose object is the CNode at 0x${L.rootCNode.toString(16)}`])
    slot.obj = undefined
    expect(slotPointersLive.check(k)).toEqual([`slot 0x${slot.addr.toString(16)} keeps an absence for its CNodeCap`])
    // A removal anywhere voids every kept pointer: the check no longer counts this one, and the slot looks again.
    k.objects.delete(L.ipcBufferFrame)
    expect(slotPointersLive.check(k)).toEqual([])
    expect(slotObject(k, slot, cap.ptr)).toBe(getCNodeImpl(k, L.rootCNode))
  })

  it("slotObject answers as the table does when the object at the cap's address is replaced under a kept pointer", () => {
    const k = booted()
    const slot = rootSlot(k, InitialSlot.InitThreadCNode)
    const cap = slot.cap as Extract<Cap, { tag: "CNodeCap" }>
    const before = slotObject(k, slot, cap.ptr)
    // Replaced without a delete (a set over the old object) and with one: both void the kept pointer.
    const next = new ImplCNode(L.rootCNode, cap.radix)
    k.objects.set(L.rootCNode, next)
    expect(slotObject(k, slot, cap.ptr)).toBe(next)
    k.objects.delete(L.rootCNode)
    expect(slotObject(k, slot, cap.ptr)).toBeUndefined()
    k.objects.set(L.rootCNode, before!)
    expect(slotObject(k, slot, cap.ptr)).toBe(before)
    // A removal elsewhere, then a replacement here: the epoch only moves on, so no earlier kept pointer counts again.
    k.objects.delete(L.ipcBufferFrame)
    const third = new ImplCNode(L.rootCNode, cap.radix)
    k.objects.set(L.rootCNode, third)
    expect(slotObject(k, slot, cap.ptr)).toBe(third)
    k.objects.set(L.rootCNode, before!)
    // A new cap in the slot, with nothing removed since, is looked up afresh: one naming another object...
    const other = new ImplCNode(0x7000_0000, 4)
    k.objects.set(other.base, other)
    slot.cap = { ...cap, ptr: other.base, radix: 4 }
    expect(slotObject(k, slot, other.base)).toBe(other)
    // ...and one naming the same object (the kept pointer voided by hand: the slot must not use it).
    slot.cap = cap
    slot.obj = undefined
    expect(slotObject(k, slot, cap.ptr)).toBe(before)
    expect(slotPointersLive.check(k)).toEqual([])
  })

  it("frameMemoryShaped flags a page of the wrong size and a buffer view into another page", () => {
    const k = booted()
    const frame = k.objects.get(L.ipcBufferFrame) as ImplFrame
    frame.pages = [new Uint32Array(512)]
    expect(frameMemoryShaped.check(k).some((v) => v.includes("not a whole 1024-word array"))).toBe(true)
    frame.pages = [new Uint32Array(1024)]
    frame.views = [new Uint32Array(128)]
    expect(frameMemoryShaped.check(k).some((v) => v.includes("IPC-buffer view of block 0"))).toBe(true)
  })

  it("checkImplInvariants is clean after boot", () => {
    expect(checkImplInvariants(booted())).toEqual([])
  })
})
