/**
 * The incremental abstraction: a cached abstract image of the impl state, brought up to date after
 * each step by an exact scan for what the step changed, without any tracking code in the impl.
 *
 * After each step, `update` compares every impl object and every materialised CTE against the
 * cached image with cheap field comparisons (no allocation, no abstraction), and re-abstracts only
 * what differs. The scan is exact, not sampled: a field of an object the step was not meant to
 * touch is compared as well, so a change anywhere is found at the step it happens. It costs a few
 * comparisons per field (the cost of absState without its allocation and CDT rebuild).
 *
 * Soundness: the cache equals `absState(k)` after every `update`:
 * - objects: a cached abstract object is replaced when any field it is built from differs (queues
 *   are re-walked and compared to the cached queue, so a TCB link change shows up in its queue);
 *   an added or removed object changes the count or is a new key; a removal forces a full resync.
 * - caps/isOriginal: every materialised CTE is compared (cap by value, revocable bit), and the count
 *   of non-empty / original CTEs seen must equal the cached count, or the cache is rebuilt.
 * - CDT: a slot's CDT parent and child list depend only on the MDB list holding it. A CTE whose cap,
 *   revocable, firstBadged, prev or next changed is dirty; every list containing a dirty CTE or one
 *   of its old or new neighbours is recomputed with the relation's own `cdtOfList`. This is exact
 *   while the MDB links are symmetric (a.next.prev = a): the scan checks symmetry at every dirty CTE
 *   and its old and new neighbours, and on any asymmetry (or when the last full abstraction found
 *   links asymmetric) it falls back to a full `absState` for that step.
 * @category relations
 */
import type { Cap, PPtr, SlotPtr } from "../../model/index.ts"
import type { Cte, ImplObject, ImplState } from "../../impl/index.ts"
import type { KObject, KernelState } from "../../spec/state.ts"
import { absGlobals, absObject, absState, cdtOfList } from "./abstract.ts"

/** What an update changed in the abstraction (or `all` after a full rebuild). */
export interface AbsDelta {
  readonly all: boolean
  readonly objects: ReadonlySet<PPtr>
  readonly slots: ReadonlySet<SlotPtr>
}

interface Links { prev: Cte | null; next: Cte | null; firstBadged: boolean }

const copyCap = (c: Cap): Cap =>
  "mapped" in c && c.mapped !== null ? { ...c, mapped: { ...c.mapped } } : { ...c }

