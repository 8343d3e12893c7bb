/**
 * Confidentiality as nonleakage, checked by unwinding (l4v proof/infoflow/Noninterference.thy,
 * the `confidentiality_u` condition of `Nonleakage_gen`), one kernel step at a time, in the style
 * of "Testing Noninterference, Quickly" (Hritcu et al., ICFP 2013, its single-step SSNI):
 *
 * - L's view of a state (`observe` here, l4v `sameFor (Partition L)` with `reads_equiv`'s fields):
 *   everything labelled with a label L may read (l4v `subjectReads`: objects, slots with their CDT
 *   links and originality, IRQ states, the ready queues of those labels' domains, their ASIDs), the
 *   scheduler's part every label sees (l4v `sameFor PSched`: the current domain and the domain
 *   schedule's position and time), and, while L's domain runs, the current thread and the scheduler
 *   action.
 * - The pair: a second state made from the first by varying only what L may not read (and, when the
 *   running label u may affect L, what u may not read either: l4v's unwinding assumes the two
 *   states agree on u's view then). The variations are `Edit`s: registers (message info, badge,
 *   MR0-MR3, the others), time slices, priorities, MCPs and fault handlers of threads, notification
 *   words, and words of frames' memory (IPC buffers' message words, extra-cap pointers and receive
 *   slots among them: they live in the buffer's frame). A frame's words are part of its object, so
 *   L's view holds the memory of every frame of a label L may read.
 * - The check: both states take the same step; L's views after it must agree.
 *
 * Edits are drawn state-blind (`EditChoice`: selector words) and resolved against the state, so
 * fast-check shrinks the pair as it shrinks a trace: fewer edits, smaller selectors.
 * @category security
 */
import fc from "fast-check"
import type { PPtr } from "../../model/index.ts"
import { asidHighBits, asidLowBits, badgeFromWord, ipcBufferWords, nContextRegisters, nMsgRegisters, numPriorities, sanitiseRegister, timeSlice } from "../../model/index.ts"
import type { KObject, KernelState, Tcb } from "../../spec/index.ts"
import { storeWords } from "../../spec/machine/memory.ts"
import { toCanonicalJSON } from "../../spec/index.ts"
import { contextWith, getNotification, setObject, tcbWith, updateTcb } from "../../spec/state.ts"
import { tcbSchedDequeue, tcbSchedEnqueue } from "../../spec/kernel/thread.ts"
import { stateDelta } from "../../spec/invariants/delta.ts"
import { deepEqual } from "../lockstep/diff.ts"
import type { Labelling } from "./labels.ts"
import type { Label, Policy } from "./policy.ts"
import { canAffect, subjectReads } from "./policy.ts"

/** The context fields an edit may set, by name. */
export const contextWordFields = ["msgInfo", "badge"] as const

/** One variation of the state outside what the observer reads. */
export type Edit =
  | { readonly tag: "ContextWord"; readonly tcb: PPtr; readonly field: (typeof contextWordFields)[number]; readonly value: number }
  | { readonly tag: "MessageRegister"; readonly tcb: PPtr; readonly index: number; readonly value: number }
  | { readonly tag: "Register"; readonly tcb: PPtr; readonly index: number; readonly value: number }
  /** A word of a frame's memory (an IPC buffer's message words, extra-cap pointers and receive slot among them). */
  | { readonly tag: "MemoryWord"; readonly frame: PPtr; readonly word: number; readonly value: number }
  | { readonly tag: "TimeSlice"; readonly tcb: PPtr; readonly value: number }
  | { readonly tag: "Priority"; readonly tcb: PPtr; readonly value: number }
  | { readonly tag: "MCP"; readonly tcb: PPtr; readonly value: number }
  | { readonly tag: "FaultHandler"; readonly tcb: PPtr; readonly value: number }
  | { readonly tag: "NotificationWord"; readonly ntfn: PPtr; readonly badge: number | null }

const hex = (x: number) => `0x${x.toString(16)}`

