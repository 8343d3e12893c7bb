/**
 * Thread states and the scheduler (seL4 src/kernel/thread.c and include/kernel/thread.h, non-MCS;
 * the ready queues from src/object/tcb.c): the two-level priority bitmap (addToBitmap,
 * removeFromBitmap, getHighestPrio, isHighestPrio), the ready queues (tcbSchedEnqueue,
 * tcbSchedAppend, tcbSchedDequeue), setThreadState, scheduleTCB, rescheduleRequired,
 * possibleSwitchTo, schedule/chooseThread, the domain schedule (nextDomain), activateThread,
 * timerTick, the thread parameters (setMCPriority, setPriority, setDomain), suspend and restart.
 * @category scheduling
 */
import type { ThreadState } from "../../model/index.ts"
import { isRunnable, timeSlice, wordRadix } from "../../model/index.ts"
import { getRestartPC, setNextPC, updateRestartPC } from "../machine/registerset.ts"
import { cancelIPC } from "../object/endpoint.ts"
import type { ImplState, ImplTcb } from "../state.ts"
import {
  ChooseNewThread, KernelBug, ResumeCurrentThread, dscheduleDomain, dscheduleDuration, dscheduleIsEndMarker, l2BitmapSize,
  readyQueuesIndex, ThreadStateInactive, ThreadStateRestart, ThreadStateRunning,
} from "../state.ts"
import { setupReplyMaster } from "../object/cnode.ts"

/** Non-MCS: a thread is schedulable iff runnable. C `isSchedulable`. */
const isSchedulable = (t: ImplTcb): boolean => isRunnable(t.tcbState)

// ---- the priority bitmap ------------------------------------------------------------------------

/** C `invert_l1index`. */
const invertL1Index = (l1index: number): number => l2BitmapSize - 1 - l1index

/** @refines spec/kernel/thread#tcbSchedEnqueue (C addToBitmap) */
function addToBitmap(k: ImplState, dom: number, prio: number): void {
  const l1index = prio >>> wordRadix
  const inv = invertL1Index(l1index)
  k.readyQueuesL1Bitmap[dom] = (k.readyQueuesL1Bitmap[dom]! | (1 << l1index)) >>> 0
  const i2 = dom * l2BitmapSize + inv
  k.readyQueuesL2Bitmap[i2] = (k.readyQueuesL2Bitmap[i2]! | (1 << (prio & 31))) >>> 0
}

/** @refines spec/kernel/thread#tcbSchedDequeue (C removeFromBitmap) */
function removeFromBitmap(k: ImplState, dom: number, prio: number): void {
  const l1index = prio >>> wordRadix
  const inv = invertL1Index(l1index)
  const i2 = dom * l2BitmapSize + inv
  k.readyQueuesL2Bitmap[i2] = (k.readyQueuesL2Bitmap[i2]! & ~(1 << (prio & 31))) >>> 0
  if (k.readyQueuesL2Bitmap[i2] === 0) {
    k.readyQueuesL1Bitmap[dom] = (k.readyQueuesL1Bitmap[dom]! & ~(1 << l1index)) >>> 0
  }
}

/**
 * The highest priority with a non-empty ready queue in `dom`. The L1 bitmap must be non-zero.
 * @refines spec/kernel/thread#highestPrio (C getHighestPrio)
 */
export function getHighestPrio(k: ImplState, dom: number): number {
  const l1 = k.readyQueuesL1Bitmap[dom]!
  const l1index = 31 - Math.clz32(l1)
  const l2 = k.readyQueuesL2Bitmap[dom * l2BitmapSize + invertL1Index(l1index)]!
  const l2index = 31 - Math.clz32(l2)
  return (l1index << wordRadix) | l2index
}

/** Is `prio` at least the highest ready priority of `dom`? C `isHighestPrio`. */
export function isHighestPrio(k: ImplState, dom: number, prio: number): boolean {
  return k.readyQueuesL1Bitmap[dom] === 0 || prio >= getHighestPrio(k, dom)
}

// ---- ready queues -------------------------------------------------------------------------------

/**
 * Put a thread at the head of its ready queue, unless it is already queued.
 * @refines spec/kernel/thread#tcbSchedEnqueue
 */
