/**
 * A copy of an impl kernel state, so the search can step one kernel entry from a state and still
 * have the state for the next entry: the C kernel's memory, copied. Every object, CTE and queue
 * link is copied and re-pointed into the copy; immutable values (caps, the shared thread-state
 * constants, faults, errors) are shared. Prototypes are kept, so a mutant's kernel copies into a
 * mutant's kernel.
 *
 * It is written field by field (a generic deep copy is ten times slower), so a field added to an
 * impl class must be added here: `cloneProblems` compares a copy with its original field by field
 * over every own property and names what is missing or still shared, and both the search (once,
 * on its initial state) and a test run it.
 * @category prove
 */
import type {
  Cte, ImplASIDPool, ImplCNode, ImplFrame, ImplObject, ImplPageDirectory, ImplPageTable, ImplState, ImplTcb, ObjectTable,
} from "../../impl/index.ts"
import { NullCap } from "../../model/index.ts"

/** A slot's fields that keep its cap's object pointer (impl/state.ts `Cte`, `slotObject`). */
const slotCache = new Set(["obj", "objCap", "objEpoch"])

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

const create = <T extends object>(like: T): Mutable<T> => Object.create(Object.getPrototypeOf(like) as object) as Mutable<T>

/**
 * Arrays of memory (page-table and page-directory entries, frame pages) of copies the search is
 * done with (`releaseKernel`), by length: the next copies reuse them rather than allocate 16 KiB
 * per directory per edge (most of the search's garbage).
 */
const freeWords = new Map<number, Uint32Array[]>()
const freeLimit = 64

const copyWords = <T extends Uint32Array>(a: T): T => {
  const n = freeWords.get(a.length)?.pop()
  if (n === undefined) return a.slice() as T
  n.set(a)
  return n as T
}

const release = (a: Uint32Array): void => {
  let l = freeWords.get(a.length)
  if (l === undefined) freeWords.set(a.length, l = [])
  if (l.length < freeLimit) l.push(a)
}

/**
 * Give back the memory arrays of a copy made by `cloneKernel` that nothing will read again (the
 * search's copy for one edge, once the edge is checked): later copies reuse them. The copy must
 * not be used afterwards.
 */
export const releaseKernel = (k: ImplState): void => {
  const tables = freeTables.get(k.objects.constructor)
  for (const o of k.objects.values()) {
    switch (o.tag) {
      case "PageTable": release(o.pt); break
      case "PageDirectory": release(o.pd); break
      case "Frame":
        if (o.pages !== null) for (const pg of o.pages) if (pg !== undefined) release(pg)
        break
      default: break
    }
  }
  // The object table itself (its index arrays are the other big allocation of a copy).
  k.objects.clear()
  if (tables === undefined) freeTables.set(k.objects.constructor, [k.objects])
  else if (tables.length < freeLimit) tables.push(k.objects)
}

/** Emptied object tables of released copies, by class (a mutant's kernel has its own). */
const freeTables = new Map<unknown, ObjectTable[]>()

/** ObjectTable's private index (impl/state.ts). */
interface ObjectIndex { readonly indexKeys: Float64Array; readonly indexObjects: (ImplObject | undefined)[] }

/** Copies of the CTEs made so far (originals to copies), and the copies in order, for relinking. */
interface CteCopies { readonly map: Map<Cte, Cte>; readonly list: Cte[] }

const cloneCte = (c: Cte, ctes: CteCopies): Cte => {
  const n = create(c)
  n.cap = c.cap
  n.prev = c.prev
  n.next = c.next
  n.revocable = c.revocable
  n.firstBadged = c.firstBadged
  // The kept object pointer names an original object: the copy starts without one.
  n.obj = undefined
  n.objCap = NullCap
  n.objEpoch = -1
  n.addr = c.addr
  ctes.map.set(c, n)
  ctes.list.push(n)
  return n
}

