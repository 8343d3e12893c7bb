/**
 * Thread-level invariants: the current and idle threads, reply caps, what no cap may name
 * (l4v Invariants_AI `cur_tcb`, `valid_idle`, `only_idle`, `valid_reply_caps`,
 * `valid_reply_masters`, `valid_global_refs`), and the scheduler (DetSchedInvs_AI `valid_sched`:
 * `valid_queues`, `ct_not_in_q`, `valid_sched_action`, `ct_in_cur_domain`, `valid_blocked`,
 * `valid_idle_etcb`; kspec's `valid_time_slice`).
 * @category invariants
 */
import type { PPtr, SlotPtr } from "../../model/index.ts"
import { bit, isRunnable, numPriorities, showCap, tcbBits, tcbReply, timeSlice } from "../../model/index.ts"
import type { KernelState } from "../state.ts"
import { slotOf } from "../state.ts"
import { capRange, hex, isEmpty, objBits, rangesMeet, showSlot } from "./internal.ts"
import type { StateDelta } from "./delta.ts"
import type { IncrementalScope } from "./types.ts"
import { changedObjects, changedSlots, defineInvariant, everything, noKeys, nothingChanged } from "./types.ts"

/** valid_reply_caps' scope: the changed slots and every cap naming a thread a changed slot's cap names (before or after), or a changed object. */
const validReplyCapsScope = (s: KernelState, prev: KernelState, d: StateDelta): IncrementalScope => {
  if (d.capRefs === undefined) return everything
  if (d.slots.size === 0 && d.objects.size === 0) return nothingChanged
  const slots = new Set<SlotPtr>(d.slots)
  const addNaming = (p: PPtr) => { for (const sl of d.capRefs!.naming(p)) slots.add(sl) }
  for (const sl of d.slots) {
    const a = prev.caps.get(sl)
    if (a?.tag === "ReplyCap") addNaming(a.tcb)
    const b = s.caps.get(sl)
    if (b?.tag === "ReplyCap") addNaming(b.tcb)
  }
  for (const p of d.objects) addNaming(p)
  return { slots }
}

/** valid_blocked's scope: the changed objects, and the threads that left the ready queues, the current thread or the switch target. */
const validBlockedScope = (s: KernelState, prev: KernelState, d: StateDelta): IncrementalScope => {
  const left: PPtr[] = []
  if (s.readyQueues !== prev.readyQueues) for (const q of prev.readyQueues.values()) left.push(...q)
  if (s.curThread !== prev.curThread) left.push(prev.curThread)
  const a = prev.schedulerAction
  if (s.schedulerAction !== a && a.tag === "SwitchToThread") left.push(a.target)
  if (left.length === 0) return changedObjects(d)
  return { objects: new Set([...d.objects, ...left]) }
}

/**
 * The current thread is a TCB.
 *
 * Why: every kernel entry reads and writes the current thread's registers.
 *
 * Mirrors: l4v Invariants_AI `cur_tcb`.
 */
export const curTcb = defineInvariant({
  name: "cur_tcb",
  statement: "The current thread is a TCB.",
  mirrors: "l4v Invariants_AI cur_tcb",
  threatenedBy: ["schedule", "switchToThread", "cteDelete", "finaliseCap"],
  // The current thread and its object.
  scope: (s, prev, d) => (s.curThread === prev.curThread && !d.objects.has(s.curThread) ? nothingChanged : noKeys),
  find: (s, report) => {
    const o = s.kheap.get(s.curThread)
    if (o?.tag !== "TCB") report(`the current thread ${hex(s.curThread)} is ${o === undefined ? "no object" : `a ${o.tag}`}, not a TCB`)
  },
})

/**
 * The idle thread is a TCB in the IdleThreadState, bound to no notification.
 *
 * Why: the scheduler falls back to the idle thread and never lets it run user code.
 *
 * Mirrors: l4v Invariants_AI `valid_idle`.
 */
export const validIdle = defineInvariant({
  name: "valid_idle",
  statement: "The idle thread is a TCB in IdleThreadState, bound to no notification.",
  mirrors: "l4v Invariants_AI valid_idle",
  threatenedBy: ["TCB_Suspend", "TCB_Resume", "TCB_BindNotification", "setThreadState"],
  // The idle thread's object (the idle thread itself is fixed at boot).
  scope: (s, _prev, d) => (d.objects.has(s.idleThread) ? noKeys : nothingChanged),
  find: (s, report) => {
    const o = s.kheap.get(s.idleThread)
    if (o?.tag !== "TCB") {
      report(`the idle thread ${hex(s.idleThread)} is ${o === undefined ? "no object" : `a ${o.tag}`}, not a TCB`)
      return
    }
    if (o.tcbState.tag !== "IdleThreadState") report(`the idle thread ${hex(s.idleThread)} is ${o.tcbState.tag}, not IdleThreadState`)
    if (o.tcbBoundNotification !== null) report(`the idle thread ${hex(s.idleThread)} is bound to notification ${hex(o.tcbBoundNotification)}`)
  },
})

