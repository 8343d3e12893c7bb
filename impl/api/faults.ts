/**
 * Fault messages and fault replies (seL4 src/api/faults.c with src/arch/arm/api/faults.c,
 * aarch32, non-MCS, no debug API): setMRs_fault, setMRs_lookup_failure, copyMRsFault,
 * handleFaultReply, copyMRsFaultReply.
 * @category errors
 */
import type { LookupFailure } from "../../model/index.ts"
import {
  exceptionMessage, lookupFailureType, msgRegisters, nMsgRegisters, sanitiseRegister, syscallMessage,
} from "../../model/index.ts"
import { lookupIPCBuffer } from "../kernel/vspace.ts"
import { getRegister, getRestartPC, miLabel, miLength, setRegister } from "../machine/registerset.ts"
import { setMR } from "../kernel/ipcTransfer.ts"
import type { ImplState, ImplTcb } from "../state.ts"
import { KernelBug } from "../state.ts"

/**
 * Write a lookup failure from MR `offset`: its type word (seL4 `lufType + 1`) then its fields.
 * Returns the message length so far.
 * @refines spec/api/faults#faultMessageWords
 */
export function setMRs_lookup_failure(receiver: ImplTcb, buffer: Uint32Array | null, lf: LookupFailure, offset: number): number {
  const i = setMR(receiver, buffer, offset, lookupFailureType[lf.tag] + 1)
  switch (lf.tag) {
    case "InvalidRoot":
      return i
    case "MissingCapability":
      return setMR(receiver, buffer, offset + 1, lf.bitsLeft)
    case "DepthMismatch":
      setMR(receiver, buffer, offset + 1, lf.bitsLeft)
      return setMR(receiver, buffer, offset + 2, lf.bitsFound)
    case "GuardMismatch":
      setMR(receiver, buffer, offset + 1, lf.bitsLeft)
      setMR(receiver, buffer, offset + 2, lf.guardFound)
      return setMR(receiver, buffer, offset + 3, lf.bitsFound)
  }
}

/**
 * Copy the sender's registers `regs[0..length-1]` into the receiver's message: the first four
 * into MR0..MR3, the rest into its IPC buffer only if it has one.
 * @refines spec/api/faults#faultMessageWords
 */
export function copyMRsFault(
  sender: ImplTcb, receiver: ImplTcb, regs: readonly number[], length: number, receiveIPCBuffer: Uint32Array | null,
): void {
  let i = 0
  for (; i < length && i < nMsgRegisters; i++) setRegister(receiver, msgRegisters[i]!, getRegister(sender, regs[i]!))
  if (receiveIPCBuffer !== null) {
    for (; i < length; i++) receiveIPCBuffer[i + 1] = getRegister(sender, regs[i]!)
  }
}

/**
 * The message describing `sender`'s fault, written into `receiver`; returns its length. Layouts
 * as libsel4's aarch32 fault messages (CapFault [IP, addr, inRecv, lookup failure..],
 * UnknownSyscall [12 regs, number], UserException [3 regs, number, code]).
 * @refines spec/api/faults#faultMessageWords
 */
export function setMRs_fault(sender: ImplTcb, receiver: ImplTcb, receiveIPCBuffer: Uint32Array | null): number {
  const f = sender.tcbFault
  if (f === null) throw new KernelBug("setMRs_fault: sender has no fault")
  switch (f.tag) {
    // CapFault: restart PC, the cptr, which phase, then the lookup failure from MR3.
    case "CapFault":
      setMR(receiver, receiveIPCBuffer, 0, getRestartPC(sender))
      setMR(receiver, receiveIPCBuffer, 1, f.address)
      setMR(receiver, receiveIPCBuffer, 2, f.inReceivePhase ? 1 : 0)
      return setMRs_lookup_failure(receiver, receiveIPCBuffer, f.failure, 3)
    // UnknownSyscall: the syscall registers, then the number at MR12.
    case "UnknownSyscall":
      copyMRsFault(sender, receiver, syscallMessage, syscallMessage.length, receiveIPCBuffer)
      return setMR(receiver, receiveIPCBuffer, syscallMessage.length, f.syscallNumber)
    // UserException: the exception registers, then number and code.
    case "UserException":
      copyMRsFault(sender, receiver, exceptionMessage, exceptionMessage.length, receiveIPCBuffer)
      setMR(receiver, receiveIPCBuffer, exceptionMessage.length, f.number)
      return setMR(receiver, receiveIPCBuffer, exceptionMessage.length + 1, f.code)
    // Architecture faults.
    default:
      return Arch_setMRs_fault(sender, receiver, receiveIPCBuffer)
  }
}

