/**
 * Fault handling (seL4 src/kernel/faulthandler.c non-MCS `handleFault`, `sendFaultIPC`,
 * `handleDoubleFault`; Haskell SEL4/Kernel/FaultHandler.lhs; l4v A/Ipc_A `handle_fault`,
 * `send_fault_ipc`). The fault message itself is in api/faults.ts.
 * @category errors
 */
import type { Fault, PPtr } from "../../model/index.ts"
import { RightG, RightGR, RightW, hasRight } from "../../model/index.ts"
import type { KernelState } from "../state.ts"
import { getTcb, tcbWith, updateTcb } from "../state.ts"
import { lookupCap } from "./cspace.ts"
import { setThreadState } from "./thread.ts"
import { sendIPC } from "../object/endpoint.ts"

/**
 * Send the fault as a Call on the thread's fault-handler endpoint, looked up in the thread's own
 * CSpace. The handler cap must be an endpoint cap with Write and Grant or GrantReply; the badge
 * and Grant right are the handler cap's, and the handler may always be given a reply cap.
 * Returns null when there is no valid handler. Mirrors seL4 `sendFaultIPC` (non-MCS).
 */
const sendFaultIPC = (s: KernelState, t: PPtr, fault: Fault): KernelState | null => {
  const lu = lookupCap(s, t, getTcb(s, t).tcbFaultHandler)
  if (!lu.ok) return null
  const cap = lu.value
  if (cap.tag !== "EndpointCap" || !hasRight(cap.rights, RightW) || !(hasRight(cap.rights, RightG) || hasRight(cap.rights, RightGR))) return null
  const s1 = updateTcb(s, t, (tcb) => tcbWith(tcb, { tcbFault: fault }))
  return sendIPC(s1, true, true, cap.badge, hasRight(cap.rights, RightG), true, t, cap.ptr)
}

/**
 * A thread faulted: its fault goes to its handler as IPC; with no valid handler the thread stops
 * (Inactive) — a fault never takes down anything but the faulting thread.
 * Mirrors seL4 `handleFault` / `handleDoubleFault` (non-MCS).
 */
export const handleFault = (s: KernelState, t: PPtr, fault: Fault): KernelState =>
  sendFaultIPC(s, t, fault) ?? setThreadState(s, t, { tag: "Inactive" })