/** The copy of a TCB with its slots (links still pointing into the original; `relink` fixes them). */
const cloneTcb = (t: ImplTcb, ctes: CteCopies): ImplTcb => {
  const n = create(t)
  n.tag = t.tag
  const slots: Cte[] = []
  for (let i = 0; i < t.slots.length; i++) slots.push(cloneCte(t.slots[i]!, ctes))
  n.slots = slots
  n.tsBlockedOnSend = { ...t.tsBlockedOnSend }
  n.tsBlockedOnReceive = { ...t.tsBlockedOnReceive }
  n.tsBlockedOnNotification = { ...t.tsBlockedOnNotification }
  // A blocked thread's state is its own preallocated record: the copy's is the copy's.
  n.tcbState = t.tcbState === t.tsBlockedOnSend ? n.tsBlockedOnSend
    : t.tcbState === t.tsBlockedOnReceive ? n.tsBlockedOnReceive
    : t.tcbState === t.tsBlockedOnNotification ? n.tsBlockedOnNotification
    : t.tcbState
  n.tcbPriority = t.tcbPriority
  n.tcbMCP = t.tcbMCP
  n.tcbDomain = t.tcbDomain
  n.tcbTimeSlice = t.tcbTimeSlice
  n.tcbFaultHandler = t.tcbFaultHandler
  n.tcbIPCBuffer = t.tcbIPCBuffer
  n.tcbBoundNotification = t.tcbBoundNotification
  n.tcbFault = t.tcbFault
  n.msgInfo = t.msgInfo
  n.badge = t.badge
  n.mrs = t.mrs.slice()
  n.regs = t.regs.slice()
  n.tcbSchedNext = t.tcbSchedNext
  n.tcbSchedPrev = t.tcbSchedPrev
  n.tcbEPNext = t.tcbEPNext
  n.tcbEPPrev = t.tcbEPPrev
  n.tcbQueued = t.tcbQueued
  n.replyCapNoGrant = t.replyCapNoGrant
  n.replyCapGrant = t.replyCapGrant
  n.base = t.base
  return n
}

/** Words of an IPC-buffer view (machine/memory.ts `bufferView`) and of a page of frame memory. */
const viewWords = 128
const pageWords = 1024

/**
 * The copy of a frame: its pages of memory copied, and its IPC-buffer views made again on the
 * copied pages (`views` maps each original view to its copy, for `currentIPCBuffer`).
 */
const cloneFrame = (o: ImplFrame, views: Map<Uint32Array, Uint32Array>): ImplFrame => {
  const n = create(o) as Mutable<ImplFrame>
  n.tag = o.tag
  n.base = o.base
  n.sizeBits = o.sizeBits
  n.isDevice = o.isDevice
  const pages = o.pages
  if (pages === null) n.pages = null
  else {
    const copy = new Array<Uint32Array | undefined>(pages.length)
    for (let i = 0; i < pages.length; i++) { const pg = pages[i]; if (pg !== undefined) copy[i] = copyWords(pg) }
    n.pages = copy
  }
  const vs = o.views
  if (vs === null) n.views = null
  else {
    const copy: (Uint32Array | undefined)[] = []
    for (let b = 0; b < vs.length; b++) {
      const v = vs[b]
      if (v === undefined) continue
      const word = b * viewWords
      const offset = word & (pageWords - 1)
      const nv = n.pages![word >>> 10]!.subarray(offset, offset + viewWords)
      copy[b] = nv
      views.set(v, nv)
    }
    n.views = copy
  }
  return n
}

const cloneObject = (o: ImplObject, ctes: CteCopies, views: Map<Uint32Array, Uint32Array>): ImplObject => {
  switch (o.tag) {
    case "TCB": return cloneTcb(o, ctes)
    case "CNode": {
      const n = create(o) as Mutable<ImplCNode>
      n.tag = o.tag
      const slots = new Array<Cte | undefined>(o.slots.length)
      for (let i = 0; i < o.slots.length; i++) { const c = o.slots[i]; if (c !== undefined) slots[i] = cloneCte(c, ctes) }
      n.slots = slots
      n.base = o.base
      n.radix = o.radix
      return n
    }
    case "Frame": return cloneFrame(o, views)
    case "PageTable": {
      const n = create(o) as Mutable<ImplPageTable>
      n.tag = o.tag
      n.pt = copyWords(o.pt)
      n.base = o.base
      return n
    }
    case "PageDirectory": {
      const n = create(o) as Mutable<ImplPageDirectory>
      n.tag = o.tag
      n.pd = copyWords(o.pd)
      n.base = o.base
      return n
    }
    case "ASIDPool": {
      // Its directories are re-pointed below.
      const n = create(o) as Mutable<ImplASIDPool>
      n.tag = o.tag
      n.array = o.array.slice()
      n.base = o.base
      return n
    }
    default:
      // Endpoints and notifications: plain fields, copied as they are (their queue links are re-pointed below).
      return Object.assign(create(o), o) as ImplObject
  }
}

