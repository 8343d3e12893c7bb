/**
 * Hand-built states of the IPC slice for the invariant tests: a scenario that puts threads in
 * every blocking state (sending a Call with a pending fault, waiting on a bound notification,
 * awaiting a reply, receiving), runnable threads in ready queues, and an IRQ bound to a
 * notification, all consistent; and one-change variants of it, each breaking one invariant.
 * Objects live in kernel-reserved memory that no untyped covers, so the untyped invariants
 * stay out of the way.
 * @category invariants
 */
import type { Cap, Fault, IRQState, PPtr, SlotPtr, TcbFields } from "../../model/index.ts"
import {
  InitialSlot, RightG, RightGR, RightR, RightW, defaultBootConfig, emptyContext, tcbCaller, tcbReply, timeSlice,
} from "../../model/index.ts"
import { boot, bootLayout } from "../../spec/kernel/boot.ts"
import type { KObject, KernelState, Tcb } from "../../spec/state.ts"
import { mapSet, readyQueueIndex, setAdd, setCap, setDelete, setObject, slotOf, updateTcb } from "../../spec/state.ts"

export const L = bootLayout(defaultBootConfig)
const root = (i: number): SlotPtr => slotOf(L.rootCNode, i)

// Object addresses: kernel-reserved memory above the boot objects, below every untyped.
export const EP: PPtr = 0x0300_0000
export const EP2: PPtr = 0x0300_0010
export const NTFN: PPtr = 0x0300_0020
export const NTFN2: PPtr = 0x0300_0030
/** Threads, 2^9-aligned: A sends a Call (with a fault), B waits on its bound notification, C awaits a reply, D runs, E restarts, F is halted with a stale fault, G receives. */
export const A: PPtr = 0x0300_1000
export const B: PPtr = 0x0300_1200
export const C: PPtr = 0x0300_1400
export const D: PPtr = 0x0300_1600
export const E: PPtr = 0x0300_1800
export const F: PPtr = 0x0300_1a00
export const G: PPtr = 0x0300_1c00
/** The IRQ line bound to NTFN2. */
export const IRQ = 3

/** Root CNode slots the scenario fills (boot leaves 100.. empty; the negative cases use 100..140). */
export const capSlot = {
  EP: root(210), EP2: root(211), NTFN: root(212), NTFN2: root(213), IRQHandler: root(214),
  threads: new Map<PPtr, SlotPtr>([[A, root(220)], [B, root(221)], [C, root(222)], [D, root(223)], [E, root(224)], [F, root(225)], [G, root(226)]]),
} as const

export const idleNtfn: KObject = { tag: "Notification", state: { tag: "IdleNtfn" }, boundTCB: null }

/** Write `cap` into `slot` as an original cap with no CDT parent. */
export const writeOriginal = (s: KernelState, slot: SlotPtr, cap: Cap): KernelState =>
  ({ ...setCap(s, slot, cap), isOriginal: setAdd(s.isOriginal, slot) })

/** Make `child` a CDT child of `parent`, keeping the child list in step. */
export const link = (s: KernelState, child: SlotPtr, parent: SlotPtr): KernelState => ({
  ...s,
  cdt: mapSet(s.cdt, child, parent),
  cdtList: mapSet(s.cdtList, parent, [...(s.cdtList.get(parent) ?? []), child]),
})

const threadFields = (f: Partial<TcbFields>): Tcb => ({
  tag: "TCB", tcbState: { tag: "Inactive" }, tcbPriority: 10, tcbMCP: 0, tcbDomain: 0, tcbTimeSlice: timeSlice,
  tcbFaultHandler: 0, tcbIPCBuffer: 0, tcbBoundNotification: null, tcbFault: null, tcbContext: emptyContext, ...f,
})

/**
 * Add a TCB at `p` with the given fields, a thread cap to it in its scenario slot (or root slot
 * 230), and, unless `halted` and asked not to, its master reply cap in its reply slot.
 */
export const withThread = (s: KernelState, p: PPtr, f: Partial<TcbFields>, master = true): KernelState => {
  const s1 = writeOriginal(setObject(s, p, threadFields(f)), capSlot.threads.get(p) ?? root(230), { tag: "ThreadCap", ptr: p })
  return master ? writeOriginal(s1, slotOf(p, tcbReply), { tag: "ReplyCap", tcb: p, isMaster: true, canGrant: true }) : s1
}

/** Set one interrupt line's state and mask bit. */
export const setIRQ = (s: KernelState, irq: number, st: IRQState, masked: boolean): KernelState => ({
  ...s,
  irqStates: s.irqStates.map((x, i) => (i === irq ? st : x)),
  irqMasks: s.irqMasks.map((x, i) => (i === irq ? masked : x)),
})

