/**
 * The relation checked on what a step changed: after each step, the impl must abstract to the spec
 * at the entries the spec's step changed (`stateDelta`, found through the persistent maps' shared
 * structure: each changed object; each slot's cap and originality, and its CDT parent or children
 * where those changed, or both when its cap or originality changed, unless the cap changed only
 * where the MDB does not look) and in the globals (of the ready queues, those the spec has or had
 * across the step; of the IRQ and ASID tables, those the step replaced); the rest
 * of the state is compared by the periodic full check. The work is proportional to the change, plus, per slot whose CDT parent or children
 * changed, the isMDBParentOf tests that find the parent (walking back to the nearest candidate) or
 * the children (the slot's own run).
 *
 * What this misses at the step and the full check catches: the impl changing an object, slot, ready
 * queue or table the spec left alone (a stray write). Nothing in the impl is instrumented; the lockstep runner replays
 * any trace whose full check fails with full checking after every step, so the failure reported
 * names the step of the stray write exactly as full checking would.
 *
 * Every comparison here reads the impl in place (no abstraction is built), so a step costs a few
 * field comparisons per changed object.
 * @category relations
 */
import type { Cap, PDE, PPtr, SlotPtr } from "../../model/index.ts"
import { NullCap, bit, slotBits, tcbCNodeEntries } from "../../model/index.ts"
import type { Cte, ImplCNode, ImplFrame, ImplObject, ImplState, ImplTcb } from "../../impl/index.ts"
import { ChooseNewThread, ResumeCurrentThread, loadWord, sameRegionAs } from "../../impl/index.ts"
import type { StateDelta } from "../../spec/invariants/delta.ts"
import { mapDelta } from "../../spec/invariants/delta.ts"
import { PMap } from "../../spec/persistent.ts"
import type { KObject, KernelState } from "../../spec/state.ts"
import {
  absGlobals, absObject, absPDE, absPTE, allCtes, cdtOfList, forEachCdtEdge, isMDBParentOf, kernelFirstPDE, nextNonZero, schedDomain, schedDuration,
} from "./abstract.ts"
import { deepEqual } from "../lockstep/diff.ts"

// ---- object and cap comparison, in place ---------------------------------------------------------

/** Do two caps hold the same fields (one level of nesting: a frame cap's mapping)? */
export const sameCap = (a: Cap, b: Cap): boolean => {
  if (a === b) return true
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  for (const k of ka) {
    const x = (a as Record<string, unknown>)[k]
    const y = (b as Record<string, unknown>)[k]
    if (x === y) continue
    if (typeof x !== "object" || typeof y !== "object" || x === null || y === null) return false
    const kx = Object.keys(x)
    if (kx.length !== Object.keys(y).length) return false
    for (const j of kx) if ((x as Record<string, unknown>)[j] !== (y as Record<string, unknown>)[j]) return false
  }
  return true
}

