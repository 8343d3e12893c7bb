// Set-up helpers and state queries: spawn threads, mint caps, make a thread current, a client and
// a server; what the getters read off the states those set-ups build, in the spec and the impl.
import { describe, expect, it } from "vitest"
import {
  InitialSlot, ObjectType, SetupError, SystemBuilder, absState, capAt, cdtChildren, cdtDescendants, cdtParent, clientServer, cnodeAt,
  currentThread, endpointAt, endpointQueue, isIdle, isOriginalCap, lockstep, notificationAt, objectNamedBy, objectsOf, readyQueue,
  seL4_CNode_Copy, seL4_CNode_Move, seL4_CNode_Mutate, seL4_CNode_Revoke, seL4_CNode_Rotate, seL4_Recv, seL4_TCB_Suspend, slotAt,
  tcbAt, threadState, irqLine, cnodeCapData,
} from "kspec"

describe("SystemBuilder", () => {
  it("spawns a thread with its own CSpace, VSpace root, IPC buffer and priority; its events replay in lockstep", () => {
    const b = new SystemBuilder()
    const t = b.thread({ priority: 90, cspace: { radix: 5 } })
    const tcb = tcbAt(b.state, t.ptr)!
    expect(tcb).toMatchObject({ tcbPriority: 90, tcbMCP: 90, tcbIPCBuffer: t.bufferAddr, tcbState: { tag: "Restart" } })
    expect(readyQueue(b.state, 0, 90)).toEqual([t.ptr])
    // Its CSpace root is its own CNode, guarded so that cap pointer i names slot i.
    const ep = b.endpoint()
    b.grant(t, 3, ep, 9)
    expect(capAt(b.state, t.ptr, 3)).toMatchObject({ tag: "EndpointCap", ptr: objectNamedBy(b.state, b.root, ep), badge: 9 })
    expect(cnodeAt(b.state, objectNamedBy(b.state, b.root, t.cspace)!)).toEqual({ tag: "CNode", radix: 5 })
    const h = lockstep(b.config)
    expect(h.run(b.events)).toBeNull()
    expect(h.spec.curThread).toBe(b.root)
  })

  it("makes a chosen thread current, and the root task runs again when it blocks", () => {
    const b = new SystemBuilder()
    const ntfn = b.notification()
    const a = b.thread()
    const c = b.thread()
    b.makeCurrent(c)
    expect(currentThread(b.state)).toBe(c.ptr)
    expect(readyQueue(b.state, 0, 255)).toEqual([b.root])
    b.emit(seL4_Recv(ntfn))
    expect(threadState(b.state, c.ptr)).toEqual({ tag: "BlockedOnNotification", ntfn: objectNamedBy(b.state, b.root, ntfn) })
    expect(currentThread(b.state)).toBe(b.root)
    expect(notificationAt(b.state, objectNamedBy(b.state, b.root, ntfn)!)?.state).toEqual({ tag: "WaitingNtfn", queue: [c.ptr] })
    expect(threadState(b.state, a.ptr)?.tag).toBe("Restart")
  })

  it("says which step the kernel refused, and why", () => {
    const b = new SystemBuilder()
    const t = b.thread({ resume: false })
    expect(() => b.makeCurrent(t)).toThrow(new SetupError("makeCurrent: the thread is Inactive, not runnable"))
    expect(() => b.thread({ priority: 300 })).toThrow(/TCB_SetSchedParams: the kernel replied RangeError\(0, 255\)/)
    expect(() => b.retype(ObjectType.CNode, 40)).toThrow(/Untyped_Retype: the kernel replied RangeError/)
  })

  it("runs out of room with a clear message", () => {
    const b = new SystemBuilder()
    expect(() => { for (;;) b.retype(ObjectType.Untyped, 19) }).toThrow(/no boot untyped has room|no free slot/)
  })

  it("clientServer: the server waits in Recv on the endpoint, the client runs", () => {
    const { system, ep, server } = clientServer()
    const epPtr = objectNamedBy(system.state, system.root, ep)!
    expect(endpointQueue(system.state, epPtr)).toEqual({ kind: "receive", queue: [server.ptr] })
    expect(currentThread(system.state)).toBe(system.root)
    const h = lockstep(system.config)
    expect(h.run(system.events)).toBeNull()
    expect(endpointQueue(absState(h.impl), epPtr)).toEqual({ kind: "receive", queue: [server.ptr] })
  })
})