/**
 * No thread but the idle thread is in the IdleThreadState.
 *
 * Why: IdleThreadState marks the one thread the kernel runs when nothing else can.
 *
 * Mirrors: l4v Invariants_AI `only_idle`.
 */
export const onlyIdle = defineInvariant({
  name: "only_idle",
  statement: "No thread but the idle thread is in IdleThreadState.",
  mirrors: "l4v Invariants_AI only_idle",
  threatenedBy: ["setThreadState", "Untyped_Retype"],
  // Per TCB: its own state.
  scope: (_s, _prev, d) => changedObjects(d),
  find: (s, report) => {
    for (const [p, o] of s.kheap) {
      if (o.tag === "TCB" && o.tcbState.tag === "IdleThreadState" && p !== s.idleThread) {
        report(`TCB ${hex(p)} is in IdleThreadState but the idle thread is ${hex(s.idleThread)}`)
      }
    }
  },
})

/**
 * No cap reaches a kernel-global object: no cap's range (an untyped's whole range, or the object a
 * cap names) meets the idle thread's TCB or the IRQ node CNode.
 *
 * Why: user code must not be able to invoke, suspend or delete the idle thread, nor read or
 * write the IRQ node's slots (only IRQ handler invocations may), nor retype over either.
 *
 * Mirrors: l4v Invariants_AI `valid_global_refs` (`valid_refs (global_refs s)`), whose
 * `global_refs` holds the idle thread, the IRQ node and the arch globals (kspec has no arch
 * globals).
 */
export const validGlobalRefs = defineInvariant({
  name: "valid_global_refs",
  statement: "No cap's range meets the idle thread's TCB, the IRQ node CNode, the global page directory or the global page table.",
  mirrors: "l4v Invariants_AI valid_global_refs (global_refs: idle thread, IRQ node, arm_global_pd, arm_global_pts)",
  threatenedBy: ["Untyped_Retype", "sendIPC", "setupCallerCap", "cteInsert", "IRQHandler_SetNotification"],
  // Per cap: a changed cap, or every cap when a global object changed.
  scope: (s, _prev, d) =>
    d.objects.has(s.irqNode) || d.objects.has(s.armGlobalPD) || d.objects.has(s.armGlobalPT) ? everything : changedSlots(d),
  find: (s, report) => {
    const objRange = (p: PPtr) => {
      const o = s.kheap.get(p)
      return o === undefined ? { lo: p, hi: p + 1 } : { lo: p, hi: p + bit(objBits(o)) }
    }
    const globals = [
      { what: "the idle thread", at: s.idleThread, r: { lo: s.idleThread, hi: s.idleThread + bit(tcbBits) } },
      { what: "the IRQ node", at: s.irqNode, r: objRange(s.irqNode) },
      { what: "the global page directory", at: s.armGlobalPD, r: objRange(s.armGlobalPD) },
      { what: "the global page table", at: s.armGlobalPT, r: objRange(s.armGlobalPT) },
    ]
    for (const [slot, c] of s.caps) {
      const r = capRange(c)
      if (isEmpty(r)) continue
      for (const g of globals) if (rangesMeet(r, g.r)) report(`${showSlot(s, slot)} holds ${showCap(c)}, which reaches ${g.what} ${hex(g.at)}`)
    }
  },
})

/**
 * The scheduler action is sound: a thread to switch to is a runnable TCB in the current domain;
 * when the current thread is to resume, it is runnable or idle.
 *
 * Why: the scheduler switches to the chosen thread without checking it.
 *
 * Mirrors: l4v DetSchedInvs_AI `valid_sched_action` (is_activatable, weak_valid_sched_action,
 * switch_in_cur_domain).
 */
