/**
 * The canonical fingerprint of a state: symmetry reduction by renaming object addresses, then a
 * 64-bit multiset hash of the renamed spec state and, separately, of the renamed impl state.
 *
 * **What the renaming may swap.** Kernel objects are placed deterministically (Untyped_Retype
 * puts the next object at the untyped's watermark), and the kernel observes an object's address
 * only through its identity, its alignment, which untyped regions contain it, and that objects do
 * not overlap; never through its order among other objects or its value (no address reaches a
 * user register in kspec's scope). So two states that differ by a permutation of same-size
 * objects of one type inside the same innermost untyped region, the same set of addresses
 * occupied, behave alike: each entry in one has its image in the other. The renaming `π` maps
 * each such class of objects onto its own address set, in the order the objects are first reached
 * from the current thread (then the boot objects' slots in address order, the ready queues, the
 * scheduler's target, and last the objects nothing reaches, in address order). The renamed state
 * `π(s)` is itself a kernel state with the same occupied addresses; it is the canonical
 * representative of the states isomorphic to `s` under those permutations, and the fingerprint
 * is the hash of `π(s)`. Two states are merged only when their representatives are equal (up to
 * a hash collision): the renaming never merges states that are not isomorphic.
 *
 * Renamed: TCBs, endpoints, notifications and CNodes made from untyped memory, with their slot
 * addresses (a slot moves with its CNode or TCB). Fixed: the boot objects (below
 * `kernelReservedTop`: root CNode, root and idle TCBs, IPC buffer, IRQ node), untyped regions,
 * frames, page tables and page directories (seL4 shows a frame's physical address to user code),
 * IRQ numbers, slot indices and every data word. Slot permutations are not symmetries here: a
 * thread's registers keep the cap pointers it used (r0 holds the cap pointer of its last Send),
 * a fault message carries the faulting cap pointer, and receive slots and fault handlers are
 * cap pointers the kernel reads later.
 *
 * **Spec hash.** Every entry of the state (each object, cap slot, CDT edge, CDT child list,
 * original slot, ready queue, and the globals) is hashed on its own, with addresses renamed,
 * and the entry hashes are summed (hash.ts). With `π` the identity (no symmetry, or a state
 * already canonical) the hash of a state is the hash of its parent adjusted by the entries the
 * step changed.
 *
 * **Impl hash.** Everything the impl keeps between kernel entries, with the same renaming:
 * objects field by field (queue links, ready-queue links, `tcbQueued`), every CTE's cap, MDB
 * links and bits, ready-queue heads and tails, the bitmaps, the globals. Not the per-entry
 * scratch globals (`currentSyscallError`, `currentLookupFault`, `currentFault`,
 * `currentExtraCaps`, the lookup results): seL4's C sets them before reading them in each entry.
 * @category prove
 */
import type { Cap, NonEmpty, PPtr, TcbFields, ThreadState, UserContext } from "../../model/index.ts"
import { endpointBits, kernelReservedTop, notificationBits, slotBits, tcbBits, tcbCNodeEntries } from "../../model/index.ts"
import type { Cte, ImplASIDPool, ImplFrame, ImplObject, ImplPageDirectory, ImplPageTable, ImplState, ImplTcb } from "../../impl/index.ts"
import type { KObject, KernelState } from "../../spec/state.ts"
import { slotOf } from "../../spec/state.ts"
import type { StateDelta } from "../../spec/invariants/delta.ts"
import { absGlobals, absObject, allCtes, cdtOfList, mdbLists } from "../relation/abstract.ts"
import { Acc, begin, bool, word, word2, words } from "./hash.ts"

// ---- the renaming -------------------------------------------------------------------------------

/**
 * A renaming of object addresses: `moved` lists the objects whose address changes (base, size in
 * bytes, new base), so a slot inside a moved CNode or TCB moves with it. The identity has none.
 */
export interface Renaming {
  readonly moved: readonly { readonly base: PPtr; readonly size: number; readonly to: PPtr }[]
}

export const identity: Renaming = { moved: [] }

/** The image of an address (an object or a slot) under a renaming. */
export const renameAddr = (r: Renaming, x: number): number => {
  const m = r.moved
  for (let i = 0; i < m.length; i++) {
    const e = m[i]!
    if (x >= e.base && x < e.base + e.size) return e.to + (x - e.base)
  }
  return x
}

const objectSize = (o: KObject): number | undefined => {
  switch (o.tag) {
    case "TCB": return 2 ** tcbBits
    case "Endpoint": return 2 ** endpointBits
    case "Notification": return 2 ** notificationBits
    case "CNode": return 2 ** (o.radix + slotBits)
    default: return undefined
  }
}

/** The innermost untyped region (from the untyped caps of `s`) containing [p, p + size), as a key. */
const containerOf = (regions: readonly { base: number; size: number }[], p: number, size: number): string => {
  let best: { base: number; size: number } | undefined
  for (const r of regions) if (p >= r.base && p + size <= r.base + r.size && (best === undefined || r.size < best.size)) best = r
  return best === undefined ? "none" : `${best.base}/${best.size}`
}

/**
 * The canonical renaming of `s` (see the module comment): objects of one class (type, size,
 * innermost untyped region) get that class's addresses in the order they are first reached.
 */
