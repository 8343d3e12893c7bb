/**
 * Booting: the initial state seL4's `init_kernel` hands the root task (src/kernel/boot.c,
 * l4v `init_A_st`), restricted to kspec's scope.
 * @category objects
 */
import type { BootConfig, Cap, Mapping, PDE, PPtr, PTE, SlotPtr } from "../../model/index.ts"
import {
  alignUp, asidHigh, asidLow, asidPoolBits, bit, defaultNumDomainSchedules, defaultResetChunkBits, defaultWorkUnitsPerPreemption, emptyContext, InitialSlot, initThreadASID,
  kernelBase, maxDomainDuration, maxPrio, maxUntypedBits, minUntypedBits, pageBits, pageDirBits, pageTableBits, pdIndexBits,
  pdIndexOf, ptIndexOf, sectionBits, sectionsPerSuperSection, slotBits, tcbBits, tcbBuffer, tcbCTable, tcbReply, tcbVTable,
  timerIRQ, timeSlice, VMAttr, wordBits,
} from "../../model/index.ts"
import type { DomainScheduleItem, KObject, KernelState } from "../state.ts"
import { mapFrom, setFrom, slotOf } from "../state.ts"

/** Where boot places its own objects (inside kernel-reserved memory). */
export const bootObjectsBase = 0x0100_0000
/** The root task's IPC buffer virtual address. */
export const rootIPCBufferVAddr = 0x0080_0000

/** Addresses of the objects `boot` creates, in allocation order, each aligned to its size. */
export interface BootLayout {
  readonly rootCNode: PPtr
  readonly rootTcb: PPtr
  readonly idleTcb: PPtr
  readonly ipcBufferFrame: PPtr
  /** The IRQ node: a CNode with a slot per interrupt line. */
  readonly irqNode: PPtr
  readonly irqNodeBits: number
  /** The kernel's global page directory and the page table of its last MiB (seL4 `armKSGlobalPD`, `armKSGlobalPT`). */
  readonly globalPD: PPtr
  readonly globalPT: PPtr
  /** The root task's page directory, its page table for the IPC buffer, and the first ASID pool. */
  readonly rootPD: PPtr
  readonly rootPT: PPtr
  readonly rootASIDPool: PPtr
}

/** Radix of the IRQ node: enough slots for every line. */
export const irqNodeRadix = (numIRQs: number): number => Math.ceil(Math.log2(Math.max(1, numIRQs)))

/** Lay the boot objects out one after another from `bootObjectsBase`, each aligned to its size. */
export const bootLayout = (config: BootConfig): BootLayout => {
  let cursor = bootObjectsBase
  const alloc = (bits: number): PPtr => {
    const p = alignUp(cursor, bits)
    cursor = p + bit(bits)
    return p
  }
  const rootCNode = alloc(config.rootCNodeBits + slotBits)
  const rootTcb = alloc(tcbBits)
  const idleTcb = alloc(tcbBits)
  const ipcBufferFrame = alloc(pageBits)
  const irqNodeBits = irqNodeRadix(config.numIRQs)
  const irqNode = alloc(irqNodeBits + slotBits)
  const globalPD = alloc(pageDirBits)
  const globalPT = alloc(pageTableBits)
  const rootPD = alloc(pageDirBits)
  const rootPT = alloc(pageTableBits)
  const rootASIDPool = alloc(asidPoolBits)
  return { rootCNode, rootTcb, idleTcb, ipcBufferFrame, irqNode, irqNodeBits, globalPD, globalPT, rootPD, rootPT, rootASIDPool }
}

/** A range of root CNode slots, [start, end). libsel4 `seL4_SlotRegion`. */
export interface SlotRegion { readonly start: number; readonly end: number }

/**
 * Where boot put the root task's caps beyond the fixed initial slots, as seL4's boot info reports
 * them (libsel4 `seL4_BootInfo`): the page tables of its address space first (`userImagePaging`;
 * kspec's root task has one, covering its IPC buffer), then the untyped caps, then empty slots.
 */
export interface BootInfo {
  readonly userImagePaging: SlotRegion
  readonly untyped: SlotRegion
  readonly empty: SlotRegion
}

export const bootInfo = (config: BootConfig): BootInfo => {
  const paging = { start: InitialSlot.NumInitialCaps, end: InitialSlot.NumInitialCaps + 1 }
  const slots = bit(config.rootCNodeBits)
  const count = config.memory.reduce((n, r) => n + untypedBlocks(r.base, r.size).length, 0)
  const untyped = { start: paging.end, end: Math.min(slots, paging.end + count) }
  return { userImagePaging: paging, untyped, empty: { start: untyped.end, end: slots } }
}