export const staleFault: Fault = { tag: "UnknownSyscall", syscallNumber: 0xffff_fff0 }
export const capFault: Fault = {
  tag: "CapFault", address: 0x1234, inReceivePhase: false, failure: { tag: "GuardMismatch", bitsLeft: 32, guardFound: 5, bitsFound: 3 },
}

/**
 * The consistent IPC scenario, built on the default boot state (the root thread stays current
 * and Running under ResumeCurrentThread):
 * - EP is SendEP [A]: A is BlockedOnSend (a Call, Grant and GrantReply) with a pending cap fault.
 * - NTFN is bound to B and WaitingNtfn [B]: B is BlockedOnNotification on it.
 * - C is BlockedOnReply; its one reply cap, a child of its master, is in the root thread's caller slot.
 * - D (priority 10) is Running in ready queue (0, 10); E (priority 20) is Restart in ready queue (0, 20).
 * - F is Inactive with no master reply cap and a stale fault (seL4 does not clear it on cancelIPC).
 * - EP2 is RecvEP [G]: G is BlockedOnReceive, its caller slot empty.
 * - IRQ 3 is IRQSignal and unmasked; an IRQHandlerCap for it (a child of IRQControl) exists, and
 *   its node slot holds a Write notification cap to NTFN2 (a child of NTFN2's cap). NTFN2 is active.
 */
export const ipcScenario = (): KernelState => {
  let s = boot(defaultBootConfig)
  s = setObject(s, EP, { tag: "Endpoint", state: { tag: "SendEP", queue: [A] } })
  s = setObject(s, EP2, { tag: "Endpoint", state: { tag: "RecvEP", queue: [G] } })
  s = setObject(s, NTFN, { tag: "Notification", state: { tag: "WaitingNtfn", queue: [B] }, boundTCB: B })
  s = setObject(s, NTFN2, { tag: "Notification", state: { tag: "ActiveNtfn", badge: 1 }, boundTCB: null })
  s = writeOriginal(s, capSlot.EP, { tag: "EndpointCap", ptr: EP, badge: 0, rights: RightR | RightW | RightG | RightGR })
  s = writeOriginal(s, capSlot.EP2, { tag: "EndpointCap", ptr: EP2, badge: 0, rights: RightR | RightW })
  s = writeOriginal(s, capSlot.NTFN, { tag: "NotificationCap", ptr: NTFN, badge: 0, rights: RightR | RightW })
  s = writeOriginal(s, capSlot.NTFN2, { tag: "NotificationCap", ptr: NTFN2, badge: 0, rights: RightR | RightW })

  s = withThread(s, A, {
    tcbState: { tag: "BlockedOnSend", ep: EP, badge: 7, canGrant: true, canGrantReply: true, isCall: true }, tcbFault: capFault,
  })
  s = withThread(s, B, { tcbState: { tag: "BlockedOnNotification", ntfn: NTFN }, tcbBoundNotification: NTFN })
  s = withThread(s, C, { tcbState: { tag: "BlockedOnReply" } })
  s = link(setCap(s, slotOf(L.rootTcb, tcbCaller), { tag: "ReplyCap", tcb: C, isMaster: false, canGrant: true }), slotOf(L.rootTcb, tcbCaller), slotOf(C, tcbReply))
  s = withThread(s, D, { tcbState: { tag: "Running" }, tcbTimeSlice: 3 })
  s = withThread(s, E, { tcbState: { tag: "Restart" }, tcbPriority: 20, tcbTimeSlice: 1 })
  s = { ...s, readyQueues: mapSet(mapSet(s.readyQueues, readyQueueIndex(0, 10), [D]), readyQueueIndex(0, 20), [E]) }
  s = withThread(s, F, { tcbFault: staleFault }, false)
  s = withThread(s, G, { tcbState: { tag: "BlockedOnReceive", ep: EP2, canGrant: false } })

  s = setIRQ(s, IRQ, "IRQSignal", false)
  s = link(setCap(s, capSlot.IRQHandler, { tag: "IRQHandlerCap", irq: IRQ }), capSlot.IRQHandler, root(InitialSlot.IRQControl))
  s = link(setCap(s, slotOf(L.irqNode, IRQ), { tag: "NotificationCap", ptr: NTFN2, badge: 0, rights: RightW }), slotOf(L.irqNode, IRQ), capSlot.NTFN2)
  return s
}

/** A one-change variant of the scenario and the invariant it must break. */
export interface ScenarioBreak {
  readonly invariant: string
  readonly description: string
  readonly state: () => KernelState
}

