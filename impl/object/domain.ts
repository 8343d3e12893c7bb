/**
 * The domain cap's invocations (seL4 src/object/domain.c, since 15.0): move a thread to another
 * scheduling domain (`setDomain` itself is in kernel/thread.ts, as in src/kernel/thread.c), write
 * an entry of the domain schedule, and restart the schedule from a new start entry.
 * @category scheduling
 */
import { InvocationLabel as L, maxDomainDuration } from "../../model/index.ts"
import { getSyscallArg } from "../api/syscall.ts"
import { rescheduleRequired, setDomain, setThreadState } from "../kernel/thread.ts"
import type { ImplState, ImplTcb } from "../state.ts"
import {
  EXCEPTION_NONE, type Exception, ThreadStateRestart, dscheduleIsEndMarker, dscheduleMake, extraCapSlot, getTcbImpl, syscallError,
} from "../state.ts"

/** C `TIME_ARG_SIZE` on a 32-bit kernel: a tick count takes two message words. */
const timeArgSize = 2

/**
 * A 64-bit tick count from message words `i` (low) and `i + 1` (high). C `mode_parseTimeArg` (32-bit).
 * @refines spec/object/domain#parseTimeArg
 */
function parseTimeArg(k: ImplState, i: number): bigint {
  return (BigInt(getSyscallArg(k, i + 1)) << 32n) + BigInt(getSyscallArg(k, i))
}

/** @refines spec/object/domain#invokeDomain */
function invokeDomainSetSet(k: ImplState, tcb: ImplTcb, domain: number): void {
  setDomain(k, tcb, domain)
}

/**
 * C `decodeDomainSetSetInvocation`: TruncatedMessage (no argument); InvalidArgument(0) (dom ≥
 * numDomains); TruncatedMessage (no extra cap); InvalidArgument(1) (extra cap not a ThreadCap).
 * @refines spec/object/domain#decodeDomainSetSet
 */
function decodeDomainSetSetInvocation(k: ImplState, length: number): Exception {
  if (length === 0) return syscallError(k, { tag: "TruncatedMessage" })
  const domain = getSyscallArg(k, 0)
  if (domain >= k.numDomains) return syscallError(k, { tag: "InvalidArgument", argument: 0 })
  const tslot = extraCapSlot(k, 0)
  if (tslot === null) return syscallError(k, { tag: "TruncatedMessage" })
  const tcap = tslot.cap
  if (tcap.tag !== "ThreadCap") return syscallError(k, { tag: "InvalidArgument", argument: 1 })
  setThreadState(k, k.curThread, ThreadStateRestart)
  invokeDomainSetSet(k, getTcbImpl(k, tcap.ptr), domain)
  return EXCEPTION_NONE
}

/**
 * Write schedule entry `index` (C `ksDomSchedule[index] = dschedule_make(domain, duration)`).
 * @refines spec/object/domain#invokeDomainScheduleConfigure
 */
function invokeDomainScheduleConfigure(k: ImplState, index: number, domain: number, duration: bigint): void {
  k.domSchedule[index] = dscheduleMake(domain, duration)
}

/**
 * C `decodeDomainScheduleConfigure`: TruncatedMessage (fewer than 2 + TIME_ARG_SIZE words);
 * RangeError(0, n - 2) (index at or past the reserved last entry); RangeError(0, numDomains - 1)
 * (domain); InvalidArgument(2) (duration over 56 bits); InvalidArgument(1) (duration 0, domain not
 * 0); InvalidArgument(2) (duration 0 at the start index).
 * @refines spec/object/domain#decodeDomainScheduleConfigure
 */
function decodeDomainScheduleConfigure(k: ImplState, length: number): Exception {
  if (length < 2 + timeArgSize) return syscallError(k, { tag: "TruncatedMessage" })
  const index = getSyscallArg(k, 0)
  const domain = getSyscallArg(k, 1)
  const duration = parseTimeArg(k, 2)
  const domScheduleLength = k.domSchedule.length
  // The last entry must stay an end marker.
  if (index >= domScheduleLength - 1) return syscallError(k, { tag: "RangeError", min: 0, max: domScheduleLength - 2 })
  if (domain >= k.numDomains) return syscallError(k, { tag: "RangeError", min: 0, max: k.numDomains - 1 })
  if (duration > maxDomainDuration) return syscallError(k, { tag: "InvalidArgument", argument: 2 })
  if (duration === 0n && domain !== 0) return syscallError(k, { tag: "InvalidArgument", argument: 1 })
  if (index === k.domScheduleStart && duration === 0n) return syscallError(k, { tag: "InvalidArgument", argument: 2 })
  setThreadState(k, k.curThread, ThreadStateRestart)
  invokeDomainScheduleConfigure(k, index, domain, duration)
  return EXCEPTION_NONE
}

/**
 * End the current domain's time and force a switch to the new start entry: the index goes to the
 * entry before the reserved last one, so `nextDomain` wraps round to the start.
 * @refines spec/object/domain#invokeDomainScheduleSetStart
 */
function invokeDomainScheduleSetStart(k: ImplState, index: number): void {
  k.domScheduleStart = index
  k.domainTime = 0n
  k.domScheduleIdx = k.domSchedule.length - 2
  rescheduleRequired(k)
}

/**
 * C `decodeDomainScheduleSetStart`: TruncatedMessage (no argument); RangeError(0, n - 1) (index
 * past the table); InvalidArgument(0) (an end marker there).
 * @refines spec/object/domain#decodeDomainScheduleSetStart
 */
function decodeDomainScheduleSetStart(k: ImplState, length: number): Exception {
  if (length < 1) return syscallError(k, { tag: "TruncatedMessage" })
  const index = getSyscallArg(k, 0)
  const domScheduleLength = k.domSchedule.length
  if (index >= domScheduleLength) return syscallError(k, { tag: "RangeError", min: 0, max: domScheduleLength - 1 })
  if (dscheduleIsEndMarker(k, index)) return syscallError(k, { tag: "InvalidArgument", argument: 0 })
  setThreadState(k, k.curThread, ThreadStateRestart)
  invokeDomainScheduleSetStart(k, index)
  return EXCEPTION_NONE
}

/**
 * Decode (and, when valid, perform) a domain-cap invocation.
 *
 * **Rights**: the DomainCap (DomainSet_Set: a ThreadCap as extra cap 0).
 * **Errors**: IllegalOperation (a label that is no DomainSet method), then the method's own.
 * **Mirrors**: seL4 `decodeDomainInvocation` (src/object/domain.c), l4v `decode_domain_invocation`.
 * @category decoding
 * @refines spec/object/domain#decodeDomainInvocation
 */
export function decodeDomainInvocation(k: ImplState, invLabel: number, length: number): Exception {
  switch (invLabel) {
    case L.DomainSetSet:
      return decodeDomainSetSetInvocation(k, length)
    case L.DomainScheduleConfigure:
      return decodeDomainScheduleConfigure(k, length)
    case L.DomainScheduleSetStart:
      return decodeDomainScheduleSetStart(k, length)
    default:
      return syscallError(k, { tag: "IllegalOperation" })
  }
}