export const validSchedAction = defineInvariant({
  name: "valid_sched_action",
  statement:
    "A SwitchToThread target is a runnable TCB in the current domain; under ResumeCurrentThread the current thread " +
    "is runnable or idle.",
  mirrors: "l4v DetSchedInvs_AI valid_sched_action",
  threatenedBy: ["schedule", "possibleSwitchTo", "setThreadState", "TCB_Suspend", "TCB_SetPriority", "sendIPC", "receiveIPC"],
  // The action, the current thread and domain, and the objects they name.
  scope: (s, prev, d) =>
    s.schedulerAction === prev.schedulerAction && s.curThread === prev.curThread && s.curDomain === prev.curDomain &&
      !d.objects.has(s.curThread) && (s.schedulerAction.tag !== "SwitchToThread" || !d.objects.has(s.schedulerAction.target)) ? nothingChanged : noKeys,
  find: (s, report) => {
    const a = s.schedulerAction
    if (a.tag === "SwitchToThread") {
      const o = s.kheap.get(a.target)
      if (o?.tag !== "TCB") report(`the scheduler action switches to ${hex(a.target)}, which is ${o === undefined ? "no object" : `a ${o.tag}`}, not a TCB`)
      else {
        if (!isRunnable(o.tcbState)) report(`the scheduler action switches to ${hex(a.target)}, which is ${o.tcbState.tag}, not runnable`)
        if (o.tcbDomain !== s.curDomain) report(`the scheduler action switches to ${hex(a.target)} in domain ${o.tcbDomain}, not the current domain ${s.curDomain}`)
      }
    } else if (a.tag === "ResumeCurrentThread") {
      const o = s.kheap.get(s.curThread)
      if (o?.tag === "TCB" && !isRunnable(o.tcbState) && o.tcbState.tag !== "IdleThreadState") {
        report(`the current thread ${hex(s.curThread)} is to resume but is ${o.tcbState.tag}`)
      }
    }
  },
})

/**
 * Every ready queue is non-empty and holds distinct runnable TCBs whose domain and priority are
 * the queue's.
 *
 * Why: the scheduler picks the head of the highest non-empty queue of the current domain.
 *
 * Mirrors: l4v DetSchedInvs_AI `valid_queues`.
 */
export const validQueues = defineInvariant({
  name: "valid_queues",
  statement: "Every ready queue is non-empty and holds distinct runnable TCBs of the queue's domain and priority.",
  mirrors: "l4v DetSchedInvs_AI valid_queues",
  threatenedBy: ["tcbSchedEnqueue", "tcbSchedDequeue", "TCB_SetPriority", "TCB_Suspend", "setThreadState", "schedule", "DomainSet_Set"],
  // The queues and their threads: checked whole (they hold the runnable threads only) when either changed.
  scope: (s, prev, d) => (s.readyQueues === prev.readyQueues && d.objects.size === 0 ? nothingChanged : noKeys),
  find: (s, report) => {
    for (const [key, q] of s.readyQueues) {
      const d = Math.floor(key / numPriorities)
      const p = key % numPriorities
      const where = `ready queue (domain ${d}, priority ${p})`
      if (q.length === 0) report(`${where} is present but empty`)
      const seen = new Set<PPtr>()
      for (const t of q) {
        if (seen.has(t)) report(`${where} holds ${hex(t)} twice`)
        seen.add(t)
        const o = s.kheap.get(t)
        if (o?.tag !== "TCB") { report(`${where} holds ${hex(t)}, which is not a TCB`); continue }
        if (o.tcbDomain !== d || o.tcbPriority !== p) report(`${where} holds ${hex(t)} of domain ${o.tcbDomain}, priority ${o.tcbPriority}`)
        if (!isRunnable(o.tcbState)) report(`${where} holds ${hex(t)}, which is ${o.tcbState.tag}, not runnable`)
      }
    }
  },
})

/**
 * A thread that some non-master reply cap names is blocked waiting for that reply, and each
 * thread has at most one such cap.
 *
 * Why: Reply resumes the named thread; a second reply cap, or one to a thread not waiting, would
 * resume it twice or at the wrong time.
 *
 * Mirrors: l4v Invariants_AI `valid_reply_caps` (with `unique_reply_caps`).
 */
export const validReplyCaps = defineInvariant({
  name: "valid_reply_caps",
  statement: "A thread named by a non-master reply cap is BlockedOnReply, and no thread is named by two.",
  mirrors: "l4v Invariants_AI valid_reply_caps",
  threatenedBy: ["sendIPC", "receiveIPC", "doReplyTransfer", "handleReply", "CNode_Copy", "TCB_Suspend", "cancelIPC"],
  // Per reply cap: a changed one, with every cap naming its thread (the checker's cap index); every reply cap to a changed thread.
  scope: validReplyCapsScope,
  find: (s, report) => {
    const holder = new Map<PPtr, SlotPtr>()
    for (const [slot, c] of s.caps) {
      if (c.tag !== "ReplyCap" || c.isMaster) continue
      const prev = holder.get(c.tcb)
      if (prev !== undefined) report(`${showSlot(s, prev)} and ${showSlot(s, slot)} both hold reply caps to ${hex(c.tcb)}`)
      else holder.set(c.tcb, slot)
      const o = s.kheap.get(c.tcb)
      if (o?.tag === "TCB" && o.tcbState.tag !== "BlockedOnReply") {
        report(`${showSlot(s, slot)} holds a reply cap to ${hex(c.tcb)}, which is ${o.tcbState.tag}, not BlockedOnReply`)
      }
    }
  },
})

