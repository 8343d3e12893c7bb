/**
 * Implementation-only invariants: properties of the C-style data structures (MDB list links,
 * intrusive queues, the priority bitmap) that the abstract state cannot express. They mirror the
 * Haskell/C-level invariants of l4v's `invs'` (proof/refine Invariants_H.thy). Each returns the
 * violations it found, naming the slot, thread or queue.
 * @category invariants
 */
import type { Cte, ImplState, ImplTcb } from "../../impl/index.ts"
import {
  isMDBParentOf, l2BitmapSize, numPrioritiesImpl, pde_get_pdeType, pde_pde_coarse, pde_pde_invalid, pde_pde_section, pte_get_pteType,
  pte_pte_large, readyQueuesIndex, sameRegionAs,
} from "../../impl/index.ts"
import { bit, kernelBase, sectionBits } from "../../model/index.ts"
import { capObjRef } from "../../spec/invariants/internal.ts"
import { allCtes, mdbLists, nextNonZero } from "./abstract.ts"

/** A named implementation invariant. */
export interface ImplInvariant {
  readonly name: string
  /** The property in English. */
  readonly statement: string
  /** The l4v invariant it mirrors. */
  readonly mirrors: string
  readonly check: (k: ImplState) => readonly string[]
}

const h = (x: number) => `0x${x.toString(16)}`

export const mdbLinksSymmetric: ImplInvariant = {
  name: "mdbLinksSymmetric",
  statement: "Every MDB link has its back link: a.next.prev = a and a.prev.next = a.",
  mirrors: "l4v Invariants_H valid_dlist",
  check: (k) => {
    const out: string[] = []
    for (const c of allCtes(k)) {
      if (c.next !== null && c.next.prev !== c) out.push(`slot ${h(c.addr)}: next ${h(c.next.addr)} does not link back`)
      if (c.prev !== null && c.prev.next !== c) out.push(`slot ${h(c.addr)}: prev ${h(c.prev.addr)} does not link forward`)
    }
    return out
  },
}

export const mdbAcyclic: ImplInvariant = {
  name: "mdbAcyclic",
  statement: "Following next links from any slot reaches the end of the list (null) without revisiting a slot.",
  mirrors: "l4v Invariants_H mdb_chain_0 / no_loops",
  check: (k) => {
    // Linear: walk next links from each unvisited slot, marking the slots of the current walk 1
    // and those known to reach null (or an already reported cycle) 2.
    const mark = new Map<Cte, 1 | 2>()
    const out: string[] = []
    for (const c of allCtes(k)) {
      const path: Cte[] = []
      let x: Cte | null = c
      while (x !== null && !mark.has(x)) {
        mark.set(x, 1)
        path.push(x)
        x = x.next
      }
      if (x !== null && mark.get(x) === 1) out.push(`slot ${h(x.addr)}: next links form a cycle`)
      for (const p of path) mark.set(p, 2)
    }
    return out
  },
}

export const mdbNoLinksAtEmptySlots: ImplInvariant = {
  name: "mdbNoLinksAtEmptySlots",
  statement: "An empty slot has no MDB links and clear revocable/firstBadged bits, and no slot links to an empty slot.",
  mirrors: "l4v Invariants_H valid_nullcaps + mdb_cte_at",
  check: (k) => {
    const out: string[] = []
    for (const c of allCtes(k)) {
      if (c.cap.tag === "NullCap") {
        if (c.prev !== null || c.next !== null) out.push(`empty slot ${h(c.addr)} has MDB links`)
        if (c.revocable || c.firstBadged) out.push(`empty slot ${h(c.addr)} has revocable/firstBadged set`)
      } else {
        if (c.next !== null && c.next.cap.tag === "NullCap") out.push(`slot ${h(c.addr)} links to empty slot ${h(c.next.addr)}`)
        if (c.prev !== null && c.prev.cap.tag === "NullCap") out.push(`slot ${h(c.addr)} links back to empty slot ${h(c.prev.addr)}`)
      }
    }
    return out
  },
}

