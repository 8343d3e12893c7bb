/**
 * Register access over kspec's `UserContext` (seL4 `getRegister`/`setRegister`,
 * include/arch/arm/arch/32/mode/machine/registerset.h, and the restart-PC helpers
 * `getRestartPC`, `setNextPC`, `updateRestartPC`): r0, r1 and r2..r5 live in the badge,
 * message-info and first four message-register fields; every other register in `regs`.
 * @category objects
 */
import type { PPtr, UserContext } from "../../model/index.ts"
import { Reg, registerHome } from "../../model/index.ts"
import type { KernelState } from "../state.ts"
import { contextWith, getTcb, tcbWith, updateTcb } from "../state.ts"

/** The value of register `r` in a context. */
export const getContextRegister = (ctx: UserContext, r: number): number => {
  const h = registerHome(r)
  switch (h.tag) {
    case "badge": return ctx.badge
    case "msgInfo": return ctx.msgInfo
    case "mr": return ctx.mrs[h.index]!
    case "reg": return ctx.regs[h.index]!
  }
}

/** The context with register `r` set to `v` (a 32-bit word). */
export const setContextRegister = (ctx: UserContext, r: number, v: number): UserContext => {
  const w = v >>> 0
  const h = registerHome(r)
  switch (h.tag) {
    case "badge": return contextWith(ctx, { badge: w })
    case "msgInfo": return contextWith(ctx, { msgInfo: w })
    case "mr": {
      if (ctx.mrs[h.index] === w) return ctx
      const mrs = ctx.mrs.slice()
      mrs[h.index] = w
      return contextWith(ctx, { mrs })
    }
    case "reg": {
      if (ctx.regs[h.index] === w) return ctx
      const regs = ctx.regs.slice()
      regs[h.index] = w
      return contextWith(ctx, { regs })
    }
  }
}

/** Register `r` of thread `t`. Mirrors seL4 `getRegister`. */
export const getRegister = (s: KernelState, t: PPtr, r: number): number => getContextRegister(getTcb(s, t).tcbContext, r)

/** Set register `r` of thread `t`. Mirrors seL4 `setRegister`. */
export const setRegister = (s: KernelState, t: PPtr, r: number, v: number): KernelState =>
  updateTcb(s, t, (tcb) => tcbWith(tcb, { tcbContext: setContextRegister(tcb.tcbContext, r, v) }))

/** The address a restarted thread resumes at. Mirrors seL4 `getRestartPC` (FaultIP). */
export const getRestartPC = (s: KernelState, t: PPtr): number => getRegister(s, t, Reg.FaultIP)

/** Set where the thread resumes. Mirrors seL4 `setNextPC` (NextIP). */
export const setNextPC = (s: KernelState, t: PPtr, v: number): KernelState => setRegister(s, t, Reg.NextIP, v)

/**
 * A running thread's restart address may be stale: make it restart at the instruction it would
 * run next (FaultIP := NextIP). Mirrors seL4 `updateRestartPC` (include/kernel/thread.h).
 */
export const updateRestartPC = (s: KernelState, t: PPtr): KernelState =>
  setRegister(s, t, Reg.FaultIP, getRegister(s, t, Reg.NextIP))