export function tcbSchedEnqueue(k: ImplState, tcb: ImplTcb): void {
  if (tcb.tcbQueued) return
  const idx = readyQueuesIndex(tcb.tcbDomain, tcb.tcbPriority)
  const head = k.readyQueueHead[idx]!
  if (head === null) {
    addToBitmap(k, tcb.tcbDomain, tcb.tcbPriority)
    k.readyQueueEnd[idx] = tcb
  } else {
    head.tcbSchedPrev = tcb
  }
  tcb.tcbSchedPrev = null
  tcb.tcbSchedNext = head
  k.readyQueueHead[idx] = tcb
  tcb.tcbQueued = true
}

/**
 * Put a thread at the tail of its ready queue, unless it is already queued.
 * @refines spec/kernel/thread#tcbSchedAppend
 */
export function tcbSchedAppend(k: ImplState, tcb: ImplTcb): void {
  if (tcb.tcbQueued) return
  const idx = readyQueuesIndex(tcb.tcbDomain, tcb.tcbPriority)
  const end = k.readyQueueEnd[idx]!
  if (end === null) {
    addToBitmap(k, tcb.tcbDomain, tcb.tcbPriority)
    k.readyQueueHead[idx] = tcb
  } else {
    end.tcbSchedNext = tcb
  }
  tcb.tcbSchedPrev = end
  tcb.tcbSchedNext = null
  k.readyQueueEnd[idx] = tcb
  tcb.tcbQueued = true
}

/**
 * Take a thread out of its ready queue, if it is queued.
 * @refines spec/kernel/thread#tcbSchedDequeue
 */
export function tcbSchedDequeue(k: ImplState, tcb: ImplTcb): void {
  if (!tcb.tcbQueued) return
  const idx = readyQueuesIndex(tcb.tcbDomain, tcb.tcbPriority)
  const before = tcb.tcbSchedPrev
  const after = tcb.tcbSchedNext
  if (before === null) k.readyQueueHead[idx] = after
  else before.tcbSchedNext = after
  if (after === null) k.readyQueueEnd[idx] = before
  else after.tcbSchedPrev = before
  tcb.tcbSchedPrev = null
  tcb.tcbSchedNext = null
  tcb.tcbQueued = false
  if (k.readyQueueHead[idx] === null) removeFromBitmap(k, tcb.tcbDomain, tcb.tcbPriority)
}

// ---- thread states and the scheduler ------------------------------------------------------------

/**
 * Set a thread's state, then let the scheduler react (C setThreadState + scheduleTCB).
 * @refines spec/kernel/thread#setThreadState
 */
export function setThreadState(k: ImplState, tptr: ImplTcb, ts: ThreadState): void {
  tptr.tcbState = ts
  scheduleTCB(k, tptr)
}

/**
 * If the current thread just stopped being runnable while the plan was to resume it, choose anew.
 * @refines spec/kernel/thread#scheduleTCB
 */
export function scheduleTCB(k: ImplState, tptr: ImplTcb): void {
  if (tptr === k.curThread && k.schedulerAction === ResumeCurrentThread && !isSchedulable(tptr)) {
    k.schedulerAction = ChooseNewThread
  }
}

/**
 * Force a fresh choice at the next schedule; a pending switch target goes back to its queue.
 * @refines spec/kernel/thread#rescheduleRequired
 */
export function rescheduleRequired(k: ImplState): void {
  const a = k.schedulerAction
  if (a !== ResumeCurrentThread && a !== ChooseNewThread && isSchedulable(a)) {
    tcbSchedEnqueue(k, a)
  }
  k.schedulerAction = ChooseNewThread
}

/**
 * A thread became runnable: switch to it at the end of this entry if nothing else is pending,
 * otherwise queue it.
 * @refines spec/kernel/thread#possibleSwitchTo
 */
export function possibleSwitchTo(k: ImplState, target: ImplTcb): void {
  if (k.curDomain !== target.tcbDomain) {
    tcbSchedEnqueue(k, target)
  } else if (k.schedulerAction !== ResumeCurrentThread) {
    rescheduleRequired(k)
    tcbSchedEnqueue(k, target)
  } else {
    k.schedulerAction = target
  }
}

