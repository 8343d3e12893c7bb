/**
 * Reachability of the IPC slice's interesting states under the generator, spec only: run traces
 * of choices from boot and count, per step, the states where each feature holds. Coverage, not
 * timing: a counter at 0 means the generator (or the spec) never gets there.
 */
import fc from "fast-check"
import type { BootConfig, Event, PPtr } from "../../model/index.ts"
import { messageInfoFromWord, tcbCaller } from "../../model/index.ts"
import type { KernelState } from "../../spec/index.ts"
import { boot, getCap, slotOf, stepWithOutcome } from "../../spec/index.ts"
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
  return f
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