export const mdbLinksInHeap: ImplInvariant = {
  name: "mdbLinksInHeap",
  statement: "MDB links point only to slots of objects in the object table.",
  mirrors: "l4v Invariants_H valid_mdb' (mdb pointers are to CTEs)",
  check: (k) => {
    const ctes = allCtes(k)
    const known = new Set(ctes)
    const out: string[] = []
    for (const c of ctes) {
      if (c.next !== null && !known.has(c.next)) out.push(`slot ${h(c.addr)}: next ${h(c.next.addr)} is not a slot of any object`)
      if (c.prev !== null && !known.has(c.prev)) out.push(`slot ${h(c.addr)}: prev ${h(c.prev.addr)} is not a slot of any object`)
    }
    return out
  },
}

/**
 * The check behind `cdtRunsNested`, with the parent relation as a parameter so a test can show it
 * catches crossing runs (with the kernel's isMDBParentOf, which is transitive, runs cannot cross).
 */
export const checkRunsNested = (k: ImplState, parentOf: (a: Cte, b: Cte) => boolean = isMDBParentOf): string[] => {
  const out: string[] = []
  for (const list of mdbLists(allCtes(k))) {
    const n = list.length
    const runEnd: number[] = []
    for (let i = 0; i < n; i++) {
      let j = i
      while (j + 1 < n && parentOf(list[i]!, list[j + 1]!)) j++
      runEnd.push(j)
    }
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j <= runEnd[i]!; j++) {
        if (runEnd[j]! > runEnd[i]!) {
          out.push(`slot ${h(list[j]!.addr)} is a descendant of ${h(list[i]!.addr)} but its own descendants run past ${h(list[i]!.addr)}'s`)
        }
      }
    }
  }
  return out
}

export const cdtRunsNested: ImplInvariant = {
  name: "cdtRunsNested",
  statement:
    "The CDT read off the MDB list is a tree that agrees with the list order: for a slot p and any x in p's descendant " +
    "run (the run after p on which isMDBParentOf(p, ·) holds), x's own run ends within p's, so every slot's descendants " +
    "are one contiguous block right after it.",
  mirrors: "l4v StateRelation cdt_relation / cdt_list_relation (descendants_of = the MDB run)",
  check: (k) => checkRunsNested(k),
}

export const mdbChunked: ImplInvariant = {
  name: "mdbChunked",
  statement:
    "Caps to one region form a chunk: if slots p and q hold caps with sameRegionAs(p, q), they are in one MDB list, and " +
    "every slot between them (in list order from the earlier one) is in the earlier one's region.",
  mirrors: "l4v Invariants_H mdb_chunked",
  check: (k) => {
    const out: string[] = []
    const lists = mdbLists(allCtes(k))
    // Each CTE once, numbered in first-reached order, with its list and position (a CTE reached from
    // two heads, through broken links, keeps the last list that reached it). Arrays, not maps: this
    // runs over every cap on each full check.
    const num = new Map<Cte, number>()
    const all: Cte[] = []
    const listOf: Cte[][] = []
    const posOf: number[] = []
    for (const list of lists) {
      for (let pos = 0; pos < list.length; pos++) {
        const c = list[pos]!
        let i = num.get(c)
        if (i === undefined) { i = all.length; num.set(c, i); all.push(c) }
        listOf[i] = list
        posOf[i] = pos
      }
    }
    const n = all.length
    // Only pairs with sameRegionAs(p, q) matter. Such a q always has its anchor (object address)
    // inside p's span (see regionSpan), or both are caps with no memory region: so each p is tested
    // against those candidates only, found by binary search over the anchors, not against every cap.
    const lo = new Float64Array(n)
    const hi = new Float64Array(n)
    const hasSpan = new Uint8Array(n)
    const regionless: number[] = []
    const anchoredIdx: number[] = []
    for (let i = 0; i < n; i++) {
      const span = regionSpan(all[i]!.cap)
      if (span === null) { regionless.push(i); continue }
      hasSpan[i] = 1
      lo[i] = span[0]
      hi[i] = span[1]
      anchoredIdx.push(i)
    }
    sortByAnchor(anchoredIdx, lo)
    const anchors = new Float64Array(anchoredIdx.length)
    for (let j = 0; j < anchoredIdx.length; j++) anchors[j] = lo[anchoredIdx[j]!]!
    const ends = new Int32Array(n).fill(-1)
    /** The position of the first slot after `first` (at `from` in `list`) not in its region. */
    const runEnd = (first: number, list: readonly Cte[], from: number): number => {
      const known = ends[first]!
      if (known >= 0) return known
      const cap = all[first]!.cap
      let i = from + 1
      while (i < list.length && sameRegionAs(cap, list[i]!.cap)) i++
      ends[first] = i
      return i
    }
    const pair = (pi: number, qi: number): void => {
      const p = all[pi]!
      const q = all[qi]!
      if (pi === qi || !sameRegionAs(p.cap, q.cap)) return
      const list = listOf[pi]!
      if (list !== listOf[qi]) {
        out.push(`slots ${h(p.addr)} and ${h(q.addr)} name one region but are in different MDB lists`)
        return
      }
      // Between the two, every slot must be in the region of the one that comes first: the run of
      // slots in its region right after it (computed once per slot) must reach the later one.
      const pFirst = posOf[pi]! < posOf[qi]!
      const first = pFirst ? pi : qi
      const from = pFirst ? posOf[pi]! : posOf[qi]!
      const to = pFirst ? posOf[qi]! : posOf[pi]!
      const end = runEnd(first, list, from)
      if (end < to) out.push(`slot ${h(list[end]!.addr)} lies between ${h(p.addr)} and ${h(q.addr)} outside ${h(all[first]!.addr)}'s region`)
    }
    for (let pi = 0; pi < n; pi++) {
      if (hasSpan[pi] === 0) {
        for (const qi of regionless) pair(pi, qi)
        continue
      }
      let a = 0
      let b = anchors.length
      const from = lo[pi]!
      while (a < b) { const mid = (a + b) >> 1; if (anchors[mid]! < from) a = mid + 1; else b = mid }
      for (let j = a; j < anchors.length && anchors[j]! < hi[pi]!; j++) pair(pi, anchoredIdx[j]!)
    }
    return out
  },
}

