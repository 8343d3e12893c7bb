/**
 * Thread state changes, the ready queues, the scheduler and the domain schedule, the thread
 * parameters (priority, MCP, domain), suspend and restart (seL4 src/kernel/thread.c, Haskell
 * SEL4/Kernel/Thread.lhs, l4v A/Schedule_A, A/Tcb_A, non-MCS, one core). Ready queues are FIFO
 * lists per (domain, priority); the head runs first.
 * @category scheduling
 */
import { match } from "ts-pattern"
import type { PPtr, ThreadState } from "../../model/index.ts"
import { isRunnable, numPriorities, timeSlice } from "../../model/index.ts"
import type { DomainScheduleItem, KernelState } from "../state.ts"
import { getRestartPC, setNextPC, updateRestartPC } from "../machine/registerset.ts"
import { KernelBug, getTcb, mapDelete, mapSet, readyQueueIndex, tcbWith, updateState, updateTcb } from "../state.ts"
import { cancelIPC } from "../object/endpoint.ts"
import { setupReplyMaster } from "../object/cnode.ts"

/** The ready queue a thread belongs in. */
const queueOf = (s: KernelState, t: PPtr): number => {
  const tcb = getTcb(s, t)
  return readyQueueIndex(tcb.tcbDomain, tcb.tcbPriority)
}

const setQueue = (s: KernelState, q: number, ts: readonly PPtr[]): KernelState =>
  updateState(s, { readyQueues: ts.length === 0 ? mapDelete(s.readyQueues, q) : mapSet(s.readyQueues, q, ts) })

/** Is `t` in its ready queue? (C keeps this as the `tcbQueued` bit.) */
export const isQueued = (s: KernelState, t: PPtr): boolean => s.readyQueues.get(queueOf(s, t))?.includes(t) ?? false

/** Put `t` at the head of its ready queue unless it is queued already. Mirrors seL4 `tcbSchedEnqueue`. */
export const tcbSchedEnqueue = (s: KernelState, t: PPtr): KernelState => {
  if (isQueued(s, t)) return s
  const q = queueOf(s, t)
  return setQueue(s, q, [t, ...(s.readyQueues.get(q) ?? [])])
}

/** Put `t` at the tail of its ready queue unless it is queued already. Mirrors seL4 `tcbSchedAppend`. */
export const tcbSchedAppend = (s: KernelState, t: PPtr): KernelState => {
  if (isQueued(s, t)) return s
  const q = queueOf(s, t)
  return setQueue(s, q, [...(s.readyQueues.get(q) ?? []), t])
}

/** Take `t` out of its ready queue if it is there. Mirrors seL4 `tcbSchedDequeue`. */
export const tcbSchedDequeue = (s: KernelState, t: PPtr): KernelState => {
  if (!isQueued(s, t)) return s
  const q = queueOf(s, t)
  return setQueue(s, q, (s.readyQueues.get(q) ?? []).filter((x) => x !== t))
}

/**
 * The current thread must give up the CPU at the next schedule: a pending switch target goes
 * back to its queue. Mirrors seL4 `rescheduleRequired`.
 */
export const rescheduleRequired = (s: KernelState): KernelState => {
  const a = s.schedulerAction
  const s1 = a.tag === "SwitchToThread" && isRunnable(getTcb(s, a.target).tcbState) ? tcbSchedEnqueue(s, a.target) : s
  return updateState(s1, { schedulerAction: { tag: "ChooseNewThread" } })
}

/**
 * If the current thread just stopped being runnable while it was to be resumed, choose anew.
 * Mirrors seL4 `scheduleTCB`.
 */
export const scheduleTCB = (s: KernelState, t: PPtr): KernelState =>
  t === s.curThread && s.schedulerAction.tag === "ResumeCurrentThread" && !isRunnable(getTcb(s, t).tcbState)
    ? updateState(s, { schedulerAction: { tag: "ChooseNewThread" } })
    : s

/** Set a thread's state and let the scheduler react. Mirrors seL4 `setThreadState`. */
export const setThreadState = (s: KernelState, t: PPtr, st: ThreadState): KernelState =>
  scheduleTCB(updateTcb(s, t, (tcb) => tcbWith(tcb, { tcbState: st })), t)

/**
 * Wake `t`: switch to it at the next schedule if nothing else is pending, else queue it.
 * Mirrors seL4 `possibleSwitchTo` (non-MCS).
 */
export const possibleSwitchTo = (s: KernelState, t: PPtr): KernelState => {
  if (getTcb(s, t).tcbDomain !== s.curDomain) return tcbSchedEnqueue(s, t)
  if (s.schedulerAction.tag !== "ResumeCurrentThread") return tcbSchedEnqueue(rescheduleRequired(s), t)
  return updateState(s, { schedulerAction: { tag: "SwitchToThread", target: t } })
}

/** Highest priority with a non-empty ready queue in `dom`, or -1. Mirrors seL4 `getHighestPrio`. */
export const highestPrio = (s: KernelState, dom: number): number => {
  let best = -1
  for (const [q, ts] of s.readyQueues) {
    if (ts.length > 0 && Math.floor(q / numPriorities) === dom && q % numPriorities > best) best = q % numPriorities
  }
  return best
}