export const canonicalRenaming = (s: KernelState): Renaming => {
  // The renamable objects, by class.
  const cls = new Map<PPtr, string>()
  let regions: { base: number; size: number }[] | undefined
  s.kheap.forEach((o, p) => {
    if (p < kernelReservedTop) return
    const size = objectSize(o)
    if (size === undefined) return
    if (regions === undefined) {
      regions = []
      s.caps.forEach((c) => { if (c.tag === "UntypedCap") regions!.push({ base: c.ptr, size: 2 ** c.sizeBits }) })
    }
    cls.set(p, `${o.tag}/${size}/${containerOf(regions, p, size)}`)
  })
  if (cls.size < 2) return identity
  const byClass = new Map<string, number>()
  for (const c of cls.values()) byClass.set(c, (byClass.get(c) ?? 0) + 1)
  // Classes of one object cannot move; if every class has one, nothing moves.
  if ([...byClass.values()].every((n) => n === 1)) return identity

  // First appearance, breadth first.
  const order: PPtr[] = []
  const seen = new Set<PPtr>()
  const queue: PPtr[] = []
  const visit = (p: PPtr | null | undefined): void => {
    if (p === null || p === undefined || !cls.has(p) || seen.has(p)) return
    seen.add(p)
    order.push(p)
    queue.push(p)
  }
  const capRef = (c: Cap | undefined): void => {
    if (c === undefined) return
    switch (c.tag) {
      case "EndpointCap": case "NotificationCap": case "CNodeCap": case "ThreadCap": visit(c.ptr); break
      case "ReplyCap": visit(c.tcb); break
      // A Zombie's pointer is its table's slot 0: the CNode's or the TCB's base.
      case "ZombieCap": visit(c.ptr); break
      default: break
    }
  }
  const expand = (p: PPtr): void => {
    const o = s.kheap.get(p)
    if (o === undefined) return
    switch (o.tag) {
      case "TCB": {
        for (let i = 0; i < tcbCNodeEntries; i++) capRef(s.caps.get(slotOf(p, i)))
        const st = o.tcbState
        if (st.tag === "BlockedOnReceive" || st.tag === "BlockedOnSend") visit(st.ep)
        else if (st.tag === "BlockedOnNotification") visit(st.ntfn)
        visit(o.tcbBoundNotification)
        break
      }
      case "CNode": for (let i = 0; i < 2 ** o.radix; i++) capRef(s.caps.get(slotOf(p, i))); break
      case "Endpoint": if (o.state.tag !== "IdleEP") for (const t of o.state.queue) visit(t); break
      case "Notification":
        if (o.state.tag === "WaitingNtfn") for (const t of o.state.queue) visit(t)
        visit(o.boundTCB)
        break
      default: break
    }
  }
  const drain = (): void => { while (queue.length > 0) expand(queue.shift()!) }
  visit(s.curThread)
  expand(s.curThread)
  drain()
  const fixed = [...s.kheap.keys()].filter((p) => !cls.has(p)).sort((a, b) => a - b)
  for (const p of fixed) { expand(p); drain() }
  for (const k of [...s.readyQueues.keys()].sort((a, b) => a - b)) { for (const t of s.readyQueues.get(k)!) visit(t); drain() }
  if (s.schedulerAction.tag === "SwitchToThread") { visit(s.schedulerAction.target); drain() }
  for (const p of [...cls.keys()].sort((a, b) => a - b)) { visit(p); drain() }

  // Each class's addresses, ascending, handed out in order of appearance.
  const addrs = new Map<string, number[]>()
  for (const [p, c] of cls) { const a = addrs.get(c); if (a === undefined) addrs.set(c, [p]); else a.push(p) }
  for (const a of addrs.values()) a.sort((x, y) => x - y)
  const next = new Map<string, number>()
  const moved: { base: PPtr; size: number; to: PPtr }[] = []
  for (const p of order) {
    const c = cls.get(p)!
    const i = next.get(c) ?? 0
    next.set(c, i + 1)
    const to = addrs.get(c)![i]!
    if (to !== p) moved.push({ base: p, size: objectSize(s.kheap.get(p)!)!, to })
  }
  return { moved }
}

// ---- the renamed state (for tests and for reading a canonical state) ------------------------------

const renameCap = (r: Renaming, c: Cap): Cap => {
  switch (c.tag) {
    case "EndpointCap": case "NotificationCap": case "CNodeCap": case "ThreadCap": {
      const ptr = renameAddr(r, c.ptr)
      return ptr === c.ptr ? c : { ...c, ptr }
    }
    case "ReplyCap": {
      const tcb = renameAddr(r, c.tcb)
      return tcb === c.tcb ? c : { ...c, tcb }
    }
    case "ZombieCap": {
      const ptr = renameAddr(r, c.ptr)
      return ptr === c.ptr ? c : { ...c, ptr }
    }
    default: return c
  }
}

const renameThreadState = (r: Renaming, st: ThreadState): ThreadState => {
  if (st.tag === "BlockedOnReceive" || st.tag === "BlockedOnSend") return { ...st, ep: renameAddr(r, st.ep) }
  if (st.tag === "BlockedOnNotification") return { ...st, ntfn: renameAddr(r, st.ntfn) }
  return st
}

const mapQueue = (q: NonEmpty<PPtr>, f: (p: PPtr) => PPtr): NonEmpty<PPtr> => [f(q[0]), ...q.slice(1).map(f)]