/** Indices below 2^21, so that an address below 2^32 and an index pack exactly into one double (below 2^53). */
const indexBits = 21

/**
 * Sort the indices `idx` by their anchors `lo` (ties in any order). Addresses and indices are packed
 * into one number each and sorted as a typed array, without a comparator (which cost more than the
 * rest of the check); anchors that are not 32-bit addresses, or too many caps, take the comparator.
 */
const sortByAnchor = (idx: number[], lo: Float64Array): void => {
  const n = idx.length
  let packable = true
  for (let j = 0; j < n && packable; j++) { const a = lo[idx[j]!]!; packable = idx[j]! < 2 ** indexBits && Number.isInteger(a) && a >= 0 && a < 2 ** 32 }
  if (!packable) { idx.sort((a, b) => lo[a]! - lo[b]!); return }
  const keys = new Float64Array(n)
  for (let j = 0; j < n; j++) keys[j] = lo[idx[j]!]! * 2 ** indexBits + idx[j]!
  keys.sort()
  for (let j = 0; j < n; j++) idx[j] = (keys[j]! % 2 ** indexBits) | 0
}

/**
 * The address span a cap's `sameRegionAs` partners must start in, or null for caps naming no
 * memory (IRQ control and handler, domain). An untyped or a frame covers its whole range; every
 * other object cap pairs only with caps to the same object address (a reply cap: its TCB's).
 */
const regionSpan = (c: Cte["cap"]): readonly [number, number] | null => {
  switch (c.tag) {
    case "UntypedCap": case "FrameCap": return [c.ptr, c.ptr + bit(c.sizeBits)]
    case "EndpointCap": case "NotificationCap": case "CNodeCap": case "ThreadCap": case "PageTableCap": case "PageDirectoryCap":
    case "ASIDPoolCap": case "ZombieCap":
      return [c.ptr, c.ptr + 1]
    case "ReplyCap": return [c.tcb, c.tcb + 1]
    case "NullCap": case "DomainCap": case "IRQControlCap": case "IRQHandlerCap": case "ASIDControlCap": return null
  }
}

