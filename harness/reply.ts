/**
 * Reading a thread's registers after a kernel entry, as libsel4 reads them: the message a
 * receive delivered (label, words, badge, caps), the reply of a kernel invocation (success, or
 * the seL4 error with its fields), and a fault message (which fault, with its fields). The
 * inverse of what the kernel writes (model/errors.ts `syscallErrorWords`, `lookupFailureWords`
 * and the spec's fault layouts): decoding what the kernel wrote gives back what it encoded, a
 * property proofs-tests/library/reply.test.ts checks on every error and on random traces.
 * @category library
 */
import type { Fault, LookupFailure, SyscallError, UserContext } from "../model/index.ts"
import { Reg, errorNames, exceptionMessage, faultLabel, lookupFailureWords, messageInfoFromWord, syscallMessage } from "../model/index.ts"

/** A message as the receiver sees it (libsel4 `seL4_MessageInfo_t` plus the badge and words). */
export interface ReceivedMessage {
  readonly label: number
  /** The message words MR0..MR(length-1). */
  readonly mrs: readonly number[]
  /**
   * The badge of the cap the message came through (r0 after the receive): a sender's endpoint
   * badge, a notification's accumulated signal word, 0 for a kernel reply or a reply cap.
   */
  readonly badge: number
  /** How many extra caps arrived (transferred into the receive slot or unwrapped to badges). */
  readonly extraCaps: number
  /** Bit i set: extra cap i was unwrapped, its badge is in the IPC buffer's caps_or_badges[i]. */
  readonly capsUnwrapped: number
}

/** The message in a thread's registers: its message info, badge and the first `length` words. */
export const decodeMessage = (regs: UserContext): ReceivedMessage => {
  const mi = messageInfoFromWord(regs.msgInfo)
  return { label: mi.label, mrs: regs.mrs.slice(0, mi.length), badge: regs.badge, extraCaps: mi.extraCaps, capsUnwrapped: mi.capsUnwrapped }
}

/**
 * What a kernel invocation replied (libsel4: the label is the `seL4_Error`, 0 for success).
 * `Ok` carries the reply's words (ReadRegisters returns registers; most invocations none);
 * `Error` the error with the fields the kernel put in the message words; `Malformed` says why
 * the registers cannot be a kernel reply (an unknown error code, missing words), as when they
 * hold a server's reply rather than the kernel's.
 */
export type Reply =
  | { readonly tag: "Ok"; readonly mrs: readonly number[] }
  | { readonly tag: "Error"; readonly error: SyscallError }
  | { readonly tag: "Malformed"; readonly reason: string }

/** Decode a kernel invocation's reply from the caller's registers. */
export const decodeReply = (regs: UserContext): Reply => {
  const m = decodeMessage(regs)
  if (m.label === 0) return { tag: "Ok", mrs: m.mrs }
  const e = syscallErrorFromWords(m.label, m.mrs)
  return typeof e === "string" ? { tag: "Malformed", reason: e } : { tag: "Error", error: e }
}

/** The lookup failure whose register words (type + 1, then its fields) start `ws`, or why not. */
export const lookupFailureFromWords = (ws: readonly number[]): LookupFailure | string => {
  const need = (n: number, f: () => LookupFailure): LookupFailure | string =>
    ws.length >= n ? f() : `a lookup failure of type ${ws[0]} needs ${n} words, got ${ws.length}`
  switch (ws[0]) {
    case 1: return { tag: "InvalidRoot" }
    case 2: return need(2, () => ({ tag: "MissingCapability", bitsLeft: ws[1]! }))
    case 3: return need(3, () => ({ tag: "DepthMismatch", bitsLeft: ws[1]!, bitsFound: ws[2]! }))
    case 4: return need(4, () => ({ tag: "GuardMismatch", bitsLeft: ws[1]!, guardFound: ws[2]!, bitsFound: ws[3]! }))
    default: return `no lookup failure has type word ${ws[0] ?? "(missing)"}`
  }
}

/** The syscall error with `seL4_Error` code `code` and message words `ws`, or why they are not one. */
export const syscallErrorFromWords = (code: number, ws: readonly number[]): SyscallError | string => {
  const tag = errorNames[code - 1]
  if (tag === undefined) return `label ${code} is no seL4_Error (1..${errorNames.length})`
  const words = (n: number): string | null => (ws.length === n ? null : `${tag} carries ${n} message word${n === 1 ? "" : "s"}, got ${ws.length}`)
  switch (tag) {
    case "InvalidArgument": return words(1) ?? { tag, argument: ws[0]! }
    case "InvalidCapability": return words(1) ?? { tag, capability: ws[0]! }
    case "RangeError": return words(2) ?? { tag, min: ws[0]!, max: ws[1]! }
    case "NotEnoughMemory": return words(1) ?? { tag, bytesLeft: ws[0]! }
    case "FailedLookup": {
      if (ws.length < 2) return `FailedLookup carries at least 2 message words, got ${ws.length}`
      const failure = lookupFailureFromWords(ws.slice(1))
      if (typeof failure === "string") return failure
      return words(1 + lookupFailureWords(failure).length) ?? { tag, wasSource: ws[0] !== 0, failure }
    }
    case "IllegalOperation": case "AlignmentError": case "TruncatedMessage": case "DeleteFirst": case "RevokeFirst":
      return words(0) ?? { tag }
  }
}

/** A fault message as the fault handler receives it: the fault, and the faulting thread's registers it carries. */
export interface FaultMessage {
  readonly fault: Fault
  /** Where the thread faulted (its restart PC). */
  readonly pc: number
  /** The registers the message carries, by seL4 register number (UnknownSyscall and UserException messages). */
  readonly registers: ReadonlyMap<number, number>
}

/** Decode a fault message (label 1 CapFault, 2 UnknownSyscall, 3 UserException, 5 VMFault), or say why it is not one. */
export const decodeFaultMessage = (m: ReceivedMessage): FaultMessage | string => {
  const w = m.mrs
  const regs = (list: readonly number[]) => new Map(list.map((r, i) => [r, w[i]!]))
  const need = (n: number, name: string): string | null => (w.length >= n ? null : `a ${name} message carries ${n} words, got ${w.length}`)
  switch (m.label) {
    case faultLabel.CapFault: {
      const short = need(4, "CapFault")
      if (short !== null) return short
      const failure = lookupFailureFromWords(w.slice(3))
      if (typeof failure === "string") return failure
      return { fault: { tag: "CapFault", address: w[1]!, inReceivePhase: w[2] !== 0, failure }, pc: w[0]!, registers: new Map() }
    }
    case faultLabel.UnknownSyscall: {
      const short = need(syscallMessage.length + 1, "UnknownSyscall")
      if (short !== null) return short
      const r = regs(syscallMessage)
      return { fault: { tag: "UnknownSyscall", syscallNumber: w[syscallMessage.length]! }, pc: r.get(Reg.FaultIP)!, registers: r }
    }
    case faultLabel.UserException: {
      const short = need(exceptionMessage.length + 2, "UserException")
      if (short !== null) return short
      const r = regs(exceptionMessage)
      const n = exceptionMessage.length
      return { fault: { tag: "UserException", number: w[n]!, code: w[n + 1]! }, pc: w[0]!, registers: r }
    }
    case faultLabel.VMFault: {
      const short = need(4, "VMFault")
      if (short !== null) return short
      return { fault: { tag: "VMFault", address: w[1]!, fsr: w[3]!, instructionFault: w[2] !== 0 }, pc: w[0]!, registers: new Map() }
    }
    default: return `label ${m.label} is no fault message label`
  }
}