const upd = (p: PPtr, f: (t: Tcb) => Tcb) => (): KernelState => updateTcb(ipcScenario(), p, f)
const setObj = (p: PPtr, o: KObject) => (): KernelState => setObject(ipcScenario(), p, o)

/** Variants of the IPC scenario, each breaking the named invariant (and possibly others). */
export const scenarioBreaks: readonly ScenarioBreak[] = [
  // sym_refs: every blocking reference and every binding, both directions.
  { invariant: "sym_refs", description: "A is BlockedOnSend on EP but EP's queue is emptied (IdleEP).", state: setObj(EP, { tag: "Endpoint", state: { tag: "IdleEP" } }) },
  { invariant: "sym_refs", description: "EP is turned into RecvEP [A] while A is BlockedOnSend on it (wrong direction).", state: setObj(EP, { tag: "Endpoint", state: { tag: "RecvEP", queue: [A] } }) },
  { invariant: "sym_refs", description: "D (Running) is added to EP's send queue.", state: setObj(EP, { tag: "Endpoint", state: { tag: "SendEP", queue: [A, D] } }) },
  { invariant: "sym_refs", description: "A is also put in EP2's receive queue.", state: setObj(EP2, { tag: "Endpoint", state: { tag: "RecvEP", queue: [G, A] } }) },
  { invariant: "sym_refs", description: "B is made BlockedOnNotification on NTFN2, whose state is Active.", state: upd(B, (t) => ({ ...t, tcbState: { tag: "BlockedOnNotification", ntfn: NTFN2 } })) },
  { invariant: "sym_refs", description: "B's binding to NTFN is dropped while NTFN stays bound to B.", state: upd(B, (t) => ({ ...t, tcbBoundNotification: null })) },
  { invariant: "sym_refs", description: "NTFN2 is bound to D, which is bound to nothing.", state: setObj(NTFN2, { tag: "Notification", state: { tag: "ActiveNtfn", badge: 1 }, boundTCB: D }) },
  { invariant: "sym_refs", description: "G is made BlockedOnReceive on EP, whose queue is a send queue without it.", state: upd(G, (t) => ({ ...t, tcbState: { tag: "BlockedOnReceive", ep: EP, canGrant: false } })) },
  // valid_ntfn: a bound notification's waiters are exactly its bound thread.
  {
    invariant: "valid_objs.valid_ntfn", description: "NTFN (bound to B) gets G as a second waiter.",
    state: setObj(NTFN, { tag: "Notification", state: { tag: "WaitingNtfn", queue: [B, G] }, boundTCB: B }),
  },
  {
    invariant: "valid_objs.valid_ntfn", description: "NTFN2 is bound to B but waited on by G.",
    state: setObj(NTFN2, { tag: "Notification", state: { tag: "WaitingNtfn", queue: [G] }, boundTCB: B }),
  },
  { invariant: "valid_objs.valid_ep", description: "EP's send queue holds A twice.", state: setObj(EP, { tag: "Endpoint", state: { tag: "SendEP", queue: [A, A] } }) },
  // tcb_cap_cases: the caller slot is empty while BlockedOnReceive; the reply slot holds the own master unless halted.
  {
    invariant: "valid_objs.tcb_cap_cases", description: "G (BlockedOnReceive) gets a reply cap to C in its caller slot.",
    state: () => { const s = ipcScenario(); return setCap(s, slotOf(G, tcbCaller), { tag: "ReplyCap", tcb: C, isMaster: false, canGrant: false }) },
  },
  {
    invariant: "valid_objs.tcb_cap_cases", description: "A (BlockedOnSend) has its master reply cap removed.",
    state: () => setCap(ipcScenario(), slotOf(A, tcbReply), { tag: "NullCap" }),
  },
  {
    invariant: "valid_objs.tcb_cap_cases", description: "D's reply slot holds a master reply cap to A instead of its own.",
    state: () => setCap(ipcScenario(), slotOf(D, tcbReply), { tag: "ReplyCap", tcb: A, isMaster: true, canGrant: true }),
  },
  {
    invariant: "valid_objs.tcb_cap_cases", description: "The root thread's caller slot holds C's master reply cap.",
    state: () => setCap(ipcScenario(), slotOf(L.rootTcb, tcbCaller), { tag: "ReplyCap", tcb: C, isMaster: true, canGrant: true }),
  },
  // valid_reply_caps: the target awaits a reply; one reply cap per target.
  { invariant: "valid_reply_caps", description: "C, named by the root thread's reply cap, is made Running.", state: upd(C, (t) => ({ ...t, tcbState: { tag: "Running" } })) },
  {
    invariant: "valid_reply_caps", description: "A second reply cap to C (also a child of C's master) is put in D's caller slot.",
    state: () => link(setCap(ipcScenario(), slotOf(D, tcbCaller), { tag: "ReplyCap", tcb: C, isMaster: false, canGrant: false }), slotOf(D, tcbCaller), slotOf(C, tcbReply)),
  },
  { invariant: "valid_objs.valid_tcb", description: "A is BlockedOnSend on NTFN, a notification.", state: upd(A, (t) => ({ ...t, tcbState: { tag: "BlockedOnSend", ep: NTFN, badge: 0, canGrant: false, canGrantReply: false, isCall: false } })) },
  { invariant: "valid_objs.valid_tcb", description: "D's MCP is set to 256.", state: upd(D, (t) => ({ ...t, tcbMCP: 256 })) },
  { invariant: "valid_objs.valid_fault", description: "F's stale fault is a VMFault whose address is 2^32.", state: upd(F, (t) => ({ ...t, tcbFault: { tag: "VMFault", address: 2 ** 32, fsr: 0, instructionFault: false } })) },
  // scheduler
  { invariant: "valid_blocked", description: "D (Running) is taken out of its ready queue.", state: () => { const s = ipcScenario(); const q = new Map(s.readyQueues); q.delete(readyQueueIndex(0, 10)); return { ...s, readyQueues: q } } },
  { invariant: "valid_queues", description: "B (BlockedOnNotification) is put in the priority-10 ready queue.", state: () => { const s = ipcScenario(); return { ...s, readyQueues: mapSet(s.readyQueues, readyQueueIndex(0, 10), [D, B]) } } },
  { invariant: "valid_queues", description: "The idle thread is put in the priority-0 ready queue.", state: () => { const s = ipcScenario(); return { ...s, readyQueues: mapSet(s.readyQueues, readyQueueIndex(0, 0), [L.idleTcb]) } } },
  { invariant: "valid_sched_action", description: "The scheduler action switches to A, which is BlockedOnSend.", state: () => ({ ...ipcScenario(), schedulerAction: { tag: "SwitchToThread", target: A } }) },
  { invariant: "valid_time_slice", description: "E's time slice is set to 6.", state: upd(E, (t) => ({ ...t, tcbTimeSlice: 6 })) },
  { invariant: "valid_idle", description: "The idle thread is bound to NTFN2.", state: upd(L.idleTcb, (t) => ({ ...t, tcbBoundNotification: NTFN2 })) },
  { invariant: "valid_objs.valid_fault", description: "The idle thread gets a pending fault.", state: upd(L.idleTcb, (t) => ({ ...t, tcbFault: staleFault })) },
  // interrupts
  {
    invariant: "valid_irq_handlers", description: "IRQ 3 is set IRQInactive (masked) while its handler cap remains.",
    state: () => setIRQ(ipcScenario(), IRQ, "IRQInactive", true),
  },
  {
    invariant: "if_unsafe_then_cap.irq_node", description: "IRQ 3's handler cap is deleted but its node slot keeps the notification cap.",
    state: () => setCap(ipcScenario(), capSlot.IRQHandler, { tag: "NullCap" }),
  },
  {
    invariant: "valid_irq_node", description: "IRQ 3's node slot holds a notification cap without Write.",
    state: () => setCap(ipcScenario(), slotOf(L.irqNode, IRQ), { tag: "NotificationCap", ptr: NTFN2, badge: 0, rights: RightR }),
  },
  {
    invariant: "valid_irq_node", description: "The IRQ node is replaced by a CNode of radix 5 (32 slots for 16 IRQs).",
    state: () => setObject(ipcScenario(), L.irqNode, { tag: "CNode", radix: 5 }),
  },
  {
    invariant: "valid_global_refs", description: "A CNode cap naming the IRQ node is put in a root CNode slot.",
    state: () => writeOriginal(ipcScenario(), root(231), { tag: "CNodeCap", ptr: L.irqNode, radix: L.irqNodeBits, guardSize: 0, guard: 0 }),
  },
  { invariant: "valid_irq_states", description: "IRQ 7 is IRQInactive and unmasked.", state: () => setIRQ(ipcScenario(), 7, "IRQInactive", false) },
  {
    invariant: "if_live_then_nonz_cap", description: "The only cap to EP, which has a sender queued, is removed.",
    state: () => { const s = ipcScenario(); return { ...setCap(s, capSlot.EP, { tag: "NullCap" }), isOriginal: setDelete(s.isOriginal, capSlot.EP) } },
  },
]
