/**
 * One hand-built counterexample per invariant: the default boot state with one thing changed so
 * that the invariant fails. `negative.test.ts` checks every registered invariant has one and
 * flags it; `kspec docs` renders `description` beside each invariant.
 * @category invariants
 */
import type { Cap, NonEmpty, PDE, PPtr, PTE, SlotPtr } from "../../model/index.ts"
import { InitialSlot, RightR, RightW, defaultBootConfig, tcbCTable, tcbReply, tcbVTable, zombieTypeTCB } from "../../model/index.ts"
import { boot, bootInfo, bootLayout, rootIPCBufferVAddr } from "../../spec/kernel/boot.ts"
import * as X from "./ipcStates.ts"
import type { KObject, KernelState } from "../../spec/state.ts"
import {
  mapDelete, mapSet, readyQueueIndex, setAdd, setCap, setDelete, setObject, slotOf, updateTcb,
} from "../../spec/state.ts"

export interface NegativeCase {
  /** One line: what was changed, and why the invariant fails. */
  readonly description: string
  readonly state: () => KernelState
}

const L = bootLayout(defaultBootConfig)
const base = (): KernelState => boot(defaultBootConfig)
const root = (i: number): SlotPtr => slotOf(L.rootCNode, i)
/** Kernel-reserved memory that no boot object and no untyped covers. */
const spare: PPtr = 0x0200_0000
const firstUntyped = root(bootInfo(defaultBootConfig).untyped.start)
// Boot fills slot 16 with the root page table's cap and 17.. with untyped caps; slots from 100 on are empty in the default boot.
const idleEP: KObject = { tag: "Endpoint", state: { tag: "IdleEP" } }

/** Write `cap` into `slot` as an original cap with no CDT parent. */
const writeOriginal = (s: KernelState, slot: SlotPtr, cap: Cap): KernelState =>
  ({ ...setCap(s, slot, cap), isOriginal: setAdd(s.isOriginal, slot) })
/** Make `child` a CDT child of `parent`, keeping the child list in step. */
const link = (s: KernelState, child: SlotPtr, parent: SlotPtr): KernelState => ({
  ...s,
  cdt: mapSet(s.cdt, child, parent),
  cdtList: mapSet(s.cdtList, parent, [...(s.cdtList.get(parent) ?? []), child]),
})
const epCap = (ptr: PPtr, rights: number): Cap => ({ tag: "EndpointCap", ptr, badge: 0, rights })
const untypedAt = (s: KernelState, slot: SlotPtr) => {
  const c = s.caps.get(slot)
  if (c?.tag !== "UntypedCap") throw new Error(`no untyped cap in slot 0x${slot.toString(16)}`)
  return c
}

/** A page directory or page table with entry `i` set to `e` (absent: deleted). */
const withPDE = (s: KernelState, pd: PPtr, i: number, e: PDE | undefined): KernelState => {
  const o = s.kheap.get(pd)
  if (o?.tag !== "PageDirectory") throw new Error("no page directory")
  const set = (m: ReadonlyMap<number, PDE>) => (e === undefined ? mapDelete(m, i) : mapSet(m, i, e))
  return setObject(s, pd, i >= 0xe00 ? { ...o, kernelPDEs: set(o.kernelPDEs) } : { ...o, pdes: set(o.pdes) })
}
const withPTE = (s: KernelState, pt: PPtr, i: number, e: PTE): KernelState => {
  const o = s.kheap.get(pt)
  if (o?.tag !== "PageTable") throw new Error("no page table")
  return setObject(s, pt, { tag: "PageTable", ptes: mapSet(o.ptes, i, e) })
}