/** Walk a ready queue from its head, checking links; returns the members or stops at a problem. */
function walkReadyQueue(k: ImplState, idx: number, out: string[]): ImplTcb[] {
  const members: ImplTcb[] = []
  const head = k.readyQueueHead[idx] ?? null
  const end = k.readyQueueEnd[idx] ?? null
  // The queue's name, made only for a report (every index is walked on each full check).
  const name = (): string => `ready queue d${Math.floor(idx / numPrioritiesImpl)}p${idx % numPrioritiesImpl}`
  if ((head === null) !== (end === null)) out.push(`${name()}: exactly one of head and end is null`)
  if (head !== null && head.tcbSchedPrev !== null) out.push(`${name()}: head ${h(head.base)} has a prev link`)
  const bound = k.objects.size + 1
  let prev: ImplTcb | null = null
  for (let t = head; t !== null; t = t.tcbSchedNext) {
    if (members.length > bound) {
      out.push(`${name()}: next links form a cycle`)
      return members
    }
    if (t.tcbSchedPrev !== prev) out.push(`${name()}: ${h(t.base)}'s prev link is not its predecessor`)
    if (readyQueuesIndex(t.tcbDomain, t.tcbPriority) !== idx) out.push(`${name()}: ${h(t.base)} has another domain/priority`)
    members.push(t)
    prev = t
  }
  if (prev !== end) out.push(`${name()}: end is not the last thread reached from head`)
  return members
}

export const readyQueueLinksSymmetric: ImplInvariant = {
  name: "readyQueueLinksSymmetric",
  statement:
    "Each ready queue is a well-formed doubly linked list from head to end through tcbSchedNext/tcbSchedPrev (the " +
    "head has no prev, each thread's prev is its predecessor, end is the last thread), its threads have its domain " +
    "and priority, and no thread is in two ready queues.",
  mirrors: "l4v Invariants_H sym_heap_sched_pointers, ready_queue_relation (tcbQueueHead/End, inQ)",
  check: (k) => {
    const out: string[] = []
    const queued = new Set<ImplTcb>()
    for (let idx = 0; idx < k.readyQueueHead.length; idx++) {
      for (const t of walkReadyQueue(k, idx, out)) {
        if (queued.has(t)) out.push(`thread ${h(t.base)} is in a ready queue twice`)
        queued.add(t)
      }
    }
    return out
  },
}

/** The threads reachable from the ready queue heads, without reporting anything. */
const readyQueueMembers = (k: ImplState): Set<ImplTcb> => {
  const members = new Set<ImplTcb>()
  for (let idx = 0; idx < k.readyQueueHead.length; idx++) {
    for (let t = k.readyQueueHead[idx] ?? null; t !== null && !members.has(t); t = t.tcbSchedNext) members.add(t)
  }
  return members
}

export const tcbQueuedIffInReadyQueue: ImplInvariant = {
  name: "tcbQueuedIffInReadyQueue",
  statement:
    "A thread's tcbQueued bit is set exactly when the thread is reachable from a ready-queue head, and a thread " +
    "that is not queued has no tcbSchedNext/tcbSchedPrev links.",
  mirrors: "l4v Invariants_H valid_sched_pointers, ready_queue_relation (tcbQueued = in a queue)",
  check: (k) => {
    const out: string[] = []
    const members = readyQueueMembers(k)
    for (const o of k.objects.values()) {
      if (o.tag !== "TCB") continue
      if (o.tcbQueued && !members.has(o)) out.push(`thread ${h(o.base)} is marked queued but is in no ready queue`)
      if (!o.tcbQueued && members.has(o)) out.push(`thread ${h(o.base)} is linked into a ready queue but not marked queued`)
      if (!o.tcbQueued && (o.tcbSchedNext !== null || o.tcbSchedPrev !== null)) {
        out.push(`thread ${h(o.base)} is not queued but has ready-queue links`)
      }
    }
    return out
  },
}

export const bitmapAgreesWithQueues: ImplInvariant = {
  name: "bitmapAgreesWithQueues",
  statement:
    "For every domain, L2 bit (prio mod 32) of word (7 - prio div 32) is set exactly when the (domain, prio) ready " +
    "queue is non-empty, and L1 bit i is set exactly when L2 word (7 - i) is non-zero.",
  mirrors: "l4v Invariants_H valid_bitmaps (bitmapQ_no_L1_orphans, bitmapQ_no_L2_orphans)",
  check: (k) => {
    const out: string[] = []
    for (let dom = 0; dom < k.numDomains; dom++) {
      for (let prio = 0; prio < numPrioritiesImpl; prio++) {
        const nonEmpty = (k.readyQueueHead[readyQueuesIndex(dom, prio)] ?? null) !== null
        const l2 = k.readyQueuesL2Bitmap[dom * l2BitmapSize + (l2BitmapSize - 1 - (prio >>> 5))]!
        const bit = ((l2 >>> (prio & 31)) & 1) === 1
        if (bit !== nonEmpty) out.push(`domain ${dom} priority ${prio}: L2 bit ${bit ? "set" : "clear"} but queue ${nonEmpty ? "non-empty" : "empty"}`)
      }
      const l1 = k.readyQueuesL1Bitmap[dom]!
      for (let i = 0; i < 32; i++) {
        const bit = ((l1 >>> i) & 1) === 1
        const word = i < l2BitmapSize ? k.readyQueuesL2Bitmap[dom * l2BitmapSize + (l2BitmapSize - 1 - i)]! : 0
        if (bit !== (word !== 0)) out.push(`domain ${dom}: L1 bit ${i} ${bit ? "set" : "clear"} but L2 word ${l2BitmapSize - 1 - i} is ${h(word)}`)
      }
    }
    return out
  },
}