/**
 * A master reply cap to a thread lives only in that thread's reply slot.
 *
 * Why: the master reply cap is the CDT root of the thread's reply caps; a moved one escapes
 * the thread's deletion.
 *
 * Mirrors: l4v Invariants_AI `valid_reply_masters`.
 */
export const validReplyMasters = defineInvariant({
  name: "valid_reply_masters",
  statement: "A master reply cap to a thread lives only in that thread's reply slot.",
  mirrors: "l4v Invariants_AI valid_reply_masters",
  threatenedBy: ["CNode_Move", "CNode_Rotate", "CNode_Copy", "cteMove", "Untyped_Retype"],
  // Per slot: its cap.
  scope: (_s, _prev, d) => changedSlots(d),
  find: (s, report) => {
    for (const [slot, c] of s.caps) {
      if (c.tag === "ReplyCap" && c.isMaster && slot !== slotOf(c.tcb, tcbReply)) {
        report(`${showSlot(s, slot)} holds the master reply cap to ${hex(c.tcb)}, outside its reply slot ${hex(slotOf(c.tcb, tcbReply))}`)
      }
    }
  },
})

/** The threads in some ready queue (each queue's members; duplicates collapse). */
const queuedThreads = (s: KernelState): ReadonlySet<PPtr> => {
  const out = new Set<PPtr>()
  for (const q of s.readyQueues.values()) for (const t of q) out.add(t)
  return out
}

/**
 * Every runnable thread is where the scheduler will find it: in a ready queue, the current
 * thread, or the target of a pending SwitchToThread. Equivalently, a thread outside the ready
 * queues that is neither current nor the switch target is not Running or Restart.
 *
 * Why: a runnable thread in none of these places would never be scheduled again (a lost wakeup).
 * The exceptions are exactly l4v's: the current thread is not queued while it runs, and the
 * switch target is queued only if schedule decides against switching to it.
 *
 * Mirrors: l4v DetSchedInvs_AI `valid_blocked`.
 */
export const validBlocked = defineInvariant({
  name: "valid_blocked",
  statement:
    "Every Running or Restart thread is in a ready queue, is the current thread, or is the SwitchToThread target.",
  mirrors: "l4v DetSchedInvs_AI valid_blocked",
  threatenedBy: [
    "setThreadState", "possibleSwitchTo", "schedule", "sendIPC", "receiveIPC", "doReplyTransfer", "sendSignal",
    "cancelAllIPC", "cancelAllSignals", "CNode_CancelBadgedSends", "TCB_Resume", "TCB_SetPriority", "TCB_SetSchedParams",
    "DomainSet_Set", "tcbSchedDequeue", "handleYield", "timerTick",
  ],
  // Per thread: a changed one, or one that left the queues, the current thread or the switch target.
  scope: validBlockedScope,
  find: (s, report) => {
    const queued = queuedThreads(s)
    const a = s.schedulerAction
    const target = a.tag === "SwitchToThread" ? a.target : null
    for (const [p, o] of s.kheap) {
      if (o.tag !== "TCB" || !isRunnable(o.tcbState)) continue
      if (queued.has(p) || p === s.curThread || p === target) continue
      report(`TCB ${hex(p)} is ${o.tcbState.tag} but is in no ready queue, not current and not the switch target`)
    }
  },
})

/**
 * While the scheduler action is ResumeCurrentThread, the current thread is in no ready queue.
 *
 * Why: a running thread that is also queued could be chosen a second time (run twice, or be
 * dequeued from the wrong place when it blocks).
 *
 * Mirrors: l4v DetSchedInvs_AI `ct_not_in_q` (Invariants_H `ct_not_inQ`).
 */
export const ctNotInQ = defineInvariant({
  name: "ct_not_in_q",
  statement: "Under ResumeCurrentThread the current thread is in no ready queue.",
  mirrors: "l4v DetSchedInvs_AI ct_not_in_q",
  threatenedBy: ["schedule", "switchToThread", "tcbSchedEnqueue", "TCB_Resume", "TCB_SetPriority", "possibleSwitchTo", "timerTick"],
  // The action, the current thread and the queues.
  scope: (s, prev) => (s.schedulerAction === prev.schedulerAction && s.curThread === prev.curThread && s.readyQueues === prev.readyQueues ? nothingChanged : noKeys),
  find: (s, report) => {
    if (s.schedulerAction.tag !== "ResumeCurrentThread") return
    for (const [key, q] of s.readyQueues) {
      if (q.includes(s.curThread)) {
        report(`the current thread ${hex(s.curThread)} is to resume but is in ready queue (domain ${Math.floor(key / numPriorities)}, priority ${key % numPriorities})`)
      }
    }
  },
})