export const showEdit = (e: Edit): string => {
  switch (e.tag) {
    case "ContextWord": return `thread ${hex(e.tcb)} ${e.field} := ${e.value}`
    case "MessageRegister": return `thread ${hex(e.tcb)} MR${e.index} := ${e.value}`
    case "Register": return `thread ${hex(e.tcb)} register ${e.index} := ${e.value}`
    case "MemoryWord": return `frame ${hex(e.frame)} word ${e.word} (address ${hex(e.frame + 4 * e.word)}) := ${e.value}`
    case "TimeSlice": return `thread ${hex(e.tcb)} time slice := ${e.value}`
    case "Priority": return `thread ${hex(e.tcb)} priority := ${e.value}`
    case "MCP": return `thread ${hex(e.tcb)} MCP := ${e.value}`
    case "FaultHandler": return `thread ${hex(e.tcb)} fault handler := ${e.value}`
    case "NotificationWord": return `notification ${hex(e.ntfn)} word := ${e.badge === null ? "idle" : `active, badge ${e.badge}`}`
  }
}

/** A state-blind edit: selector words resolved against a state (see `resolveEdits`). */
export interface EditChoice {
  readonly kind: number
  readonly target: number
  readonly field: number
  readonly value: number
}

/** Edits to draw for a pair: one to six, kinds and targets unbiased, values small or any 32-bit word. */
export const editChoicesArb: fc.Arbitrary<EditChoice[]> = fc.array(
  fc.record({
    kind: fc.noBias(fc.nat({ max: 15 })),
    target: fc.noBias(fc.nat({ max: 0xffff })),
    field: fc.noBias(fc.nat({ max: 0xffff })),
    value: fc.oneof(fc.nat({ max: 16 }), fc.nat({ max: 0xffff_ffff })),
  }),
  { minLength: 1, maxLength: 6 },
)

/**
 * The threads and notifications `edits` may touch: those whose label is not in `fixed`, less the
 * `exempt` threads (the root task, suspended for good: varying it tells nothing).
 */
export const editTargets = (s: KernelState, lab: Labelling, fixed: ReadonlySet<Label>, exempt: ReadonlySet<PPtr> = new Set()): { readonly tcbs: PPtr[]; readonly ntfns: PPtr[]; readonly frames: PPtr[] } => {
  const tcbs: PPtr[] = []
  const ntfns: PPtr[] = []
  const frames: PPtr[] = []
  for (const [p, o] of s.kheap) {
    if (fixed.has(lab.object(p))) continue
    if (o.tag === "TCB" && p !== s.idleThread && !exempt.has(p)) tcbs.push(p)
    // A frame's words (device frames left out: they are not RAM), when all of it lies outside the fixed labels.
    if (o.tag === "Frame" && !o.isDevice && lab.range(p, 2 ** o.sizeBits).every((l) => !fixed.has(l))) frames.push(p)
    if (o.tag === "Notification" && o.state.tag !== "WaitingNtfn") {
      // A notification bound to a thread waiting in an endpoint receive is never active (a signal goes to the thread).
      const b = o.boundTCB === null ? undefined : s.kheap.get(o.boundTCB)
      if (b?.tag !== "TCB" || b.tcbState.tag !== "BlockedOnReceive") ntfns.push(p)
    }
  }
  return { tcbs, ntfns, frames }
}

/** What an edit choice's `kind` (0..15) selects. */
const editKinds: readonly Edit["tag"][] = [
  "ContextWord", "MemoryWord", "MessageRegister", "MemoryWord", "Register", "MemoryWord", "TimeSlice", "TimeSlice",
  "Priority", "Priority", "MCP", "FaultHandler", "NotificationWord", "NotificationWord", "NotificationWord", "NotificationWord",
]