const renameObject = (r: Renaming, o: KObject): KObject => {
  const n = (p: PPtr) => renameAddr(r, p)
  switch (o.tag) {
    case "TCB": return { ...o, tcbState: renameThreadState(r, o.tcbState), tcbBoundNotification: o.tcbBoundNotification === null ? null : n(o.tcbBoundNotification) }
    case "Endpoint": return o.state.tag === "IdleEP" ? o : { ...o, state: { ...o.state, queue: mapQueue(o.state.queue, n) } }
    case "Notification": return {
      ...o,
      state: o.state.tag === "WaitingNtfn" ? { ...o.state, queue: mapQueue(o.state.queue, n) } : o.state,
      boundTCB: o.boundTCB === null ? null : n(o.boundTCB),
    }
    default: return o
  }
}

/**
 * `s` with every address renamed by `r` (a plain-Map state, for comparisons): the state the
 * canonical fingerprint is the hash of. `applyRenaming(s, canonicalRenaming(s))` is the canonical
 * representative of `s`.
 */
export const applyRenaming = (s: KernelState, r: Renaming): KernelState => {
  const n = (p: PPtr) => renameAddr(r, p)
  const kheap = new Map<PPtr, KObject>()
  s.kheap.forEach((o, p) => kheap.set(n(p), renameObject(r, o)))
  const caps = new Map<PPtr, Cap>()
  s.caps.forEach((c, sl) => caps.set(n(sl), renameCap(r, c)))
  const cdt = new Map<PPtr, PPtr>()
  s.cdt.forEach((p, c) => cdt.set(n(c), n(p)))
  const cdtList = new Map<PPtr, readonly PPtr[]>()
  s.cdtList.forEach((cs, p) => cdtList.set(n(p), cs.map(n)))
  const isOriginal = new Set<PPtr>()
  s.isOriginal.forEach((x) => isOriginal.add(n(x)))
  const readyQueues = new Map<number, readonly PPtr[]>()
  s.readyQueues.forEach((q, k) => readyQueues.set(k, q.map(n)))
  const sa = s.schedulerAction
  return {
    kheap, caps, cdt, cdtList, isOriginal,
    curThread: n(s.curThread), idleThread: n(s.idleThread),
    schedulerAction: sa.tag === "SwitchToThread" ? { tag: "SwitchToThread", target: n(sa.target) } : sa,
    readyQueues, curDomain: s.curDomain, numIRQs: s.numIRQs, numDomains: s.numDomains,
    irqStates: s.irqStates, irqMasks: s.irqMasks, irqNode: n(s.irqNode),
    // The domain schedule, the ASID table and the global tables name nothing the renaming moves.
    domainList: s.domainList, domainIndex: s.domainIndex, domainStartIndex: s.domainStartIndex, domainTime: s.domainTime,
    armASIDTable: s.armASIDTable, armGlobalPD: s.armGlobalPD, armGlobalPT: s.armGlobalPT,
    workUnitsCompleted: s.workUnitsCompleted, workUnitsLimit: s.workUnitsLimit, resetChunkBits: s.resetChunkBits, irqPending: s.irqPending,
  }
}

// ---- hashing the parts ----------------------------------------------------------------------------

/** Small constant codes for tags (hashing a code is cheaper than hashing the string). */
const code: Readonly<Record<string, number>> = {
  NullCap: 1, UntypedCap: 2, EndpointCap: 3, NotificationCap: 4, ReplyCap: 5, CNodeCap: 6, ThreadCap: 7, DomainCap: 8, IRQControlCap: 9,
  IRQHandlerCap: 10, FrameCap: 11, PageTableCap: 12, PageDirectoryCap: 13, ASIDControlCap: 14, ASIDPoolCap: 15, ZombieCap: 16,
  Running: 20, Restart: 21, Inactive: 22, IdleThreadState: 23, BlockedOnReceive: 24, BlockedOnSend: 25, BlockedOnReply: 26, BlockedOnNotification: 27,
  IdleEP: 30, SendEP: 31, RecvEP: 32, IdleNtfn: 33, WaitingNtfn: 34, ActiveNtfn: 35,
  TCB: 40, Endpoint: 41, Notification: 42, CNode: 43, Frame: 44, PageTable: 45, PageDirectory: 46, ASIDPool: 47,
  ResumeCurrentThread: 50, SwitchToThread: 51, ChooseNewThread: 52,
  IRQInactive: 60, IRQSignal: 61, IRQTimer: 62, IRQReserved: 63,
  KernelOnly: 70, ReadOnly: 71, ReadWrite: 72,
}
const tagCode = (t: string): number => code[t] ?? t.length * 1000 + t.charCodeAt(0)

/** Any plain value (a fault, a lookup failure): keys sorted, so equal values hash equally however built. */
const plain = (v: unknown): void => {
  switch (typeof v) {
    case "number": word2(v); return
    case "boolean": bool(v); return
    case "string": word(tagCode(v)); return
    case "bigint": word2(Number(v & 0xffff_ffffn)); word2(Number(v >> 32n)); return
    case "object":
      if (v === null) { word(0x6e756c6c); return }
      if (Array.isArray(v)) { word(v.length); for (const x of v) plain(x); return }
      // Maps (persistent or native) by sorted numeric key; sets likewise.
      if (typeof (v as ReadonlyMap<number, unknown>).entries === "function" && typeof (v as ReadonlyMap<number, unknown>).get === "function") {
        const es = [...(v as ReadonlyMap<number, unknown>).entries()].sort((a, b) => a[0] - b[0])
        word(es.length)
        for (const [k, x] of es) { word2(k); plain(x) }
        return
      }
      for (const k of Object.keys(v).sort()) { word(tagCode(k)); plain((v as Record<string, unknown>)[k]) }
      return
    default: word(0x75)
  }
}