/**
 * A copy of `k` that shares nothing mutable with it: stepping one does not change the other. The
 * copy has `k`'s prototype (a mutant's kernel copies into a mutant's kernel).
 */
export const cloneKernel = <K extends ImplState>(k: K): K => {
  const ctes: CteCopies = { map: new Map(), list: [] }
  const views = new Map<Uint32Array, Uint32Array>()
  const table = freeTables.get(k.objects.constructor)?.pop() ?? new (k.objects.constructor as new () => ObjectTable)()
  for (const [p, o] of k.objects) table.set(p, cloneObject(o, ctes, views))
  table.epoch = k.objects.epoch
  // The table's direct-mapped index (a cache in front of the map), entry for entry.
  const ix = table as unknown as ObjectIndex
  const ox = k.objects as unknown as ObjectIndex
  ix.indexKeys.set(ox.indexKeys)
  for (let i = 0; i < ox.indexObjects.length; i++) { const o = ox.indexObjects[i]; ix.indexObjects[i] = o === undefined ? undefined : table.get(o.base) }
  const obj = <T extends ImplObject | null>(o: T): T => (o === null ? o : (table.get(o.base) as T))
  const cte = (c: Cte | null): Cte | null => (c === null ? null : (ctes.map.get(c) ?? null))
  for (const o of table.values()) {
    switch (o.tag) {
      case "TCB": {
        const t = o as Mutable<ImplTcb>
        t.tcbBoundNotification = obj(t.tcbBoundNotification)
        t.tcbSchedNext = obj(t.tcbSchedNext)
        t.tcbSchedPrev = obj(t.tcbSchedPrev)
        t.tcbEPNext = obj(t.tcbEPNext)
        t.tcbEPPrev = obj(t.tcbEPPrev)
        break
      }
      case "Endpoint":
        o.epQueueHead = obj(o.epQueueHead)
        o.epQueueTail = obj(o.epQueueTail)
        break
      case "Notification":
        o.ntfnQueueHead = obj(o.ntfnQueueHead)
        o.ntfnQueueTail = obj(o.ntfnQueueTail)
        o.ntfnBoundTCB = obj(o.ntfnBoundTCB)
        break
      case "ASIDPool": {
        const a = o.array as (ImplPageDirectory | null)[]
        for (let i = 0; i < a.length; i++) if (a[i] !== null) a[i] = obj(a[i]!)
        break
      }
      default: break
    }
  }
  for (const c of ctes.list) {
    if (c.prev !== null) c.prev = cte(c.prev)
    if (c.next !== null) c.next = cte(c.next)
  }
  const n = create(k) as Mutable<ImplState>
  n.objects = table
  n.curThread = obj(k.curThread)
  n.idleThread = obj(k.idleThread)
  n.schedulerAction = typeof k.schedulerAction === "string" ? k.schedulerAction : obj(k.schedulerAction)
  n.curDomain = k.curDomain
  n.domSchedule = k.domSchedule.slice()
  n.domScheduleIdx = k.domScheduleIdx
  n.domScheduleStart = k.domScheduleStart
  n.domainTime = k.domainTime
  n.numIRQs = k.numIRQs
  n.numDomains = k.numDomains
  n.irqStates = k.irqStates.slice()
  n.irqMasks = k.irqMasks.slice()
  n.irqNode = obj(k.irqNode)
  n.armKSASIDTable = k.armKSASIDTable.map(obj)
  n.armKSGlobalPD = obj(k.armKSGlobalPD)
  n.armKSGlobalPT = obj(k.armKSGlobalPT)
  // Mostly empty: copy the array, then re-point the queues there are.
  const heads = k.readyQueueHead.slice()
  const ends = k.readyQueueEnd.slice()
  for (let i = 0; i < heads.length; i++) {
    if (heads[i] !== null) heads[i] = obj(heads[i]!)
    if (ends[i] !== null) ends[i] = obj(ends[i]!)
  }
  n.readyQueueHead = heads
  n.readyQueueEnd = ends
  n.readyQueuesL1Bitmap = k.readyQueuesL1Bitmap.slice()
  n.readyQueuesL2Bitmap = k.readyQueuesL2Bitmap.slice()
  n.currentLookupFault = k.currentLookupFault
  n.currentSyscallError = k.currentSyscallError
  n.currentFault = k.currentFault
  n.currentExtraCaps = k.currentExtraCaps.map(cte)
  // Per-entry scratch (C sets it before reading it), copied all the same: the copy is the same kernel.
  n.currentIPCBuffer = k.currentIPCBuffer === null ? null : (views.get(k.currentIPCBuffer) ?? k.currentIPCBuffer.slice())
  n.lookupSlotResult = cte(k.lookupSlotResult)
  n.lookupBitsRemaining = k.lookupBitsRemaining
  n.ksWorkUnitsCompleted = k.ksWorkUnitsCompleted
  n.maxWorkUnitsPerPreemption = k.maxWorkUnitsPerPreemption
  n.resetChunkBits = k.resetChunkBits
  n.pendingIRQ = k.pendingIRQ
  n.finaliseSlotSuccess = k.finaliseSlotSuccess
  n.finaliseSlotCleanupInfo = k.finaliseSlotCleanupInfo
  n.fastpathEnabled = k.fastpathEnabled
  n.fastpathHits = k.fastpathHits
  return n as unknown as K
}

