/**
 * The domain cap: moving threads between scheduling domains (seL4 src/object/domain.c,
 * l4v A/Decode_A `decode_domain_invocation`, A/Tcb_A `invoke_domain`). kspec models no domain
 * schedule, so DomainSet_ScheduleConfigure and DomainSet_ScheduleSetStart are not offered.
 * @category objects
 */
import { match } from "ts-pattern"
import type { PPtr, SyscallError } from "../../model/index.ts"
import { InvocationLabel as L } from "../../model/index.ts"
import type { Result } from "../result.ts"
import { err, ok } from "../result.ts"
import type { KernelState } from "../state.ts"
import { setDomain } from "../kernel/thread.ts"
import type { InvocationArgs } from "./cnode.ts"

/** A decoded domain invocation, ready to perform. Mirrors l4v `domain_invocation` (its InvokeDomainSet case). */
export type DomainInvocation = { readonly tag: "DomainSetSet"; readonly tcb: PPtr; readonly domain: number }

/**
 * Check an invocation of the domain cap, reading only.
 *
 * **Rights**: the domain cap itself; extra cap 0 must be a thread cap.
 *
 * **Errors**, in order: a label other than DomainSet_Set -> IllegalOperation; no message word ->
 * TruncatedMessage; the domain word at or above numDomains -> InvalidArgument(0); no extra cap ->
 * TruncatedMessage; the extra cap not a thread cap -> InvalidArgument(1).
 *
 * Mirrors seL4 `decodeDomainInvocation` / `decodeDomainSetSetInvocation` / l4v `decode_domain_set`.
 * @category decoding
 */
export const decodeDomainInvocation = (s: KernelState, a: InvocationArgs): Result<DomainInvocation, SyscallError> => {
  // The schedule-configuration labels are IllegalOperation in kspec: no domain schedule is modelled.
  if (a.label !== L.DomainSetSet) return err({ tag: "IllegalOperation" })
  const domain = a.args[0]
  if (domain === undefined) return err({ tag: "TruncatedMessage" })
  if (domain >= s.numDomains) return err({ tag: "InvalidArgument", argument: 0 })
  const tcap = a.extraCaps[0]
  if (tcap === undefined) return err({ tag: "TruncatedMessage" })
  if (tcap.tag !== "ThreadCap") return err({ tag: "InvalidArgument", argument: 1 })
  return ok({ tag: "DomainSetSet", tcb: tcap.ptr, domain })
}

/**
 * Perform a decoded domain invocation; it cannot fail. DomainSet_Set moves the thread to the
 * domain (`prepareSetDomain` has nothing to do without an FPU). Mirrors seL4 `invokeDomainSetSet`
 * / l4v `invoke_domain`.
 * @category scheduling
 */
export const invokeDomain = (s: KernelState, inv: DomainInvocation): KernelState =>
  match(inv)
    .with({ tag: "DomainSetSet" }, (i) => setDomain(s, i.tcb, i.domain))
    .exhaustive()
