/**
 * The abstraction function: the implementation's mutable state seen as the spec's `KernelState`
 * (l4v proof/refine StateRelation.thy, read as a function). Objects map one to one; queues are
 * read off the intrusive links in order; the CDT is recovered from the MDB list the way l4v's
 * `cdt_relation` relates them: a slot's descendants are the run after it on which isMDBParentOf
 * holds, and its parent is the nearest preceding slot whose run contains it.
 * @category relations
 */
import type { Cap, EndpointState, NonEmpty, NotificationState, PDE, PPtr, PTE, SlotPtr } from "../../model/index.ts"
import { VMAttr, kernelBase, sectionBits } from "../../model/index.ts"
import { PMap } from "../../spec/persistent.ts"
import type { Cte, ImplFrame, ImplObject, ImplState, ImplTcb } from "../../impl/index.ts"
import {
  ChooseNewThread, ResumeCurrentThread, pde_get_pdeType, pde_pde_coarse, pde_pde_coarse_get_P, pde_pde_coarse_get_address,
  pde_pde_invalid, pde_pde_section, pde_pde_section_get_AP, pde_pde_section_get_B, pde_pde_section_get_P,
  pde_pde_section_get_XN, pde_pde_section_get_address, pde_pde_section_get_size, pte_get_AP, pte_get_B, pte_get_pteType,
  pte_pte_invalid, pte_pte_large_get_XN, pte_pte_large_get_address, pte_pte_small, pte_pte_small_get_XN,
  pte_pte_small_get_address, vmRightsFromAP,
} from "../../impl/index.ts"
import { sameRegionAs } from "../../spec/object/objecttype.ts"

/**
 * The relation's own reading of the MDB bits (seL4 `isMDBParentOf`), written against the spec's
 * `sameRegionAs` rather than imported from the impl, so a broken impl predicate cannot hide
 * itself from the abstraction.
 */
export const isMDBParentOf = (a: Cte, b: Cte): boolean => {
  if (!a.revocable || !sameRegionAs(a.cap, b.cap)) return false
  if ((a.cap.tag === "EndpointCap" || a.cap.tag === "NotificationCap") && a.cap.badge !== 0) {
    return (b.cap.tag === "EndpointCap" || b.cap.tag === "NotificationCap") && b.cap.badge === a.cap.badge && !b.firstBadged
  }
  return true
}
import type { DomainScheduleItem, KObject, KernelState, SchedulerAction } from "../../spec/state.ts"

/**
 * The walks of the impl's slots that several readers of one kernel repeat (the periodic full
 * check's relation and its impl invariants each read every CTE and the MDB lists),
 * kept while `sharingWalks` runs, for that kernel only: nothing changes the kernel meanwhile.
 */
interface SharedWalks {
  readonly k: ImplState
  ctes?: readonly Cte[]
  lists?: readonly Cte[][]
}
let shared: SharedWalks | null = null

/**
 * Run `f`, in which `k` is only read, with the walks of `k`'s slots (`allCtes`, and `mdbLists`
 * of them) made once and shared by every reader; each walk is made afresh again once `f` returns.
 */
export function sharingWalks<T>(k: ImplState, f: () => T): T {
  const outer = shared
  shared = { k }
  try {
    return f()
  } finally {
    shared = outer
  }
}

/** Every materialised CTE of the kernel (CNode slots and TCB slots), in object-table order. */
export function allCtes(k: ImplState): readonly Cte[] {
  if (shared !== null && shared.k === k) return (shared.ctes ??= walkCtes(k))
  return walkCtes(k)
}

function walkCtes(k: ImplState): Cte[] {
  const out: Cte[] = []
  for (const o of k.objects.values()) {
    if (o.tag === "CNode") o.slots.forEach((c) => { if (c !== undefined) out.push(c) })
    else if (o.tag === "TCB") out.push(...o.slots)
  }
  return out
}

/** Threads of an intrusive EP/notification queue, head first (bounded by the object count). */
export function epQueueList(head: ImplTcb | null, limit: number): PPtr[] {
  const out: PPtr[] = []
  for (let t = head; t !== null && out.length <= limit; t = t.tcbEPNext) out.push(t.base)
  return out
}

/** Threads of a ready queue, head first. */
export function schedQueueList(head: ImplTcb | null, limit: number): PPtr[] {
  const out: PPtr[] = []
  for (let t = head; t !== null && out.length <= limit; t = t.tcbSchedNext) out.push(t.base)
  return out
}

/**
 * The index of the first non-zero word of `w` at or after `i` and below `end` (`end` when there is
 * none). Zero runs are skipped eight words to a test: tables and frames are mostly zeros, and the
 * full checks read every word of them.
 */
