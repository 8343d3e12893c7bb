/**
 * The domain cap: moving threads between scheduling domains and configuring the domain schedule
 * (seL4 src/object/domain.c, since 15.0; l4v A/Decode_A `decode_domain_invocation`, A/Tcb_A
 * `invoke_domain`, A/Schedule_A `domain_schedule_configure`, `domain_set_start`).
 * @category objects
 */
import { match } from "ts-pattern"
import type { PPtr, SyscallError } from "../../model/index.ts"
import { InvocationLabel as L, maxDomainDuration } from "../../model/index.ts"
import type { Result } from "../result.ts"
import { err, ok } from "../result.ts"
import type { KernelState } from "../state.ts"
import { updateState } from "../state.ts"
import { isEndMarker, rescheduleRequired, setDomain } from "../kernel/thread.ts"
import type { InvocationArgs } from "./cnode.ts"

/** A decoded domain invocation, ready to perform. Mirrors l4v `domain_invocation`. */
export type DomainInvocation =
  | { readonly tag: "DomainSetSet"; readonly tcb: PPtr; readonly domain: number }
  | { readonly tag: "DomainScheduleConfigure"; readonly index: number; readonly domain: number; readonly duration: bigint }
  | { readonly tag: "DomainScheduleSetStart"; readonly index: number }

/** Message words a tick count takes on a 32-bit kernel (seL4 `TIME_ARG_SIZE`, l4v `timeArgLen`). */
export const timeArgSize = 2

/**
 * The 64-bit tick count in message words `i` (low word) and `i + 1` (high word).
 * Mirrors seL4 `mode_parseTimeArg` (32-bit) / l4v `parseTimeArg`.
 */
export const parseTimeArg = (args: readonly number[], i: number): bigint =>
  (BigInt(args[i + 1] ?? 0) << 32n) + BigInt(args[i] ?? 0)

/**
 * DomainSet_Set(domain; thread): no message word -> TruncatedMessage; the domain at or above
 * numDomains -> InvalidArgument(0); no extra cap -> TruncatedMessage; the extra cap not a thread
 * cap -> InvalidArgument(1). Mirrors seL4 `decodeDomainSetSetInvocation` / l4v `decode_domain_set`.
 */
const decodeDomainSetSet = (s: KernelState, a: InvocationArgs): Result<DomainInvocation, SyscallError> => {
  const domain = a.args[0]
  if (domain === undefined) return err({ tag: "TruncatedMessage" })
  if (domain >= s.numDomains) return err({ tag: "InvalidArgument", argument: 0 })
  const tcap = a.extraCaps[0]
  if (tcap === undefined) return err({ tag: "TruncatedMessage" })
  if (tcap.tag !== "ThreadCap") return err({ tag: "InvalidArgument", argument: 1 })
  return ok({ tag: "DomainSetSet", tcb: tcap.ptr, domain })
}

/**
 * DomainSet_ScheduleConfigure(index, domain, duration): fewer than 2 + 2 words -> TruncatedMessage;
 * the index not below the table's last entry (reserved for an end marker) -> RangeError(0, n - 2);
 * the domain at or above numDomains -> RangeError(0, numDomains - 1); a duration over 2^56 - 1
 * -> InvalidArgument(2); duration 0 with a domain other than 0 -> InvalidArgument(1); duration 0
 * at the start index -> InvalidArgument(2). Mirrors seL4 `decodeDomainScheduleConfigure` / l4v
 * `decode_domain_schedule_configure`.
 */
const decodeDomainScheduleConfigure = (s: KernelState, a: InvocationArgs): Result<DomainInvocation, SyscallError> => {
  if (a.args.length < 2 + timeArgSize) return err({ tag: "TruncatedMessage" })
  const index = a.args[0]!
  const domain = a.args[1]!
  const duration = parseTimeArg(a.args, 2)
  const n = s.domainList.length
  if (index >= n - 1) return err({ tag: "RangeError", min: 0, max: n - 2 })
  if (domain >= s.numDomains) return err({ tag: "RangeError", min: 0, max: s.numDomains - 1 })
  if (duration > maxDomainDuration) return err({ tag: "InvalidArgument", argument: 2 })
  if (duration === 0n && domain !== 0) return err({ tag: "InvalidArgument", argument: 1 })
  if (index === s.domainStartIndex && duration === 0n) return err({ tag: "InvalidArgument", argument: 2 })
  return ok({ tag: "DomainScheduleConfigure", index, domain, duration })
}

