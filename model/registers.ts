/**
 * The aarch32 register file as seL4 keeps it in a TCB (include/arch/arm/arch/32/mode/machine/
 * registerset.h), and the register lists the kernel's register-transfer operations use.
 *
 * kspec stores the six registers that carry IPC (r0 badge/cap, r1 message info, r2-r5 the four
 * fast message registers) in the named fields of `UserContext` (`badge`, `msgInfo`, `mrs[0..3]`);
 * the others live in `regs`, indexed by seL4's register number. `regs[0..5]` are never used and
 * stay 0. `registerHome` says where a register number lives; both layers go through it.
 * @category objects
 */

/** seL4's aarch32 register numbers (enum `_register`). */
export const Reg = {
  R0: 0, R1: 1, R2: 2, R3: 3, R4: 4, R5: 5, R6: 6, R7: 7, R8: 8, R9: 9, R10: 10, R11: 11, R12: 12,
  SP: 13, LR: 14, NextIP: 15, CPSR: 16, FaultIP: 17, TPIDRURW: 18, TPIDRURO: 19,
} as const
/**
 * `TLS_BASE`: the register TCB_SetTLSBase writes. seL4's default ARM configuration
 * (`KernelArmTLSReg` = tpidru) makes it TPIDRURW, the user read-write thread-ID register.
 */
export const tlsBaseRegister = Reg.TPIDRURW
/** `n_contextRegisters`. */
export const nContextRegisters = 20

/** `frameRegisters`: the first registers Read/Write/CopyRegisters transfer, in order. */
export const frameRegisters: readonly number[] = [Reg.FaultIP, Reg.SP, Reg.CPSR, Reg.R0, Reg.R1, Reg.R8, Reg.R9, Reg.R10, Reg.R11, Reg.R12]
/** `gpRegisters`: the rest of `seL4_UserContext`, after the frame registers. */
export const gpRegisters: readonly number[] = [Reg.R2, Reg.R3, Reg.R4, Reg.R5, Reg.R6, Reg.R7, Reg.LR, Reg.TPIDRURW, Reg.TPIDRURO]
/** `msgRegisters`: message registers MR0..MR3 are r2..r5. */
export const msgRegisters: readonly number[] = [Reg.R2, Reg.R3, Reg.R4, Reg.R5]
/** `SYSCALL_MESSAGE`: the registers of an UnknownSyscall fault message (`n_syscallMessage` = 12). */
export const syscallMessage: readonly number[] = [Reg.R0, Reg.R1, Reg.R2, Reg.R3, Reg.R4, Reg.R5, Reg.R6, Reg.R7, Reg.FaultIP, Reg.SP, Reg.LR, Reg.CPSR]
/** `EXCEPTION_MESSAGE`: the registers of a UserException fault message (`n_exceptionMessage` = 3). */
export const exceptionMessage: readonly number[] = [Reg.FaultIP, Reg.SP, Reg.CPSR]

/** `CPSR_USER` of a non-debug build: FIQs masked (0x40), user mode (0x10), async aborts masked (0x100). */
export const cpsrUser = 0x150

/**
 * What the kernel lets a user write into a register: CPSR keeps only its condition flags and is
 * forced to user mode; every other register takes any word. Mirrors seL4 aarch32 `sanitiseRegister`.
 */
export const sanitiseRegister = (reg: number, v: number): number =>
  reg === Reg.CPSR ? (((v & 0xf8000000) | cpsrUser) >>> 0) : v >>> 0

/** Where a register number's value is stored in kspec's `UserContext`. */
export type RegisterHome =
  | { readonly tag: "badge" }
  | { readonly tag: "msgInfo" }
  | { readonly tag: "mr"; readonly index: number }
  | { readonly tag: "reg"; readonly index: number }

const homes: readonly RegisterHome[] = Array.from({ length: nContextRegisters }, (_, r): RegisterHome =>
  r === Reg.R0 ? { tag: "badge" } : r === Reg.R1 ? { tag: "msgInfo" } : r <= Reg.R5 ? { tag: "mr", index: r - Reg.R2 } : { tag: "reg", index: r })

/** The home of register `r` (0..19). */
export const registerHome = (r: number): RegisterHome => homes[r]!

/** The TCB's initial `regs`: every register 0 except CPSR in user mode (seL4 `Arch_initContext`). */
export const initialRegs = (): number[] => {
  const regs = new Array<number>(nContextRegisters).fill(0)
  regs[Reg.CPSR] = cpsrUser
  return regs
}