/** Resolve edit choices against `s`: each picks a thread or notification outside `fixed`, or is dropped when there is none. */
export const resolveEdits = (s: KernelState, lab: Labelling, fixed: ReadonlySet<Label>, choices: readonly EditChoice[], exempt?: ReadonlySet<PPtr>): Edit[] => {
  const { tcbs, ntfns, frames } = editTargets(s, lab, fixed, exempt)
  const out: Edit[] = []
  for (const c of choices) {
    // kind 0..15: a quarter notification words, then registers, time slices, priorities, MCPs, fault handlers.
    const k = editKinds[c.kind % editKinds.length]!
    if (k === "NotificationWord") {
      if (ntfns.length === 0) continue
      out.push({ tag: "NotificationWord", ntfn: ntfns[c.target % ntfns.length]!, badge: c.field % 3 === 0 ? null : badgeFromWord(c.value) })
      continue
    }
    if (k === "MemoryWord") {
      if (frames.length === 0) continue
      const frame = frames[c.target % frames.length]!
      const f = s.kheap.get(frame) as Extract<KObject, { tag: "Frame" }>
      // Three in four in the frame's first IPC buffer's worth of words (the partitions' buffers start their frames), else anywhere in it.
      const word = c.field % 4 !== 0 ? (c.field >>> 2) % ipcBufferWords : (c.field >>> 2) % 2 ** (f.sizeBits - 2)
      out.push({ tag: "MemoryWord", frame, word, value: c.value >>> 0 })
      continue
    }
    if (tcbs.length === 0) continue
    const tcb = tcbs[c.target % tcbs.length]!
    switch (k) {
      case "ContextWord": out.push({ tag: "ContextWord", tcb, field: contextWordFields[c.field % contextWordFields.length]!, value: c.value >>> 0 }); break
      case "MessageRegister": out.push({ tag: "MessageRegister", tcb, index: c.field % nMsgRegisters, value: c.value >>> 0 }); break
      case "Register": {
        const index = 6 + (c.field % (nContextRegisters - 6))
        out.push({ tag: "Register", tcb, index, value: sanitiseRegister(index, c.value) })
        break
      }
      case "TimeSlice": out.push({ tag: "TimeSlice", tcb, value: 1 + (c.value % timeSlice) }); break
      case "Priority": out.push({ tag: "Priority", tcb, value: c.value % numPriorities }); break
      case "MCP": out.push({ tag: "MCP", tcb, value: c.value % numPriorities }); break
      case "FaultHandler": out.push({ tag: "FaultHandler", tcb, value: c.value >>> 0 }); break
    }
  }
  return out
}

const withTcb = (s: KernelState, t: PPtr, f: (tcb: Tcb) => Tcb): KernelState => updateTcb(s, t, f)
const setWord = (ws: readonly number[], i: number, v: number): number[] => { const a = ws.slice(); a[i] = v; return a }

/** Apply one edit to a spec state. */
export const applyEdit = (s: KernelState, e: Edit): KernelState => {
  switch (e.tag) {
    case "ContextWord": return withTcb(s, e.tcb, (t) => tcbWith(t, { tcbContext: contextWith(t.tcbContext, { [e.field]: e.value }) }))
    case "MessageRegister": return withTcb(s, e.tcb, (t) => tcbWith(t, { tcbContext: contextWith(t.tcbContext, { mrs: setWord(t.tcbContext.mrs, e.index, e.value) }) }))
    case "Register": return withTcb(s, e.tcb, (t) => tcbWith(t, { tcbContext: contextWith(t.tcbContext, { regs: setWord(t.tcbContext.regs, e.index, e.value) }) }))
    case "MemoryWord": return storeWords(s, e.frame, e.word, [e.value])
    case "TimeSlice": return withTcb(s, e.tcb, (t) => tcbWith(t, { tcbTimeSlice: e.value }))
    case "MCP": return withTcb(s, e.tcb, (t) => tcbWith(t, { tcbMCP: e.value }))
    case "FaultHandler": return withTcb(s, e.tcb, (t) => tcbWith(t, { tcbFaultHandler: e.value }))
    // A queued thread moves to the head of its new priority's queue, as the kernel's own dequeue and enqueue would.
    case "Priority": {
      const queued = (s.readyQueues.get(readyIndexOf(s, e.tcb)) ?? []).includes(e.tcb)
      const s1 = queued ? tcbSchedDequeue(s, e.tcb) : s
      const s2 = withTcb(s1, e.tcb, (t) => tcbWith(t, { tcbPriority: e.value }))
      return queued ? tcbSchedEnqueue(s2, e.tcb) : s2
    }
    case "NotificationWord": {
      const n = getNotification(s, e.ntfn)
      return setObject(s, e.ntfn, { ...n, state: e.badge === null ? { tag: "IdleNtfn" } : { tag: "ActiveNtfn", badge: e.badge } })
    }
  }
}

