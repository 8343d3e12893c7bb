/**
 * Reachability of the interesting states under the generator (the IPC slice's and the address
 * spaces'), spec only: run traces of choices from boot and count, per step, the states where each
 * feature holds (or the steps that made each transition). Coverage, not timing: a counter at 0
 * means the generator (or the spec) never gets there.
 */
import fc from "fast-check"
import type { BootConfig, Event, PPtr } from "../../model/index.ts"
import { messageInfoFromWord, tcbCaller } from "../../model/index.ts"
import type { KernelState, Outcome } from "../../spec/index.ts"
import { boot, getCap, slotOf, stepWithOutcome } from "../../spec/index.ts"
import { lookupCap } from "../../spec/kernel/cspace.ts"
import type { Choice, Op } from "./choices.ts"
import { resolveChoice, traceArb, weightsFor } from "./choices.ts"
import { threads } from "./stateView.ts"
import { Restarts } from "./restarts.ts"

export const features = [
  "BlockedOnSend", "BlockedOnReceive", "BlockedOnReply", "BlockedOnNotification", "pendingFault", "boundNotification",
  "activeNtfn", "threePriorities", "nonRootRunning", "irqSignalWithHandler", "replyCapInCallerSlot", "capTransfer",
  "idle",
  // Long operations: a deletion left a Zombie, or parked one in its own table; an entry was
  // preempted; a restarted syscall was preempted again (a chain of restarts).
  "zombie", "cyclicZombie", "preempted", "restartChain",
  // Address spaces: a directory other than the root's with a page table and a page mapped through
  // it; a frame mapped by two directories; a page directory that lost its ASID with its mappings
  // still in it (deleted under a live mapping); a Page_Map of a mapped frame (a remap, other
  // rights); a revoke that tore mappings down.
  "twoLevelVSpace", "sharedFrame", "orphanedMappings", "remap", "revokeUnmapped",
] as const
export type Feature = (typeof features)[number]

export interface ReachReport {
  readonly traces: number
  readonly steps: number
  /**
   * Per domain (index = domain, up to numDomains): steps after which a thread of that domain ran
   * (the current thread, not the idle thread), and the traces in which one did. With several
   * domains, a domain whose count is 0 is one whose threads the generator never got to run.
   */
  readonly domainRunning: readonly number[]
  readonly domainRunningTraces: readonly number[]
  /** Per domain: steps after which the domain was current with nothing to run (the idle thread). */
  readonly domainIdle: readonly number[]
  /** Steps after which each feature held. */
  readonly counts: Readonly<Record<Feature, number>>
  /** Traces in which each feature held at least once. */
  readonly traceCounts: Readonly<Record<Feature, number>>
  /** Outcome cells `syscall:invocation|result`. */
  readonly outcomes: ReadonlyMap<string, number>
}

/** Features of a state. */
export const stateFeatures = (s: KernelState, root: PPtr): Set<Feature> => {
  const f = new Set<Feature>()
  const prios = new Set<number>()
  for (const { ptr, tcb } of threads(s)) {
    const st = tcb.tcbState.tag
    if (st === "BlockedOnSend" || st === "BlockedOnReceive" || st === "BlockedOnReply" || st === "BlockedOnNotification") f.add(st)
    if (tcb.tcbFault !== null) f.add("pendingFault")
    if (tcb.tcbBoundNotification !== null) f.add("boundNotification")
    if (getCap(s, slotOf(ptr, tcbCaller)).tag === "ReplyCap") f.add("replyCapInCallerSlot")
    prios.add(tcb.tcbPriority)
  }
  if (prios.size >= 3) f.add("threePriorities")
  for (const o of s.kheap.values()) if (o.tag === "Notification" && o.state.tag === "ActiveNtfn") { f.add("activeNtfn"); break }
  if (s.curThread !== root && s.curThread !== s.idleThread) f.add("nonRootRunning")
  if (s.curThread === s.idleThread) f.add("idle")
  for (const [slot, c] of s.caps) {
    if (c.tag !== "ZombieCap") continue
    f.add("zombie")
    if (c.ptr === slot) f.add("cyclicZombie")
  }
  for (let i = 0; i < s.numIRQs; i++) {
    if (s.irqStates[i] === "IRQSignal" && getCap(s, slotOf(s.irqNode, i)).tag === "NotificationCap") { f.add("irqSignalWithHandler"); break }
  }
  vspaceFeatures(s, f)
  return f
}

/** The address-space features of a state (see `features`). */
const vspaceFeatures = (s: KernelState, f: Set<Feature>): void => {
  const named = new Set<PPtr>()
  for (const poolPtr of s.armASIDTable.values()) {
    const pool = s.kheap.get(poolPtr)
    if (pool?.tag === "ASIDPool") for (const pd of pool.pool.values()) named.add(pd)
  }
  const mappedBy = new Map<PPtr, Set<PPtr>>()
  const note = (frame: PPtr, pd: PPtr) => { let m = mappedBy.get(frame); if (m === undefined) mappedBy.set(frame, m = new Set()); m.add(pd) }
  for (const [p, o] of s.kheap) {
    if (o.tag !== "PageDirectory" || p === s.armGlobalPD) continue
    if (!named.has(p)) { if (o.pdes.size > 0) f.add("orphanedMappings"); continue }
    for (const e of o.pdes.values()) {
      if (e.tag === "SectionPDE" || e.tag === "SuperSectionPDE") note(e.frame, p)
      else if (e.tag === "PageTablePDE") {
        const pt = s.kheap.get(e.table)
        if (pt?.tag !== "PageTable") continue
        for (const pte of pt.ptes.values()) if (pte.tag !== "InvalidPTE") note(pte.frame, p)
        if (p !== rootPD(s) && pt.ptes.size > 0) f.add("twoLevelVSpace")
      }
    }
  }
  for (const pds of mappedBy.values()) if (pds.size >= 2) { f.add("sharedFrame"); break }
}

