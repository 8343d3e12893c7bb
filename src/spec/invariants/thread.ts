/**
 * Thread-level invariants: the current and idle threads, the scheduler action and ready queues,
 * reply caps, and what no cap may name (l4v Invariants_AI `cur_tcb`, `valid_idle`, `only_idle`,
 * `valid_reply_caps`, `valid_reply_masters`, `valid_global_refs`; DetSchedInvs_AI).
 * @category invariants
 */
import type { PPtr, SlotPtr } from "../../model/index.ts"
import { bit, isRunnable, numPriorities, showCap, tcbBits, tcbReply } from "../../model/index.ts"
import { slotOf } from "../state.ts"
import { capRange, hex, rangesMeet, showSlot } from "./internal.ts"
import { defineInvariant } from "./types.ts"

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
  find: (s, report) => {
    for (const [p, o] of s.kheap) {
      if (o.tag === "TCB" && o.tcbState.tag === "IdleThreadState" && p !== s.idleThread) {
        report(`TCB ${hex(p)} is in IdleThreadState but the idle thread is ${hex(s.idleThread)}`)
      }
    }
  },
})

/**
 * No cap names the idle thread (no thread cap, no reply cap, no cap whose range covers it).
 *
 * Why: user code must not be able to invoke, suspend or delete the idle thread.
 *
 * Mirrors: l4v Invariants_AI `valid_global_refs` (kspec's only global object is the idle thread).
 */
export const validGlobalRefs = defineInvariant({
  name: "valid_global_refs",
  statement: "No cap's range meets the idle thread's TCB.",
  mirrors: "l4v Invariants_AI valid_global_refs",
  threatenedBy: ["Untyped_Retype", "sendIPC", "setupCallerCap", "cteInsert"],
  find: (s, report) => {
    const idle = { lo: s.idleThread, hi: s.idleThread + bit(tcbBits) }
    for (const [slot, c] of s.caps) {
      if (rangesMeet(capRange(c), idle)) report(`${showSlot(s, slot)} holds ${showCap(c)}, which reaches the idle thread ${hex(s.idleThread)}`)
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
  find: (s, report) => {
    for (const [slot, c] of s.caps) {
      if (c.tag === "ReplyCap" && c.isMaster && slot !== slotOf(c.tcb, tcbReply)) {
        report(`${showSlot(s, slot)} holds the master reply cap to ${hex(c.tcb)}, outside its reply slot ${hex(slotOf(c.tcb, tcbReply))}`)
      }
    }
  },
})

/** The thread invariants, in registry order. */
export const threadInvariants = [
  curTcb, validIdle, onlyIdle, validGlobalRefs, validSchedAction, validQueues, validReplyCaps, validReplyMasters,
] as const