export const negativeCases: Readonly<Record<string, NegativeCase>> = {
  valid_vspace_objs: {
    description: "The root task's page directory (ASID 1, reachable) gets a section entry at 40 MiB naming an address where no frame is.",
    state: () => withPDE(base(), L.rootPD, 40, { tag: "SectionPDE", frame: spare, attr: 3, rights: "ReadWrite" }),
  },
  "valid_objs.wellformed_vspace_obj": {
    description: "The root page table gets one large-page entry at index 16 instead of 16 identical ones.",
    state: () => withPTE(base(), L.rootPT, 16, { tag: "LargePagePTE", frame: spare, attr: 1, rights: "ReadWrite" }),
  },
  "valid_arch_state.valid_asid_table": {
    description: "ASID table entry 5 names the root task's page directory, which is not an ASID pool.",
    state: () => { const s = base(); return { ...s, armASIDTable: mapSet(s.armASIDTable, 5, L.rootPD) } },
  },
  valid_asid_map: {
    description: "The first ASID pool's entry 0 (ASID 0) names the root task's page directory, which also has ASID 1.",
    state: () => {
      const s = base()
      const pool = s.kheap.get(L.rootASIDPool)
      if (pool?.tag !== "ASIDPool") throw new Error("no pool")
      return setObject(s, L.rootASIDPool, { tag: "ASIDPool", pool: mapSet(pool.pool, 0, L.rootPD) })
    },
  },
  valid_global_objs: {
    description: "The global page directory gets a user section entry at index 100, below the kernel window.",
    state: () => withPDE(base(), L.globalPD, 100, { tag: "SectionPDE", frame: spare, attr: 3, rights: "ReadWrite" }),
  },
  equal_kernel_mappings: {
    description: "The root task's page directory loses its kernel-window entry 0xe00.",
    state: () => withPDE(base(), L.rootPD, 0xe00, undefined),
  },
  "valid_arch_caps.valid_vs_lookup": {
    description: "The root page table maps the IPC buffer frame a second time, one page up, with no frame cap recording that mapping.",
    state: () => withPTE(base(), L.rootPT, ((rootIPCBufferVAddr >>> 12) & 0xff) + 1, { tag: "SmallPagePTE", frame: L.ipcBufferFrame, attr: 5, rights: "ReadWrite" }),
  },
  "valid_arch_caps.valid_table_caps": {
    description: "A new page directory with a user section entry is named by a page-directory cap without an ASID.",
    state: () => {
      const s = base()
      const g = s.kheap.get(L.globalPD)
      if (g?.tag !== "PageDirectory") throw new Error("no global PD")
      const s1 = setObject(s, spare, { tag: "PageDirectory", pdes: new Map([[40, { tag: "SectionPDE", frame: 0x0400_0000, attr: 3, rights: "ReadWrite" }]]), kernelPDEs: g.kernelPDEs })
      return writeOriginal(s1, root(100), { tag: "PageDirectoryCap", ptr: spare, asid: null })
    },
  },
  "valid_arch_caps.unique_table_caps": {
    description: "Two page-table caps without a mapping name one (empty) page table.",
    state: () => {
      const s = setObject(base(), spare, { tag: "PageTable", ptes: new Map() })
      return writeOriginal(writeOriginal(s, root(100), { tag: "PageTableCap", ptr: spare, mapped: null }), root(101), { tag: "PageTableCap", ptr: spare, mapped: null })
    },
  },
  "valid_arch_caps.unique_table_refs": {
    description: "A second cap to the root task's page directory records ASID 2 while the first records ASID 1.",
    state: () => writeOriginal(base(), root(100), { tag: "PageDirectoryCap", ptr: L.rootPD, asid: 2 }),
  },
  "valid_objs.wellformed_cap": {
    description: "The first untyped cap's freeIndex is set to 7, which is not a multiple of 16.",
    state: () => { const s = base(); return setCap(s, firstUntyped, { ...untypedAt(s, firstUntyped), freeIndex: 7 }) },
  },
  "valid_objs.valid_cap": {
    description: "An endpoint cap naming an address where no object exists is put in a root CNode slot.",
    state: () => writeOriginal(base(), root(100), epCap(spare, RightR | RightW)),
  },
  "valid_objs.valid_untyped": {
    description: "An endpoint object is placed at the base of an untyped whose watermark is still 0.",
    state: () => { const s = base(); return setObject(s, untypedAt(s, firstUntyped).ptr, idleEP) },
  },
  "valid_objs.cap_slots": {
    description: "A domain cap is written at index 7 of the root TCB, which has only 5 slots.",
    state: () => writeOriginal(base(), slotOf(L.rootTcb, 7), { tag: "DomainCap" }),
  },
  "valid_objs.tcb_cap_cases": {
    description: "The root thread's vtable slot holds a thread cap instead of a page-directory cap.",
    state: () => setCap(base(), slotOf(L.rootTcb, tcbVTable), { tag: "ThreadCap", ptr: L.rootTcb }),
  },
  "valid_objs.valid_tcb": {
    description: "The root thread's priority is set to 256, above the maximum 255.",
    state: () => updateTcb(base(), L.rootTcb, (t) => ({ ...t, tcbPriority: 256 })),
  },
  "valid_objs.valid_ep": {
    description: "An endpoint is in the SendEP state with an empty queue.",
    state: () => setObject(base(), spare, { tag: "Endpoint", state: { tag: "SendEP", queue: [] as readonly PPtr[] as NonEmpty<PPtr> } }),
  },
  "valid_objs.valid_ntfn": {
    description: "A notification is in the WaitingNtfn state with an empty queue.",
    state: () => setObject(base(), spare, { tag: "Notification", state: { tag: "WaitingNtfn", queue: [] as readonly PPtr[] as NonEmpty<PPtr> }, boundTCB: null }),
  },
  "valid_objs.obj_sizes": {
    description: "A CNode object of radix 28 (2^32 bytes with its 16-byte slots) is added to the heap.",
    state: () => setObject(base(), spare, { tag: "CNode", radix: 28 }),
  },
  "valid_objs.valid_fault": {
    description: "The root thread gets a pending cap fault whose GuardMismatch reports a 33-bit guard.",
    state: () => updateTcb(base(), L.rootTcb, (t) => ({
      ...t, tcbFault: { tag: "CapFault", address: 5, inReceivePhase: false, failure: { tag: "GuardMismatch", bitsLeft: 32, guardFound: 0, bitsFound: 33 } },
    })),
  },
  pspace_aligned: {
    description: "An endpoint object is placed at an address 8 bytes past a 16-byte boundary.",
    state: () => setObject(base(), spare + 8, idleEP),
  },
  pspace_distinct: {
    description: "An endpoint object is placed inside the root CNode's memory.",
    state: () => setObject(base(), L.rootCNode + 0x10, idleEP),
  },
  sym_refs: {
    description: "The root thread is marked BlockedOnReceive on an endpoint whose queue is empty.",
    state: () => updateTcb(setObject(base(), spare, idleEP), L.rootTcb,
      (t) => ({ ...t, tcbState: { tag: "BlockedOnReceive", ep: spare, canGrant: false } })),
  },
  if_live_then_nonz_cap: {
    description: "The only thread cap to the running root thread is removed (its reply cap does not count).",
    state: () => { const s = base(); const slot = root(InitialSlot.InitThreadTCB); return { ...setCap(s, slot, { tag: "NullCap" }), isOriginal: setDelete(s.isOriginal, slot) } },
  },
  "valid_mdb.mdb_cte_at": {
    description: "An empty root CNode slot is made a CDT child of the root CNode cap.",
    state: () => link(base(), root(130), root(InitialSlot.InitThreadCNode)),
  },
  "valid_mdb.no_mloop": {
    description: "The root CNode cap is made a CDT child of its own child in the root TCB's ctable slot.",
    state: () => link(base(), root(InitialSlot.InitThreadCNode), slotOf(L.rootTcb, tcbCTable)),
  },
  "valid_mdb.untyped_mdb": {
    description: "An endpoint is made inside the first untyped (watermark raised past it) but its cap is not the untyped's CDT child.",
    state: () => {
      const s = base()
      const ut = untypedAt(s, firstUntyped)
      const s1 = setCap(setObject(s, ut.ptr, idleEP), firstUntyped, { ...ut, freeIndex: 16 })
      return writeOriginal(s1, root(100), epCap(ut.ptr, RightR | RightW))
    },
  },
  "valid_mdb.descendants_inc": {
    description: "A cap to an endpoint outside the root CNode is made a CDT child of the root CNode cap.",
    state: () => link(writeOriginal(setObject(base(), spare, idleEP), root(100), epCap(spare, RightR | RightW)), root(100), root(InitialSlot.InitThreadCNode)),
  },
  "valid_mdb.untyped_inc": {
    description: "A second, smaller untyped cap inside the first untyped is added with no CDT link to it.",
    state: () => { const s = base(); const ut = untypedAt(s, firstUntyped); return writeOriginal(s, root(140), { ...ut, sizeBits: 12, freeIndex: 0 }) },
  },
  "valid_mdb.ut_revocable": {
    description: "The first untyped cap loses its original mark.",
    state: () => { const s = base(); return { ...s, isOriginal: setDelete(s.isOriginal, firstUntyped) } },
  },
  "valid_mdb.irq_control": {
    description: "A second IRQControlCap is written into a root CNode slot.",
    state: () => writeOriginal(base(), root(100), { tag: "IRQControlCap" }),
  },
  "valid_mdb.reply_master_revocable": {
    description: "The root thread's master reply cap loses its original mark.",
    state: () => { const s = base(); return { ...s, isOriginal: setDelete(s.isOriginal, slotOf(L.rootTcb, tcbReply)) } },
  },
  "valid_mdb.reply_mdb": {
    description: "A non-master reply cap to the root thread is written with no CDT parent.",
    state: () => setCap(base(), root(100), { tag: "ReplyCap", tcb: L.rootTcb, isMaster: false, canGrant: false }),
  },
  valid_ioc: {
    description: "An empty root CNode slot is marked original.",
    state: () => { const s = base(); return { ...s, isOriginal: setAdd(s.isOriginal, root(100)) } },
  },
  valid_list: {
    description: "The root CNode cap's child list is dropped while the CDT still records its child.",
    state: () => { const s = base(); return { ...s, cdtList: mapDelete(s.cdtList, root(InitialSlot.InitThreadCNode)) } },
  },
  derived_rights: {
    description: "A read-write endpoint cap is made the CDT child of a read-only cap to the same endpoint.",
    state: () => {
      const s = writeOriginal(setObject(base(), spare, idleEP), root(100), epCap(spare, RightR))
      return link(setCap(s, root(101), epCap(spare, RightR | RightW)), root(101), root(100))
    },
  },
  valid_idle: {
    description: "The idle thread is set Inactive.",
    state: () => updateTcb(base(), L.idleTcb, (t) => ({ ...t, tcbState: { tag: "Inactive" } })),
  },
  only_idle: {
    description: "The root thread is put in IdleThreadState.",
    state: () => updateTcb(base(), L.rootTcb, (t) => ({ ...t, tcbState: { tag: "IdleThreadState" } })),
  },
  valid_reply_caps: {
    description: "A reply cap to the running root thread (a child of its master) sits in a root CNode slot.",
    state: () => link(setCap(base(), root(100), { tag: "ReplyCap", tcb: L.rootTcb, isMaster: false, canGrant: false }), root(100), slotOf(L.rootTcb, tcbReply)),
  },
  valid_reply_masters: {
    description: "A second master reply cap to the root thread is written into a root CNode slot.",
    state: () => writeOriginal(base(), root(100), { tag: "ReplyCap", tcb: L.rootTcb, isMaster: true, canGrant: true }),
  },
  valid_global_refs: {
    description: "A thread cap to the idle thread is written into a root CNode slot.",
    state: () => writeOriginal(base(), root(100), { tag: "ThreadCap", ptr: L.idleTcb }),
  },
  cur_tcb: {
    description: "The current thread is set to the root CNode's address.",
    state: () => ({ ...base(), curThread: L.rootCNode }),
  },
  valid_queues: {
    description: "The root thread (priority 255) is put in the priority-100 ready queue.",
    state: () => { const s = base(); return { ...s, readyQueues: mapSet(s.readyQueues, readyQueueIndex(0, 100), [L.rootTcb]) } },
  },
  valid_blocked: {
    description: "A second, Running thread is in no ready queue, not current and not the switch target.",
    state: () => X.withThread(base(), X.A, { tcbState: { tag: "Running" } }),
  },
  ct_not_in_q: {
    description: "The running root thread (current, scheduler action ResumeCurrentThread) is also in its ready queue.",
    state: () => { const s = base(); return { ...s, readyQueues: mapSet(s.readyQueues, readyQueueIndex(0, 255), [L.rootTcb]) } },
  },
  ct_in_cur_domain: {
    description: "The current root thread is moved to domain 1 while the current domain is 0 and the action is ResumeCurrentThread.",
    state: () => updateTcb({ ...base(), numDomains: 2 }, L.rootTcb, (t) => ({ ...t, tcbDomain: 1 })),
  },
  valid_idle_etcb: {
    description: "The idle thread is moved to domain 1 (of 2).",
    state: () => updateTcb({ ...base(), numDomains: 2 }, L.idleTcb, (t) => ({ ...t, tcbDomain: 1 })),
  },
  valid_time_slice: {
    description: "The root thread's time slice is set to 0.",
    state: () => updateTcb(base(), L.rootTcb, (t) => ({ ...t, tcbTimeSlice: 0 })),
  },
  valid_domain_list: {
    description: "The domain schedule's running index is moved to its last entry, the reserved end marker.",
    state: () => { const s = base(); return { ...s, domainIndex: s.domainList.length - 1 } },
  },
  valid_dom_schedule: {
    description: "The first domain schedule entry is set to domain 1 of a kernel with one domain.",
    state: () => { const s = base(); return { ...s, domainList: [{ domain: 1, duration: 5n }, ...s.domainList.slice(1)] } },
  },
  zombies_final: {
    description: "A Zombie of the root CNode is written into an empty root slot while the root CNode's own caps remain.",
    state: () => writeOriginal(base(), root(100), { tag: "ZombieCap", ptr: L.rootCNode, zombieType: defaultBootConfig.rootCNodeBits, number: 1 }),
  },
  zombie_slots_empty: {
    description: "A Zombie of the root TCB counting 2 slots left, while the TCB's reply slot (index 2) still holds its master reply cap.",
    state: () => writeOriginal(base(), root(100), { tag: "ZombieCap", ptr: L.rootTcb, zombieType: zombieTypeTCB, number: 2 }),
  },
  work_units_bounded: {
    description: "The work-unit counter is left at its limit, where preemptionPoint would have started it over.",
    state: () => { const s = base(); return { ...s, workUnitsCompleted: s.workUnitsLimit } },
  },
  domain_time_left: {
    description: "The current domain's time left is set to 0 ticks at kernel exit.",
    state: () => ({ ...base(), domainTime: 0n }),
  },
  valid_cur_domain: {
    description: "The current domain is set to 1 in a kernel with one domain.",
    state: () => ({ ...base(), curDomain: 1 }),
  },
  valid_irq_node: {
    description: "IRQ 3's slot in the IRQ node holds an endpoint cap instead of a notification cap.",
    state: () => writeOriginal(setObject(base(), spare, idleEP), slotOf(L.irqNode, 3), epCap(spare, RightW)),
  },
  "if_unsafe_then_cap.irq_node": {
    description: "IRQ 3 is IRQSignal and its node slot holds a notification cap, but no IRQHandlerCap for IRQ 3 exists.",
    state: () => {
      const s = X.setIRQ(setObject(base(), spare, X.idleNtfn), 3, "IRQSignal", false)
      return writeOriginal(s, slotOf(L.irqNode, 3), { tag: "NotificationCap", ptr: spare, badge: 0, rights: RightW })
    },
  },
  valid_irq_handlers: {
    description: "An IRQHandlerCap for IRQ 3 is written while IRQ 3 is still IRQInactive.",
    state: () => link(setCap(base(), root(100), { tag: "IRQHandlerCap", irq: 3 }), root(100), root(InitialSlot.IRQControl)),
  },
  valid_irq_states: {
    description: "IRQ 5 is IRQInactive but its mask bit is cleared.",
    state: () => X.setIRQ(base(), 5, "IRQInactive", false),
  },
  irq_timer: {
    description: "The timer line IRQ 0 is set to IRQSignal.",
    state: () => X.setIRQ(base(), 0, "IRQSignal", false),
  },
  valid_sched_action: {
    description: "The scheduler action switches to the idle thread, which is not runnable.",
    state: () => ({ ...base(), schedulerAction: { tag: "SwitchToThread", target: L.idleTcb } }),
  },
  valid_machine_state: {
    description: "The root task's IPC buffer frame (4 KiB: words 0..1023) holds a word at index 1024.",
    state: () => {
      const s = base()
      const f = s.kheap.get(L.ipcBufferFrame)
      if (f?.tag !== "Frame") throw new Error("no IPC buffer frame")
      return setObject(s, L.ipcBufferFrame, { ...f, words: mapSet(f.words, 1024, 7) })
    },
  },
}
