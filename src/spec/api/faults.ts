/**
 * Fault handling (seL4 src/api/faults.c, src/kernel/faulthandler.c, A/Ipc_A `handle_fault`).
 * @category errors
 */
import type { Fault, PPtr } from "../../model/index.ts"
import type { KernelState } from "../state.ts"
import { setThreadState } from "../kernel/thread.ts"

/**
 * A thread faulted. seL4 sends the fault as an IPC to the thread's fault-handler endpoint and,
 * when there is no valid handler, stops the thread. Fault IPC arrives with the IPC slice; until
 * then no thread can be given a handler (TCB_Configure comes with it too), so every fault takes
 * the no-handler path: the thread becomes Inactive. Mirrors seL4 `handleFault` /
 * `handleDoubleFault`.
 */
export const handleFault = (s: KernelState, t: PPtr, _fault: Fault): KernelState =>
  setThreadState(s, t, { tag: "Inactive" })