const readyIndexOf = (s: KernelState, t: PPtr): number => {
  const o = s.kheap.get(t)
  return o?.tag === "TCB" ? o.tcbDomain * numPriorities + o.tcbPriority : -1
}

export const applyEdits = (s: KernelState, edits: readonly Edit[]): KernelState => edits.reduce(applyEdit, s)

/** What the nonleakage check of one step needs to know of the system. */
export interface FlowContext {
  readonly labels: Labelling
  readonly policy: Policy
}

/** The labels fixed in a pair for observer `l` when `u` runs: what l reads, and what u reads if u may affect l. */
export const fixedLabels = (c: FlowContext, l: Label, u: Label): Set<Label> => {
  const fixed = subjectReads(c.policy, l)
  if (u !== l && canAffect(c.policy, u, l)) for (const x of subjectReads(c.policy, u)) fixed.add(x)
  return fixed
}

/** The scheduler's fields every label observes (l4v `domain_fields_equiv`). */
const schedulerFields = ["curDomain", "domainIndex", "domainStartIndex", "domainTime", "domainList", "idleThread"] as const

/**
 * Where the views of `a` and `b` through the labels `reads` (and the domain `l`'s threads run in)
 * differ: one line per differing place, `path: a | b`; [] when they agree.
 */
export const viewDiff = (a: KernelState, b: KernelState, reads: ReadonlySet<Label>, lab: Labelling, observer: Label | null, limit = 8): string[] => {
  const out: string[] = []
  const push = (path: string, x: unknown, y: unknown) => {
    if (out.length >= limit) return
    const d = pairDiff(x, y, 3)
    if (d.length === 0) out.push(`${path}: differs`)
    else for (const line of d) out.push(`${path}${line}`)
  }
  for (const f of schedulerFields) {
    if (!deepEqual(a[f], b[f])) push(f, String(a[f]), String(b[f]))
  }
  // While the observer's domain runs (in either), it sees which thread runs and what the scheduler will do.
  const domainRuns = (s: KernelState) => observer !== null && lab.domain(s.curDomain).includes(observer)
  if (domainRuns(a) || domainRuns(b)) {
    if (a.curThread !== b.curThread) push("curThread", hex(a.curThread), hex(b.curThread))
    if (!deepEqual(a.schedulerAction, b.schedulerAction)) push("schedulerAction", a.schedulerAction, b.schedulerAction)
  }
  const d = stateDelta(a, b)
  for (const p of d.objects) {
    const l = lab.object(p)
    if (!reads.has(l)) continue
    const x = a.kheap.get(p)
    const y = b.kheap.get(p)
    if (x === y || deepEqual(x, y)) continue
    push(`kheap[${hex(p)}] (${x?.tag ?? y?.tag}, ${l})`, canonicalObject(x), canonicalObject(y))
  }
  for (const sl of d.slots) {
    const l = lab.slot(a, sl)
    if (!reads.has(l)) continue
    const pa = slotView(a, sl)
    const pb = slotView(b, sl)
    if (!deepEqual(pa, pb)) push(`slot ${hex(sl)} (${l})`, pa, pb)
  }
  for (let i = 0; i < a.numIRQs; i++) {
    if (reads.has(lab.irq(i)) && a.irqStates[i] !== b.irqStates[i]) push(`irqStates[${i}]`, a.irqStates[i], b.irqStates[i])
  }
  const queues = new Set<number>([...a.readyQueues.keys(), ...b.readyQueues.keys()])
  for (const q of queues) {
    const dom = Math.floor(q / numPriorities)
    if (!lab.domain(dom).some((x) => reads.has(x))) continue
    const qa = a.readyQueues.get(q) ?? []
    const qb = b.readyQueues.get(q) ?? []
    if (!deepEqual(qa, qb)) push(`readyQueues[domain ${dom}, priority ${q % numPriorities}]`, qa.map(hex), qb.map(hex))
  }
  for (const [asid, l] of lab.asids) {
    if (!reads.has(l) || asid === 0) continue
    const va = asidView(a, asid)
    const vb = asidView(b, asid)
    if (!deepEqual(va, vb)) push(`asid ${asid} (${l})`, va, vb)
  }
  return out
}

