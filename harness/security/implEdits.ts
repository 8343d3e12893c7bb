/**
 * The nonleakage pair's edits applied to an implementation state, in place: the same variation as
 * `applyEdit` makes of a spec state, so that the abstraction of the edited impl state equals the
 * edited spec state (the security campaign checks that it does, then runs the pair in the impl).
 * @category security
 */
import type { ImplState, ImplTcb } from "../../impl/index.ts"
import { tcbSchedDequeue, tcbSchedEnqueue } from "../../impl/index.ts"
import { storeWord } from "../../impl/machine/memory.ts"
import type { Edit } from "./nonleakage.ts"

const tcbAt = (k: ImplState, p: number): ImplTcb => {
  const o = k.objects.get(p)
  if (o?.tag !== "TCB") throw new Error(`edit: no thread at 0x${p.toString(16)} in the impl`)
  return o
}

/** Apply one edit to an impl state. */
export const applyEditImpl = (k: ImplState, e: Edit): void => {
  if (e.tag === "NotificationWord") {
    const n = k.objects.get(e.ntfn)
    if (n?.tag !== "Notification") throw new Error(`edit: no notification at 0x${e.ntfn.toString(16)} in the impl`)
    if (e.badge === null) { n.ntfnState = "Idle"; n.ntfnMsgIdentifier = 0 } else { n.ntfnState = "Active"; n.ntfnMsgIdentifier = e.badge }
    return
  }
  if (e.tag === "MemoryWord") {
    const f = k.objects.get(e.frame)
    if (f?.tag !== "Frame") throw new Error(`edit: no frame at 0x${e.frame.toString(16)} in the impl`)
    storeWord(f, e.word, e.value)
    return
  }
  const t = tcbAt(k, e.tcb)
  switch (e.tag) {
    case "ContextWord": t[e.field] = e.value; break
    case "MessageRegister": t.mrs[e.index] = e.value; break
    case "Register": t.regs[e.index] = e.value; break
    case "TimeSlice": t.tcbTimeSlice = e.value; break
    case "MCP": t.tcbMCP = e.value; break
    case "FaultHandler": t.tcbFaultHandler = e.value; break
    case "Priority": {
      const queued = t.tcbQueued
      if (queued) tcbSchedDequeue(k, t)
      t.tcbPriority = e.value
      if (queued) tcbSchedEnqueue(k, t)
      break
    }
  }
}

export const applyEditsImpl = (k: ImplState, edits: readonly Edit[]): void => { for (const e of edits) applyEditImpl(k, e) }