/** The root task's page directory (ASID 1). */
const rootPD = (s: KernelState): PPtr | undefined => {
  const pool = s.kheap.get(s.armASIDTable.get(0) ?? -1)
  return pool?.tag === "ASIDPool" ? pool.pool.get(1) : undefined
}

/** Caps that record a mapping (frames and page tables). */
const mappedCaps = (s: KernelState): number => {
  let n = 0
  for (const c of s.caps.values()) if ((c.tag === "FrameCap" || c.tag === "PageTableCap") && c.mapped !== null) n++
  return n
}

/** The address-space transitions of a step (see `features`). */
const vspaceTransitions = (pre: KernelState, r: { state: KernelState; outcome: Outcome }, ev: Event, f: Set<Feature>): void => {
  const o = r.outcome
  if (o.invocation === "ARM_Page_Map" && o.result === "Success" && ev.tag === "Syscall") {
    const c = lookupCap(pre, pre.curThread, ev.cptr)
    if (c.ok && c.value.tag === "FrameCap" && c.value.mapped !== null) f.add("remap")
  }
  if (o.invocation === "CNode_Revoke" && o.result === "Success" && mappedCaps(r.state) < mappedCaps(pre)) f.add("revokeUnmapped")
}

/** The domain of the thread running in `s` (the current domain, by ct_in_cur_domain), or undefined when the idle thread runs. */
export const runningDomain = (s: KernelState): number | undefined => {
  if (s.curThread === s.idleThread) return undefined
  const o = s.kheap.get(s.curThread)
  return o?.tag === "TCB" ? o.tcbDomain : undefined
}

/**
 * Did the step transfer caps? Some thread's message info changed (for the thread that made the
 * syscall: differs from what it wrote) to one reporting transferred or unwrapped caps.
 */
export const transferredCaps = (pre: KernelState, post: KernelState, ev: Event): boolean => {
  for (const { ptr, tcb } of threads(post)) {
    const before = ptr === pre.curThread && ev.tag === "Syscall" ? ev.msgInfo : pre.kheap.get(ptr)?.tag === "TCB" ? (pre.kheap.get(ptr) as { tcbContext: { msgInfo: number } }).tcbContext.msgInfo : 0
    const now = tcb.tcbContext.msgInfo
    if (now === before) continue
    const mi = messageInfoFromWord(now)
    if (mi.extraCaps > 0 || mi.capsUnwrapped > 0) return true
  }
  return false
}

const zero = (): Record<Feature, number> => Object.fromEntries(features.map((k) => [k, 0])) as Record<Feature, number>

export interface ReachOptions {
  readonly config: BootConfig
  readonly seed: number
  readonly runs: number
  readonly depth: number
  readonly weights?: Readonly<Partial<Record<Op, number>>>
}

/** Run `runs` traces (fixed seed) through the spec alone and count features. */
export const measureReach = (o: ReachOptions): ReachReport => {
  const counts = zero()
  const traceCounts = zero()
  const outcomes = new Map<string, number>()
  let steps = 0
  const nd = o.config.numDomains
  const domainRunning = new Array<number>(nd).fill(0)
  const domainRunningTraces = new Array<number>(nd).fill(0)
  const domainIdle = new Array<number>(nd).fill(0)
  const traces = fc.sample(traceArb(o.depth, o.weights ?? weightsFor(o.config)), { numRuns: o.runs, seed: o.seed }) as Choice[][]
  for (const trace of traces) {
    let s = boot(o.config)
    const root = s.curThread
    const seen = new Set<Feature>()
    const ranIn = new Set<number>()
    const restarts = new Restarts()
    for (const c of trace) {
      const thread = s.curThread
      const ev = resolveChoice(s, c, restarts.of(thread))
      const r = stepWithOutcome(s, ev)
      steps++
      const k = `${r.outcome.syscall}:${r.outcome.invocation}|${r.outcome.result}`
      outcomes.set(k, (outcomes.get(k) ?? 0) + 1)
      const f = stateFeatures(r.state, root)
      if (transferredCaps(s, r.state, ev)) f.add("capTransfer")
      const restart = restarts.note(thread, ev, r.outcome)
      if (r.outcome.result === "Preempted") f.add("preempted")
      if (restart.chain >= 2) f.add("restartChain")
      vspaceTransitions(s, r, ev, f)
      for (const x of f) { counts[x]++; seen.add(x) }
      s = r.state
      const d = runningDomain(s)
      if (d !== undefined) { domainRunning[d] = (domainRunning[d] ?? 0) + 1; ranIn.add(d) } else domainIdle[s.curDomain] = (domainIdle[s.curDomain] ?? 0) + 1
    }
    for (const x of seen) traceCounts[x]++
    for (const d of ranIn) domainRunningTraces[d] = (domainRunningTraces[d] ?? 0) + 1
  }
  return { traces: traces.length, steps, counts, traceCounts, outcomes, domainRunning, domainRunningTraces, domainIdle }
}
