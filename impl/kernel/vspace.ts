/**
 * The IPC buffer and VSpace-root checks (seL4 src/arch/arm/32/kernel/vspace.c `lookupIPCBuffer`,
 * `checkValidIPCBuffer`, `isValidVTableRoot`). The model keeps the buffer's words in the TCB's
 * context, so the lookup answers only "is there a usable buffer".
 * @category decoding
 */
import type { Cap } from "../../model/index.ts"
import { mask, msgAlignBits, tcbBuffer } from "../../model/index.ts"
import type { Exception, ImplState, ImplTcb } from "../state.ts"
import { EXCEPTION_NONE, syscallError, tcbSlot } from "../state.ts"

/**
 * A thread has a usable IPC buffer iff its buffer slot holds a non-device frame cap with
 * ReadWrite rights, or ReadOnly when the kernel only reads it (`isReceiver` false).
 * @refines spec/kernel/vspace#lookupIPCBuffer
 */
export function lookupIPCBuffer(isReceiver: boolean, thread: ImplTcb): boolean {
  const cap = tcbSlot(thread, tcbBuffer).cap
  if (cap.tag !== "FrameCap") return false
  if (cap.isDevice) return false
  return cap.vmRights === "ReadWrite" || (!isReceiver && cap.vmRights === "ReadOnly")
}

/**
 * Only a non-device frame can be an IPC buffer, at a 2^9-aligned address (model-decisions: nothing
 * is mapped). C `checkValidIPCBuffer` (src/arch/arm/32/kernel/vspace.c).
 * @refines spec/kernel/vspace#checkValidIPCBuffer
 */
export function checkValidIPCBuffer(k: ImplState, vptr: number, cap: Cap): Exception {
  if (cap.tag !== "FrameCap") return syscallError(k, { tag: "IllegalOperation" })
  if (cap.isDevice) return syscallError(k, { tag: "IllegalOperation" })
  if ((vptr & mask(msgAlignBits)) !== 0) return syscallError(k, { tag: "AlignmentError" })
  return EXCEPTION_NONE
}

/**
 * Can this cap be a thread's VSpace root? Departure (model-decisions.md): any PageDirectoryCap;
 * seL4 also wants it mapped to an ASID. C `isValidVTableRoot` (src/arch/arm/32/kernel/vspace.c).
 * @refines spec/kernel/vspace#isValidVTableRoot
 */
export const isValidVTableRoot = (cap: Cap): boolean => cap.tag === "PageDirectoryCap"
