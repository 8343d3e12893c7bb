/**
 * Booting (seL4 src/kernel/boot.c `init_kernel`, restricted to kspec's scope): the boot objects
 * from 0x0100_0000 (root CNode, root TCB, idle TCB, IPC-buffer frame, each aligned to its size),
 * the root task's initial caps, and untyped caps for the configured memory from slot 16 on.
 * Recomputed here independently of the spec; the relation tests check the two agree.
 * @category objects
 */
import type { BootConfig, Cap } from "../../model/index.ts"
import {
  asidHigh, asidLow, asidPoolBits, defaultResetChunkBits, defaultWorkUnitsPerPreemption, InitialSlot, initThreadASID, kernelBase, maxDomainDuration, maxPrio, maxUntypedBits,
  minUntypedBits, pageBits, pageDirBits, pageTableBits, pdIndexBits, pdIndexOf, ptIndexOf, sectionBits, sectionsPerSuperSection,
  slotBits, superSectionBits, tcbBits, tcbBuffer, tcbCTable, tcbVTable, timerIRQ, wordBits,
} from "../../model/index.ts"
import { cteInsert, setupReplyMaster } from "../object/cnode.ts"
import { deriveCap } from "../object/objecttype.ts"
import type { Cte } from "../state.ts"
import {
  cnodeSlot, dscheduleDomain, dscheduleDuration, dscheduleMake, ImplASIDPool, ImplCNode, ImplFrame, ImplPageDirectory,
  ImplPageTable, ImplState, ImplTcb, KernelBug, tcbSlot, ThreadStateIdle, ThreadStateRunning,
} from "../state.ts"
import { copyGlobalMappings, makeUserPTE, pde_pde_coarse_new, pde_pde_section_new, pte_pte_small_new } from "./vspace.ts"

/** Where boot places its own objects. */
export const bootObjectsBase = 0x0100_0000
/** The root task's IPC buffer virtual address. */
export const rootIPCBufferVAddr = 0x0080_0000
/** C `physBase`: the kernel window maps physical memory from 0 (kspec's pointers are physical). */
const physBaseImpl = 0
/** The kernel's vector page: its physical address and where the kernel maps it (C `PPTR_VECTOR_TABLE`). */
const vectorTablePAddrImpl = 0x0000_f000
const PPTR_VECTOR_TABLE = 0xffff_0000

/**
 * Fill the global page directory and page table with the kernel window: super sections from
 * `kernelBase` up to the last 16 MiB, then sections, the last MiB through the global page table,
 * which maps the vector page. Kernel-only, global, cacheable, parity enabled.
 * @refines spec/kernel/boot#kernelWindow
 */
function map_kernel_window(pd: ImplPageDirectory, pt: ImplPageTable): void {
  const top = 1 << pdIndexBits
  let phys = physBaseImpl
  let idx = kernelBase >>> sectionBits
  while (idx < top - sectionsPerSuperSection) {
    const pde = pde_pde_section_new(phys, 1, 0, 0, 0, 5, 1, 1, 0, 0, 0, 1)
    for (let j = idx; j < idx + sectionsPerSuperSection; j++) pd.pd[j] = pde
    phys += 2 ** superSectionBits
    idx += sectionsPerSuperSection
  }
  while (idx < top - 1) {
    pd.pd[idx] = pde_pde_section_new(phys, 0, 0, 0, 0, 5, 1, 1, 0, 0, 0, 1)
    phys += 2 ** sectionBits
    idx++
  }
  pd.pd[idx] = pde_pde_coarse_new(pt.base, 1, 0)
  pt.pt[ptIndexOf(PPTR_VECTOR_TABLE)] = pte_pte_small_new(vectorTablePAddrImpl, 0, 0, 0, 5, 1, 0, 1, 0)
}

/**
 * Split `[base, base+size)` into maximal aligned power-of-two blocks of at most
 * seL4_MaxUntypedBits, dropping blocks under seL4_MinUntypedBits (C `create_untypeds_for_region`).
 */