const mapping = (m: { readonly asid: number; readonly vaddr: number } | null): void => {
  if (m === null) word(0)
  else { word(1); word(m.asid); word(m.vaddr) }
}

/** A cap, its object pointers renamed (an untyped's region never is). */
const capWords = (r: Renaming, c: Cap): void => {
  word(code[c.tag]!)
  switch (c.tag) {
    case "NullCap": case "DomainCap": case "IRQControlCap": return
    case "UntypedCap": bool(c.isDevice); word(c.ptr); word(c.sizeBits); word2(c.freeIndex); return
    case "EndpointCap": case "NotificationCap": word(renameAddr(r, c.ptr)); word(c.badge); word(c.rights); return
    case "ReplyCap": word(renameAddr(r, c.tcb)); bool(c.isMaster); bool(c.canGrant); return
    case "CNodeCap": word(renameAddr(r, c.ptr)); word(c.radix); word(c.guardSize); word(c.guard); return
    case "ThreadCap": word(renameAddr(r, c.ptr)); return
    case "IRQHandlerCap": word(c.irq); return
    case "FrameCap": word(renameAddr(r, c.ptr)); word(c.sizeBits); word(code[c.vmRights]!); bool(c.isDevice); mapping(c.mapped); return
    case "PageTableCap": word(renameAddr(r, c.ptr)); mapping(c.mapped); return
    case "PageDirectoryCap": word(renameAddr(r, c.ptr)); word(c.asid === null ? -1 : c.asid); return
    // A Zombie names the first slot of a CNode or of a TCB's own slots: it moves with its table.
    case "ZombieCap": word(renameAddr(r, c.ptr)); word(c.zombieType); word(c.number); return
    case "ASIDPoolCap": word(c.ptr); word(c.asidBase); return
    case "ASIDControlCap": return
    // A cap type added later: every field as it is (and add a case above if it names a renamed object).
    default: { const x = c as Cap; word(tagCode(x.tag)); plain(x); return }
  }
}

const threadStateWords = (r: Renaming, st: ThreadState): void => {
  word(code[st.tag]!)
  switch (st.tag) {
    case "BlockedOnReceive": word(renameAddr(r, st.ep)); bool(st.canGrant); return
    case "BlockedOnSend": word(renameAddr(r, st.ep)); word(st.badge); bool(st.canGrant); bool(st.canGrantReply); bool(st.isCall); return
    case "BlockedOnNotification": word(renameAddr(r, st.ntfn)); return
    default: return
  }
}

/** A thread's registers: pure data (no pointers), hashed once per context object (contexts are immutable and shared). */
const contextCache = new WeakMap<UserContext, readonly [number, number]>()
const ctxAcc = new Acc()
/** The hash of a thread's registers as an entry of its own (call it before `begin` of the entry that includes it). */
const contextLanes = (msgInfo: number, badge: number, mrs: ArrayLike<number>, regs: ArrayLike<number>): readonly [number, number] => {
  begin(0xc7)
  word(msgInfo); word(badge); words(mrs); words(regs)
  ctxAcc.reset()
  ctxAcc.end()
  return [ctxAcc.lo, ctxAcc.hi]
}
const contextHash = (c: UserContext): readonly [number, number] => {
  let h = contextCache.get(c)
  if (h === undefined) {
    h = contextLanes(c.msgInfo, c.badge, c.mrs, c.regs)
    contextCache.set(c, h)
  }
  return h
}

const queueWords = (r: Renaming, q: readonly PPtr[]): void => {
  word(q.length)
  for (const t of q) word(renameAddr(r, t))
}

/** The fields of a TCB's entry other than its bound notification and registers: the spec's TCB and the impl's both have them, under these names. */
type TcbScalars = Pick<TcbFields, "tcbState" | "tcbPriority" | "tcbMCP" | "tcbDomain" | "tcbTimeSlice" | "tcbFaultHandler" | "tcbIPCBuffer" | "tcbFault">

/** A TCB's content, the same words in both layers: its state, scheduling fields, bound notification, fault, and the hash of its registers. */
const tcbWords = (r: Renaming, t: TcbScalars, bound: PPtr | null, ctx: readonly [number, number]): void => {
  threadStateWords(r, t.tcbState)
  word(t.tcbPriority); word(t.tcbMCP); word(t.tcbDomain); word(t.tcbTimeSlice); word(t.tcbFaultHandler); word(t.tcbIPCBuffer)
  word(bound === null ? -1 : renameAddr(r, bound))
  plain(t.tcbFault)
  // The registers are hashed apart: pure data, the same whatever the renaming (the spec caches them per context).
  word(ctx[0]); word(ctx[1])
}

/**
 * A frame's memory, one entry per word that is not 0 (frames never move; a word's entry is keyed
 * by its frame and index, so the order a map lists them in does not matter, and a store changes
 * one entry). `fin` finishes each entry into the caller's accumulator.
 */
const specFrameWords = (p: PPtr, ws: ReadonlyMap<number, number>, fin: () => void): void => {
  ws.forEach((w, i) => { if (w !== 0) { begin(9); word(p); word(i); word(w); fin() } })
}

// ---- cached entries of memory and VM objects ----------------------------------------------------
// A page directory is 4096 entries and a frame page 1024 words: hashing them per edge would be
// most of the search's time, and they rarely change. Their entries' hashes are cached: the spec's
// by object (immutable), the impl's by address: the last few contents seen there, each a private
// snapshot compared with the array's content by a native memcmp.