/**
 * The physical address the kernel window starts at (seL4 `physBase`): kspec's object pointers
 * are physical addresses and the kernel's own memory starts at 0.
 */
export const physBase = 0
/** The physical page of the kernel's exception vectors, inside the kernel image below the boot objects. */
export const vectorTablePAddr = 0x0000_f000
/** Where the kernel maps its vector page (seL4 `PPTR_VECTOR_TABLE`). */
export const vectorTableVAddr = 0xffff_0000

/** Kernel mappings: kernel-only, cacheable, parity enabled, executable. */
const kernelAttr = VMAttr.PageCacheable | VMAttr.ParityEnabled

/** The kernel window of each global page table address boot has laid out (boot is pure: one value serves every boot). */
const windows = new Map<PPtr, ReadonlyMap<number, PDE>>()
const kernelWindowMap = (globalPT: PPtr): ReadonlyMap<number, PDE> => {
  let w = windows.get(globalPT)
  if (w === undefined) {
    // Shared by every state and every page directory: frozen, entries first (a frozen value is frozen through).
    const entries = kernelWindow(globalPT)
    for (const e of entries.values()) Object.freeze(e)
    w = Object.freeze(mapFrom(entries))
    windows.set(globalPT, w)
  }
  return w
}

/**
 * The global page directory's entries: the kernel window from `kernelBase` (physical memory from
 * `physBase`, kernel-only) in super sections up to the last 16 MiB, then sections, and the last MiB
 * through the global page table; nothing below `kernelBase`. Mirrors seL4 `map_kernel_window`.
 */
export const kernelWindow = (globalPT: PPtr): Map<number, PDE> => {
  const pdes = new Map<number, PDE>()
  const top = bit(pdIndexBits)
  let idx = pdIndexOf(kernelBase)
  let phys = physBase
  for (; idx < top - sectionsPerSuperSection; idx += sectionsPerSuperSection) {
    const pde: PDE = { tag: "SuperSectionPDE", frame: phys, attr: kernelAttr, rights: "KernelOnly" }
    for (let j = 0; j < sectionsPerSuperSection; j++) pdes.set(idx + j, pde)
    phys += bit(sectionBits) * sectionsPerSuperSection
  }
  for (; idx < top - 1; idx++, phys += bit(sectionBits)) pdes.set(idx, { tag: "SectionPDE", frame: phys, attr: kernelAttr, rights: "KernelOnly" })
  pdes.set(idx, { tag: "PageTablePDE", table: globalPT, attr: VMAttr.ParityEnabled })
  return pdes
}

/** The global page table: the vector page, kernel-only. Mirrors seL4 `map_kernel_frame(arm_vector_table, ...)`. */
export const globalPTEntries = (): Map<number, PTE> =>
  new Map([[ptIndexOf(vectorTableVAddr), { tag: "SmallPagePTE", frame: vectorTablePAddr, attr: VMAttr.PageCacheable, rights: "KernelOnly" } as PTE]])

/**
 * Split a memory region into maximal aligned power-of-two blocks, as seL4's
 * `create_untypeds_for_region` does: each block is as large as both the remaining size and the
 * start's alignment allow, capped at `seL4_MaxUntypedBits`; blocks under `seL4_MinUntypedBits`
 * are dropped.
 */
export const untypedBlocks = (base: number, size: number): readonly { base: number; sizeBits: number }[] => {
  const out: { base: number; sizeBits: number }[] = []
  let start = base
  const end = base + size
  while (start < end) {
    let sizeBits = Math.floor(Math.log2(end - start))
    while (bit(sizeBits + 1) <= end - start) sizeBits++
    while (bit(sizeBits) > end - start) sizeBits--
    if (sizeBits > maxUntypedBits) sizeBits = maxUntypedBits
    if (start !== 0) {
      let align = 0
      while (align < wordBits && start % bit(align + 1) === 0) align++
      if (sizeBits > align) sizeBits = align
    }
    if (sizeBits >= minUntypedBits) out.push({ base: start, sizeBits })
    start += bit(sizeBits)
  }
  return out
}

/**
 * The domain schedule the kernel boots with: the configured entries (or seL4's boot schedule, one
 * domain-0 entry of the longest duration, `init_core_state`), then end markers `(0, 0)` filling
 * the table up to `numDomainSchedules` entries (seL4 `CONFIG_NUM_DOMAIN_SCHEDULES`).
 */
