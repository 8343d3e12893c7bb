/**
 * Booting: the initial state seL4's `init_kernel` hands the root task (src/kernel/boot.c,
 * l4v `init_A_st`), restricted to kspec's scope.
 * @category objects
 */
import type { BootConfig, Cap, PPtr, SlotPtr } from "../../model/index.ts"
import {
  InitialSlot, alignUp, bit, defaultNumDomainSchedules, emptyContext, maxDomainDuration, maxPrio, maxUntypedBits, minUntypedBits, pageBits, slotBits, tcbBits,
  tcbBuffer, tcbCTable, tcbReply, timeSlice, timerIRQ, wordBits,
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
  return { rootCNode, rootTcb, idleTcb, ipcBufferFrame, irqNode, irqNodeBits }
}

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
 * root CNode holds caps to its own TCB and CNode, IRQ control, its IPC buffer frame, the domain
 * cap, and untyped caps covering the configured memory from slot 16 on. The root TCB's
 * CSpace-root and IPC-buffer slots hold copies (CDT children) of the CNode and frame caps; its
 * reply slot holds its master reply cap. Every interrupt line is inactive and masked except the
 * kernel timer's. The domain schedule starts at its first entry: that entry's domain is the
 * current domain, and the root thread's, for that entry's duration (seL4 `create_initial_thread`
 * before 15.0; since 15.0 the first entry is always domain 0).
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
  const frameCap: Cap = { tag: "FrameCap", ptr: L.ipcBufferFrame, sizeBits: pageBits, vmRights: "ReadWrite", isDevice: false, mapped: null }
  writeSlot(root(InitialSlot.InitThreadCNode), cnodeCap)
  writeSlot(root(InitialSlot.InitThreadIPCBuffer), frameCap)
  writeSlot(root(InitialSlot.Domain), { tag: "DomainCap" })
  writeSlot(root(InitialSlot.IRQControl), { tag: "IRQControlCap" })
  insertChild(root(InitialSlot.InitThreadCNode), slotOf(L.rootTcb, tcbCTable), cnodeCap)
  insertChild(root(InitialSlot.InitThreadIPCBuffer), slotOf(L.rootTcb, tcbBuffer), frameCap)
  writeSlot(slotOf(L.rootTcb, tcbReply), { tag: "ReplyCap", tcb: L.rootTcb, isMaster: true, canGrant: true })
  writeSlot(root(InitialSlot.InitThreadTCB), { tag: "ThreadCap", ptr: L.rootTcb })

  let next = InitialSlot.NumInitialCaps
  for (const region of config.memory) {
    for (const b of untypedBlocks(region.base, region.size)) {
      if (next >= bit(r)) break
      writeSlot(root(next++), { tag: "UntypedCap", isDevice: region.isDevice, ptr: b.base, sizeBits: b.sizeBits, freeIndex: 0 })
    }
  }

  const kheap = new Map<PPtr, KObject>()
  kheap.set(L.rootCNode, { tag: "CNode", radix: r })
  kheap.set(L.ipcBufferFrame, { tag: "Frame", sizeBits: pageBits, isDevice: false })
  kheap.set(L.irqNode, { tag: "CNode", radix: L.irqNodeBits })
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
  }
}