export const nextNonZero = (w: Uint32Array, i: number, end: number): number => {
  while (i + 8 <= end && (w[i]! | w[i + 1]! | w[i + 2]! | w[i + 3]! | w[i + 4]! | w[i + 5]! | w[i + 6]! | w[i + 7]!) === 0) i += 8
  while (i < end && w[i] === 0) i++
  return i
}

/** A frame's memory as the spec keeps it: word index -> word, the words that are not 0. */
export function absFrameWords(o: ImplFrame): ReadonlyMap<number, number> {
  const words = new Map<number, number>()
  const pages = o.pages
  if (pages !== null) {
    for (let p = 0; p < pages.length; p++) {
      const page = pages[p]
      if (page === undefined) continue
      for (let i = nextNonZero(page, 0, page.length); i < page.length; i = nextNonZero(page, i + 1, page.length)) words.set(p * page.length + i, page[i]!)
    }
  }
  return words
}

export function absObject(o: ImplObject, limit: number): KObject {
  switch (o.tag) {
    case "TCB":
      return {
        // The impl reuses a TCB's blocking-state records in place: copy, so the abstract state stays put.
        tag: "TCB", tcbState: { ...o.tcbState }, tcbPriority: o.tcbPriority, tcbMCP: o.tcbMCP, tcbDomain: o.tcbDomain,
        tcbTimeSlice: o.tcbTimeSlice, tcbFaultHandler: o.tcbFaultHandler, tcbIPCBuffer: o.tcbIPCBuffer,
        tcbBoundNotification: o.tcbBoundNotification?.base ?? null, tcbFault: o.tcbFault,
        tcbContext: { msgInfo: o.msgInfo, badge: o.badge, mrs: [...o.mrs], regs: [...o.regs] },
      }
    case "Endpoint": {
      // A waiting queue is non-empty by type; a broken impl's empty one is kept as is, for valid_objs to report.
      const state: EndpointState = o.epState === "Idle" ? { tag: "IdleEP" }
        : o.epState === "Send" ? { tag: "SendEP", queue: epQueueList(o.epQueueHead, limit) as readonly PPtr[] as NonEmpty<PPtr> }
        : { tag: "RecvEP", queue: epQueueList(o.epQueueHead, limit) as readonly PPtr[] as NonEmpty<PPtr> }
      return { tag: "Endpoint", state }
    }
    case "Notification": {
      const state: NotificationState = o.ntfnState === "Idle" ? { tag: "IdleNtfn" }
        : o.ntfnState === "Waiting" ? { tag: "WaitingNtfn", queue: epQueueList(o.ntfnQueueHead, limit) as readonly PPtr[] as NonEmpty<PPtr> }
        : { tag: "ActiveNtfn", badge: o.ntfnMsgIdentifier }
      return { tag: "Notification", state, boundTCB: o.ntfnBoundTCB?.base ?? null }
    }
    case "CNode":
      return { tag: "CNode", radix: o.radix }
    case "Frame":
      return { tag: "Frame", sizeBits: o.sizeBits, isDevice: o.isDevice, words: absFrameWords(o) }
    case "PageTable": {
      const ptes = new Map<number, PTE>()
      const pt = o.pt
      for (let i = nextNonZero(pt, 0, pt.length); i < pt.length; i = nextNonZero(pt, i + 1, pt.length)) ptes.set(i, absPTE(pt[i]!))
      return { tag: "PageTable", ptes }
    }
    case "PageDirectory": {
      const pdes = new Map<number, PDE>()
      const pd = o.pd
      for (let i = nextNonZero(pd, 0, kernelFirstPDE); i < kernelFirstPDE; i = nextNonZero(pd, i + 1, kernelFirstPDE)) pdes.set(i, absPDE(pd[i]!))
      return { tag: "PageDirectory", pdes, kernelPDEs: absKernelPDEs(pd) }
    }
    case "ASIDPool": {
      const pool = new Map<number, PPtr>()
      o.array.forEach((pd, i) => { if (pd !== null) pool.set(i, pd.base) })
      return { tag: "ASIDPool", pool }
    }
  }
}

/** The first kernel-window entry of a page directory (0xe00). */
export const kernelFirstPDE = kernelBase >>> sectionBits

/** Kernel windows abstracted lately: their words and the (immutable) map they abstract to. */
const kernelWindows: { words: Uint32Array; map: ReadonlyMap<number, PDE> }[] = []

const sameWords = (a: Uint32Array, b: Uint32Array, from: number): boolean => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[from + i]) return false
  return true
}

/**
 * The kernel-window entries of a page directory (0xe00..0xfff) as a persistent map. Every page
 * directory has the same words there, so the last few windows are kept with their maps: a
 * directory whose words match one reuses its map (one object for all of them, which the state
 * comparison then compares once), any other is abstracted afresh.
 */
