/**
 * Views of the abstract state: what a thread sees, and the canonical plain-JSON form used for
 * equality, diffs, traces and counterexample files.
 * @category objects
 */
import type { PDE, PPtr, UserContext } from "../model/index.ts"
import { bufferMsgWord, kernelBase, msgMaxLength, nMsgRegisters, numPriorities, pdIndexBits, pdIndexOf } from "../model/index.ts"
import type { KObject, KernelState } from "./state.ts"
import { getTcb } from "./state.ts"
import { PMap } from "./persistent.ts"
import { lookupIPCBuffer } from "./kernel/vspace.ts"
import { loadWordOffs } from "./machine/memory.ts"

/**
 * A thread's message as it reads it: its registers (message info, badge, MR0-MR3, the others) with
 * `mrs` extended by MR4..MR119 from its IPC buffer (0 without one), as libsel4's `seL4_GetMR` reads them.
 */
export const observe = (s: KernelState, t: PPtr): UserContext => {
  const ctx = getTcb(s, t).tcbContext
  const buf = lookupIPCBuffer(s, false, t)
  const mrs = ctx.mrs.slice()
  for (let i = nMsgRegisters; i < msgMaxLength; i++) mrs.push(buf === null ? 0 : loadWordOffs(s, buf, bufferMsgWord(i)))
  return { ...ctx, mrs }
}

const hexKey = (k: number) => `0x${k.toString(16).padStart(8, "0")}`
const sortedEntries = <V>(m: ReadonlyMap<number, V>) => [...m.entries()].sort((a, b) => a[0] - b[0])

/** Trim trailing zero words so equal registers print equally and briefly. */
const trimZeros = (ws: readonly number[]): readonly number[] => {
  let n = ws.length
  while (n > 0 && ws[n - 1] === 0) n--
  return ws.slice(0, n)
}

/**
 * Table entries by index, a run of identical entries at consecutive indices as one key `i..j`
 * (a large page's or super section's 16 copies, the kernel window's sections): faithful, and short.
 */
const indexedCache = new WeakMap<object, Record<string, unknown>>()
const indexed = <V>(m: ReadonlyMap<number, V>): Record<string, V> => {
  // A persistent map never changes: its rendering is kept (the kernel window is rendered once).
  const cached = m instanceof PMap ? indexedCache.get(m) : undefined
  if (cached !== undefined) return cached as Record<string, V>
  const out: Record<string, V> = {}
  const es = sortedEntries(m)
  for (let a = 0; a < es.length;) {
    const [i, v] = es[a]!
    const key = JSON.stringify(v)
    let b = a
    while (b + 1 < es.length && es[b + 1]![0] === es[b]![0] + 1 && JSON.stringify(es[b + 1]![1]) === key) b++
    out[b === a ? String(i) : `${i}..${es[b]![0]}`] = v
    a = b + 1
  }
  if (m instanceof PMap) indexedCache.set(m, out)
  return out
}

const samePDE = (a: PDE | undefined, b: PDE | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.tag === b.tag && JSON.stringify(a) === JSON.stringify(b))

/**
 * A page directory's kernel-window entries for reading: `"global"` when every entry is the global
 * page directory's, else the entries that differ from it (an absent one as InvalidPDE).
 */
const canonicalKernelPDEs = (pdes: ReadonlyMap<number, PDE>, global: ReadonlyMap<number, PDE> | undefined): unknown => {
  if (global === undefined) return indexed(pdes)
  if (pdes === global) return "global"
  const differ: Record<string, PDE | { tag: "InvalidPDE" }> = {}
  for (let i = pdIndexOf(kernelBase); i < 2 ** pdIndexBits; i++) {
    const a = pdes.get(i)
    if (!samePDE(a, global.get(i))) differ[String(i)] = a ?? { tag: "InvalidPDE" }
  }
  for (const i of pdes.keys()) if (i < pdIndexOf(kernelBase)) differ[String(i)] = pdes.get(i)!
  return Object.keys(differ).length === 0 ? "global" : differ
}