const tmpAcc = new Acc()
/** The summed value of the entries `f` makes (each finished by the `fin` it is given). */
const entriesValue = (f: (fin: () => void) => void): Print => {
  const lo = tmpAcc.lo
  const hi = tmpAcc.hi
  tmpAcc.reset()
  f(tmpFin)
  const out = { lo: tmpAcc.lo, hi: tmpAcc.hi }
  tmpAcc.lo = lo
  tmpAcc.hi = hi
  return out
}
const tmpFin = (): void => tmpAcc.end()

/** Spec objects are immutable: their VM entries and frame words' entries by object. */
const specCache = new WeakMap<object, { readonly at: PPtr; readonly v: Print }>()
const specCached = (key: object, p: PPtr, f: (fin: () => void) => void): Print => {
  const c = specCache.get(key)
  if (c !== undefined && c.at === p) return c.v
  const v = entriesValue(f)
  specCache.set(key, { at: p, v })
  return v
}

interface ImplEntry { readonly snapshot: Uint32Array | Float64Array; readonly v: Print }
/** By address (an object's, or a frame page's): the most recent contents first. */
const implCache = new Map<number, ImplEntry[]>()
const implCacheWays = 4
const bytes = (a: Uint32Array | Float64Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength)
/** An ASID pool's directories as their addresses (-1: none), its content for the cache. */
const poolWords = (a: readonly ({ readonly base: number } | null)[]): Float64Array => {
  const out = new Float64Array(a.length)
  for (let i = 0; i < a.length; i++) { const x = a[i]; out[i] = x === null || x === undefined ? -1 : x.base }
  return out
}
/**
 * The cached value of the entries of the impl array `x` at address (or key) `at`: valid while
 * `x` holds what it held when hashed (or what the array it was copied from held then).
 */
const implCached = (x: Uint32Array | readonly ({ readonly base: number } | null)[], at: number, f: (fin: () => void) => void): Print => {
  const content = x instanceof Uint32Array ? x : poolWords(x)
  let es = implCache.get(at)
  if (es === undefined) implCache.set(at, es = [])
  const b = bytes(content)
  for (let i = 0; i < es.length; i++) {
    const e = es[i]!
    if (e.snapshot.length === content.length && e.snapshot.constructor === content.constructor && bytes(e.snapshot).equals(b)) {
      if (i > 0) { es.splice(i, 1); es.unshift(e) }
      return e.v
    }
  }
  const e = { snapshot: content === x ? content.slice() : content, v: entriesValue(f) }
  es.unshift(e)
  if (es.length > implCacheWays) es.pop()
  return e.v
}

/**
 * Add the entries of one heap object to `into` (or finish them with `fin`): its own entry, and a
 * frame's words; page tables, directories, ASID pools and frame words from the cache.
 */
const specEntries = (r: Renaming, p: PPtr, o: KObject, into: Acc | null, fin?: () => void): void => {
  let v: Print | undefined
  switch (o.tag) {
    case "PageTable": case "PageDirectory": case "ASIDPool": v = specCached(o, p, (f) => { specObject(r, p, o); f() }); break
    case "Frame": {
      const words = specCached(o.words, p, (f) => specFrameWords(p, o.words, f))
      specObject(r, p, o)
      if (into !== null) { into.end(); into.add(words.lo, words.hi) } else { fin!(); addToTmp(words) }
      return
    }
    default:
      specObject(r, p, o)
      if (into !== null) into.end(); else fin!()
      return
  }
  if (into !== null) into.add(v.lo, v.hi); else addToTmp(v)
}
/** Add a value to the accumulator `entriesValue` runs (the fin-based path). */
const addToTmp = (v: Print): void => tmpAcc.add(v.lo, v.hi)

/** The same entries as `specFrameWords` from an impl frame's pages (what `absFrameWords` reads), cached page by page, into `into`. */
const implFrameWords = (f: ImplFrame, into: Acc): void => {
  const pages = f.pages
  if (pages === null) return
  for (let pg = 0; pg < pages.length; pg++) {
    const page = pages[pg]
    if (page === undefined) continue
    const v = implCached(page, f.base + pg * 4 * page.length, (fin) => {
      for (let i = 0; i < page.length; i++) {
        const w = page[i]!
        if (w !== 0) { begin(9); word(f.base); word(pg * page.length + i); word(w); fin() }
      }
    })
    into.add(v.lo, v.hi)
  }
}

/** An impl page table's, directory's or ASID pool's entry as `specObject` hashes its abstraction (cached by array), into `into`. */
const implVMEntry = (p: PPtr, o: ImplPageTable | ImplPageDirectory | ImplASIDPool, limit: number, into: Acc): void => {
  const v = implCached(o.tag === "PageTable" ? o.pt : o.tag === "PageDirectory" ? o.pd : o.array, p, (fin) => {
    const a = absObject(o, limit)
    begin(1); word(p); word(code[o.tag]!); word(tagCode(a.tag)); plain(a)
    fin()
  })
  into.add(v.lo, v.hi)
}