/** The endpoint and notification queues: owner name, head, tail, and whether the state says threads wait. */
interface IpcQueue { readonly kind: "Endpoint" | "Notification"; readonly base: number; readonly head: ImplTcb | null; readonly tail: ImplTcb | null; readonly waiting: boolean }
/** A queue's name in a report (made only for a report: formatting every object's address cost more than the checks). */
const queueName = (q: IpcQueue): string => `${q.kind} ${h(q.base)}`
const ipcQueues = (k: ImplState): IpcQueue[] => {
  const out: IpcQueue[] = []
  for (const o of k.objects.values()) {
    if (o.tag === "Endpoint") out.push({ kind: "Endpoint", base: o.base, head: o.epQueueHead, tail: o.epQueueTail, waiting: o.epState !== "Idle" })
    else if (o.tag === "Notification") out.push({ kind: "Notification", base: o.base, head: o.ntfnQueueHead, tail: o.ntfnQueueTail, waiting: o.ntfnState === "Waiting" })
  }
  return out
}

export const epQueueLinksSymmetric: ImplInvariant = {
  name: "epQueueLinksSymmetric",
  statement:
    "Each endpoint and notification queue is a well-formed doubly linked list from head to tail through " +
    "tcbEPNext/tcbEPPrev (the head has no prev, each thread's prev is its predecessor, tail is the last thread), and " +
    "it is non-empty exactly when the object's state is waiting (Send/Recv for an endpoint, Waiting for a notification).",
  mirrors: "l4v CRefine ep_queue_relation / ntfn_queue_relation (tcb_queue_relation over tcbEPNext/tcbEPPrev)",
  check: (k) => {
    const out: string[] = []
    const bound = k.objects.size + 1
    for (const q of ipcQueues(k)) {
      const { head, tail, waiting } = q
      if ((head !== null) !== waiting) out.push(`${queueName(q)}: queue ${head === null ? "empty" : "non-empty"} in a ${waiting ? "waiting" : "non-waiting"} state`)
      if ((head === null) !== (tail === null)) out.push(`${queueName(q)}: exactly one of head and tail is null`)
      let prev: ImplTcb | null = null
      let n = 0
      for (let t = head; t !== null; t = t.tcbEPNext) {
        if (++n > bound) {
          out.push(`${queueName(q)}: queue links form a cycle`)
          break
        }
        if (t.tcbEPPrev !== prev) out.push(`${queueName(q)}: ${h(t.base)}'s prev link is not its predecessor`)
        prev = t
      }
      if (n <= bound && prev !== tail) out.push(`${queueName(q)}: tail is not the last thread reached from head`)
    }
    return out
  },
}

export const epQueueMembership: ImplInvariant = {
  name: "epQueueMembership",
  statement:
    "A thread is in at most one endpoint or notification queue (once), and a thread in none has null " +
    "tcbEPNext/tcbEPPrev links.",
  mirrors: "l4v CRefine ep_queue_relation / ntfn_queue_relation (with Invariants_AI sym_refs: one blocking reference per thread)",
  check: (k) => {
    const out: string[] = []
    const bound = k.objects.size + 1
    const inQueue = new Map<ImplTcb, IpcQueue>()
    for (const q of ipcQueues(k)) {
      const head = q.head
      let n = 0
      for (let t = head; t !== null && ++n <= bound; t = t.tcbEPNext) {
        const other = inQueue.get(t)
        if (other !== undefined) {
          out.push(`thread ${h(t.base)} is in the queue of ${queueName(q)} and of ${queueName(other)}`)
          break // a thread met twice may close a loop; the link check reports the shape
        }
        inQueue.set(t, q)
      }
    }
    for (const o of k.objects.values()) {
      if (o.tag === "TCB" && !inQueue.has(o) && (o.tcbEPNext !== null || o.tcbEPPrev !== null)) {
        out.push(`thread ${h(o.base)} is in no endpoint or notification queue but has tcbEPNext/tcbEPPrev links`)
      }
    }
    return out
  },
}