/** Make `t` current, taking it out of its queue. Mirrors seL4 `switchToThread`. */
const switchToThread = (s: KernelState, t: PPtr): KernelState => updateState(tcbSchedDequeue(s, t), { curThread: t })

/** Run the head of the highest non-empty queue of the current domain, or the idle thread. Mirrors seL4 `chooseThread`. */
export const chooseThread = (s: KernelState): KernelState => {
  const dom = s.numDomains > 1 ? s.curDomain : 0
  const prio = highestPrio(s, dom)
  if (prio < 0) return updateState(s, { curThread: s.idleThread })
  const head = s.readyQueues.get(readyQueueIndex(dom, prio))?.[0]
  if (head === undefined) throw new KernelBug("chooseThread: non-empty queue has no head")
  return switchToThread(s, head)
}

/** Is the schedule entry an end marker, `(0, 0)`? Mirrors seL4 `dschedule_is_end_marker` / l4v `domain_end_marker`. */
export const isEndMarker = (e: DomainScheduleItem | undefined): boolean => e === undefined || (e.domain === 0 && e.duration === 0n)

/**
 * Move to the next entry of the domain schedule: the one after the current entry, or the start
 * entry when that one is an end marker; its domain becomes current, for its duration, and the
 * preemption work counter starts over. Mirrors seL4 `nextDomain` / l4v `next_domain` (non-MCS: the duration is in ticks).
 */
export const nextDomain = (s: KernelState): KernelState => {
  const inc = s.domainIndex + 1
  const index = isEndMarker(s.domainList[inc]) ? s.domainStartIndex : inc
  const e = s.domainList[index]
  if (e === undefined) throw new KernelBug("nextDomain: schedule index out of range")
  // A new domain's turn starts with no work counted towards a preemption (C and l4v reset it here).
  return updateState(s, { domainIndex: index, curDomain: e.domain, domainTime: e.duration, workUnitsCompleted: 0 })
}

/**
 * Choose anew: when the current domain's time is up, first move to the next domain; then run the
 * best ready thread of the (new) current domain. Mirrors seL4 `scheduleChooseNewThread` / l4v
 * `schedule_choose_new_thread` (`prepareNextDomain` has nothing to save without an FPU).
 */
export const scheduleChooseNewThread = (s: KernelState): KernelState =>
  chooseThread(s.domainTime === 0n ? nextDomain(s) : s)

/** Keep the current thread at the next schedule. */
const resume = (s: KernelState): KernelState => updateState(s, { schedulerAction: { tag: "ResumeCurrentThread" } })

/**
 * Act on the scheduler action: keep the current thread, or queue it (if runnable) and switch to
 * the chosen target or the best ready thread. A woken thread of lower priority than the current
 * one is only switched to if it is the highest ready; one of equal priority goes to the back of
 * its queue. Choosing anew first moves to the next domain when the current one's time is up.
 * Mirrors seL4 `schedule` (non-MCS).
 */
export const schedule = (s0: KernelState): KernelState => {
  const action = s0.schedulerAction
  if (action.tag === "ResumeCurrentThread") return s0
  const wasRunnable = isRunnable(getTcb(s0, s0.curThread).tcbState)
  const s = wasRunnable ? tcbSchedEnqueue(s0, s0.curThread) : s0
  // Choose anew: the best ready thread (of the next domain, if this one's time is up).
  if (action.tag === "ChooseNewThread") return resume(scheduleChooseNewThread(s))
  // Switch to a woken thread, unless it should wait its turn.
  const target = action.target
  const cand = getTcb(s, target)
  const cur = getTcb(s, s.curThread)
  const fastfail = s.curThread === s.idleThread || cand.tcbPriority < cur.tcbPriority
  const dom = s.numDomains > 1 ? s.curDomain : 0
  // A lower-priority candidate that is not the best ready thread waits in its queue.
  if (fastfail && highestPrio(s, dom) > cand.tcbPriority) return resume(scheduleChooseNewThread(tcbSchedEnqueue(s, target)))
  // An equal-priority candidate goes behind the current thread.
  if (wasRunnable && cand.tcbPriority === cur.tcbPriority) return resume(scheduleChooseNewThread(tcbSchedAppend(s, target)))
  return resume(switchToThread(s, target))
}

/**
 * Prepare the chosen thread to run: a restarted thread resumes at its restart address
 * (NextIP := FaultIP) and becomes Running. Mirrors seL4 `activateThread`.
 */
export const activateThread = (s: KernelState): KernelState => {
  const st = getTcb(s, s.curThread).tcbState
  switch (st.tag) {
    // Running threads (and idle) just run.
    case "Running": case "IdleThreadState": return s
    // A restarted thread re-executes its syscall: its restart address becomes the next PC.
    case "Restart":
      return setThreadState(setNextPC(s, s.curThread, getRestartPC(s, s.curThread)), s.curThread, { tag: "Running" })
    default: throw new KernelBug("Current thread is blocked")
  }
}