const sameArray = (a: readonly unknown[], b: readonly unknown[]): boolean => {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

const sameRecord = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  for (const k of ka) if (!sameRecord((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false
  return true
}

/** Does an intrusive queue from `head` list exactly the threads `q`, in order? */
const sameQueue = (head: { base: PPtr; tcbEPNext: unknown } | null, q: readonly PPtr[], limit: number): boolean => {
  let i = 0
  for (let t = head as { base: PPtr; tcbEPNext: unknown } | null; t !== null; t = t.tcbEPNext as typeof t) {
    if (i > limit || i >= q.length || q[i] !== t.base) return false
    i++
  }
  return i === q.length
}

/** Do the non-null entries of `a` (the ASID table, a pool) point at the objects `m` names at their indices, and `m` at no others? */
const samePointers = (a: readonly ({ readonly base: PPtr } | null | undefined)[], m: ReadonlyMap<number, PPtr>): boolean => {
  let n = 0
  for (let i = 0; i < a.length; i++) {
    const o = a[i]
    if (o === null || o === undefined) continue
    n++
    if (m.get(i) !== o.base) return false
  }
  return n === m.size
}

/** Does the frame's memory hold exactly `words` (and 0 elsewhere)? */
const sameWords = (o: ImplFrame, words: ReadonlyMap<number, number>): boolean => {
  const pages = o.pages
  if (pages === null) return words.size === 0
  let nonzero = 0
  for (let p = 0; p < pages.length; p++) {
    const page = pages[p]
    if (page === undefined) continue
    for (let i = nextNonZero(page, 0, page.length); i < page.length; i = nextNonZero(page, i + 1, page.length)) {
      nonzero++
      if (words.get(p * page.length + i) !== page[i]) return false
    }
  }
  return nonzero === words.size
}

/**
 * Does the frame's memory hold `words` at the indices where they differ from `was` (the spec's
 * words before the step)? The words the step left alone are the full check's, as objects are.
 */
const sameWordsSince = (o: ImplFrame, was: ReadonlyMap<number, number>, words: ReadonlyMap<number, number>): boolean => {
  if (was === words) return true
  const changed = new Set<number>()
  mapDelta(was, words, changed)
  for (const i of changed) if (loadWord(o, i) !== (words.get(i) ?? 0)) return false
  return true
}

/**
 * Does the impl object abstract to `c` (as `absObject` would build it)? Field by field, building
 * nothing. Given `was`, the spec's object before the step, a frame of the same kind is compared
 * at the words the step changed.
 */
export const abstractsTo = (o: ImplObject, c: KObject, limit: number, was?: KObject): boolean => {
  switch (o.tag) {
    case "TCB": {
      if (c.tag !== "TCB") return false
      const x = c.tcbContext
      return sameRecord(o.tcbState, c.tcbState) && o.tcbPriority === c.tcbPriority && o.tcbMCP === c.tcbMCP &&
        o.tcbDomain === c.tcbDomain && o.tcbTimeSlice === c.tcbTimeSlice && o.tcbFaultHandler === c.tcbFaultHandler &&
        o.tcbIPCBuffer === c.tcbIPCBuffer && (o.tcbBoundNotification?.base ?? null) === c.tcbBoundNotification &&
        sameRecord(o.tcbFault, c.tcbFault) && o.msgInfo === x.msgInfo && o.badge === x.badge &&
        sameArray(o.mrs, x.mrs) && sameArray(o.regs, x.regs)
    }
    case "Endpoint": {
      if (c.tag !== "Endpoint") return false
      const s = c.state
      if (o.epState === "Idle") return s.tag === "IdleEP"
      if (s.tag !== (o.epState === "Send" ? "SendEP" : "RecvEP")) return false
      return sameQueue(o.epQueueHead, (s as { queue: readonly PPtr[] }).queue, limit)
    }
    case "Notification": {
      if (c.tag !== "Notification" || (o.ntfnBoundTCB?.base ?? null) !== c.boundTCB) return false
      const s = c.state
      if (o.ntfnState === "Idle") return s.tag === "IdleNtfn"
      if (o.ntfnState === "Active") return s.tag === "ActiveNtfn" && s.badge === o.ntfnMsgIdentifier
      return s.tag === "WaitingNtfn" && sameQueue(o.ntfnQueueHead, s.queue, limit)
    }
    case "CNode": return c.tag === "CNode" && c.radix === o.radix
    case "Frame":
      return c.tag === "Frame" && c.sizeBits === o.sizeBits && c.isDevice === o.isDevice &&
        (was?.tag === "Frame" && was.sizeBits === c.sizeBits && was.isDevice === c.isDevice ? sameWordsSince(o, was.words, c.words) : sameWords(o, c.words))
    case "PageTable": return c.tag === "PageTable" && sameEntries(o.pt, c.ptes, absPTE)
    case "PageDirectory": return c.tag === "PageDirectory" && sameEntries(o.pd.subarray(0, kernelFirstPDE), c.pdes, absPDE) && sameKernelWindow(o.pd, c.kernelPDEs)
    case "ASIDPool": return c.tag === "ASIDPool" && samePointers(o.array, c.pool)
  }
}

/** Kernel windows already seen to abstract to a map: the map and the words it matched. */
const verifiedWindows = new WeakMap<ReadonlyMap<number, PDE>, Uint32Array>()

/** Do a directory's kernel-window words abstract to `m`? Remembered per map (maps are immutable), so a repeat costs a word comparison. */
const sameKernelWindow = (pd: Uint32Array, m: ReadonlyMap<number, PDE>): boolean => {
  const seen = verifiedWindows.get(m)
  const kernel = pd.subarray(kernelFirstPDE)
  if (seen !== undefined && seen.length === kernel.length) {
    let same = true
    for (let i = 0; i < kernel.length && same; i++) same = seen[i] === kernel[i]
    if (same) return true
  }
  let n = 0
  for (let i = 0; i < kernel.length; i++) {
    const w = kernel[i]!
    if (w === 0) continue
    n++
    const e = m.get(kernelFirstPDE + i)
    if (e === undefined || !sameRecord(absPDE(w), e)) return false
  }
  if (n !== m.size) return false
  verifiedWindows.set(m, kernel.slice())
  return true
}

/** Do the hardware words abstract to exactly the valid entries of `m`? */
const sameEntries = <E>(words: Uint32Array, m: ReadonlyMap<number, E>, abs: (w: number) => E): boolean => {
  let n = 0
  const end = words.length
  for (let i = nextNonZero(words, 0, end); i < end; i = nextNonZero(words, i + 1, end)) {
    n++
    const e = m.get(i)
    if (e === undefined || !sameRecord(abs(words[i]!), e)) return false
  }
  return n === m.size
}

/**
 * Do the impl's globals abstract to the spec's (as `absGlobals` would build them)? Given `prev`, the
 * spec's state before one step: the ready queues the spec has or had non-empty across that step,
 * and the IRQ and ASID tables only if the spec's step replaced them; a stray impl write to another
 * queue or to a table the spec left alone is the full check's to see, as for objects outside the
 * step's change. Without `prev`, every queue and table.
 */
export const globalsAgree = (k: ImplState, s: KernelState, prev?: KernelState): boolean => {
  if (k.curThread.base !== s.curThread || k.idleThread.base !== s.idleThread || k.curDomain !== s.curDomain ||
    k.numIRQs !== s.numIRQs || k.numDomains !== s.numDomains || k.irqNode.base !== s.irqNode) return false
  if (k.ksWorkUnitsCompleted !== s.workUnitsCompleted || k.maxWorkUnitsPerPreemption !== s.workUnitsLimit ||
    k.resetChunkBits !== s.resetChunkBits || k.pendingIRQ !== s.irqPending) return false
  const a = k.schedulerAction
  const sa = s.schedulerAction
  if (a === ResumeCurrentThread ? sa.tag !== "ResumeCurrentThread"
    : a === ChooseNewThread ? sa.tag !== "ChooseNewThread"
    : sa.tag !== "SwitchToThread" || sa.target !== a.base) return false
  if ((prev === undefined || prev.irqStates !== s.irqStates) && !sameArray(k.irqStates, s.irqStates)) return false
  if ((prev === undefined || prev.irqMasks !== s.irqMasks) && !sameArray(k.irqMasks, s.irqMasks)) return false
  // The domain schedule: the packed C entries against the spec's pairs (given `prev`, only if the
  // spec's step replaced its list, as for the tables below).
  if (k.domScheduleIdx !== s.domainIndex || k.domScheduleStart !== s.domainStartIndex || k.domainTime !== s.domainTime) return false
  if ((prev === undefined || prev.domainList !== s.domainList) && !sameSchedule(k.domSchedule, s.domainList)) return false
  if (k.armKSGlobalPD.base !== s.armGlobalPD || k.armKSGlobalPT.base !== s.armGlobalPT) return false
  if ((prev === undefined || prev.armASIDTable !== s.armASIDTable) && !samePointers(k.armKSASIDTable, s.armASIDTable)) return false
  const limit = k.objects.size
  if (prev !== undefined) {
    for (const [idx, q] of s.readyQueues) if (!sameQueueAt(k, idx, q, limit)) return false
    if (prev.readyQueues !== s.readyQueues) {
      for (const idx of prev.readyQueues.keys()) if (!s.readyQueues.has(idx) && (k.readyQueueHead[idx] ?? null) !== null) return false
    }
    return true
  }
  // Ready queues: every non-empty impl queue equals the spec's, and the spec has no others.
  let queues = 0
  for (let idx = 0; idx < k.readyQueueHead.length; idx++) {
    const head = k.readyQueueHead[idx] ?? null
    if (head === null) continue
    queues++
    const q = s.readyQueues.get(idx)
    if (q === undefined || !sameQueueAt(k, idx, q, limit)) return false
  }
  return queues === s.readyQueues.size
}

/** Do the packed C schedule entries hold the spec's (domain, duration) pairs, in order? */
const sameSchedule = (sched: ImplState["domSchedule"], list: KernelState["domainList"]): boolean => {
  if (sched.length !== list.length) return false
  for (let i = 0; i < sched.length; i++) {
    const e = list[i]!
    const x = sched[i]!
    if (schedDomain(x) !== e.domain || schedDuration(x) !== e.duration) return false
  }
  return true
}

/** Does the impl's ready queue `idx` hold exactly the threads of `q`, in order (at most `limit` links followed)? */
const sameQueueAt = (k: ImplState, idx: number, q: readonly PPtr[], limit: number): boolean => {
  let i = 0
  for (let t: ImplTcb | null = k.readyQueueHead[idx] ?? null; t !== null; t = t.tcbSchedNext) {
    if (i > limit || i >= q.length || q[i] !== t.base) return false
    i++
  }
  return i === q.length
}

// ---- slots ----------------------------------------------------------------------------------------

const cteSize = 2 ** slotBits
type Container = ImplCNode | ImplTcb

/** The bytes of slots a CNode or TCB holds (its slot addresses are `base + i * 16` below this). */
const slotSpan = (c: Container): number => (c.tag === "CNode" ? bit(c.radix) : tcbCNodeEntries) * cteSize

/**
 * Finds the impl's CTE for a slot address: the CNodes and TCBs by base address, in a sorted array
 * searched by bisection. It learns of created and deleted objects from the deltas it is shown
 * (`noteObjects`) and is rebuilt from the whole object table at each full check.
 */
export class SlotLocator {
  private containers = new Map<PPtr, Container>()
  private bases: PPtr[] = []
  private sorted = true

  constructor(k: ImplState) { this.rebuild(k) }

  rebuild(k: ImplState): void {
    this.containers = new Map()
    for (const [p, o] of k.objects) if (o.tag === "CNode" || o.tag === "TCB") this.containers.set(p, o)
    this.sorted = false
  }

  /** Bring the index up to date at the addresses `keys` (objects a step created, replaced or deleted). */
  noteObjects(k: ImplState, keys: Iterable<PPtr>): void {
    for (const p of keys) {
      const o = k.objects.get(p)
      const c = o?.tag === "CNode" || o?.tag === "TCB" ? o : undefined
      if (this.containers.get(p) === c) continue
      if (c === undefined) this.containers.delete(p)
      else this.containers.set(p, c)
      this.sorted = false
    }
  }

  /** The CTE at `slot`: null when the slot exists but was never materialised (an empty CNode slot), undefined when no object holds it. */
  cte(slot: SlotPtr): Cte | null | undefined {
    if (!this.sorted) {
      this.bases = [...this.containers.keys()].sort((a, b) => a - b)
      this.sorted = true
    }
    const b = this.bases
    let lo = 0
    let hi = b.length - 1
    let at = -1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      if (b[mid]! <= slot) { at = mid; lo = mid + 1 } else hi = mid - 1
    }
    if (at < 0) return undefined
    const c = this.containers.get(b[at]!)!
    const off = slot - c.base
    if (off >= slotSpan(c) || off % cteSize !== 0) return undefined
    return c.slots[off / cteSize] ?? null
  }
}

/** A slot's CDT parent and children, as the full abstraction reads them off its MDB list. */
interface CdtPlace { readonly parent: Cte | null; readonly children: readonly Cte[] }

const symmetricAt = (x: Cte): boolean => (x.next === null || x.next.prev === x) && (x.prev === null || x.prev.next === x)

/** A walk past this many CTEs starts checking for a cycle (links that loop back). */
const cycleCheckAfter = 4096

/**
 * The CDT parent and children of `c` read off its MDB list locally, giving what `mdbLists` +
 * `cdtOfList` give (the nearest preceding CTE whose isMDBParentOf-run covers `c`; the CTEs of `c`'s
 * run whose nearest covering CTE is `c`): the parent search walks back from `c` only until a
 * candidate passes (to the list's head when none does), and the children come from `c`'s run alone
 * (each part only when asked for). null when `c` is in no list; "unsure" when the links walked are
 * not symmetric and acyclic, or the head reached is not a live CTE (one `loc` finds at its address,
 * as `mdbLists` starts only from those): the caller then checks in full. The list beyond what is
 * walked (above a parent found) is the periodic full check's: walking it to the head on every step
 * made a step linear in the caps derived from one untyped.
 */
const cdtPlace = (c: Cte, loc: SlotLocator, wantParent: boolean, wantChildren: boolean): CdtPlace | null | "unsure" => {
  if (c.cap.tag === "NullCap" && c.prev === null && c.next === null) return null
  if (!symmetricAt(c)) return "unsure"
  /** A list's head must be a live CTE, as `mdbLists` starts only from those. */
  const liveHead = (h: Cte): boolean => h.cap.tag !== "NullCap" && loc.cte(h.addr) === h
  if (c.prev === null && !liveHead(c)) return "unsure"
  // Parent: the nearest i before c with isMDBParentOf(i, x) for every x after i up to c. The walk
  // back goes only as far as the parent (back[0] = c.prev, ...); with none, to the head, which is
  // then checked. (Above a parent found, the list is left to the full check.)
  let parent: Cte | null = null
  if (wantParent) {
    const back: Cte[] = []
    let seen: Set<Cte> | null = null
    for (let x = c.prev; x !== null && parent === null; x = x.prev) {
      if (!symmetricAt(x)) return "unsure"
      if (back.length === cycleCheckAfter) seen = new Set([c, ...back])
      if (seen !== null) { if (seen.has(x)) return "unsure"; seen.add(x) }
      back.push(x)
      if (!isMDBParentOf(x, c)) continue
      let covers = true
      for (let e = back.length - 2; e >= 0 && covers; e--) covers = isMDBParentOf(x, back[e]!)
      if (covers) parent = x
    }
    if (parent === null && back.length > 0 && !liveHead(back[back.length - 1]!)) return "unsure"
  }
  // Children: c's run, and in it the CTEs whose CDT parent within the run is c (cdtOfList of the run).
  const run: Cte[] = [c]
  let seen: Set<Cte> | null = null
  for (let x = c.next; wantChildren && x !== null && isMDBParentOf(c, x); x = x.next) {
    if (!symmetricAt(x)) return "unsure"
    if (run.length === cycleCheckAfter) seen = new Set(run)
    if (seen !== null) { if (seen.has(x)) return "unsure"; seen.add(x) }
    run.push(x)
  }
  const near = cdtOfList(run)
  const children: Cte[] = []
  for (let j = 1; j < run.length; j++) if (near[j] === 0) children.push(run[j]!)
  return { parent, children }
}

/**
 * Did the cap at `slot` change, from `prev` to `s`, only in fields the MDB does not read, with its
 * originality kept? Then its place in the MDB lists (what isMDBParentOf decides against its
 * neighbours) is as before: same kind, the same region both ways, the same badge.
 */
const sameMdbPlace = (prev: KernelState, s: KernelState, slot: SlotPtr): boolean => {
  const a = prev.caps.get(slot)
  const b = s.caps.get(slot)
  if (a === undefined || b === undefined || a.tag !== b.tag || prev.isOriginal.has(slot) !== s.isOriginal.has(slot)) return false
  if (!sameRegionAs(a, b) || !sameRegionAs(b, a)) return false
  const badge = (c: Cap) => (c.tag === "EndpointCap" || c.tag === "NotificationCap" ? c.badge : 0)
  return badge(a) === badge(b)
}

/**
 * Does the impl agree with the spec state `s` at the objects and slots of `delta` and in the
 * globals (`globalsAgree`, given `prev`)? `loc` must have been shown the delta's objects (`noteObjects`). False also when the
 * impl's MDB links are too broken to read a CDT off them locally (the caller then checks in full).
 */
export const agreesOn = (k: ImplState, s: KernelState, delta: StateDelta, loc: SlotLocator, prev?: KernelState): boolean => {
  const limit = k.objects.size
  for (const p of delta.objects) {
    const o = k.objects.get(p)
    const a = s.kheap.get(p)
    if (o === undefined || a === undefined ? o !== a : !abstractsTo(o, a, limit, o.tag === "Frame" ? prev?.kheap.get(p) : undefined)) return false
  }
  for (const slot of delta.slots) {
    const c = loc.cte(slot)
    const cap = s.caps.get(slot)
    if (c === undefined || c === null) {
      // No CTE: the slot is empty and in no list.
      if (cap !== undefined || s.isOriginal.has(slot) || s.cdt.has(slot) || s.cdtList.has(slot)) return false
      continue
    }
    if (!sameCap(c.cap, cap ?? NullCap) || c.revocable !== s.isOriginal.has(slot)) return false
    // A slot whose cap or originality changed gets its whole CDT place checked (its runs may differ),
    // unless the cap changed only where the MDB does not look (a frame mapped, a directory given an
    // ASID: the same region, kind and badge, the same originality); one whose CDT entries alone
    // changed, just those.
    const all = (delta.capsOrOriginal?.has(slot) ?? true) && !(prev !== undefined && sameMdbPlace(prev, s, slot))
    const wantParent = all || (delta.parents?.has(slot) ?? true)
    const wantChildren = all || (delta.children?.has(slot) ?? true)
    if (!wantParent && !wantChildren) continue
    const place = cdtPlace(c, loc, wantParent, wantChildren)
    if (place === "unsure") return false
    if (place === null) {
      if (s.cdt.has(slot) || s.cdtList.has(slot)) return false
      continue
    }
    if (wantParent && (place.parent === null ? undefined : place.parent.addr) !== s.cdt.get(slot)) return false
    if (!wantChildren) continue
    const kids = s.cdtList.get(slot)
    if (kids === undefined ? place.children.length !== 0 : kids.length !== place.children.length) return false
    for (let j = 0; j < place.children.length; j++) if (place.children[j]!.addr !== kids![j]) return false
  }
  return globalsAgree(k, s, prev)
}

// ---- the whole relation, in place -----------------------------------------------------------------

/** The own enumerable keys of a record (as `Object.keys(x).length`, without the array). */
const keyCount = (x: object): number => {
  let n = 0
  for (const k in x) if (Object.hasOwn(x, k)) n++
  return n
}

/** The fields of an abstract state, as `absState` builds it. */
const stateKeys = ["kheap", "caps", "cdt", "cdtList", "isOriginal", ...Object.keys(absGlobalsShape())] as const
function absGlobalsShape(): Record<string, unknown> {
  // The global fields absState adds (every key of absGlobals' result), read off its type's keys.
  return {
    curThread: 0, idleThread: 0, schedulerAction: 0, readyQueues: 0, curDomain: 0, domainList: 0, domainIndex: 0, domainStartIndex: 0,
    domainTime: 0, numIRQs: 0, numDomains: 0, irqStates: 0, irqMasks: 0, irqNode: 0, armASIDTable: 0, armGlobalPD: 0, armGlobalPT: 0,
    workUnitsCompleted: 0, workUnitsLimit: 0, resetChunkBits: 0, irqPending: 0,
  } satisfies Record<Exclude<keyof KernelState, "kheap" | "caps" | "cdt" | "cdtList" | "isOriginal">, 0>
}

const isPlainArray = (a: unknown): a is readonly unknown[] => Array.isArray(a)
/** A native or persistent map (what `deepEqual` compares as a map). */
const isMapObject = (m: unknown): boolean => m instanceof Map || m instanceof PMap

/**
 * Is the spec's cap `a` equal to the impl's `b` as `deepEqual(a, b)` decides? The same keys, equal
 * primitive values, and for an impl value that is a record (a frame's mapping), a plain spec
 * record with the same keys and equal primitive values; anything else is left to deepEqual.
 */
const capEquals = (a: Cap, b: Cap): boolean => {
  if (a === b) return true
  if (keyCount(a) !== keyCount(b)) return false
  for (const k in b) {
    if (!Object.hasOwn(b, k)) continue
    const x = (a as Record<string, unknown>)[k]
    const y = (b as Record<string, unknown>)[k]
    if (x === y) continue
    if (typeof y !== "object" || y === null || typeof x !== "object" || x === null) return false
    return deepEqual(a, b)
  }
  return true
}

/**
 * Is the impl object `o` equal to the spec's `c` as `deepEqual(c, absObject(o))` decides? The
 * thread and queue objects are compared field by field in place (the commonest, and the ones whose
 * abstraction copies the most); the others are abstracted and compared.
 */
const objectEquals = (o: ImplObject, c: KObject, limit: number): boolean => {
  switch (o.tag) {
    case "TCB": {
      if (c.tag !== "TCB" || keyCount(c) !== 11) return false
      const x = c.tcbContext
      return o.tcbPriority === c.tcbPriority && o.tcbMCP === c.tcbMCP && o.tcbDomain === c.tcbDomain &&
        o.tcbTimeSlice === c.tcbTimeSlice && o.tcbFaultHandler === c.tcbFaultHandler && o.tcbIPCBuffer === c.tcbIPCBuffer &&
        (o.tcbBoundNotification?.base ?? null) === c.tcbBoundNotification &&
        deepEqual(c.tcbState, { ...o.tcbState }) && deepEqual(c.tcbFault, o.tcbFault) &&
        typeof x === "object" && x !== null && keyCount(x) === 4 && x.msgInfo === o.msgInfo && x.badge === o.badge &&
        isPlainArray(x.mrs) && sameArray(o.mrs, x.mrs) && isPlainArray(x.regs) && sameArray(o.regs, x.regs)
    }
    case "Endpoint": {
      if (c.tag !== "Endpoint" || keyCount(c) !== 2) return false
      const s = c.state
      if (typeof s !== "object" || s === null) return false
      if (o.epState === "Idle") return s.tag === "IdleEP" && keyCount(s) === 1
      if (s.tag !== (o.epState === "Send" ? "SendEP" : "RecvEP") || keyCount(s) !== 2) return false
      return isPlainArray(s.queue) && sameQueue(o.epQueueHead, s.queue, limit)
    }
    case "Notification": {
      if (c.tag !== "Notification" || keyCount(c) !== 3 || (o.ntfnBoundTCB?.base ?? null) !== c.boundTCB) return false
      const s = c.state
      if (typeof s !== "object" || s === null) return false
      if (o.ntfnState === "Idle") return s.tag === "IdleNtfn" && keyCount(s) === 1
      if (o.ntfnState === "Active") return s.tag === "ActiveNtfn" && keyCount(s) === 2 && s.badge === o.ntfnMsgIdentifier
      return s.tag === "WaitingNtfn" && keyCount(s) === 2 && isPlainArray(s.queue) && sameQueue(o.ntfnQueueHead, s.queue, limit)
    }
    case "CNode": return c.tag === "CNode" && keyCount(c) === 2 && c.radix === o.radix
    // The hardware words against the spec's maps: sameRecord(abstracted entry, spec entry) is exact
    // (an abstracted entry's fields are never undefined), and each map's size is compared.
    case "PageTable": return c.tag === "PageTable" && keyCount(c) === 2 && isMapObject(c.ptes) && sameEntries(o.pt, c.ptes, absPTE)
    case "PageDirectory":
      return c.tag === "PageDirectory" && keyCount(c) === 3 && isMapObject(c.pdes) && isMapObject(c.kernelPDEs) &&
        sameEntries(o.pd.subarray(0, kernelFirstPDE), c.pdes, absPDE) && sameKernelWindow(o.pd, c.kernelPDEs)
    default: return deepEqual(c, absObject(o, limit))
  }
}

/**
 * Does `s` equal the abstraction of `k`, as `statesEqual(s, absState(k))` decides? Compared in place
 * (no abstract heap or cap map is built, and only the CDT's parents with children get arrays), so the
 * periodic full check costs a walk of the impl. True only when equal; false when they differ or
 * when this comparison cannot tell (the caller then abstracts and compares, which has the last word).
 */
export const agreesInFull = (k: ImplState, s: KernelState): boolean => {
  if (keyCount(s) !== stateKeys.length) return false
  const limit = k.objects.size
  // Globals: built (they are small) and compared as statesEqual compares them.
  const g = absGlobals(k, limit) as unknown as Record<string, unknown>
  const sr = s as unknown as Record<string, unknown>
  for (const key of stateKeys.slice(5)) if (!deepEqual(sr[key], g[key])) return false
  // Objects.
  if (s.kheap.size !== limit) return false
  for (const [p, o] of k.objects) {
    const a = s.kheap.get(p)
    if (a === undefined || !objectEquals(o, a, limit)) return false
  }
  // Caps and originality.
  const ctes = allCtes(k)
  let caps = 0
  let originals = 0
  for (const c of ctes) {
    if (c.cap.tag !== "NullCap") {
      caps++
      const sc = s.caps.get(c.addr)
      if (sc === undefined || !capEquals(sc, c.cap)) return false
    }
    if (c.revocable) {
      originals++
      if (!s.isOriginal.has(c.addr)) return false
    }
  }
  if (caps !== s.caps.size || originals !== s.isOriginal.size) return false
  // The CDT read off the MDB lists.
  let edges = 0
  const kids = new Map<SlotPtr, SlotPtr[]>()
  const sameEdges = forEachCdtEdge(ctes, (c, p) => {
    edges++
    if (s.cdt.get(c) !== p) return false
    const ks = kids.get(p)
    if (ks === undefined) kids.set(p, [c])
    else ks.push(c)
    return true
  })
  if (!sameEdges) return false
  if (edges !== s.cdt.size || kids.size !== s.cdtList.size) return false
  for (const [p, ks] of kids) {
    const sk = s.cdtList.get(p)
    if (!isPlainArray(sk) || !sameArray(ks, sk)) return false
  }
  return true
}