export const absKernelPDEs = (pd: Uint32Array): ReadonlyMap<number, PDE> => {
  for (const w of kernelWindows) if (sameWords(w.words, pd, kernelFirstPDE)) return w.map
  const entries: [number, PDE][] = []
  for (let i = kernelFirstPDE; i < pd.length; i++) { const w = pd[i]!; if (w !== 0) entries.push([i, absPDE(w)]) }
  const map = PMap.from(entries)
  kernelWindows.unshift({ words: pd.slice(kernelFirstPDE), map })
  if (kernelWindows.length > 4) kernelWindows.pop()
  return map
}

/**
 * The abstract entry a hardware PDE word stands for (the spec's maps hold only valid entries; a
 * word 0 is InvalidPDE). Attributes: cacheable is the B bit (seL4 writes TEX=5, B=1 for cacheable
 * memory), parity the P bit, execute-never the XN bit; the global, shareable and domain bits are
 * the kernel's own choices and not part of the abstract entry. A reserved-type word abstracts to an
 * explicit InvalidPDE, which the spec never stores, so it shows up as a divergence.
 */
export const absPDE = (w: number): PDE => {
  switch (pde_get_pdeType(w)) {
    case pde_pde_coarse:
      return { tag: "PageTablePDE", table: pde_pde_coarse_get_address(w), attr: pde_pde_coarse_get_P(w) !== 0 ? VMAttr.ParityEnabled : 0 }
    case pde_pde_section: {
      const attr = (pde_pde_section_get_B(w) !== 0 ? VMAttr.PageCacheable : 0) | (pde_pde_section_get_P(w) !== 0 ? VMAttr.ParityEnabled : 0) |
        (pde_pde_section_get_XN(w) !== 0 ? VMAttr.ExecuteNever : 0)
      return { tag: pde_pde_section_get_size(w) !== 0 ? "SuperSectionPDE" : "SectionPDE", frame: pde_pde_section_get_address(w), attr, rights: vmRightsFromAP(pde_pde_section_get_AP(w)) }
    }
    case pde_pde_invalid: default:
      return { tag: "InvalidPDE" }
  }
}

/** The abstract entry a hardware PTE word stands for (cacheable from B, execute-never from XN). */
export const absPTE = (w: number): PTE => {
  const t = pte_get_pteType(w)
  if (t === pte_pte_invalid) return { tag: "InvalidPTE" }
  const small = t === pte_pte_small
  const xn = small ? pte_pte_small_get_XN(w) : pte_pte_large_get_XN(w)
  const attr = (pte_get_B(w) !== 0 ? VMAttr.PageCacheable : 0) | (xn !== 0 ? VMAttr.ExecuteNever : 0)
  return small
    ? { tag: "SmallPagePTE", frame: pte_pte_small_get_address(w), attr, rights: vmRightsFromAP(pte_get_AP(w)) }
    : { tag: "LargePagePTE", frame: pte_pte_large_get_address(w), attr, rights: vmRightsFromAP(pte_get_AP(w)) }
}

/**
 * The MDB lists, each from its head (a non-empty slot with no predecessor) along `next`. A list
 * that cycles is cut where it revisits a slot (the impl invariants report the cycle).
 */
export function mdbLists(ctes: readonly Cte[]): readonly Cte[][] {
  if (shared !== null && shared.ctes === ctes) return (shared.lists ??= walkLists(ctes))
  return walkLists(ctes)
}

function walkLists(ctes: readonly Cte[]): Cte[][] {
  const lists: Cte[][] = []
  for (const c of ctes) {
    if (c.cap.tag === "NullCap" || c.prev !== null) continue
    const seen = new Set<Cte>()
    const list: Cte[] = []
    for (let x: Cte | null = c; x !== null && !seen.has(x); x = x.next) {
      seen.add(x)
      list.push(x)
    }
    lists.push(list)
  }
  return lists
}

/**
 * The CDT of one MDB list: for each position, the position of its parent (or -1). `p`'s
 * descendants are the maximal run after it on which isMDBParentOf(p, x) holds; a slot's parent is
 * the nearest preceding slot whose run contains it.
 */
export function cdtOfList(list: readonly Cte[]): number[] {
  const n = list.length
  const runEnd: number[] = new Array<number>(n)
  for (let i = 0; i < n; i++) {
    let j = i
    while (j + 1 < n && isMDBParentOf(list[i]!, list[j + 1]!)) j++
    runEnd[i] = j
  }
  return nearestCovering(runEnd)
}

/**
 * Visit every CDT edge (child slot, parent slot) read off the MDB lists, each list in order, so
 * children come in MDB order; stops, returning false, as soon as `f` returns false.
 */