/**
 * DomainSet_ScheduleSetStart(index): no message word -> TruncatedMessage; the index past the
 * table -> RangeError(0, n - 1); an end marker there -> InvalidArgument(0). Mirrors seL4
 * `decodeDomainScheduleSetStart` / l4v `decode_domain_schedule_set_start`.
 */
const decodeDomainScheduleSetStart = (s: KernelState, a: InvocationArgs): Result<DomainInvocation, SyscallError> => {
  const index = a.args[0]
  if (index === undefined) return err({ tag: "TruncatedMessage" })
  const n = s.domainList.length
  if (index >= n) return err({ tag: "RangeError", min: 0, max: n - 1 })
  if (isEndMarker(s.domainList[index])) return err({ tag: "InvalidArgument", argument: 0 })
  return ok({ tag: "DomainScheduleSetStart", index })
}

/**
 * Check an invocation of the domain cap, reading only.
 *
 * **Rights**: the domain cap itself; DomainSet_Set's extra cap 0 must be a thread cap.
 *
 * **Errors**: a label that is no DomainSet method -> IllegalOperation; then the method's own
 * checks, in seL4's order (see each decoder above).
 *
 * Mirrors seL4 `decodeDomainInvocation` / l4v `decode_domain_invocation`.
 * @category decoding
 */
export const decodeDomainInvocation = (s: KernelState, a: InvocationArgs): Result<DomainInvocation, SyscallError> => {
  switch (a.label) {
    case L.DomainSetSet: return decodeDomainSetSet(s, a)
    case L.DomainScheduleConfigure: return decodeDomainScheduleConfigure(s, a)
    case L.DomainScheduleSetStart: return decodeDomainScheduleSetStart(s, a)
    default: return err({ tag: "IllegalOperation" })
  }
}

/**
 * Write schedule entry `index`. An entry the schedule is running now changes what the next pass
 * through it runs, not the time left now. Mirrors seL4 `invokeDomainScheduleConfigure` / l4v
 * `domain_schedule_configure`.
 * @category scheduling
 */
export const invokeDomainScheduleConfigure = (s: KernelState, index: number, domain: number, duration: bigint): KernelState =>
  updateState(s, { domainList: s.domainList.map((e, i) => (i === index ? { domain, duration } : e)) })

/**
 * Make `index` the start of the schedule and end the current domain's time at once: the schedule
 * index goes to the entry before the reserved last one, so the next `nextDomain` wraps round to
 * the new start. Mirrors seL4 `invokeDomainScheduleSetStart` / l4v `domain_set_start`.
 * @category scheduling
 */
export const invokeDomainScheduleSetStart = (s: KernelState, index: number): KernelState =>
  rescheduleRequired(updateState(s, { domainStartIndex: index, domainTime: 0n, domainIndex: s.domainList.length - 2 }))

/**
 * Perform a decoded domain invocation; it cannot fail. DomainSet_Set moves the thread to the
 * domain (`prepareSetDomain` has nothing to do without an FPU). Mirrors seL4 `invokeDomainSetSet`
 * and the two schedule invocations / l4v `invoke_domain`.
 * @category scheduling
 */
export const invokeDomain = (s: KernelState, inv: DomainInvocation): KernelState =>
  match(inv)
    .with({ tag: "DomainSetSet" }, (i) => setDomain(s, i.tcb, i.domain))
    .with({ tag: "DomainScheduleConfigure" }, (i) => invokeDomainScheduleConfigure(s, i.index, i.domain, i.duration))
    .with({ tag: "DomainScheduleSetStart" }, (i) => invokeDomainScheduleSetStart(s, i.index))
    .exhaustive()
