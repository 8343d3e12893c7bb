/**
 * Views of the abstract state: what a thread sees, and the canonical plain-JSON form used for
 * equality, diffs, traces and counterexample files.
 * @category objects
 */
import type { PPtr, UserContext } from "../model/index.ts"
import { numPriorities } from "../model/index.ts"
import type { KernelState } from "./state.ts"
import { getTcb } from "./state.ts"

/** A thread's user-visible registers: message info, badge and message words. */
export const observe = (s: KernelState, t: PPtr): UserContext => getTcb(s, t).tcbContext

const hexKey = (k: number) => `0x${k.toString(16).padStart(8, "0")}`
const sortedEntries = <V>(m: ReadonlyMap<number, V>) => [...m.entries()].sort((a, b) => a[0] - b[0])

/** Trim trailing zero words so equal registers print equally and briefly. */
const trimZeros = (ws: readonly number[]): readonly number[] => {
  let n = ws.length
  while (n > 0 && ws[n - 1] === 0) n--
  return ws.slice(0, n)
}

/**
 * The canonical JSON of a state: maps become objects keyed by zero-padded hex addresses in
 * address order, sets become sorted arrays, message registers lose trailing zeros. Two states
 * are equal exactly when their canonical JSON strings are.
 */
export const toCanonicalJSON = (s: KernelState): unknown => ({
  kheap: Object.fromEntries(sortedEntries(s.kheap).map(([k, o]) => [
    hexKey(k),
    o.tag === "TCB" ? { ...o, tcbContext: { ...o.tcbContext, mrs: trimZeros(o.tcbContext.mrs) } } : o,
  ])),
  caps: Object.fromEntries(sortedEntries(s.caps).map(([k, c]) => [hexKey(k), c])),
  cdt: Object.fromEntries(sortedEntries(s.cdt).map(([k, p]) => [hexKey(k), hexKey(p)])),
  cdtList: Object.fromEntries(sortedEntries(s.cdtList).map(([k, cs]) => [hexKey(k), cs.map(hexKey)])),
  isOriginal: [...s.isOriginal].sort((a, b) => a - b).map(hexKey),
  curThread: hexKey(s.curThread),
  idleThread: hexKey(s.idleThread),
  schedulerAction: s.schedulerAction,
  readyQueues: Object.fromEntries(sortedEntries(s.readyQueues).map(([k, ts]) => [`d${Math.floor(k / numPriorities)}p${k % numPriorities}`, ts.map(hexKey)])),
  curDomain: s.curDomain,
  numIRQs: s.numIRQs,
  numDomains: s.numDomains,
  irqStates: s.irqStates,
  irqMasks: s.irqMasks,
  irqNode: hexKey(s.irqNode),
})
