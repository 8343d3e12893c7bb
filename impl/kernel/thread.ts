/**
 * Thread states and the scheduler (seL4 src/kernel/thread.c, non-MCS): setThreadState,
 * scheduleTCB, rescheduleRequired, possibleSwitchTo, schedule/chooseThread, activateThread,
 * timerTick, suspend and restart.
 * @category scheduling
 */
import type { ThreadState } from "../../model/index.ts"
import { isRunnable, timeSlice } from "../../model/index.ts"
import { getRestartPC, setNextPC, updateRestartPC } from "../machine/registerset.ts"
import { cancelIPC } from "../object/endpoint.ts"
import { getHighestPrio, isHighestPrio, tcbSchedAppend, tcbSchedDequeue, tcbSchedEnqueue } from "../object/tcb.ts"
import type { ImplState, ImplTcb } from "../state.ts"
import {
  ChooseNewThread, KernelBug, ResumeCurrentThread, readyQueuesIndex, ThreadStateInactive, ThreadStateRestart, ThreadStateRunning,
} from "../state.ts"
import { setupReplyMaster } from "../object/cnode.ts"

/** Non-MCS: a thread is schedulable iff runnable. C `isSchedulable`. */
const isSchedulable = (t: ImplTcb): boolean => isRunnable(t.tcbState)

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
    if (thread === null) throw new KernelBug("chooseThread: ready queue bitmap names an empty queue")
    if (!isSchedulable(thread)) throw new KernelBug("chooseThread: queued thread must be runnable")
    switchToThread(k, thread)
  } else {
    switchToIdleThread(k)
  }
}

/** C `scheduleChooseNewThread` (one domain schedule entry: the domain never changes here). */
function scheduleChooseNewThread(k: ImplState): void {
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
 * A timer tick (non-MCS, domain time not modelled): a Running current thread loses one tick of its
 * time slice; on its last tick the slice is refilled, the thread goes to the back of its ready
 * queue and a reschedule is required.
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
}

/**
 * Stop a thread: cancel any IPC; a Running thread first saves its restart address
 * (`updateRestartPC`: FaultIP := NextIP); then off the ready queue and Inactive.
 * @refines spec/object/tcb#suspend
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
 * @refines spec/object/tcb#restart
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
