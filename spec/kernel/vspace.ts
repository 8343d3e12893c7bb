/**
 * The IPC buffer and VSpace-root checks (seL4 src/arch/arm/32/kernel/vspace.c `lookupIPCBuffer`,
 * `checkValidIPCBuffer`, `isValidVTableRoot`; Haskell SEL4/Kernel/VSpace/ARM.lhs). kspec maps
 * nothing and keeps a buffer's words in the TCB's context, so the lookup answers only "is there a
 * usable buffer".
 * @category decoding
 */
import type { Cap, PPtr, SyscallError } from "../../model/index.ts"
import { isAligned, msgAlignBits, tcbBuffer } from "../../model/index.ts"
import type { Result } from "../result.ts"
import { err, ok } from "../result.ts"
import type { KernelState } from "../state.ts"
import { getCap, slotOf } from "../state.ts"

const illegal: SyscallError = { tag: "IllegalOperation" }

/**
 * Does the thread have a usable IPC buffer? It needs a non-device frame cap in its buffer slot
 * with read-write rights (read-only suffices when it only sends). Mirrors seL4 `lookupIPCBuffer`.
 */
export const lookupIPCBuffer = (s: KernelState, isReceiver: boolean, t: PPtr): boolean => {
  const c = getCap(s, slotOf(t, tcbBuffer))
  if (c.tag !== "FrameCap" || c.isDevice) return false
  return c.vmRights === "ReadWrite" || (!isReceiver && c.vmRights === "ReadOnly")
}

/**
 * Can this cap serve as an IPC buffer at `vptr`? It must be a non-device frame cap and the address
 * aligned to 2^msgAlignBits. Mirrors seL4 aarch32 `checkValidIPCBuffer` (nothing is mapped in kspec).
 */
export const checkValidIPCBuffer = (vptr: number, cap: Cap): Result<void, SyscallError> => {
  if (cap.tag !== "FrameCap") return err(illegal)
  if (cap.isDevice) return err(illegal)
  if (!isAligned(vptr, msgAlignBits)) return err({ tag: "AlignmentError" })
  return ok(undefined)
}

/**
 * Can this cap be a thread's VSpace root? kspec departs from seL4 (docs/model-decisions.md): any
 * page-directory cap counts, mapped to an ASID or not. Mirrors seL4 aarch32 `isValidVTableRoot`.
 */
export const isValidVTableRoot = (cap: Cap): boolean => cap.tag === "PageDirectoryCap"
