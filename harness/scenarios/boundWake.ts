/**
 * A wake-up that first stops the thread it wakes: a signal to a notification bound to a thread
 * blocked receiving on an endpoint takes the thread out of the endpoint's queue (cancelIPC: it is
 * Inactive for a moment), then makes it Running and offers it the CPU (possibleSwitchTo). All three
 * threads have priority 255 and one more is ready, so where the woken thread lands in the ready
 * queue (behind the ready one: seL4 `schedule` appends an equal-priority candidate) shows whether
 * stopping a thread that is not the current one asked for a new choice (it must not: seL4
 * `scheduleTCB` reacts only to the current thread).
 */
import type { Event } from "../../model/index.ts"
import { InitialSlot, ObjectType } from "../../model/index.ts"
import { rootIPCBufferVAddr } from "../../spec/kernel/boot.ts"
import {
  seL4_Recv, seL4_TCB_BindNotification, seL4_TCB_Configure, seL4_TCB_Resume, seL4_TCB_SetPriority, seL4_Yield,
} from "../builders.ts"
import { retypeOne } from "./retype.ts"

/** Root CNode slots the scenario fills (all free after boot). */
export const BoundWakeSlots = { ep: 140, ntfn: 141, bound: 142, ready: 143 } as const

const { InitThreadCNode: root, InitThreadTCB: rootTcb, InitThreadVSpace: vspace, InitThreadIPCBuffer: buffer } = InitialSlot
/** A thread in the root's CSpace and VSpace (sharing its IPC buffer) at priority 255, resumed. */
const start = (slot: number): Event[] => [
  retypeOne(ObjectType.TCB, 0, slot),
  seL4_TCB_Configure(slot, 0, root, 0, vspace, 0, rootIPCBufferVAddr, buffer),
  seL4_TCB_SetPriority(slot, rootTcb, 255),
]

/**
 * Boot to the scene: the bound thread (its notification bound) has run and blocked in Recv on the
 * endpoint; the ready thread waits in the priority-255 queue; the root thread runs. A Send on
 * `BoundWakeSlots.ntfn` then wakes the bound thread.
 */
export const boundWakeSetup = (): Event[] => {
  const S = BoundWakeSlots
  return [
    retypeOne(ObjectType.Endpoint, 0, S.ep),
    retypeOne(ObjectType.Notification, 0, S.ntfn),
    ...start(S.bound),
    seL4_TCB_BindNotification(S.bound, S.ntfn),
    seL4_TCB_Resume(S.bound),
    // The root yields to its equal; the bound thread blocks receiving; the root runs again.
    seL4_Yield(),
    seL4_Recv(S.ep),
    ...start(S.ready),
    seL4_TCB_Resume(S.ready),
  ]
}
