/**
 * Booting (seL4 src/kernel/boot.c `init_kernel`, restricted to kspec's scope): the boot objects
 * from 0x0100_0000 (root CNode, root TCB, idle TCB, IPC-buffer frame, each aligned to its size),
 * the root task's initial caps, and untyped caps for the configured memory from slot 16 on.
 * Recomputed here independently of the spec; the relation tests check the two agree.
 * @category objects
 */
import type { BootConfig, Cap } from "../../model/index.ts"
import {
  InitialSlot, maxDomainDuration, maxPrio, maxUntypedBits, minUntypedBits, pageBits, slotBits, tcbBits, tcbBuffer, tcbCTable, timerIRQ, wordBits,
} from "../../model/index.ts"
import { cteInsert, setupReplyMaster } from "../object/cnode.ts"
import type { Cte } from "../state.ts"
import {
  ImplCNode, ImplFrame, ImplState, ImplTcb, ThreadStateIdle, ThreadStateRunning, cnodeSlot, dscheduleDomain, dscheduleDuration, dscheduleMake,
  tcbSlot,
} from "../state.ts"

/** Where boot places its own objects. */
export const bootObjectsBase = 0x0100_0000
/** The root task's IPC buffer virtual address. */
export const rootIPCBufferVAddr = 0x0080_0000

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

  // The domain schedule (C `init_core_state` since 15.0 writes one domain-0 entry of the longest
  // duration; a configured schedule is the static `ksDomSchedule` of earlier releases). Every
  // entry past it stays 0: an end marker.
  const sched = config.domainSchedule ?? [{ domain: 0, length: -1 }]
  sched.forEach((e, i) => { k.domSchedule[i] = dscheduleMake(e.domain, e.length < 0 ? maxDomainDuration : BigInt(e.length)) })
  k.domScheduleIdx = 0
  k.domScheduleStart = 0
  k.curDomain = dscheduleDomain(k.domSchedule[0]!)
  k.domainTime = dscheduleDuration(k.domSchedule[0]!)

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
  const frameCap: Cap = { tag: "FrameCap", ptr: ipcBufferPtr, sizeBits: pageBits, vmRights: "ReadWrite", isDevice: false, mapped: null }
  writeSlot(root(InitialSlot.InitThreadCNode), cnodeCap)
  writeSlot(root(InitialSlot.InitThreadIPCBuffer), frameCap)
  writeSlot(root(InitialSlot.Domain), { tag: "DomainCap" })
  writeSlot(root(InitialSlot.IRQControl), { tag: "IRQControlCap" })
  cteInsert(k, cnodeCap, root(InitialSlot.InitThreadCNode), tcbSlot(rootTcb, tcbCTable))
  cteInsert(k, frameCap, root(InitialSlot.InitThreadIPCBuffer), tcbSlot(rootTcb, tcbBuffer))
  setupReplyMaster(rootTcb)
  writeSlot(root(InitialSlot.InitThreadTCB), { tag: "ThreadCap", ptr: rootTcbPtr })

  let next: number = InitialSlot.NumInitialCaps
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