/**
 * While the scheduler action is ResumeCurrentThread, the current thread is the idle thread or
 * belongs to the current domain.
 *
 * Why: domain separation: a thread of another domain must not run in this domain's time.
 *
 * Mirrors: l4v DetSchedInvs_AI `ct_in_cur_domain` (Invariants_H `ct_idle_or_in_cur_domain'`).
 */
export const ctInCurDomain = defineInvariant({
  name: "ct_in_cur_domain",
  statement: "Under ResumeCurrentThread the current thread is the idle thread or in the current domain.",
  mirrors: "l4v DetSchedInvs_AI ct_in_cur_domain",
  threatenedBy: ["schedule", "DomainSet_Set", "nextDomain"],
  // The action, the current thread and domain, and the current thread's object.
  scope: (s, prev, d) =>
    s.schedulerAction === prev.schedulerAction && s.curThread === prev.curThread && s.curDomain === prev.curDomain && !d.objects.has(s.curThread) ? nothingChanged : noKeys,
  find: (s, report) => {
    if (s.schedulerAction.tag !== "ResumeCurrentThread" || s.curThread === s.idleThread) return
    const o = s.kheap.get(s.curThread)
    if (o?.tag === "TCB" && o.tcbDomain !== s.curDomain) {
      report(`the current thread ${hex(s.curThread)} is to resume in domain ${o.tcbDomain}, but the current domain is ${s.curDomain}`)
    }
  },
})

/**
 * The idle thread belongs to the default domain, 0.
 *
 * Why: the idle thread runs in whatever domain has nothing else to run; it is never moved.
 *
 * Mirrors: l4v DetSchedInvs_AI `valid_idle_etcb`.
 */
export const validIdleEtcb = defineInvariant({
  name: "valid_idle_etcb",
  statement: "The idle thread is in domain 0 (the default domain).",
  mirrors: "l4v DetSchedInvs_AI valid_idle_etcb",
  threatenedBy: ["DomainSet_Set"],
  // The idle thread's object.
  scope: (s, _prev, d) => (d.objects.has(s.idleThread) ? noKeys : nothingChanged),
  find: (s, report) => {
    const o = s.kheap.get(s.idleThread)
    if (o?.tag === "TCB" && o.tcbDomain !== 0) report(`the idle thread ${hex(s.idleThread)} is in domain ${o.tcbDomain}, not 0`)
  },
})

/**
 * Every thread's remaining time slice is in 1..5 ticks (seL4's `CONFIG_TIME_SLICE`).
 *
 * Why: timerTick decrements a slice above 1 and refills one at 1; a slice of 0 or above the
 * maximum would make a thread's turn end at the wrong tick (or never, after wrap-around).
 *
 * Mirrors: none (kspec-specific; l4v keeps `tcb_time_slice` out of `valid_sched`, see the
 * FIXME on `etcb` in DetSchedInvs_AI; non-MCS C `timerTick` keeps it in 1..CONFIG_TIME_SLICE).
 */
export const validTimeSlice = defineInvariant({
  name: "valid_time_slice",
  statement: `Every thread's time slice is in 1..${timeSlice}.`,
  mirrors: "none (kspec-specific; non-MCS C timerTick; l4v leaves tcb_time_slice out of valid_sched)",
  threatenedBy: ["timerTick", "Untyped_Retype", "handleYield"],
  // Per TCB: its own time slice.
  scope: (_s, _prev, d) => changedObjects(d),
  find: (s, report) => {
    for (const [p, o] of s.kheap) {
      if (o.tag === "TCB" && !(Number.isInteger(o.tcbTimeSlice) && o.tcbTimeSlice >= 1 && o.tcbTimeSlice <= timeSlice)) {
        report(`TCB ${hex(p)} has time slice ${o.tcbTimeSlice}, not in 1..${timeSlice}`)
      }
    }
  },
})

/** The thread invariants, in registry order. */
export const threadInvariants = [
  curTcb, validIdle, onlyIdle, validGlobalRefs, validSchedAction, validQueues, validReplyCaps, validReplyMasters,
  validBlocked, ctNotInQ, ctInCurDomain, validIdleEtcb, validTimeSlice,
] as const