export function forEachCdtEdge(ctes: readonly Cte[], f: (child: SlotPtr, parent: SlotPtr) => boolean): boolean {
  for (const list of mdbLists(ctes)) {
    const parent = cdtOfList(list)
    for (let j = 0; j < list.length; j++) {
      const pi = parent[j]!
      if (pi >= 0 && !f(list[j]!.addr, list[pi]!.addr)) return false
    }
  }
  return true
}

/**
 * For each position j, the nearest i < j with `runEnd[i] >= j` (or -1), where `runEnd[i] >= i`.
 * Linear: the candidates wait on a stack whose run ends decrease towards the top (a candidate whose
 * run ends no later than a nearer one's can never be the answer).
 */
export function nearestCovering(runEnd: readonly number[]): number[] {
  const n = runEnd.length
  const parent: number[] = new Array<number>(n).fill(-1)
  const stack: number[] = []
  for (let j = 0; j < n; j++) {
    // Runs that end before j end before every later position too.
    while (stack.length > 0 && runEnd[stack[stack.length - 1]!]! < j) stack.pop()
    if (stack.length > 0) parent[j] = stack[stack.length - 1]!
    while (stack.length > 0 && runEnd[stack[stack.length - 1]!]! <= runEnd[j]!) stack.pop()
    stack.push(j)
  }
  return parent
}

/**
 * The relation's own reading of a packed schedule entry (C `dschedule_t`: the domain in the top 8
 * of 64 bits, the duration in the low 56), not the impl's accessors, so a broken one cannot hide.
 */
export const schedDomain = (sched: bigint): number => Number(sched >> 56n)
export const schedDuration = (sched: bigint): bigint => BigInt.asUintN(56, sched)

/** The abstract state of an implementation kernel. */
export function absState(k: ImplState): KernelState {
  const limit = k.objects.size
  const kheap = new Map<PPtr, KObject>()
  for (const [p, o] of k.objects) kheap.set(p, absObject(o, limit))

  const ctes = allCtes(k)
  const caps = new Map<SlotPtr, Cap>()
  const isOriginal = new Set<SlotPtr>()
  for (const c of ctes) {
    if (c.cap.tag !== "NullCap") caps.set(c.addr, c.cap)
    if (c.revocable) isOriginal.add(c.addr)
  }

  const cdt = new Map<SlotPtr, SlotPtr>()
  const cdtList = new Map<SlotPtr, SlotPtr[]>()
  forEachCdtEdge(ctes, (c, p) => {
    cdt.set(c, p)
    const kids = cdtList.get(p)
    if (kids === undefined) cdtList.set(p, [c])
    else kids.push(c)
    return true
  })

  return { kheap, caps, cdt, cdtList, isOriginal, ...absGlobals(k, limit) }
}

/** The scheduler and interrupt globals of the abstract state (everything but the heap, caps and CDT). */
export function absGlobals(k: ImplState, limit: number = k.objects.size): Omit<KernelState, "kheap" | "caps" | "cdt" | "cdtList" | "isOriginal"> {
  const readyQueues = new Map<number, readonly PPtr[]>()
  for (let idx = 0; idx < k.readyQueueHead.length; idx++) {
    const head = k.readyQueueHead[idx] ?? null
    if (head !== null) readyQueues.set(idx, schedQueueList(head, limit))
  }

  const a = k.schedulerAction
  const schedulerAction: SchedulerAction = a === ResumeCurrentThread ? { tag: "ResumeCurrentThread" }
    : a === ChooseNewThread ? { tag: "ChooseNewThread" }
    : { tag: "SwitchToThread", target: a.base }

  const domainList: DomainScheduleItem[] = []
  for (const sched of k.domSchedule) domainList.push({ domain: schedDomain(sched), duration: schedDuration(sched) })
  const armASIDTable = new Map<number, PPtr>()
  k.armKSASIDTable.forEach((pool, i) => { if (pool !== null) armASIDTable.set(i, pool.base) })

  return {
    curThread: k.curThread.base, idleThread: k.idleThread.base, schedulerAction, readyQueues,
    curDomain: k.curDomain, domainList, domainIndex: k.domScheduleIdx, domainStartIndex: k.domScheduleStart, domainTime: k.domainTime,
    numIRQs: k.numIRQs, numDomains: k.numDomains,
    irqStates: [...k.irqStates], irqMasks: [...k.irqMasks], irqNode: k.irqNode.base,
    armASIDTable, armGlobalPD: k.armKSGlobalPD.base, armGlobalPT: k.armKSGlobalPT.base,
    workUnitsCompleted: k.ksWorkUnitsCompleted, workUnitsLimit: k.maxWorkUnitsPerPreemption, resetChunkBits: k.resetChunkBits,
    irqPending: k.pendingIRQ,
  }
}
