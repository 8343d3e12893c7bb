/**
 * Fault messages and fault replies (seL4 src/api/faults.c with src/arch/arm/api/faults.c,
 * aarch32, non-MCS; Haskell SEL4/API/Faults.lhs): the words a fault message carries, and how a
 * handler's reply to a faulted thread is applied. Delivering the fault is kernel/faulthandler.ts.
 * @category errors
 */
import type { Fault, PPtr } from "../../model/index.ts"
import { exceptionMessage, lookupFailureWords, messageInfoFromWord, nMsgRegisters, sanitiseRegister, syscallMessage } from "../../model/index.ts"
import type { KernelState } from "../state.ts"
import { getTcb, tcbWith, updateTcb } from "../state.ts"
import { getContextRegister, getRestartPC, setContextRegister } from "../machine/registerset.ts"
import { lookupIPCBuffer } from "../kernel/vspace.ts"
import { getMR } from "../kernel/ipcTransfer.ts"

/** The words of a fault message, in seL4's layout for each fault. Mirrors seL4 `setMRs_fault`. */
export const faultMessageWords = (s: KernelState, sender: PPtr, f: Fault): readonly number[] => {
  const ctx = getTcb(s, sender).tcbContext
  const pc = getRestartPC(s, sender)
  switch (f.tag) {
    case "CapFault": return [pc, f.address, f.inReceivePhase ? 1 : 0, ...lookupFailureWords(f.failure)]
    case "UnknownSyscall": return [...syscallMessage.map((r) => getContextRegister(ctx, r)), f.syscallNumber]
    case "UserException": return [...exceptionMessage.map((r) => getContextRegister(ctx, r)), f.number, f.code]
    case "VMFault": return [pc, f.address, f.instructionFault ? 1 : 0, f.fsr]
  }
}

/**
 * Copy the reply's message words into the registers a fault message listed (sanitised), as
 * many as the reply carries, words past MR3 only from the replier's IPC buffer.
 * Mirrors seL4 `copyMRsFaultReply`.
 */
export const copyMRsFaultReply = (s: KernelState, sender: PPtr, receiver: PPtr, regs: readonly number[], length: number): KernelState => {
  const buf = lookupIPCBuffer(s, false, sender)
  const n = length > nMsgRegisters && buf === null ? nMsgRegisters : length
  const src: number[] = []
  for (let i = 0; i < n; i++) src.push(getMR(s, sender, buf, i))
  return updateTcb(s, receiver, (tcb) => {
    let ctx = tcb.tcbContext
    for (let i = 0; i < n; i++) ctx = setContextRegister(ctx, regs[i]!, sanitiseRegister(regs[i]!, src[i]!))
    return tcbWith(tcb, { tcbContext: ctx })
  })
}

/**
 * Apply a reply to a faulted thread and say whether it restarts: cap and VM faults always do;
 * for unknown-syscall and user-exception faults the reply's words overwrite the listed
 * registers and the thread restarts only if the reply's label is 0.
 * Mirrors seL4 `handleFaultReply` / `Arch_handleFaultReply`.
 */
export const handleFaultReply = (s: KernelState, receiver: PPtr, sender: PPtr, f: Fault): [KernelState, boolean] => {
  const tag = messageInfoFromWord(getTcb(s, sender).tcbContext.msgInfo)
  switch (f.tag) {
    case "CapFault": case "VMFault": return [s, true]
    case "UnknownSyscall":
      return [copyMRsFaultReply(s, sender, receiver, syscallMessage, Math.min(tag.length, syscallMessage.length)), tag.label === 0]
    case "UserException":
      return [copyMRsFaultReply(s, sender, receiver, exceptionMessage, Math.min(tag.length, exceptionMessage.length)), tag.label === 0]
  }
}