/** @refines spec/kernel/thread#switchToThread */
export function switchToThread(k: ImplState, thread: ImplTcb): void {
  tcbSchedDequeue(k, thread)
  k.curThread = thread
}

/** @refines spec/kernel/thread#chooseThread */
export function switchToIdleThread(k: ImplState): void {
  k.curThread = k.idleThread
}

/**
 * Run the head of the highest non-empty ready queue of the current domain, else the idle thread.
 * @refines spec/kernel/thread#chooseThread
 */
export function chooseThread(k: ImplState): void {
  const dom = k.numDomains > 1 ? k.curDomain : 0
  if (k.readyQueuesL1Bitmap[dom] !== 0) {
    const prio = getHighestPrio(k, dom)
    const thread = k.readyQueueHead[readyQueuesIndex(dom, prio)] ?? null
    if (thread === null) throw new KernelBug("chooseThread: non-empty queue has no head")
    if (!isSchedulable(thread)) throw new KernelBug("chooseThread: queued thread must be runnable")
    switchToThread(k, thread)
  } else {
    switchToIdleThread(k)
  }
}

/**
 * Move to the next entry of the domain schedule (the start entry after an end marker) and make
 * its domain current for its duration; the preemption work counter starts over. C `nextDomain` (non-MCS).
 * @refines spec/kernel/thread#nextDomain
 */
export function nextDomain(k: ImplState): void {
  k.domScheduleIdx++
  if (dscheduleIsEndMarker(k, k.domScheduleIdx)) {
    k.domScheduleIdx = k.domScheduleStart
  }
  k.ksWorkUnitsCompleted = 0
  const sched = k.domSchedule[k.domScheduleIdx]
  if (sched === undefined) throw new KernelBug("nextDomain: schedule index out of range")
  k.curDomain = dscheduleDomain(sched)
  k.domainTime = dscheduleDuration(sched)
}

/**
 * Choose anew, first moving to the next domain when the current one's time is up (C
 * `prepareNextDomain` has nothing to save without an FPU or VCPU).
 * @refines spec/kernel/thread#scheduleChooseNewThread
 */
function scheduleChooseNewThread(k: ImplState): void {
  if (k.domainTime === 0n) {
    nextDomain(k)
  }
  chooseThread(k)
}

/**
 * Act on the scheduler action: keep the current thread, switch to the chosen one, or choose anew
 * (re-queueing the current thread at the head of its queue if it is still runnable).
 * @refines spec/kernel/thread#schedule
 */
export function schedule(k: ImplState): void {
  const action = k.schedulerAction
  if (action !== ResumeCurrentThread) {
    const ct = k.curThread
    let wasRunnable: boolean
    if (isSchedulable(ct)) {
      wasRunnable = true
      tcbSchedEnqueue(k, ct)
    } else {
      wasRunnable = false
    }
    if (action === ChooseNewThread) {
      scheduleChooseNewThread(k)
    } else {
      const candidate = action
      if (!isSchedulable(candidate)) throw new KernelBug("schedule: switch target must be runnable")
      const fastfail = ct === k.idleThread || candidate.tcbPriority < ct.tcbPriority
      if (fastfail && !isHighestPrio(k, k.curDomain, candidate.tcbPriority)) {
        tcbSchedEnqueue(k, candidate)
        k.schedulerAction = ChooseNewThread
        scheduleChooseNewThread(k)
      } else if (wasRunnable && candidate.tcbPriority === ct.tcbPriority) {
        tcbSchedAppend(k, candidate)
        k.schedulerAction = ChooseNewThread
        scheduleChooseNewThread(k)
      } else {
        if (candidate === ct) throw new KernelBug("schedule: switch target must not be the current thread")
        switchToThread(k, candidate)
      }
    }
  }
  k.schedulerAction = ResumeCurrentThread
}

/**
 * Make the chosen thread ready to run: a Restart thread continues at its restart PC
 * (NextIP := FaultIP) and becomes Running.
 * @refines spec/kernel/thread#activateThread
 */