// ---- checking a copy -----------------------------------------------------------------------------

/** Values the copy may share with its original: primitives, and records the impl never mutates in place. */
const sharable = (v: unknown, path: string): boolean =>
  typeof v !== "object" || v === null ||
  // Caps, thread-state constants, faults, syscall errors, lookup failures: immutable records.
  (!Array.isArray(v) && !ArrayBuffer.isView(v) && Object.values(v).every((x) => typeof x !== "object" || x === null || sharableLeaf(x)) && !/\.tsBlocked/.test(path))
const sharableLeaf = (x: object): boolean => !Array.isArray(x) && Object.values(x).every((y) => typeof y !== "object" || y === null)

/**
 * What a copy gets wrong: own properties missing or extra, values that differ, and mutable
 * structures (objects, arrays, typed arrays) shared with the original rather than copied. Walks
 * both object graphs in step from the kernel; an empty list means the copy is faithful.
 */
export const cloneProblems = (original: ImplState, copy: ImplState): string[] => {
  const out: string[] = []
  const seen = new Map<object, object>()
  const walk = (a: unknown, b: unknown, path: string): void => {
    if (out.length > 20) return
    if (typeof a !== "object" || a === null) {
      if (!Object.is(a, b)) out.push(`${path}: ${String(a)} became ${String(b)}`)
      return
    }
    if (typeof b !== "object" || b === null) { out.push(`${path}: an object became ${String(b)}`); return }
    const prior = seen.get(a)
    if (prior !== undefined) { if (prior !== b) out.push(`${path}: a shared object was copied twice`); return }
    seen.set(a, b)
    if (a === b) { if (!sharable(a, path)) out.push(`${path}: shared with the original (a mutable structure must be copied)`); return }
    // A typed array over the original's memory (a view made on the original page) is shared memory.
    if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b) && a.buffer === b.buffer) { out.push(`${path}: shares memory with the original`); return }
    if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) out.push(`${path}: prototype differs`)
    if (a instanceof Map) {
      const bm = b as Map<unknown, unknown>
      if (a.size !== bm.size) out.push(`${path}: ${a.size} entries became ${bm.size}`)
      for (const [k, v] of a) walk(v, bm.get(k), `${path}[${String(k)}]`)
    }
    const ka = Object.keys(a)
    const kb = new Set(Object.keys(b))
    for (const k of ka) {
      if (!kb.has(k)) { out.push(`${path}.${k}: missing from the copy`); continue }
      kb.delete(k)
      // A slot's kept object pointer is a cache the copy starts empty (it must exist, not match).
      if (slotCache.has(k) && "objEpoch" in a) continue
      walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`)
    }
    for (const k of kb) out.push(`${path}.${k}: not in the original`)
  }
  walk(original, copy, "kernel")
  return out
}
