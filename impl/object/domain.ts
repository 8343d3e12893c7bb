/**
 * The domain cap's invocation (seL4 src/object/domain.c `decodeDomainInvocation`; `setDomain`
 * itself is in kernel/thread.ts, as in src/kernel/thread.c): move a thread to another scheduling
 * domain. Domain
 * schedules are not modelled (model-decisions.md), so DomainScheduleConfigure and
 * DomainScheduleSetStart are IllegalOperation like any other label.
 * @category scheduling
 */
import { InvocationLabel as L } from "../../model/index.ts"
import { getSyscallArg } from "../api/syscall.ts"
import { setDomain, setThreadState } from "../kernel/thread.ts"
import type { ImplState, ImplTcb } from "../state.ts"
import { EXCEPTION_NONE, type Exception, ThreadStateRestart, getTcbImpl, syscallError } from "../state.ts"

/** @refines spec/object/domain#invokeDomain */
function invokeDomainSetSet(k: ImplState, tcb: ImplTcb, domain: number): void {
  setDomain(k, tcb, domain)
}

/**
 * Decode (and, when valid, perform) a domain-cap invocation. Only DomainSetSet(dom; thread cap).
 *
 * **Rights**: the DomainCap.
 * **Errors** (in order): IllegalOperation (any label but DomainSetSet); TruncatedMessage (no
 * argument); InvalidArgument(0) (dom ≥ numDomains); TruncatedMessage (no extra cap);
 * InvalidArgument(1) (extra cap not a ThreadCap).
 * **Mirrors**: seL4 `decodeDomainInvocation` / `decodeDomainSetSetInvocation` (src/object/domain.c),
 * l4v `decode_domain_invocation`.
 * @category decoding
 * @refines spec/object/domain#decodeDomainInvocation
 */
export function decodeDomainInvocation(k: ImplState, invLabel: number, length: number): Exception {
  // Only DomainSetSet; the domain-schedule labels are out of kspec's scope.
  if (invLabel !== L.DomainSetSet) return syscallError(k, { tag: "IllegalOperation" })
  if (length === 0) return syscallError(k, { tag: "TruncatedMessage" })
  const domain = getSyscallArg(k, 0)
  if (domain >= k.numDomains) return syscallError(k, { tag: "InvalidArgument", argument: 0 })
  const tslot = k.currentExtraCaps[0] ?? null
  if (tslot === null) return syscallError(k, { tag: "TruncatedMessage" })
  const tcap = tslot.cap
  if (tcap.tag !== "ThreadCap") return syscallError(k, { tag: "InvalidArgument", argument: 1 })
  setThreadState(k, k.curThread, ThreadStateRestart)
  invokeDomainSetSet(k, getTcbImpl(k, tcap.ptr), domain)
  return EXCEPTION_NONE
}
