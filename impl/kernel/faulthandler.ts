/**
 * Fault handling (seL4 src/kernel/faulthandler.c, non-MCS): handleFault, sendFaultIPC,
 * handleDoubleFault. The fault message itself is in api/faults.ts.
 * @category scheduling
 */
import type { Fault } from "../../model/index.ts"
import { RightG, RightGR, RightW } from "../../model/index.ts"
import { sendIPC } from "../object/endpoint.ts"
import type { ImplState, ImplTcb } from "../state.ts"
import { EXCEPTION_NONE, KernelBug, ThreadStateInactive, getEndpointImpl } from "../state.ts"
import { lookupSlot } from "./cspace.ts"
import { setThreadState } from "./thread.ts"

/** C `EXCEPTION_FAULT`: the fault handler could not be reached. */
export const EXCEPTION_FAULT = 3

/**
 * Deliver `k.currentFault` of `tptr` to its fault handler; if there is no usable handler, the
 * thread stops (Inactive).
 * @refines spec/kernel/faulthandler#handleFault
 */
export function handleFault(k: ImplState, tptr: ImplTcb): void {
  const fault = k.currentFault
  if (fault === null) throw new KernelBug("handleFault: no current fault")
  const status = sendFaultIPC(k, tptr, fault)
  if (status !== EXCEPTION_NONE) handleDoubleFault(k, tptr, fault)
}

/**
 * Look up the thread's fault handler (its `tcbFaultHandler` cptr, in its own CSpace). It must be an
 * endpoint cap with Write and Grant or GrantReply; then record the fault and send it as a Call
 * (blocking, canGrantReply) with the handler cap's badge and Grant. Otherwise the fault cannot be
 * delivered (a second CapFault on the handler cptr becomes the current fault).
 * @refines spec/kernel/faulthandler#sendFaultIPC
 */
export function sendFaultIPC(k: ImplState, tptr: ImplTcb, fault: Fault): typeof EXCEPTION_NONE | typeof EXCEPTION_FAULT {
  const handlerCPtr = tptr.tcbFaultHandler
  const st = lookupSlot(k, tptr, handlerCPtr)
  if (st !== EXCEPTION_NONE) {
    k.currentFault = { tag: "CapFault", address: handlerCPtr, inReceivePhase: false, failure: k.currentLookupFault }
    return EXCEPTION_FAULT
  }
  const handlerCap = k.lookupSlotResult!.cap
  if (handlerCap.tag === "EndpointCap" && (handlerCap.rights & RightW) !== 0 &&
    (handlerCap.rights & (RightG | RightGR)) !== 0) {
    // The lookup failure of a CapFault travels with the fault (C `tcbLookupFailure`).
    tptr.tcbFault = fault
    sendIPC(k, true, true, handlerCap.badge, (handlerCap.rights & RightG) !== 0, true, tptr,
      getEndpointImpl(k, handlerCap.ptr))
    return EXCEPTION_NONE
  }
  k.currentLookupFault = { tag: "MissingCapability", bitsLeft: 0 }
  k.currentFault = { tag: "CapFault", address: handlerCPtr, inReceivePhase: false, failure: k.currentLookupFault }
  return EXCEPTION_FAULT
}

/**
 * The fault could not be delivered: the thread stops. (`ex1` is the original fault; C prints it.)
 * @refines spec/kernel/faulthandler#handleFault
 */
export function handleDoubleFault(k: ImplState, tptr: ImplTcb, _ex1: Fault): void {
  setThreadState(k, tptr, ThreadStateInactive)
}