const canonicalObject = (s: KernelState, p: PPtr, o: KObject): unknown => {
  switch (o.tag) {
    case "TCB": return { ...o, tcbContext: { ...o.tcbContext, mrs: trimZeros(o.tcbContext.mrs) } }
    case "PageTable": return { tag: o.tag, ptes: indexed(o.ptes) }
    // The words written, by word index (0x-prefixed byte offsets would be longer to read).
    case "Frame": return { tag: o.tag, sizeBits: o.sizeBits, isDevice: o.isDevice, words: Object.fromEntries(sortedEntries(o.words).map(([i, w]) => [String(i), w])) }
    case "ASIDPool": return { tag: o.tag, pool: Object.fromEntries(sortedEntries(o.pool).map(([i, pd]) => [String(i), hexKey(pd)])) }
    case "PageDirectory": {
      const g = s.kheap.get(s.armGlobalPD)
      return {
        tag: o.tag, pdes: indexed(o.pdes),
        kernelPDEs: p === s.armGlobalPD ? indexed(o.kernelPDEs) : canonicalKernelPDEs(o.kernelPDEs, g?.tag === "PageDirectory" ? g.kernelPDEs : undefined),
      }
    }
    default: return o
  }
}

/**
 * The canonical JSON of a state: maps become objects keyed by zero-padded hex addresses in
 * address order, sets become sorted arrays, message registers lose trailing zeros, a frame's
 * words are keyed by word index, tick counts (64-bit) are decimal strings, the domain schedule
 * lists its entries as `[domain, "ticks"]` up to its last non-end-marker entry (its length is
 * `numDomainSchedules`), and a page
 * directory's kernel window is shown as `"global"` when it equals the global page directory's.
 * Two states are equal exactly when their canonical JSON strings are.
 */
export const toCanonicalJSON = (s: KernelState): unknown => ({
  kheap: Object.fromEntries(sortedEntries(s.kheap).map(([k, o]) => [hexKey(k), canonicalObject(s, k, o)])),
  caps: Object.fromEntries(sortedEntries(s.caps).map(([k, c]) => [hexKey(k), c])),
  cdt: Object.fromEntries(sortedEntries(s.cdt).map(([k, p]) => [hexKey(k), hexKey(p)])),
  cdtList: Object.fromEntries(sortedEntries(s.cdtList).map(([k, cs]) => [hexKey(k), cs.map(hexKey)])),
  isOriginal: [...s.isOriginal].sort((a, b) => a - b).map(hexKey),
  curThread: hexKey(s.curThread),
  idleThread: hexKey(s.idleThread),
  schedulerAction: s.schedulerAction,
  readyQueues: Object.fromEntries(sortedEntries(s.readyQueues).map(([k, ts]) => [`d${Math.floor(k / numPriorities)}p${k % numPriorities}`, ts.map(hexKey)])),
  curDomain: s.curDomain,
  domainList: scheduleEntries(s),
  numDomainSchedules: s.domainList.length,
  domainIndex: s.domainIndex,
  domainStartIndex: s.domainStartIndex,
  domainTime: String(s.domainTime),
  numIRQs: s.numIRQs,
  numDomains: s.numDomains,
  irqStates: s.irqStates,
  irqMasks: s.irqMasks,
  irqNode: hexKey(s.irqNode),
  armASIDTable: Object.fromEntries(sortedEntries(s.armASIDTable).map(([i, p]) => [String(i), hexKey(p)])),
  armGlobalPD: hexKey(s.armGlobalPD),
  armGlobalPT: hexKey(s.armGlobalPT),
  workUnitsCompleted: s.workUnitsCompleted,
  workUnitsLimit: s.workUnitsLimit,
  resetChunkBits: s.resetChunkBits,
  irqPending: s.irqPending,
})

/** The schedule's entries up to the last that is not an end marker, as `[domain, "ticks"]`. */
const scheduleEntries = (s: KernelState): readonly (readonly [number, string])[] => {
  let n = s.domainList.length
  while (n > 0 && s.domainList[n - 1]!.domain === 0 && s.domainList[n - 1]!.duration === 0n) n--
  return s.domainList.slice(0, n).map((e) => [e.domain, String(e.duration)] as const)
}