/**
 * ARM's fault messages: VMFault [restart PC, address, prefetch (instruction) fault, FSR].
 * @refines spec/api/faults#faultMessageWords
 */
export function Arch_setMRs_fault(sender: ImplTcb, receiver: ImplTcb, receiveIPCBuffer: Uint32Array | null): number {
  const f = sender.tcbFault
  if (f?.tag !== "VMFault") throw new KernelBug("Invalid fault")
  setMR(receiver, receiveIPCBuffer, 0, getRestartPC(sender))
  setMR(receiver, receiveIPCBuffer, 1, f.address)
  setMR(receiver, receiveIPCBuffer, 2, f.instructionFault ? 1 : 0)
  return setMR(receiver, receiveIPCBuffer, 3, f.fsr)
}

/**
 * Write a fault reply into the faulted thread's registers: reply word i goes to `regs[i]`,
 * sanitised (MR0..MR3 from the replier's registers, the rest from its IPC buffer, only if it has
 * one).
 * @refines spec/api/faults#copyMRsFaultReply
 */
export function copyMRsFaultReply(k: ImplState, sender: ImplTcb, receiver: ImplTcb, regs: readonly number[], length: number): void {
  let i = 0
  for (; i < length && i < nMsgRegisters; i++) {
    const r = regs[i]!
    setRegister(receiver, r, sanitiseRegister(r, getRegister(sender, msgRegisters[i]!)))
  }
  const sendBuf = i < length ? lookupIPCBuffer(k, false, sender) : null
  if (sendBuf !== null) {
    for (; i < length; i++) {
      const r = regs[i]!
      setRegister(receiver, r, sanitiseRegister(r, sendBuf[i + 1]!))
    }
  }
}

/**
 * Apply the handler's reply to the faulted `receiver`; true iff it should restart. CapFault and
 * VMFault always restart; UnknownSyscall and UserException take the reply's words as registers and
 * restart only when the reply label is 0.
 * @refines spec/api/faults#handleFaultReply
 */
export function handleFaultReply(k: ImplState, receiver: ImplTcb, sender: ImplTcb): boolean {
  const tag = sender.msgInfo
  const label = miLabel(tag)
  const length = miLength(tag)
  const f = receiver.tcbFault
  if (f === null) throw new KernelBug("handleFaultReply: receiver has no fault")
  switch (f.tag) {
    // CapFault: restart and retry.
    case "CapFault":
      return true
    // UnknownSyscall: the reply rewrites the syscall registers.
    case "UnknownSyscall":
      copyMRsFaultReply(k, sender, receiver, syscallMessage, Math.min(length, syscallMessage.length))
      return label === 0
    // UserException: the reply rewrites the exception registers.
    case "UserException":
      copyMRsFaultReply(k, sender, receiver, exceptionMessage, Math.min(length, exceptionMessage.length))
      return label === 0
    default:
      return Arch_handleFaultReply(receiver)
  }
}

/**
 * ARM's fault replies: a VMFault always restarts.
 * @refines spec/api/faults#handleFaultReply
 */
export function Arch_handleFaultReply(receiver: ImplTcb): boolean {
  if (receiver.tcbFault?.tag === "VMFault") return true
  throw new KernelBug("Invalid fault")
}
