/**
 * The machine the user-level system runs on: a kernel (the impl, or the impl in lockstep with the
 * spec) plus what the CPU and the devices see of it. This is the only file of userland/ that
 * looks inside a kernel, and it reads only what hardware holds: which thread the CPU runs now,
 * that thread's registers (and its IPC buffer, through its own page tables, as libsel4's
 * `seL4_GetMR` does), a thread's program counter, and a word of a thread's memory through its
 * own VSpace (the auditor's view of user memory, as a debugger attached to the board has it).
 * Nothing here changes kernel state: every change goes through `step(event)`, one kernel entry
 * or user memory access built with the library's builders.
 * @category library
 */
import type { BootConfig, Event, PPtr, UserContext } from "../model/index.ts"
import { Reg, bufferMsgWord, messageInfoFromWord, nMsgRegisters, pageBits } from "../model/index.ts"
import { getTcb, observe } from "../spec/index.ts"
import type { KernelState } from "../spec/index.ts"
import type { ImplFrame, ImplTcb, Kernel } from "../impl/index.ts"
import { Kernel as ImplKernel, loadWordImpl, translateImpl, userVSpaceRootImpl } from "./internal/implView.ts"
import { lockstep } from "../harness/lockstep/runner.ts"
import type { ImplUnderTest, Lockstep } from "../harness/lockstep/runner.ts"
import { describeFailure } from "../harness/lockstep/runner.ts"
import { userWord } from "../harness/query.ts"

/** A kernel with a CPU: step it, and read what the hardware shows. */
export interface Machine {
  /** One kernel entry (or user memory access) by the current thread. Returns a failure description in lockstep mode, else null. */
  step(ev: Event): string | null
  /** The thread the CPU runs now. */
  current(): PPtr
  /** Is the idle thread running? */
  idle(): boolean
  /** The current thread's registers, MR4.. read from its IPC buffer up to the message length. */
  registers(): UserContext
  /** A thread's restart PC (the address it resumes at). */
  pc(t: PPtr): number
  /** A thread's "argument" registers r8 and r9 (set by whoever started it with TCB_WriteRegisters). */
  args(t: PPtr): readonly [number, number]
  /** The word thread `t` reads at `vaddr` through its own VSpace, or undefined if that read would fault. */
  peek(t: PPtr, vaddr: number): number | undefined
  /** The spec state, in lockstep mode (for the final invariant report); null otherwise. */
  readonly spec: KernelState | null
  /** Which layers run: "impl" or "lockstep". */
  readonly mode: "impl" | "lockstep"
  /** Steps checked against the spec (lockstep mode). */
  readonly checkedSteps: number
  /** End of the run: in lockstep mode the last full check (a failure description, or null). */
  finish(): string | null
}

/** The impl alone: seL4's C kernel on the board. */
export const implMachine = (config: BootConfig): Machine => {
  const k: Kernel = ImplKernel.boot(config)
  const tcb = (t: PPtr): ImplTcb => k.objects.lookup(t) as ImplTcb
  const peek = (th: ImplTcb, vaddr: number): number | undefined => {
    const f: ImplFrame | null = translateImpl.translate(k, userVSpaceRootImpl(k, th), vaddr >>> 0, "Read")
    return f === null ? undefined : loadWordImpl(f, translateImpl.word())
  }
  return {
    mode: "impl",
    spec: null,
    checkedSteps: 0,
    step(ev) { k.step(ev); return null },
    finish: () => null,
    current: () => k.curThread.base,
    idle: () => k.curThread === k.idleThread,
    registers() {
      const t = k.curThread
      const len = messageInfoFromWord(t.msgInfo).length
      const mrs = t.mrs.slice(0, nMsgRegisters)
      for (let i = nMsgRegisters; i < len; i++) mrs.push(t.tcbIPCBuffer === 0 ? 0 : peek(t, t.tcbIPCBuffer + 4 * bufferMsgWord(i)) ?? 0)
      return { msgInfo: t.msgInfo, badge: t.badge, mrs, regs: t.regs }
    },
    pc: (t) => tcb(t).regs[Reg.FaultIP]!,
    args: (t) => [tcb(t).regs[Reg.R8]!, tcb(t).regs[Reg.R9]!],
    peek: (t, vaddr) => peek(tcb(t), vaddr),
  }
}

/**
 * The impl in lockstep with the spec: after every step the impl's abstract state must equal the
 * spec's and every invariant must hold (incremental checking with a full check every
 * `fullEvery` steps, as `kspec check` runs). The first failure is returned by `step`. `impl`:
 * another implementation to check (a planted mutant, in the tests).
 */
export const lockstepMachine = <K = Kernel>(config: BootConfig, fullEvery = 32, impl?: ImplUnderTest<K>): Machine => {
  const h: Lockstep<K> = impl === undefined ? lockstep(config, { fullEvery }) as unknown as Lockstep<K> : lockstep(config, { fullEvery, impl })
  let steps = 0
  return {
    mode: "lockstep",
    get spec() { return h.spec },
    get checkedSteps() { return steps },
    step(ev) {
      const r = h.step(ev)
      steps++
      return r.failure === null ? null : describeFailure(r.failure)
    },
    finish: () => { const f = h.finish(); return f === null ? null : describeFailure(f) },
    current: () => h.spec.curThread,
    idle: () => h.spec.curThread === h.spec.idleThread,
    registers: () => observe(h.spec, h.spec.curThread),
    pc: (t) => getTcb(h.spec, t).tcbContext.regs[Reg.FaultIP]!,
    args: (t) => { const r = getTcb(h.spec, t).tcbContext.regs; return [r[Reg.R8]!, r[Reg.R9]!] },
    peek: (t, vaddr) => userWord(h.spec, t, vaddr),
  }
}

/** Bytes per small page. */
export const pageSize = 1 << pageBits