/** Hash one heap object as an entry (its renamed address and content); a frame's words are entries of their own (`specFrameWords`). */
const specObject = (r: Renaming, p: PPtr, o: KObject): void => {
  const ctx = o.tag === "TCB" ? contextHash(o.tcbContext) : undefined
  begin(1)
  word(renameAddr(r, p))
  word(code[o.tag]!)
  switch (o.tag) {
    case "TCB": tcbWords(r, o, o.tcbBoundNotification, ctx!); return
    case "Endpoint":
      word(code[o.state.tag]!)
      if (o.state.tag !== "IdleEP") queueWords(r, o.state.queue)
      return
    case "Notification":
      word(code[o.state.tag]!)
      if (o.state.tag === "ActiveNtfn") word(o.state.badge)
      else if (o.state.tag === "WaitingNtfn") queueWords(r, o.state.queue)
      word(o.boundTCB === null ? -1 : renameAddr(r, o.boundTCB))
      return
    case "CNode": word(o.radix); return
    case "Frame": word(o.sizeBits); bool(o.isDevice); return
    // Page tables, directories and ASID pools (never renamed): every field.
    default: word(tagCode(o.tag)); plain(o); return
  }
}

/** The globals beyond the scheduler's: the domain schedule, the ASID table and global tables, and preemption's. */
type MoreGlobals = Pick<KernelState, "domainList" | "domainIndex" | "domainStartIndex" | "domainTime" | "armASIDTable" | "armGlobalPD" | "armGlobalPT" |
  "workUnitsCompleted" | "workUnitsLimit" | "resetChunkBits" | "irqPending">
const moreGlobals = (g: MoreGlobals): void => {
  begin(8)
  plain(g.domainList); word(g.domainIndex); word(g.domainStartIndex); plain(g.domainTime)
  plain(g.armASIDTable); word(g.armGlobalPD); word(g.armGlobalPT)
  word(g.workUnitsCompleted); word(g.workUnitsLimit); word(g.resetChunkBits); word(g.irqPending === null ? -1 : g.irqPending)
}

const globalsWords = (r: Renaming, s: KernelState): void => {
  begin(6)
  word(renameAddr(r, s.curThread)); word(renameAddr(r, s.idleThread))
  const sa = s.schedulerAction
  word(code[sa.tag]!)
  if (sa.tag === "SwitchToThread") word(renameAddr(r, sa.target))
  word(s.curDomain); word(s.numIRQs); word(s.numDomains); word(renameAddr(r, s.irqNode))
  word(s.irqStates.length)
  for (const q of s.irqStates) word(code[q]!)
  for (const m of s.irqMasks) bool(m)
}

// ---- the spec hash --------------------------------------------------------------------------------

/** A 64-bit fingerprint as its two lanes. */
export interface Print { readonly lo: number; readonly hi: number }

const acc = new Acc()

/** The hash of `s` renamed by `r` (every entry). */
export const specHash = (s: KernelState, r: Renaming = identity): Print => {
  acc.reset()
  s.kheap.forEach((o, p) => { specEntries(r, p, o, acc) })
  s.caps.forEach((c, sl) => { begin(2); word(renameAddr(r, sl)); capWords(r, c); acc.end() })
  s.cdt.forEach((p, c) => { begin(3); word(renameAddr(r, c)); word(renameAddr(r, p)); acc.end() })
  s.cdtList.forEach((cs, p) => { begin(4); word(renameAddr(r, p)); queueWords(r, cs); acc.end() })
  s.isOriginal.forEach((x) => { begin(5); word(renameAddr(r, x)); acc.end() })
  s.readyQueues.forEach((q, k) => { begin(7); word(k); queueWords(r, q); acc.end() })
  globalsWords(r, s)
  acc.end()
  moreGlobals(s)
  acc.end()
  return { lo: acc.lo, hi: acc.hi }
}

/** Add (sign 1) or remove (sign -1) the entries of `s` at the keys of `d`, and the globals. */
const deltaEntries = (s: KernelState, d: StateDelta, sign: 1 | -1): void => {
  const add = () => {
    const lo = acc.lo
    const hi = acc.hi
    acc.reset()
    acc.end()
    acc.lo = (lo + sign * acc.lo) >>> 0
    acc.hi = (hi + sign * acc.hi) >>> 0
  }
  const r = identity
  for (const p of d.objects) {
    const o = s.kheap.get(p)
    if (o === undefined) continue
    const v = entriesValue((fin) => specEntries(r, p, o, null, fin))
    acc.lo = (acc.lo + sign * v.lo) >>> 0
    acc.hi = (acc.hi + sign * v.hi) >>> 0
  }
  for (const sl of d.slots) {
    const c = s.caps.get(sl)
    if (c !== undefined) { begin(2); word(sl); capWords(r, c); add() }
    const p = s.cdt.get(sl)
    if (p !== undefined) { begin(3); word(sl); word(p); add() }
    const cs = s.cdtList.get(sl)
    if (cs !== undefined) { begin(4); word(sl); queueWords(r, cs); add() }
    if (s.isOriginal.has(sl)) { begin(5); word(sl); add() }
  }
  s.readyQueues.forEach((q, k) => { begin(7); word(k); queueWords(r, q); add() })
  globalsWords(r, s)
  add()
  moreGlobals(s)
  add()
}

/**
 * The identity-renaming hash of `next`, from the hash of `prev` and the step's delta: the
 * entries at the changed keys come out as they were and go in as they are (ready queues and
 * globals always). Equal to `specHash(next)`; the search uses it when neither state needs renaming.
 */
export const specHashFrom = (prev: KernelState, prevHash: Print, next: KernelState, d: StateDelta): Print => {
  acc.lo = prevHash.lo
  acc.hi = prevHash.hi
  deltaEntries(prev, d, -1)
  deltaEntries(next, d, 1)
  return { lo: acc.lo, hi: acc.hi }
}

