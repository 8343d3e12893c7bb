/**
 * Authority confinement (l4v proof/access-control/Access.thy `pas_refined`): the authority the
 * state confers, mapped through the labels, stays inside the policy; every thread runs in a domain
 * its label may run in (`tcb_domain_map_wellformed`); the IRQ node's slots carry their IRQs'
 * labels (`irq_map_wellformed`, true of kspec's labelling by construction). The policy's own
 * well-formedness (`pas_wellformed`) is a property of the system, checked when it is loaded.
 *
 * kspec also checks l4v's `domain_sep_inv` here, the invariant its information-flow proof
 * assumes: no DomainCap, IRQControl or IRQHandler cap anywhere, and the IRQ states as at the start.
 * @category security
 */
import type { PPtr, SlotPtr } from "../../model/index.ts"
import { showCap } from "../../model/index.ts"
import type { KernelState } from "../../spec/index.ts"
import { stateDelta } from "../../spec/invariants/delta.ts"
import { stateAuthority } from "./extract.ts"
import type { AuthorityEdge, ExtractScope } from "./extract.ts"
import type { Labelling } from "./labels.ts"
import type { Edge, Policy } from "./policy.ts"
import { showEdge } from "./policy.ts"

/** One way a state breaks authority confinement. */
export interface ConfinementViolation {
  /** `state_objs_in_policy` (an edge outside the policy), `tcb_domain_map_wellformed` or `domain_sep_inv`. */
  readonly rule: "state_objs_in_policy" | "tcb_domain_map_wellformed" | "domain_sep_inv"
  readonly message: string
  /** The edge outside the policy, for `state_objs_in_policy`. */
  readonly edge?: Edge
}

const hex = (x: number) => `0x${x.toString(16)}`

/** What confinement checks a state against. */
export interface ConfinementContext {
  readonly labels: Labelling
  readonly policy: Policy
  /** Threads exempt from the domain map: the root task, suspended for good once the system is set up. */
  readonly exemptThreads: ReadonlySet<PPtr>
  /** The IRQ states the system started with (`domain_sep_inv` keeps them). */
  readonly irqStates: KernelState["irqStates"]
}

/** The extracted edges of `s` (of the parts `scope` names) that the policy does not hold. */
export const edgesOutsidePolicy = (s: KernelState, c: ConfinementContext, scope?: ExtractScope): AuthorityEdge[] =>
  [...stateAuthority(s, c.labels, scope).values()].filter((e) => !c.policy.hasEdge(e))

/** l4v `pas_refined` (less the static well-formedness) and `domain_sep_inv` of `s`: [] when they hold. */
export const checkConfinement = (s: KernelState, c: ConfinementContext): ConfinementViolation[] => confinementOf(s, c, undefined)

/**
 * The same check of the state after a step from a state that passed it: only the slots, objects
 * and ASID table the step changed can confer a new edge, place a thread in a new domain or hold a
 * new cap, so only they are looked at (the delta from the persistent maps' shared structure).
 */
export const checkConfinementStep = (pre: KernelState, post: KernelState, c: ConfinementContext): ConfinementViolation[] => {
  const d = stateDelta(pre, post)
  let asidTable = pre.armASIDTable !== post.armASIDTable
  for (const p of d.objects) if (post.kheap.get(p)?.tag === "ASIDPool") asidTable = true
  return confinementOf(post, c, { slots: d.slots, objects: d.objects, asidTable })
}

const confinementOf = (s: KernelState, c: ConfinementContext, scope: ExtractScope | undefined): ConfinementViolation[] => {
  const out: ConfinementViolation[] = []
  for (const e of edgesOutsidePolicy(s, c, scope)) {
    out.push({ rule: "state_objs_in_policy", edge: { from: e.from, auth: e.auth, to: e.to }, message: `${showEdge(e)} is not in the policy; it comes from ${e.why}` })
  }
  const objects: Iterable<PPtr> = scope === undefined || scope.objects === "all" ? s.kheap.keys() : scope.objects
  for (const p of objects) {
    const o = s.kheap.get(p)
    if (o?.tag !== "TCB" || p === s.idleThread || c.exemptThreads.has(p)) continue
    const l = c.labels.object(p)
    if (!c.labels.domain(o.tcbDomain).includes(l)) {
      out.push({ rule: "tcb_domain_map_wellformed", message: `thread ${hex(p)} (${l}) is in domain ${o.tcbDomain}, whose labels are ${c.labels.domain(o.tcbDomain).join(", ") || "none"}` })
    }
  }
  const slots: Iterable<SlotPtr> = scope === undefined || scope.slots === "all" ? s.caps.keys() : scope.slots
  for (const sl of slots) {
    const cap = s.caps.get(sl)
    if (cap === undefined) continue
    if (cap.tag === "DomainCap" || cap.tag === "IRQControlCap" || cap.tag === "IRQHandlerCap") {
      out.push({ rule: "domain_sep_inv", message: `${showCap(cap)} in slot ${hex(sl)} (${c.labels.slot(s, sl)}): no partition may hold it` })
    }
  }
  for (let i = 0; i < s.numIRQs; i++) {
    if (s.irqStates[i] !== c.irqStates[i]) out.push({ rule: "domain_sep_inv", message: `IRQ ${i} is ${s.irqStates[i]}, not ${c.irqStates[i]} as at the start` })
  }
  return out
}
