/**
 * The IPC buffer check (seL4 src/arch/arm/32/kernel/vspace.c `lookupIPCBuffer`). The model keeps the
 * buffer's words in the TCB's context, so the lookup answers only "is there a usable buffer".
 * @category decoding
 */
import { tcbBuffer } from "../../model/index.ts"
import type { ImplTcb } from "../state.ts"
import { tcbSlot } from "../state.ts"

/**
 * A thread has a usable IPC buffer iff its buffer slot holds a non-device frame cap with
 * ReadWrite rights, or ReadOnly when the kernel only reads it (`isReceiver` false).
 * @refines spec/object/tcb#lookupIPCBuffer
 */
export function lookupIPCBuffer(isReceiver: boolean, thread: ImplTcb): boolean {
  const cap = tcbSlot(thread, tcbBuffer).cap
  if (cap.tag !== "FrameCap") return false
  if (cap.isDevice) return false
  return cap.vmRights === "ReadWrite" || (!isReceiver && cap.vmRights === "ReadOnly")
}