// ---- the impl hash --------------------------------------------------------------------------------

const ref = (r: Renaming, t: { readonly base: PPtr } | null): void => word(t === null ? -1 : renameAddr(r, t.base))

const implAcc = new Acc()

/**
 * Mix one CTE into the running entry (its index, cap, MDB links and bits), unless it is empty and
 * unlinked (a slot never used and a slot emptied are the same slot).
 */
const implCte = (r: Renaming, i: number, c: Cte): void => {
  if (c.cap.tag === "NullCap" && c.prev === null && c.next === null && !c.revocable && !c.firstBadged) return
  word(i)
  capWords(r, c.cap)
  word(c.prev === null ? -1 : renameAddr(r, c.prev.addr))
  word(c.next === null ? -1 : renameAddr(r, c.next.addr))
  word((c.revocable ? 1 : 0) | (c.firstBadged ? 2 : 0))
}

const implObject = (r: Renaming, p: PPtr, o: ImplObject, limit: number): void => {
  // Page tables, directories and ASID pools: what their abstraction shows (their arrays hold no hidden state).
  if (o.tag === "PageTable" || o.tag === "PageDirectory" || o.tag === "ASIDPool") { implVMEntry(p, o, limit, implAcc); return }
  begin(11)
  word(renameAddr(r, p))
  word(code[o.tag]!)
  switch (o.tag) {
    case "TCB": {
      threadStateWords(r, o.tcbState)
      word(o.tcbPriority); word(o.tcbMCP); word(o.tcbDomain); word(o.tcbTimeSlice); word(o.tcbFaultHandler); word(o.tcbIPCBuffer)
      ref(r, o.tcbBoundNotification)
      plain(o.tcbFault)
      word(o.msgInfo); word(o.badge); words(o.mrs); words(o.regs)
      ref(r, o.tcbSchedNext); ref(r, o.tcbSchedPrev); ref(r, o.tcbEPNext); ref(r, o.tcbEPPrev); bool(o.tcbQueued)
      for (let i = 0; i < o.slots.length; i++) implCte(r, i, o.slots[i]!)
      break
    }
    case "Endpoint":
      plain(o.epState); ref(r, o.epQueueHead); ref(r, o.epQueueTail)
      break
    case "Notification":
      plain(o.ntfnState); ref(r, o.ntfnQueueHead); ref(r, o.ntfnQueueTail); word(o.ntfnMsgIdentifier); ref(r, o.ntfnBoundTCB)
      break
    case "CNode":
      word(o.radix)
      for (let i = 0; i < o.slots.length; i++) { const c = o.slots[i]; if (c !== undefined) implCte(r, i, c) }
      break
    case "Frame": word(o.sizeBits); bool(o.isDevice); break
    default: break
  }
  implAcc.end()
  if (o.tag === "Frame") implFrameWords(o, implAcc)
}

/** The hash of everything the impl keeps between kernel entries (see the module comment), renamed by `r`. */
export const implHash = (k: ImplState, r: Renaming = identity): Print => {
  implAcc.reset()
  for (const [p, o] of k.objects) implObject(r, p, o, k.objects.size)
  begin(13)
  ref(r, k.curThread); ref(r, k.idleThread)
  const a = k.schedulerAction
  if (typeof a === "string") word(code[a]!)
  else { word(code.SwitchToThread!); ref(r, a as ImplTcb) }
  word(k.curDomain); word(k.numIRQs); word(k.numDomains); ref(r, k.irqNode)
  for (const q of k.irqStates) word(code[q]!)
  for (const m of k.irqMasks) bool(m)
  words(k.readyQueuesL1Bitmap); words(k.readyQueuesL2Bitmap)
  implAcc.end()
  // The domain schedule, the ASID table, the global tables and preemption's globals, as the impl keeps them.
  begin(15)
  word(k.domSchedule.length)
  for (const d of k.domSchedule) plain(d)
  word(k.domScheduleIdx); word(k.domScheduleStart); plain(k.domainTime)
  for (const pool of k.armKSASIDTable) ref(r, pool)
  ref(r, k.armKSGlobalPD); ref(r, k.armKSGlobalPT)
  word(k.ksWorkUnitsCompleted); word(k.maxWorkUnitsPerPreemption); word(k.resetChunkBits); word(k.pendingIRQ === null ? -1 : k.pendingIRQ)
  implAcc.end()
  for (let i = 0; i < k.readyQueueHead.length; i++) {
    const h = k.readyQueueHead[i] ?? null
    const e = k.readyQueueEnd[i] ?? null
    if (h === null && e === null) continue
    begin(14); word(i); ref(r, h); ref(r, e)
    implAcc.end()
  }
  return { lo: implAcc.lo, hi: implAcc.hi }
}

// ---- the abstraction's hash, from the impl in place ------------------------------------------------

/**
 * The MDB lists as `mdbLists` reads them, without its per-list visited set: a walk longer than
 * there are CTEs has met a cycle, and only then is the list read again by `mdbLists`, which cuts
 * it where it revisits a slot.
 */
const mdbListsOf = (ctes: readonly Cte[]): readonly Cte[][] => {
  const lists: Cte[][] = []
  for (const c of ctes) {
    if (c.cap.tag === "NullCap" || c.prev !== null) continue
    const list: Cte[] = []
    for (let x: Cte | null = c; x !== null; x = x.next) {
      if (list.length > ctes.length) return mdbLists(ctes)
      list.push(x)
    }
    lists.push(list)
  }
  return lists
}