const sameCap = (a: Cap, b: Cap): boolean => {
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

/** Does the impl object still abstract to `c`? Field by field, without building anything. */
const sameQueue = (head: { base: PPtr; tcbEPNext: unknown } | null, q: readonly PPtr[], limit: number): boolean => {
  let i = 0
  for (let t = head as { base: PPtr; tcbEPNext: unknown } | null; t !== null; t = t.tcbEPNext as typeof t) {
    if (i > limit || i >= q.length || q[i] !== t.base) return false
    i++
  }
  return i === q.length
}

const stillAbstractsTo = (o: ImplObject, c: KObject, limit: number): boolean => {
  switch (o.tag) {
    case "TCB": {
      if (c.tag !== "TCB") return false
      const x = c.tcbContext
      return sameRecord(o.tcbState, c.tcbState) && o.tcbPriority === c.tcbPriority && o.tcbMCP === c.tcbMCP &&
        o.tcbDomain === c.tcbDomain && o.tcbTimeSlice === c.tcbTimeSlice && o.tcbFaultHandler === c.tcbFaultHandler &&
        o.tcbIPCBuffer === c.tcbIPCBuffer && (o.tcbBoundNotification?.base ?? null) === c.tcbBoundNotification &&
        sameRecord(o.tcbFault, c.tcbFault) && o.msgInfo === x.msgInfo && o.badge === x.badge &&
        o.receiveCNode === x.receiveCNode && o.receiveIndex === x.receiveIndex && o.receiveDepth === x.receiveDepth &&
        sameArray(o.mrs, x.mrs) && sameArray(o.extraCaps, x.extraCaps) && sameArray(o.regs, x.regs)
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
    case "Frame": return c.tag === "Frame" && c.sizeBits === o.sizeBits && c.isDevice === o.isDevice
    case "PageTable": return c.tag === "PageTable"
    case "PageDirectory": return c.tag === "PageDirectory"
  }
}

const symmetric = (c: Cte): boolean => (c.next === null || c.next.prev === c) && (c.prev === null || c.prev.next === c)

/** A cached abstraction of one impl kernel, kept up to date step by step. */
export class IncrementalAbs {
  kheap = new Map<PPtr, KObject>()
  caps = new Map<SlotPtr, Cap>()
  isOriginal = new Set<SlotPtr>()
  cdt = new Map<SlotPtr, SlotPtr>()
  cdtList = new Map<SlotPtr, SlotPtr[]>()
  private links = new Map<Cte, Links>()
  private linksTrusted = false
  /** Full rebuilds done (at boot, periodic checks and fallbacks), for tests and benchmarks. */
  rebuilds = 0

  constructor(k: ImplState, abs?: KernelState) { this.rebuild(k, abs) }

  /** Rebuild from a full abstraction (computed here unless given). */
  rebuild(k: ImplState, abs: KernelState = absState(k)): void {
    this.rebuilds++
    this.kheap = new Map(abs.kheap)
    this.caps = new Map()
    for (const [slot, c] of abs.caps) this.caps.set(slot, copyCap(c))
    this.isOriginal = new Set(abs.isOriginal)
    this.cdt = new Map(abs.cdt)
    this.cdtList = new Map([...abs.cdtList].map(([p, l]) => [p, [...l]]))
    this.links = new Map()
    let trusted = true
    this.forEachCte(k, (c) => {
      this.links.set(c, { prev: c.prev, next: c.next, firstBadged: c.firstBadged })
      if (!symmetric(c)) trusted = false
    })
    this.linksTrusted = trusted
  }

  private forEachCte(k: ImplState, f: (c: Cte) => void): void {
    for (const o of k.objects.values()) {
      if (o.tag === "CNode") { for (const c of o.slots) if (c !== undefined) f(c) }
      else if (o.tag === "TCB") for (const c of o.slots) f(c)
    }
  }

  /** Bring the cache up to date with `k`; what changed. */
  update(k: ImplState): AbsDelta {
    const objects = new Set<PPtr>()
    const slots = new Set<SlotPtr>()
    const limit = k.objects.size
    const before = this.kheap.size
    let known = 0
    for (const [p, o] of k.objects) {
      const c = this.kheap.get(p)
      if (c !== undefined) known++
      if (c === undefined || !stillAbstractsTo(o, c, limit)) { this.kheap.set(p, absObject(o, limit)); objects.add(p) }
    }
    const full = (): AbsDelta => { this.rebuild(k); return { all: true, objects, slots } }
    // An object removed (fewer known keys than were cached): rebuild.
    if (known < before || this.kheap.size !== k.objects.size) return full()
    // Caps, originality and MDB links of every materialised CTE.
    const dirty: Cte[] = []
    let nonEmpty = 0
    let originals = 0
    this.forEachCte(k, (c) => {
      const isNull = c.cap.tag === "NullCap"
      if (!isNull) nonEmpty++
      if (c.revocable) originals++
      const cached = this.caps.get(c.addr)
      const l = this.links.get(c)
      const capChanged = isNull ? cached !== undefined : cached === undefined || !sameCap(c.cap, cached)
      if (capChanged || c.revocable !== this.isOriginal.has(c.addr) || l === undefined ||
        l.prev !== c.prev || l.next !== c.next || l.firstBadged !== c.firstBadged) dirty.push(c)
    })
    if (dirty.length === 0) {
      // Every CTE matched: the counts say no cached cap or mark lives at a slot no longer visited.
      if (nonEmpty !== this.caps.size || originals !== this.isOriginal.size) return full()
      return { all: false, objects, slots }
    }
    if (!this.linksTrusted) return full()
    // Walk set: dirty CTEs and their old and new neighbours; links must be symmetric there.
    const walk = new Set<Cte>()
    for (const c of dirty) {
      walk.add(c)
      const l = this.links.get(c)
      for (const x of [c.prev, c.next, l?.prev ?? null, l?.next ?? null]) if (x !== null) walk.add(x)
    }
    for (const c of walk) if (!symmetric(c)) return full()
    for (const c of dirty) {
      slots.add(c.addr)
      if (c.cap.tag === "NullCap") this.caps.delete(c.addr)
      else this.caps.set(c.addr, copyCap(c.cap))
      if (c.revocable) this.isOriginal.add(c.addr)
      else this.isOriginal.delete(c.addr)
      this.links.set(c, { prev: c.prev, next: c.next, firstBadged: c.firstBadged })
    }
    if (this.caps.size !== nonEmpty || this.isOriginal.size !== originals) return full()
    // The MDB lists holding the walk set, from their heads (as mdbLists finds them).
    const heads = new Set<Cte>()
    for (const c of walk) {
      const seen = new Set<Cte>()
      let x = c
      while (x.prev !== null && !seen.has(x)) { seen.add(x); x = x.prev }
      if (x.prev === null && x.cap.tag !== "NullCap") heads.add(x)
    }
    const lists: Cte[][] = []
    const touched = new Set<Cte>(walk)
    for (const h of heads) {
      const seen = new Set<Cte>()
      const list: Cte[] = []
      for (let x: Cte | null = h; x !== null && !seen.has(x); x = x.next) { seen.add(x); list.push(x); touched.add(x) }
      lists.push(list)
    }
    for (const c of touched) {
      slots.add(c.addr)
      this.cdt.delete(c.addr)
      this.cdtList.delete(c.addr)
    }
    for (const list of lists) {
      const parent = cdtOfList(list)
      for (let j = 0; j < list.length; j++) {
        const pi = parent[j]!
        if (pi < 0) continue
        const p = list[pi]!.addr
        const ch = list[j]!.addr
        this.cdt.set(ch, p)
        const kids = this.cdtList.get(p)
        if (kids === undefined) this.cdtList.set(p, [ch])
        else kids.push(ch)
      }
    }
    return { all: false, objects, slots }
  }

  /** The cached image as a KernelState (globals from `k`). */
  asState(k: ImplState): KernelState {
    return { ...absGlobals(k), kheap: this.kheap, caps: this.caps, cdt: this.cdt, cdtList: this.cdtList, isOriginal: this.isOriginal }
  }
}