export const bootDomainList = (config: BootConfig): readonly DomainScheduleItem[] => {
  const entries: DomainScheduleItem[] = config.domainSchedule === undefined
    ? [{ domain: 0, duration: maxDomainDuration }]
    : config.domainSchedule.map((e) => ({ domain: e.domain, duration: BigInt(e.length) }))
  const n = config.numDomainSchedules ?? defaultNumDomainSchedules(config.numDomains)
  while (entries.length < n) entries.push({ domain: 0, duration: 0n })
  return entries
}

/**
 * The initial state: an idle thread, and a running root thread (priority and MCP 255) whose
 * root CNode holds caps to its own TCB and CNode, its VSpace (a page directory with ASID 1 in the
 * first ASID pool), IRQ control, ASID control, the first ASID pool, its IPC buffer frame (mapped
 * read-write at `rootIPCBufferVAddr` through the page table in slot 16), the domain cap, and
 * untyped caps covering the configured memory from slot 17 on (`bootInfo`). The root TCB's
 * CSpace-root, VSpace-root and IPC-buffer slots hold copies (CDT children) of the CNode, page
 * directory and frame caps (the frame copy unmapped, as `deriveCap` makes it); its reply slot
 * holds its master reply cap. Every interrupt line is inactive and masked except the kernel
 * timer's. Mirrors seL4 `init_kernel` with `create_it_address_space`, `create_ipcbuf_frame_cap`,
 * `create_it_asid_pool`, `write_it_asid_pool` and `create_initial_thread`.
 * The domain schedule starts at its first entry: that entry's domain is the current domain,
 * and the root thread's, for that entry's duration (seL4 `create_initial_thread` before 15.0;
 * since 15.0 the first entry is always domain 0).
 */