/** The PD index where the kernel window starts (0xe00). */
const kernelFirstPDE = kernelBase >>> sectionBits

/**
 * What is wrong with a PDE word's encoding, or null: a reserved type, padding or domain bits set,
 * or the global bit wrong for where it sits (kernel-window sections are global, user ones not).
 */
export const pdeWordProblem = (w: number, index: number): string | null => {
  switch (pde_get_pdeType(w)) {
    case pde_pde_invalid: return w === 0 ? null : "an invalid PDE with other bits set"
    case pde_pde_coarse: return (w & 0x1fc) === 0 ? null : "a page-table PDE with domain or padding bits set"
    case pde_pde_section: {
      if ((w & (1 << 19)) !== 0 || (w & 0x1e0) !== 0) return "a section PDE with padding or domain bits set"
      const global = ((w >>> 17) & 1) === 0
      return global === (index >= kernelFirstPDE) ? null : global ? "a user section PDE marked global" : "a kernel-window section PDE marked not global"
    }
    default: return "a PDE of the reserved type 3"
  }
}

/** What is wrong with a PTE word's encoding, or null (a large PTE's padding bits set). */
export const pteWordProblem = (w: number): string | null =>
  pte_get_pteType(w) === pte_pte_large && (w & 0x1c0) !== 0 ? "a large-page PTE with padding bits set" : null

export const vspaceWordsEncoded: ImplInvariant = {
  name: "vspaceWordsEncoded",
  statement:
    "Every page-directory and page-table word is a well-formed short descriptor: invalid words are 0, no PDE has the reserved " +
    "type, padding and domain bits are clear, and only kernel-window sections are global.",
  mirrors: "l4v ArchInvariants_H valid_pde'/valid_pte' (the C bitfield encodings of structures.bf)",
  check: (k) => {
    const out: string[] = []
    const global = k.armKSGlobalPD.pd
    const pdeCheck = (o: { base: number }, w: number, i: number) => {
      const why = pdeWordProblem(w, i)
      if (why !== null) out.push(`page directory ${h(o.base)} entry ${i} (${h(w)}) is ${why}`)
    }
    for (const o of k.objects.values()) {
      if (o.tag === "PageDirectory") {
        const pd = o.pd
        if (pd.length !== 1 << 12) { out.push(`page directory ${h(o.base)} has ${pd.length} entries`); continue }
        for (let i = nextNonZero(pd, 0, kernelFirstPDE); i < kernelFirstPDE; i = nextNonZero(pd, i + 1, kernelFirstPDE)) pdeCheck(o, pd[i]!, i)
        // A kernel-window word equal to the global directory's is checked with the global one.
        for (let i = kernelFirstPDE; i < pd.length; i++) if (pd === global || pd[i] !== global[i]) pdeCheck(o, pd[i]!, i)
      } else if (o.tag === "PageTable") {
        const pt = o.pt
        if (pt.length !== 1 << 8) { out.push(`page table ${h(o.base)} has ${pt.length} entries`); continue }
        for (let i = nextNonZero(pt, 0, pt.length); i < pt.length; i = nextNonZero(pt, i + 1, pt.length)) {
          const why = pteWordProblem(pt[i]!)
          if (why !== null) out.push(`page table ${h(o.base)} entry ${i} (${h(pt[i]!)}) is ${why}`)
        }
      }
    }
    return out
  },
}