/** Up to `limit + 1` threads of an intrusive list from `head` (as the abstraction reads queues, so a cycle ends). */
const linkCount = (head: ImplTcb | null, next: (t: ImplTcb) => ImplTcb | null, limit: number): number => {
  let n = 0
  for (let t = head; t !== null && n <= limit; t = next(t)) n++
  return n
}
const linkWords = (r: Renaming, head: ImplTcb | null, next: (t: ImplTcb) => ImplTcb | null, limit: number): void => {
  const n = linkCount(head, next, limit)
  word(n)
  let t = head
  for (let i = 0; i < n; i++) { word(renameAddr(r, t!.base)); t = next(t!) }
}
const epNext = (t: ImplTcb): ImplTcb | null => t.tcbEPNext
const schedNext = (t: ImplTcb): ImplTcb | null => t.tcbSchedNext
const epTags = { Idle: "IdleEP", Send: "SendEP", Recv: "RecvEP" } as const
const ntfnTags = { Idle: "IdleNtfn", Waiting: "WaitingNtfn", Active: "ActiveNtfn" } as const

/** One impl object as the spec's entry for its abstraction (what `specObject` hashes of `absObject(o)`). */
const abstractObject = (r: Renaming, p: PPtr, o: ImplObject, limit: number): void => {
  const ctx = o.tag === "TCB" ? contextLanes(o.msgInfo, o.badge, o.mrs, o.regs) : undefined
  begin(1)
  word(renameAddr(r, p))
  word(code[o.tag]!)
  switch (o.tag) {
    case "TCB": tcbWords(r, o, o.tcbBoundNotification?.base ?? null, ctx!); return
    case "Endpoint":
      word(code[epTags[o.epState]]!)
      if (o.epState !== "Idle") linkWords(r, o.epQueueHead, epNext, limit)
      return
    case "Notification":
      word(code[ntfnTags[o.ntfnState]]!)
      if (o.ntfnState === "Active") word(o.ntfnMsgIdentifier)
      else if (o.ntfnState === "Waiting") linkWords(r, o.ntfnQueueHead, epNext, limit)
      word(o.ntfnBoundTCB === null ? -1 : renameAddr(r, o.ntfnBoundTCB.base))
      return
    case "CNode": word(o.radix); return
    case "Frame": word(o.sizeBits); bool(o.isDevice); return
    // Page tables, directories and ASID pools: their abstraction, as the spec hashes its own.
    default: { const a = absObject(o, limit); word(tagCode(a.tag)); plain(a); return }
  }
}

const absAcc = new Acc()

/**
 * The spec hash of the impl's abstraction, renamed by `r`, computed from the impl in place:
 * equal to `specHash(absState(k), r)` (the relation's own CDT reading, `mdbLists` and
 * `cdtOfList`, included) without building the abstract state. The search checks the relation on
 * every edge by comparing it with the spec state's hash.
 */
export const abstractHash = (k: ImplState, r: Renaming = identity): Print => {
  const limit = k.objects.size
  absAcc.reset()
  for (const [p, o] of k.objects) {
    if (o.tag === "PageTable" || o.tag === "PageDirectory" || o.tag === "ASIDPool") { implVMEntry(p, o, limit, absAcc); continue }
    abstractObject(r, p, o, limit)
    absAcc.end()
    if (o.tag === "Frame") implFrameWords(o, absAcc)
  }
  const ctes = allCtes(k)
  for (const c of ctes) {
    if (c.cap.tag !== "NullCap") { begin(2); word(renameAddr(r, c.addr)); capWords(r, c.cap); absAcc.end() }
    if (c.revocable) { begin(5); word(renameAddr(r, c.addr)); absAcc.end() }
  }
  for (const list of mdbListsOf(ctes)) {
    const parent = cdtOfList(list)
    const kids: number[][] = []
    for (let j = 0; j < list.length; j++) {
      const pi = parent[j]!
      if (pi < 0) continue
      begin(3); word(renameAddr(r, list[j]!.addr)); word(renameAddr(r, list[pi]!.addr)); absAcc.end()
      ;(kids[pi] ??= []).push(j)
    }
    kids.forEach((js, pi) => {
      begin(4); word(renameAddr(r, list[pi]!.addr)); word(js.length)
      for (const j of js) word(renameAddr(r, list[j]!.addr))
      absAcc.end()
    })
  }
  for (let idx = 0; idx < k.readyQueueHead.length; idx++) {
    const head = k.readyQueueHead[idx] ?? null
    if (head === null) continue
    begin(7); word(idx); linkWords(r, head, schedNext, limit); absAcc.end()
  }
  begin(6)
  word(renameAddr(r, k.curThread.base)); word(renameAddr(r, k.idleThread.base))
  const a = k.schedulerAction
  if (typeof a === "string") word(code[a]!)
  else { word(code.SwitchToThread!); word(renameAddr(r, (a as ImplTcb).base)) }
  word(k.curDomain); word(k.numIRQs); word(k.numDomains); word(renameAddr(r, k.irqNode.base))
  word(k.irqStates.length)
  for (const q of k.irqStates) word(code[q]!)
  for (const m of k.irqMasks) bool(m)
  absAcc.end()
  moreGlobals(absGlobals(k, limit))
  absAcc.end()
  return { lo: absAcc.lo, hi: absAcc.hi }
}