export const boot = (config: BootConfig): KernelState => {
  const L = bootLayout(config)
  const domainList = bootDomainList(config)
  const first = domainList[0]!
  const r = config.rootCNodeBits
  const caps = new Map<SlotPtr, Cap>()
  const cdt = new Map<SlotPtr, SlotPtr>()
  const cdtList = new Map<SlotPtr, SlotPtr[]>()
  const isOriginal = new Set<SlotPtr>()
  const root = (i: number) => slotOf(L.rootCNode, i)
  // write_slot: an original cap with no CDT parent.
  const writeSlot = (slot: SlotPtr, cap: Cap) => { caps.set(slot, cap); isOriginal.add(slot) }
  // cteInsert of a derived copy: a non-original child, first in its parent's children.
  const insertChild = (parent: SlotPtr, slot: SlotPtr, cap: Cap) => {
    caps.set(slot, cap)
    cdt.set(slot, parent)
    cdtList.set(parent, [slot, ...(cdtList.get(parent) ?? [])])
  }

  const cnodeCap: Cap = { tag: "CNodeCap", ptr: L.rootCNode, radix: r, guardSize: wordBits - r, guard: 0 }
  const bufferMapping: Mapping = { asid: initThreadASID, vaddr: rootIPCBufferVAddr }
  const frameCap: Cap = { tag: "FrameCap", ptr: L.ipcBufferFrame, sizeBits: pageBits, vmRights: "ReadWrite", isDevice: false, mapped: bufferMapping }
  const pdCap: Cap = { tag: "PageDirectoryCap", ptr: L.rootPD, asid: initThreadASID }
  // create_it_address_space: the page directory, then the page table covering the IPC buffer.
  writeSlot(root(InitialSlot.InitThreadVSpace), pdCap)
  writeSlot(root(bootInfo(config).userImagePaging.start), {
    tag: "PageTableCap", ptr: L.rootPT, mapped: { asid: initThreadASID, vaddr: rootIPCBufferVAddr - (rootIPCBufferVAddr % bit(sectionBits)) },
  })
  writeSlot(root(InitialSlot.InitThreadCNode), cnodeCap)
  writeSlot(root(InitialSlot.InitThreadIPCBuffer), frameCap)
  writeSlot(root(InitialSlot.ASIDControl), { tag: "ASIDControlCap" })
  writeSlot(root(InitialSlot.InitThreadASIDPool), { tag: "ASIDPoolCap", ptr: L.rootASIDPool, asidBase: 0 })
  writeSlot(root(InitialSlot.Domain), { tag: "DomainCap" })
  writeSlot(root(InitialSlot.IRQControl), { tag: "IRQControlCap" })
  insertChild(root(InitialSlot.InitThreadCNode), slotOf(L.rootTcb, tcbCTable), cnodeCap)
  insertChild(root(InitialSlot.InitThreadVSpace), slotOf(L.rootTcb, tcbVTable), pdCap)
  insertChild(root(InitialSlot.InitThreadIPCBuffer), slotOf(L.rootTcb, tcbBuffer), { ...frameCap, mapped: null })
  writeSlot(slotOf(L.rootTcb, tcbReply), { tag: "ReplyCap", tcb: L.rootTcb, isMaster: true, canGrant: true })
  writeSlot(root(InitialSlot.InitThreadTCB), { tag: "ThreadCap", ptr: L.rootTcb })

  let next = bootInfo(config).untyped.start
  for (const region of config.memory) {
    for (const b of untypedBlocks(region.base, region.size)) {
      if (next >= bit(r)) break
      writeSlot(root(next++), { tag: "UntypedCap", isDevice: region.isDevice, ptr: b.base, sizeBits: b.sizeBits, freeIndex: 0 })
    }
  }

  const kheap = new Map<PPtr, KObject>()
  kheap.set(L.rootCNode, { tag: "CNode", radix: r })
  kheap.set(L.ipcBufferFrame, { tag: "Frame", sizeBits: pageBits, isDevice: false, words: mapFrom([]) })
  kheap.set(L.irqNode, { tag: "CNode", radix: L.irqNodeBits })
  const window = kernelWindowMap(L.globalPT)
  kheap.set(L.globalPD, { tag: "PageDirectory", pdes: mapFrom([]), kernelPDEs: window })
  kheap.set(L.globalPT, { tag: "PageTable", ptes: mapFrom(globalPTEntries()) })
  // The root task's page directory: the kernel window, and the page table that maps its IPC buffer.
  const rootPDEs = mapFrom<number, PDE>([[pdIndexOf(rootIPCBufferVAddr), { tag: "PageTablePDE", table: L.rootPT, attr: VMAttr.ParityEnabled }]])
  kheap.set(L.rootPD, { tag: "PageDirectory", pdes: rootPDEs, kernelPDEs: window })
  kheap.set(L.rootPT, {
    tag: "PageTable",
    ptes: mapFrom([[ptIndexOf(rootIPCBufferVAddr), { tag: "SmallPagePTE", frame: L.ipcBufferFrame, attr: VMAttr.PageCacheable | VMAttr.ExecuteNever, rights: "ReadWrite" }]]),
  })
  kheap.set(L.rootASIDPool, { tag: "ASIDPool", pool: mapFrom([[asidLow(initThreadASID), L.rootPD]]) })
  kheap.set(L.rootTcb, {
    tag: "TCB", tcbState: { tag: "Running" }, tcbPriority: maxPrio, tcbMCP: maxPrio, tcbDomain: first.domain,
    tcbTimeSlice: timeSlice, tcbFaultHandler: 0, tcbIPCBuffer: rootIPCBufferVAddr, tcbBoundNotification: null,
    tcbFault: null, tcbContext: emptyContext,
  })
  kheap.set(L.idleTcb, {
    tag: "TCB", tcbState: { tag: "IdleThreadState" }, tcbPriority: 0, tcbMCP: 0, tcbDomain: 0,
    tcbTimeSlice: timeSlice, tcbFaultHandler: 0, tcbIPCBuffer: 0, tcbBoundNotification: null,
    tcbFault: null, tcbContext: emptyContext,
  })

  return {
    kheap: mapFrom(kheap), caps: mapFrom(caps), cdt: mapFrom(cdt), cdtList: mapFrom(cdtList), isOriginal: setFrom(isOriginal),
    curThread: L.rootTcb, idleThread: L.idleTcb, schedulerAction: { tag: "ResumeCurrentThread" },
    readyQueues: mapFrom([]), curDomain: first.domain,
    domainList, domainIndex: 0, domainStartIndex: 0, domainTime: first.duration,
    numIRQs: config.numIRQs, numDomains: config.numDomains,
    // initIRQController masks and deactivates every line; the kernel timer's line is then IRQTimer, unmasked.
    irqStates: Array.from({ length: config.numIRQs }, (_, i) => (i === timerIRQ ? "IRQTimer" : "IRQInactive")),
    irqMasks: Array.from({ length: config.numIRQs }, (_, i) => i !== timerIRQ),
    irqNode: L.irqNode,
    armASIDTable: mapFrom([[asidHigh(initThreadASID), L.rootASIDPool]]),
    armGlobalPD: L.globalPD,
    armGlobalPT: L.globalPT,
    workUnitsCompleted: 0,
    workUnitsLimit: config.workUnitsPerPreemption ?? defaultWorkUnitsPerPreemption,
    resetChunkBits: config.resetChunkBits ?? defaultResetChunkBits,
    irqPending: null,
  }
}
