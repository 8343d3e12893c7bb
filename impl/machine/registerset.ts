/**
 * A thread's saved user context (seL4 include/arch/arm/arch/32/mode/machine/registerset.h,
 * include/machine/registerset.h): getRegister/setRegister through `registerHome`, the restart-PC
 * helpers, and message-info word fields read without building a record (the IPC path allocates
 * nothing).
 * @category objects
 */
import { Reg, msgMaxLength, registerHome } from "../../model/index.ts"
import type { ImplTcb } from "../state.ts"

/**
 * The value of register `r` (0..19) of a thread's saved context.
 * @refines spec/machine/registerset#getRegister
 */
export function getRegister(t: ImplTcb, r: number): number {
  const h = registerHome(r)
  switch (h.tag) {
    case "badge": return t.badge
    case "msgInfo": return t.msgInfo
    case "mr": return t.mrs[h.index]!
    case "reg": return t.regs[h.index]!
  }
}

/**
 * Set register `r` (0..19) of a thread's saved context to the word `v`.
 * @refines spec/machine/registerset#setRegister
 */
export function setRegister(t: ImplTcb, r: number, v: number): void {
  const h = registerHome(r)
  const w = v >>> 0
  switch (h.tag) {
    case "badge": t.badge = w; break
    case "msgInfo": t.msgInfo = w; break
    case "mr": t.mrs[h.index] = w; break
    case "reg": t.regs[h.index] = w; break
  }
}

/** C `getRestartPC`: where a restarted thread resumes (aarch32: FaultIP). */
export const getRestartPC = (t: ImplTcb): number => t.regs[Reg.FaultIP]!

/** C `setNextPC`: where the thread continues when it next returns to user mode. */
export function setNextPC(t: ImplTcb, v: number): void {
  t.regs[Reg.NextIP] = v >>> 0
}

/** C `updateRestartPC` (aarch32): FaultIP := NextIP. @refines spec/machine/registerset#updateRestartPC */
export function updateRestartPC(t: ImplTcb): void {
  t.regs[Reg.FaultIP] = t.regs[Reg.NextIP]!
}

// ---- message info words (seL4_MessageInfo: label 20 | capsUnwrapped 3 | extraCaps 2 | length 7) --

/** The label field. */
export const miLabel = (w: number): number => (w >>> 12) & 0xfffff
/** The capsUnwrapped field. */
export const miCapsUnwrapped = (w: number): number => (w >>> 9) & 7
/** The extraCaps field. */
export const miExtraCaps = (w: number): number => (w >>> 7) & 3
/** The length field, clamped to seL4_MsgMaxLength as C `messageInfoFromWord` does. */
export const miLength = (w: number): number => {
  const l = w & 0x7f
  return l > msgMaxLength ? msgMaxLength : l
}
/** C `seL4_MessageInfo_new` packed into its word. */
export const miNew = (label: number, capsUnwrapped: number, extraCaps: number, length: number): number =>
  (((label & 0xfffff) << 12) | ((capsUnwrapped & 7) << 9) | ((extraCaps & 3) << 7) | (length & 0x7f)) >>> 0