const canonicalObject = (o: unknown): unknown => (o === undefined ? null : JSON.parse(JSON.stringify(o, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v instanceof Map ? Object.fromEntries(v) : v))))

const slotView = (s: KernelState, sl: number) => ({
  cap: s.caps.get(sl) ?? { tag: "NullCap" }, parent: s.cdt.get(sl) ?? null, original: s.isOriginal.has(sl), children: s.cdtList.get(sl) ?? [],
})

/** l4v `equiv_asid`: the ASID's pool and the page directory the pool maps it to. */
const asidView = (s: KernelState, asid: number) => {
  const high = asid >>> asidLowBits
  const pool = s.armASIDTable.get(high & ((1 << asidHighBits) - 1))
  const o = pool === undefined ? undefined : s.kheap.get(pool)
  return { pool: pool ?? null, pd: o?.tag === "ASIDPool" ? o.pool.get(asid & ((1 << asidLowBits) - 1)) ?? null : null }
}

/** The paths where two JSON values differ, `.path: first | second`, at most `limit`. */
export const pairDiff = (a: unknown, b: unknown, limit = 8): string[] => {
  const out: string[] = []
  const show = (v: unknown) => (v === undefined ? "(absent)" : JSON.stringify(v))
  const walk = (x: unknown, y: unknown, path: string) => {
    if (out.length >= limit || JSON.stringify(x) === JSON.stringify(y)) return
    const both = typeof x === "object" && typeof y === "object" && x !== null && y !== null && Array.isArray(x) === Array.isArray(y)
    if (!both) { out.push(`${path}: ${show(x)} | ${show(y)}`); return }
    for (const k of new Set([...Object.keys(x as object), ...Object.keys(y as object)])) {
      walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], Array.isArray(x) ? `${path}[${k}]` : `${path}.${k}`)
    }
  }
  walk(a, b, "")
  return out
}

/** One nonleakage counterexample: the observer, the subject, the pair's difference, the step, and where the views part. */
export interface LeakReport {
  readonly observer: Label
  readonly subject: Label
  readonly edits: readonly Edit[]
  /** Where the two pre-states differ (the edits, as state paths). */
  readonly preDiff: readonly string[]
  /** Where the observer's views after the step differ. */
  readonly postDiff: readonly string[]
}

/** The state paths where two states differ (canonical JSON), for counterexamples. */
export const stateDifference = (a: KernelState, b: KernelState, limit = 8): string[] => pairDiff(toCanonicalJSON(a), toCanonicalJSON(b), limit)

/**
 * One unwinding check, by itself: `step` from `pre` and from `pre` varied by `edits` (which must
 * touch only what `observer` may not read); the observer's views after it must agree. The leak, or
 * null. (The campaign does the same for every observer after every step of its traces.)
 */
export const checkNonleakageStep = (
  pre: KernelState, step: (s: KernelState) => KernelState, observer: Label, subject: Label, c: FlowContext, edits: readonly Edit[],
): LeakReport | null => {
  const second = applyEdits(pre, edits)
  const postDiff = viewDiff(step(pre), step(second), subjectReads(c.policy, observer), c.labels, observer)
  return postDiff.length === 0 ? null : { observer, subject, edits, preDiff: stateDifference(pre, second), postDiff }
}
