/**
 * The supervisor: the fault handler of every server (their TCBs' fault endpoint is its endpoint,
 * badged with the server's pid) and their watchdog. A fault message is a server that crashed; a
 * signal from the watchdog timer (its bound notification) is the time to look at each server's
 * status page: one busy with the same request at two looks in a row is hung. Either way the
 * supervisor restarts the server, as Microkit's `fault()` entry point and MINIX 3's
 * reincarnation server do: TCB_WriteRegisters with resume, the PC at the server's entry (the
 * next generation), r8 the restart policy (keep the state in its memory, or start fresh).
 * @category library
 */
import { decodeFaultMessage, seL4_IRQHandler_Ack, seL4_TCB_WriteRegisters } from "../../index.ts"
import type { Program, StartContext, Step } from "../lib.ts"
import { StartFlag, invoke, load, recv } from "../lib.ts"
import { Slot, Status, imageOfPid, servers, supervisorStatusVA, Pid } from "../layout.ts"

/** Which servers keep their state across a restart. */
export type RestartPolicy = Readonly<Record<number, "fresh" | "kept">>
export const defaultPolicy: RestartPolicy = {
  [Pid.timerDriver]: "fresh", [Pid.timerVirt]: "fresh", [Pid.nameServer]: "kept", [Pid.fileServer]: "kept",
}

export interface SupervisorOptions {
  readonly policy: RestartPolicy
  /** The argument each server is started with (the virtualiser's: the number of clients). */
  readonly argOf: (pid: number) => number
  /** Planted bug: never look at the status pages (hung servers stay hung). */
  readonly noWatchdog?: boolean
  /** Planted bug: note faults but restart nothing. */
  readonly noRestart?: boolean
}

export const supervisor = (o: SupervisorOptions) => function* (ctx: StartContext): Program {
  const generations = new Map<number, number>()
  const seen = new Map<number, readonly [number, number]>()
  function* restart(pid: number): Step<void> {
    if (o.noRestart === true) return
    const gen = (generations.get(pid) ?? 0) + 1
    generations.set(pid, gen)
    seen.delete(pid)
    const flags = o.policy[pid] === "kept" ? StartFlag.KeepState : 0
    const r = yield* invoke(seL4_TCB_WriteRegisters(Slot.table + pid, true, 0, [imageOfPid(pid) + 4 * (gen & 0x3ff), 0, 0, 0, 0, flags, o.argOf(pid)]))
    ctx.console("restart", pid, gen, r.tag === "Ok" ? 0 : 1)
  }
  yield* invoke(seL4_IRQHandler_Ack(Slot.irqHandler))
  for (;;) {
    const m = yield* recv(Slot.serve)
    if (m.label === 0) {
      // The watchdog timer: a server busy with the same request as at the last look is hung.
      if (o.noWatchdog !== true) {
        for (const pid of servers) {
          const busy = yield* load(supervisorStatusVA(pid) + Status.busy)
          const served = yield* load(supervisorStatusVA(pid) + Status.served)
          const before = seen.get(pid)
          if (busy !== 0 && before !== undefined && before[0] === busy && before[1] === served) {
            ctx.console("hang", pid)
            yield* restart(pid)
          } else seen.set(pid, [busy, served])
        }
      }
      yield* invoke(seL4_IRQHandler_Ack(Slot.irqHandler))
      continue
    }
    // A fault message (or a server calling the fault endpoint with junk: a protocol violation, also restarted).
    const pid = m.badge
    const f = decodeFaultMessage(m)
    ctx.console("fault", pid, m.label, typeof f === "string" ? 0 : 1)
    if ((servers as readonly number[]).includes(pid)) yield* restart(pid)
  }
}