export const vspacePointersLive: ImplInvariant = {
  name: "vspacePointersLive",
  statement:
    "The ASID table, the ASID pools and the global pointers point at the very objects the object table holds at those " +
    "addresses (no pointer to an object a retype has since replaced), of the right kind.",
  mirrors: "l4v ArchInvariants_H valid_arch_state' (valid_asid_table', the global PD and PTs)",
  check: (k) => {
    const out: string[] = []
    const live = (o: { base: number }, what: string, tag: string) => {
      const there = k.objects.get(o.base)
      if (there !== o) out.push(`${what} ${h(o.base)} is not the ${tag} the object table holds there (${there === undefined ? "nothing" : `a ${there.tag}`})`)
    }
    live(k.armKSGlobalPD, "the global page directory", "PageDirectory")
    live(k.armKSGlobalPT, "the global page table", "PageTable")
    if (k.armKSASIDTable.length !== 1 << 7) out.push(`the ASID table has ${k.armKSASIDTable.length} entries`)
    k.armKSASIDTable.forEach((pool, i) => {
      if (pool === null) return
      live(pool, `ASID table entry ${i}: pool`, "ASIDPool")
      if (pool.array.length !== 1 << 10) out.push(`ASID pool ${h(pool.base)} has ${pool.array.length} entries`)
      pool.array.forEach((pd, j) => { if (pd !== null) live(pd, `ASID ${(i << 10) + j}: page directory`, "PageDirectory") })
    })
    return out
  },
}

export const frameMemoryShaped: ImplInvariant = {
  name: "frameMemoryShaped",
  statement:
    "A frame's memory is one slot per 4 KiB page, each empty or a 1024-word array of its own; every IPC-buffer view is 128 " +
    "words of the page its 512-byte block lies in.",
  mirrors: "none (the impl's lazily made frame memory; l4v's frames are plain memory)",
  check: (k) => {
    const out: string[] = []
    for (const o of k.objects.values()) {
      if (o.tag !== "Frame") continue
      const pages = o.pages
      if (pages !== null) {
        if (pages.length !== 2 ** (o.sizeBits - 12)) out.push(`frame ${h(o.base)} has ${pages.length} page slots for 2^${o.sizeBits} bytes`)
        const seen = new Set<ArrayBufferLike>()
        pages.forEach((p, i) => {
          if (p === undefined) return
          if (p.length !== 1024 || p.byteOffset !== 0) out.push(`frame ${h(o.base)} page ${i} is not a whole 1024-word array`)
          if (seen.has(p.buffer)) out.push(`frame ${h(o.base)} page ${i} shares its memory with another page`)
          seen.add(p.buffer)
        })
      }
      o.views?.forEach((v, block) => {
        if (v === undefined) return
        const page = pages?.[block >>> 3]
        if (page === undefined || v.buffer !== page.buffer || v.length !== 128 || v.byteOffset !== (block & 7) * 512) {
          out.push(`frame ${h(o.base)}: the IPC-buffer view of block ${block} is not words ${(block & 7) * 128}.. of page ${block >>> 3}`)
        }
      })
    }
    return out
  },
}

export const slotPointersLive: ImplInvariant = {
  name: "slotPointersLive",
  statement:
    "A slot's kept object pointer, while it counts (the slot still holds the cap it was kept for and the object table has " +
    "removed nothing since), is an object: the one the table holds at the address that cap names.",
  mirrors: "l4v Invariants_H valid_cap' (a cap's pointer names a live object of its kind: C keeps the pointer in the cap)",
  check: (k) => {
    const out: string[] = []
    for (const c of allCtes(k)) {
      if (c.objCap !== c.cap || c.objEpoch !== k.objects.epoch) continue
      if (c.obj === undefined) { out.push(`slot ${h(c.addr)} keeps an absence for its ${c.cap.tag}`); continue }
      const p = capObjRef(c.cap)
      const there = p === null ? undefined : k.objects.get(p)
      if (c.obj !== there) out.push(`slot ${h(c.addr)} keeps the ${c.obj.tag} at ${h(c.obj.base)} for its ${c.cap.tag}, whose object is ${there === undefined ? "not in the table" : `the ${there.tag} at ${h(there.base)}`}`)
    }
    return out
  },
}

/** Every implementation invariant, in check order. */
export const implInvariants: readonly ImplInvariant[] = [
  mdbLinksSymmetric, mdbAcyclic, mdbNoLinksAtEmptySlots, mdbLinksInHeap, cdtRunsNested, mdbChunked,
  readyQueueLinksSymmetric, tcbQueuedIffInReadyQueue, bitmapAgreesWithQueues, epQueueLinksSymmetric, epQueueMembership,
  vspaceWordsEncoded, vspacePointersLive, frameMemoryShaped, slotPointersLive,
]

/** All violations of all implementation invariants, each prefixed with the invariant's name. */
export const checkImplInvariants = (k: ImplState): string[] =>
  implInvariants.flatMap((inv) => inv.check(k).map((v) => `${inv.name}: ${v}`))