describe("queries", () => {
  const b = new SystemBuilder()
  const ep = b.endpoint()
  const child = b.mint(ep, 1)
  const grandchild = b.freeSlot()
  b.emit(seL4_CNode_Copy(InitialSlot.InitThreadCNode, grandchild, 32, InitialSlot.InitThreadCNode, child, 32, 15))
  const s = b.state
  const slot = (i: number) => slotAt(s, b.root, i)!

  it("follow the capability derivation tree", () => {
    expect(cdtChildren(s, slot(ep))).toEqual([slot(child)])
    expect(cdtParent(s, slot(grandchild))).toBe(slot(child))
    expect(cdtDescendants(s, slot(ep))).toEqual([slot(child), slot(grandchild)])
    expect(isOriginalCap(s, slot(ep))).toBe(true)
    expect(isOriginalCap(s, slot(child))).toBe(true)
    expect(isOriginalCap(s, slot(grandchild))).toBe(false)
    const revoked = lockstep(b.config)
    revoked.run([...b.events, seL4_CNode_Revoke(InitialSlot.InitThreadCNode, ep, 32)])
    expect(cdtDescendants(revoked.spec, slot(ep))).toEqual([])
    expect(capAt(revoked.spec, b.root, child)).toBeUndefined()
  })

  it("answer undefined for the wrong kind of object, never throw", () => {
    const p = objectNamedBy(s, b.root, ep)!
    expect(endpointAt(s, p)?.state).toEqual({ tag: "IdleEP" })
    expect(tcbAt(s, p)).toBeUndefined()
    expect(notificationAt(s, p)).toBeUndefined()
    expect(endpointQueue(s, b.root)).toBeUndefined()
    expect(threadState(s, p)).toBeUndefined()
    expect(slotAt(s, p, 0)).toBeUndefined()
    expect(capAt(s, b.root, 0xffff_ffff)).toBeUndefined()
    expect(objectNamedBy(s, b.root, InitialSlot.IRQControl)).toBeUndefined()
    expect(irqLine(s, 99)).toBeUndefined()
    expect(irqLine(s, 0)).toEqual({ state: "IRQTimer", masked: false })
    expect(isIdle(s)).toBe(false)
    expect(objectsOf(s, "Endpoint").map((o) => o.ptr)).toEqual([p])
  })

  it("the CNode builders move caps where libsel4 says", () => {
    const t = b.thread({ resume: false })
    const cnode = b.cnode(2)
    const [x, y, w] = [b.freeSlot(), b.freeSlot(), b.freeSlot()]
    const root = InitialSlot.InitThreadCNode
    const h = lockstep(b.config)
    h.run([
      ...b.events,
      seL4_CNode_Move(root, x, 32, root, child, 32),
      // Mutate rewrites a CNode cap's guard (an endpoint cap's badge it may not touch).
      seL4_CNode_Mutate(root, y, 32, root, cnode, 32, cnodeCapData(0, 3)),
      // Rotate: the pivot's cap (the thread cap) moves to dest; the source's (the CNode cap, its
      // guard rewritten by pivot_badge) moves to the pivot.
      seL4_CNode_Rotate(root, w, 32, 0, root, t.tcb, 32, cnodeCapData(1, 2), root, y, 32),
      seL4_TCB_Suspend(InitialSlot.InitThreadTCB),
    ])
    expect(h.failure).toBeNull()
    const sx = h.spec
    expect(capAt(sx, b.root, child)).toBeUndefined()
    expect(capAt(sx, b.root, x)).toMatchObject({ tag: "EndpointCap", badge: 1 })
    expect(capAt(sx, b.root, cnode)).toBeUndefined()
    expect(capAt(sx, b.root, y)).toBeUndefined()
    expect(capAt(sx, b.root, w)).toEqual({ tag: "ThreadCap", ptr: t.ptr })
    expect(capAt(sx, b.root, t.tcb)).toMatchObject({ tag: "CNodeCap", radix: 2, guard: 1, guardSize: 2 })
    expect(isIdle(sx)).toBe(true)
  })
})