export function untypedBlocksImpl(base: number, size: number): { base: number; sizeBits: number }[] {
  const out: { base: number; sizeBits: number }[] = []
  let start = base
  const end = base + size
  while (start < end) {
    // Largest power of two not above the remaining size ...
    let sizeBits = 0
    const rest = end - start
    if (rest < 2 ** 32 && Number.isInteger(rest)) sizeBits = 31 - Math.clz32(rest)
    else while (2 ** (sizeBits + 1) <= rest) sizeBits++
    if (sizeBits > maxUntypedBits) sizeBits = maxUntypedBits
    // ... and not above the start's alignment (its trailing zero bits).
    if (start !== 0) {
      let align = 0
      if (start < 2 ** 32 && Number.isInteger(start)) align = 31 - Math.clz32(start & -start)
      else while (align < wordBits && start % 2 ** (align + 1) === 0) align++
      if (sizeBits > align) sizeBits = align
    }
    if (sizeBits >= minUntypedBits) out.push({ base: start, sizeBits })
    start += 2 ** sizeBits
  }
  return out
}

/** Write an original cap with no MDB links (C `write_slot` on a fresh slot: revocable, first badged). */
function writeSlot(slot: Cte, cap: Cap): void {
  slot.cap = cap
  slot.prev = null
  slot.next = null
  slot.revocable = true
  slot.firstBadged = true
}

/**
 * Fill a fresh kernel state with the initial objects and caps.
 * @refines spec/kernel/boot#boot
 */