export function activateThread(k: ImplState): void {
  const t = k.curThread
  switch (t.tcbState.tag) {
    // Running: nothing to do.
    case "Running":
      break
    // Restart: resume at the restart PC (re-executing the syscall), i.e. run.
    case "Restart":
      setNextPC(t, getRestartPC(t))
      setThreadState(k, t, ThreadStateRunning)
      break
    // The idle thread idles.
    case "IdleThreadState":
      break
    default:
      throw new KernelBug("Current thread is blocked")
  }
}

/**
 * A timer tick (non-MCS): a Running current thread loses one tick of its time slice; on its last
 * tick the slice is refilled, the thread goes to the back of its ready queue and a reschedule is
 * required. With several domains the current domain loses a tick too; when its time is up a
 * reschedule is required (and `schedule` moves to the next domain).
 * @refines spec/kernel/thread#timerTick
 */
export function timerTick(k: ImplState): void {
  const ct = k.curThread
  if (ct.tcbState.tag === "Running") {
    if (ct.tcbTimeSlice > 1) {
      ct.tcbTimeSlice--
    } else {
      ct.tcbTimeSlice = timeSlice
      tcbSchedAppend(k, ct)
      rescheduleRequired(k)
    }
  }
  if (k.numDomains > 1) {
    k.domainTime--
    if (k.domainTime === 0n) {
      rescheduleRequired(k)
    }
  }
}

// ---- thread parameters --------------------------------------------------------------------------

/** C `setMCPriority` (src/kernel/thread.c). @refines spec/kernel/thread#setMCPriority */
export function setMCPriority(tptr: ImplTcb, mcp: number): void {
  tptr.tcbMCP = mcp
}

/**
 * Set a thread's priority: off its ready queue, new priority, then if runnable either reschedule
 * (the current thread) or offer it to the scheduler. C `setPriority` (src/kernel/thread.c, non-MCS).
 * @refines spec/kernel/thread#setPriority
 */
export function setPriority(k: ImplState, tptr: ImplTcb, prio: number): void {
  tcbSchedDequeue(k, tptr)
  tptr.tcbPriority = prio
  const tag = tptr.tcbState.tag
  if (tag === "Running" || tag === "Restart") {
    if (tptr === k.curThread) rescheduleRequired(k)
    else possibleSwitchTo(k, tptr)
  }
}

/**
 * Move a thread to domain `dom`: off its ready queue, new domain, back onto the new domain's
 * queue if runnable; the current thread forces a reschedule. (C `prepareSetDomain` does nothing
 * on aarch32 without a hypervisor or FPU.)
 * @refines spec/kernel/thread#setDomain
 */
export function setDomain(k: ImplState, tptr: ImplTcb, dom: number): void {
  tcbSchedDequeue(k, tptr)
  tptr.tcbDomain = dom
  if (isRunnable(tptr.tcbState)) tcbSchedEnqueue(k, tptr)
  if (tptr === k.curThread) rescheduleRequired(k)
}

// ---- suspend and restart -------------------------------------------------------------------------

/**
 * Stop a thread: cancel any IPC; a Running thread first saves its restart address
 * (`updateRestartPC`: FaultIP := NextIP); then off the ready queue and Inactive.
 * @refines spec/kernel/thread#suspend
 */
export function suspend(k: ImplState, target: ImplTcb): void {
  cancelIPC(k, target)
  if (target.tcbState.tag === "Running") updateRestartPC(target)
  tcbSchedDequeue(k, target)
  setThreadState(k, target, ThreadStateInactive)
}

/**
 * Restart a stopped thread (C `isStopped`: Inactive or blocked): cancel its IPC, give it a master
 * reply cap, make it Restart, queue it and offer it to the scheduler. Runnable and idle threads are
 * left alone.
 * @refines spec/kernel/thread#restart
 */
export function restart(k: ImplState, target: ImplTcb): void {
  const tag = target.tcbState.tag
  const stopped = tag === "Inactive" || tag === "BlockedOnReceive" || tag === "BlockedOnSend" ||
    tag === "BlockedOnNotification" || tag === "BlockedOnReply"
  if (stopped) {
    cancelIPC(k, target)
    setupReplyMaster(target)
    setThreadState(k, target, ThreadStateRestart)
    tcbSchedEnqueue(k, target)
    possibleSwitchTo(k, target)
  }
}
