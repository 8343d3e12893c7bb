/**
 * Fault handling (seL4 src/kernel/faulthandler.c, non-MCS). Fault IPC lands with the IPC issue;
 * until then every fault is a double fault and stops the thread.
 * @category scheduling
 */
import { setThreadState } from "./thread.ts"
import type { ImplState, ImplTcb } from "../state.ts"
import { ThreadStateInactive } from "../state.ts"

/**
 * Deliver `k.currentFault` for `tptr`. For now: handleDoubleFault (the fault is not recorded).
 * @refines spec/kernel/faulthandler#handleFault
 */
export function handleFault(k: ImplState, tptr: ImplTcb): void {
  handleDoubleFault(k, tptr)
}

/**
 * No one can handle the fault: the thread becomes Inactive.
 * @refines spec/kernel/faulthandler#handleDoubleFault
 */
export function handleDoubleFault(k: ImplState, tptr: ImplTcb): void {
  setThreadState(k, tptr, ThreadStateInactive)
}