export function initKernel(k: ImplState, config: BootConfig): void {
  let cursor = bootObjectsBase
  const alloc = (bits: number): number => {
    const b = 2 ** bits
    const p = Math.ceil(cursor / b) * b
    cursor = p + b
    return p
  }
  const r = config.rootCNodeBits
  const rootCNodePtr = alloc(r + slotBits)
  const rootTcbPtr = alloc(tcbBits)
  const idleTcbPtr = alloc(tcbBits)
  const ipcBufferPtr = alloc(pageBits)
  const irqNodeRadix = Math.ceil(Math.log2(Math.max(1, config.numIRQs)))
  const irqNodePtr = alloc(irqNodeRadix + slotBits)
  const globalPDPtr = alloc(pageDirBits)
  const globalPTPtr = alloc(pageTableBits)
  const rootPDPtr = alloc(pageDirBits)
  const rootPTPtr = alloc(pageTableBits)
  const asidPoolPtr = alloc(asidPoolBits)

  // The domain schedule (C `init_core_state` since 15.0 writes one domain-0 entry of the longest
  // duration; a configured schedule is the static `ksDomSchedule` of earlier releases). Every
  // entry past it stays 0: an end marker.
  const sched = config.domainSchedule ?? [{ domain: 0, length: -1 }]
  sched.forEach((e, i) => { k.domSchedule[i] = dscheduleMake(e.domain, e.length < 0 ? maxDomainDuration : BigInt(e.length)) })
  k.domScheduleIdx = 0
  k.domScheduleStart = 0
  k.curDomain = dscheduleDomain(k.domSchedule[0]!)
  k.domainTime = dscheduleDuration(k.domSchedule[0]!)
  // The preemption parameters (C CONFIG_MAX_NUM_WORK_UNITS_PER_PREEMPTION, CONFIG_RESET_CHUNK_BITS).
  k.maxWorkUnitsPerPreemption = config.workUnitsPerPreemption ?? defaultWorkUnitsPerPreemption
  k.resetChunkBits = config.resetChunkBits ?? defaultResetChunkBits

  const rootCNode = new ImplCNode(rootCNodePtr, r)
  // The root thread starts in the current domain (C `create_initial_thread`).
  const rootTcb = new ImplTcb(rootTcbPtr, k.curDomain)
  const idleTcb = new ImplTcb(idleTcbPtr, 0)
  k.objects.set(rootCNodePtr, rootCNode)
  k.objects.set(rootTcbPtr, rootTcb)
  k.objects.set(idleTcbPtr, idleTcb)
  k.objects.set(ipcBufferPtr, new ImplFrame(ipcBufferPtr, pageBits, false))
  k.irqNode = new ImplCNode(irqNodePtr, irqNodeRadix)
  k.objects.set(irqNodePtr, k.irqNode)
  // The kernel window (map_kernel_window), then the root task's address space
  // (create_it_address_space, create_ipcbuf_frame_cap, create_it_asid_pool, write_it_asid_pool).
  const globalPD = new ImplPageDirectory(globalPDPtr)
  const globalPT = new ImplPageTable(globalPTPtr)
  map_kernel_window(globalPD, globalPT)
  k.objects.set(globalPDPtr, globalPD)
  k.objects.set(globalPTPtr, globalPT)
  k.armKSGlobalPD = globalPD
  k.armKSGlobalPT = globalPT
  const rootPD = new ImplPageDirectory(rootPDPtr)
  copyGlobalMappings(k, rootPD)
  const rootPT = new ImplPageTable(rootPTPtr)
  rootPD.pd[pdIndexOf(rootIPCBufferVAddr)] = pde_pde_coarse_new(rootPTPtr, 1, 0)
  rootPT.pt[ptIndexOf(rootIPCBufferVAddr)] = makeUserPTE(false, ipcBufferPtr, true, true, "ReadWrite")
  const asidPool = new ImplASIDPool(asidPoolPtr)
  asidPool.array[asidLow(initThreadASID)] = rootPD
  k.armKSASIDTable[asidHigh(initThreadASID)] = asidPool
  k.objects.set(rootPDPtr, rootPD)
  k.objects.set(rootPTPtr, rootPT)
  k.objects.set(asidPoolPtr, asidPool)

  // initIRQController: every line inactive and masked (the ImplState default), then the timer's.
  k.irqStates[timerIRQ] = "IRQTimer"
  k.irqMasks[timerIRQ] = false

  // The idle thread.
  idleTcb.tcbState = ThreadStateIdle
  // The root thread: running at the top priority.
  rootTcb.tcbState = ThreadStateRunning
  rootTcb.tcbPriority = maxPrio
  rootTcb.tcbMCP = maxPrio
  rootTcb.tcbIPCBuffer = rootIPCBufferVAddr

  const root = (i: number): Cte => cnodeSlot(rootCNode, i)
  const cnodeCap: Cap = { tag: "CNodeCap", ptr: rootCNodePtr, radix: r, guardSize: wordBits - r, guard: 0 }
  const frameCap: Cap = {
    tag: "FrameCap", ptr: ipcBufferPtr, sizeBits: pageBits, vmRights: "ReadWrite", isDevice: false,
    mapped: { asid: initThreadASID, vaddr: rootIPCBufferVAddr },
  }
  const pdCap: Cap = { tag: "PageDirectoryCap", ptr: rootPDPtr, asid: initThreadASID }
  // The paging caps come first after the fixed slots (bootinfo's userImagePaging), then the untypeds.
  let next: number = InitialSlot.NumInitialCaps
  writeSlot(root(InitialSlot.InitThreadVSpace), pdCap)
  writeSlot(root(next++), { tag: "PageTableCap", ptr: rootPTPtr, mapped: { asid: initThreadASID, vaddr: rootIPCBufferVAddr & ~((1 << sectionBits) - 1) } })
  writeSlot(root(InitialSlot.InitThreadCNode), cnodeCap)
  writeSlot(root(InitialSlot.InitThreadIPCBuffer), frameCap)
  writeSlot(root(InitialSlot.ASIDControl), { tag: "ASIDControlCap" })
  writeSlot(root(InitialSlot.InitThreadASIDPool), { tag: "ASIDPoolCap", ptr: asidPoolPtr, asidBase: 0 })
  writeSlot(root(InitialSlot.Domain), { tag: "DomainCap" })
  writeSlot(root(InitialSlot.IRQControl), { tag: "IRQControlCap" })
  // create_initial_thread: the buffer slot gets a derived (unmapped) copy of the frame cap.
  const bufferCap = deriveCap(k, root(InitialSlot.InitThreadIPCBuffer), frameCap)
  if (bufferCap === null) throw new KernelBug("Failed to derive copy of IPC Buffer")
  cteInsert(k, cnodeCap, root(InitialSlot.InitThreadCNode), tcbSlot(rootTcb, tcbCTable))
  cteInsert(k, pdCap, root(InitialSlot.InitThreadVSpace), tcbSlot(rootTcb, tcbVTable))
  cteInsert(k, bufferCap, root(InitialSlot.InitThreadIPCBuffer), tcbSlot(rootTcb, tcbBuffer))
  setupReplyMaster(rootTcb)
  writeSlot(root(InitialSlot.InitThreadTCB), { tag: "ThreadCap", ptr: rootTcbPtr })

  const slots = 2 ** r
  for (const region of config.memory) {
    for (const b of untypedBlocksImpl(region.base, region.size)) {
      if (next >= slots) break
      writeSlot(root(next++), { tag: "UntypedCap", isDevice: region.isDevice, ptr: b.base, sizeBits: b.sizeBits, freeIndex: 0 })
    }
  }

  k.curThread = rootTcb
  k.idleThread = idleTcb
}
