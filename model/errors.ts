/**
 * User-visible errors as values: seL4's syscall errors, lookup failures and faults, with their
 * register encodings. Neither layer throws these; they land in the caller's registers.
 * @category errors
 */

/** Lookup failures (seL4 `lookup_fault`, A/ExceptionTypes_A `lookup_failure`). */
export type LookupFailure =
  | { readonly tag: "InvalidRoot" }
  | { readonly tag: "MissingCapability"; readonly bitsLeft: number }
  | { readonly tag: "DepthMismatch"; readonly bitsLeft: number; readonly bitsFound: number }
  | { readonly tag: "GuardMismatch"; readonly bitsLeft: number; readonly guardFound: number; readonly bitsFound: number }

/** seL4's `lufType` numbering; the register encoding is this value + 1. */
export const lookupFailureType: Readonly<Record<LookupFailure["tag"], number>> = {
  InvalidRoot: 0, MissingCapability: 1, DepthMismatch: 2, GuardMismatch: 3,
}

/** Syscall errors (libsel4 errors.h), with the fields seL4 returns in message registers. */
export type SyscallError =
  | { readonly tag: "InvalidArgument"; readonly argument: number }
  | { readonly tag: "InvalidCapability"; readonly capability: number }
  | { readonly tag: "IllegalOperation" }
  | { readonly tag: "RangeError"; readonly min: number; readonly max: number }
  | { readonly tag: "AlignmentError" }
  | { readonly tag: "FailedLookup"; readonly wasSource: boolean; readonly failure: LookupFailure }
  | { readonly tag: "TruncatedMessage" }
  | { readonly tag: "DeleteFirst" }
  | { readonly tag: "RevokeFirst" }
  | { readonly tag: "NotEnoughMemory"; readonly bytesLeft: number }

/** `seL4_Error` codes. */
export const errorCode: Readonly<Record<SyscallError["tag"], number>> = {
  InvalidArgument: 1, InvalidCapability: 2, IllegalOperation: 3, RangeError: 4, AlignmentError: 5,
  FailedLookup: 6, TruncatedMessage: 7, DeleteFirst: 8, RevokeFirst: 9, NotEnoughMemory: 10,
}
export const errorNames: readonly SyscallError["tag"][] = [
  "InvalidArgument", "InvalidCapability", "IllegalOperation", "RangeError", "AlignmentError",
  "FailedLookup", "TruncatedMessage", "DeleteFirst", "RevokeFirst", "NotEnoughMemory",
]

/** Faults delivered to a thread's fault handler (non-MCS). */
export type Fault =
  | { readonly tag: "CapFault"; readonly address: number; readonly inReceivePhase: boolean; readonly failure: LookupFailure }
  | { readonly tag: "UnknownSyscall"; readonly syscallNumber: number }
  | { readonly tag: "UserException"; readonly number: number; readonly code: number }
  | { readonly tag: "VMFault"; readonly address: number; readonly fsr: number; readonly instructionFault: boolean }

/** Fault message labels (libsel4 arm shared_types.bf, non-MCS, no hypervisor): `seL4_Fault_*`. */
export const faultLabel: Readonly<Record<Fault["tag"], number>> = {
  CapFault: 1, UnknownSyscall: 2, UserException: 3, VMFault: 5,
}

/** Register words of a lookup failure starting at its type word. Mirrors seL4 `setMRs_lookup_failure`. */
export const lookupFailureWords = (lf: LookupFailure): readonly number[] => {
  const t = lookupFailureType[lf.tag] + 1
  switch (lf.tag) {
    case "InvalidRoot": return [t]
    case "MissingCapability": return [t, lf.bitsLeft]
    case "DepthMismatch": return [t, lf.bitsLeft, lf.bitsFound]
    case "GuardMismatch": return [t, lf.bitsLeft, lf.guardFound, lf.bitsFound]
  }
}

/** Message registers of a syscall error reply. Mirrors seL4 `setMRs_syscall_error`. */
export const syscallErrorWords = (e: SyscallError): readonly number[] => {
  switch (e.tag) {
    case "InvalidArgument": return [e.argument]
    case "InvalidCapability": return [e.capability]
    case "RangeError": return [e.min, e.max]
    case "FailedLookup": return [e.wasSource ? 1 : 0, ...lookupFailureWords(e.failure)]
    case "NotEnoughMemory": return [e.bytesLeft]
    case "IllegalOperation": case "AlignmentError": case "TruncatedMessage": case "DeleteFirst": case "RevokeFirst":
      return []
  }
}

/** Short readable rendering, e.g. `FailedLookup(src, GuardMismatch(bitsLeft=32, guard=0, size=3))`. */
export const showLookupFailure = (lf: LookupFailure): string => {
  switch (lf.tag) {
    case "InvalidRoot": return "InvalidRoot"
    case "MissingCapability": return `MissingCapability(bitsLeft=${lf.bitsLeft})`
    case "DepthMismatch": return `DepthMismatch(bitsLeft=${lf.bitsLeft}, found=${lf.bitsFound})`
    case "GuardMismatch": return `GuardMismatch(bitsLeft=${lf.bitsLeft}, guard=${lf.guardFound}, size=${lf.bitsFound})`
  }
}
export const showSyscallError = (e: SyscallError): string => {
  switch (e.tag) {
    case "InvalidArgument": return `InvalidArgument(${e.argument})`
    case "InvalidCapability": return `InvalidCapability(${e.capability})`
    case "RangeError": return `RangeError(${e.min}, ${e.max})`
    case "FailedLookup": return `FailedLookup(${e.wasSource ? "src" : "dest"}, ${showLookupFailure(e.failure)})`
    case "NotEnoughMemory": return `NotEnoughMemory(${e.bytesLeft})`
    default: return e.tag
  }
}