/**
 * A tick of the current thread's time slice: a Running thread uses up one tick; when the slice
 * runs out it is refilled, the thread goes to the back of its ready queue and the scheduler
 * chooses again (round robin among equal priorities). The first half of seL4 `timerTick`.
 */
const sliceTick = (s: KernelState): KernelState => {
  const t = s.curThread
  const tcb = getTcb(s, t)
  if (tcb.tcbState.tag !== "Running") return s
  if (tcb.tcbTimeSlice > 1) return updateTcb(s, t, (x) => ({ ...x, tcbTimeSlice: x.tcbTimeSlice - 1 }))
  const s1 = updateTcb(s, t, (x) => ({ ...x, tcbTimeSlice: timeSlice }))
  return rescheduleRequired(tcbSchedAppend(s1, t))
}

/**
 * A timer tick: the current thread's time slice ticks (see `sliceTick`); with more than one
 * domain, the current domain's time does too, and when it reaches 0 the scheduler chooses again
 * (and `schedule` moves to the next domain). Mirrors seL4 `timerTick` (non-MCS) / l4v `timer_tick`.
 */
export const timerTick = (s: KernelState): KernelState => {
  const s1 = sliceTick(s)
  if (s1.numDomains <= 1) return s1
  const s2 = updateState(s1, { domainTime: s1.domainTime - 1n })
  return s2.domainTime === 0n ? rescheduleRequired(s2) : s2
}

// ---- thread parameters (seL4 src/kernel/thread.c, A/KHeap_A, A/Tcb_A) ---------------------------

/** Set a thread's maximum controlled priority; nothing else changes. Mirrors seL4 `setMCPriority` (non-MCS). */
export const setMCPriority = (s: KernelState, t: PPtr, mcp: number): KernelState =>
  updateTcb(s, t, (tcb) => tcbWith(tcb, { tcbMCP: mcp }))

/**
 * Move a thread to priority `prio`: it leaves its ready queue; if runnable, the current thread
 * forces a reschedule and any other is offered to the scheduler (possibleSwitchTo).
 * Mirrors seL4 `setPriority` (non-MCS) / l4v `set_priority`.
 */
export const setPriority = (s: KernelState, t: PPtr, prio: number): KernelState => {
  const s1 = updateTcb(tcbSchedDequeue(s, t), t, (tcb) => tcbWith(tcb, { tcbPriority: prio }))
  if (!isRunnable(getTcb(s1, t).tcbState)) return s1
  return t === s1.curThread ? rescheduleRequired(s1) : possibleSwitchTo(s1, t)
}

/**
 * Move a thread to domain `dom`: it leaves its ready queue, joins the new domain's queue if
 * runnable (the current thread too), and the current thread forces a reschedule.
 * Mirrors seL4 `setDomain` (non-MCS, so schedulable = runnable) / l4v `set_domain`.
 */
export const setDomain = (s: KernelState, t: PPtr, dom: number): KernelState => {
  const s1 = updateTcb(tcbSchedDequeue(s, t), t, (tcb) => tcbWith(tcb, { tcbDomain: dom }))
  const s2 = isRunnable(getTcb(s1, t).tcbState) ? tcbSchedEnqueue(s1, t) : s1
  return t === s2.curThread ? rescheduleRequired(s2) : s2
}

// ---- suspend and restart ---------------------------------------------------------------------------

/**
 * Stop a thread: cancel its IPC; if it was Running, make it restart at the instruction it would
 * run next (`updateRestartPC`); take it off the ready queue; make it Inactive.
 * Mirrors seL4 `suspend` (non-MCS, src/kernel/thread.c) / l4v `suspend`.
 */
export const suspend = (s: KernelState, t: PPtr): KernelState => {
  const s1 = cancelIPC(s, t)
  const s2 = getTcb(s1, t).tcbState.tag === "Running" ? updateRestartPC(s1, t) : s1
  return setThreadState(tcbSchedDequeue(s2, t), t, { tag: "Inactive" })
}

/** Is the thread stopped (inactive or blocked)? Running, Restart and idle threads are not. Mirrors seL4 `isStopped`. */
const isStopped = (s: KernelState, t: PPtr): boolean =>
  match(getTcb(s, t).tcbState)
    .with({ tag: "Inactive" }, { tag: "BlockedOnReceive" }, { tag: "BlockedOnSend" }, { tag: "BlockedOnNotification" },
      { tag: "BlockedOnReply" }, () => true)
    .with({ tag: "Running" }, { tag: "Restart" }, { tag: "IdleThreadState" }, () => false)
    .exhaustive()

/**
 * Wake a stopped thread: cancel its IPC, give it a master reply cap, make it Restart (it retries
 * what it was doing), queue it and offer it to the scheduler. A runnable thread is left alone.
 * Mirrors seL4 `restart` (non-MCS, src/kernel/thread.c) / l4v `restart`.
 */
export const restart = (s: KernelState, t: PPtr): KernelState => {
  if (!isStopped(s, t)) return s
  const s1 = setThreadState(setupReplyMaster(cancelIPC(s, t), t), t, { tag: "Restart" })
  return possibleSwitchTo(tcbSchedEnqueue(s1, t), t)
}
