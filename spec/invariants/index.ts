/**
 * The invariant registry and its layers, as l4v composes them: `valid_pspace` and `valid_mdb`
 * inside `valid_state`, then `invs = valid_state and cur_tcb`. `kspec docs` renders the
 * reference from `invariants`.
 * @category invariants
 */
import type { KernelState } from "../state.ts"
import * as D from "./domain.ts"
import * as I from "./irq.ts"
import * as Mem from "./memory.ts"
import * as M from "./mdb.ts"
import * as O from "./objects.ts"
import * as P from "./pspace.ts"
import * as Z from "./preemption.ts"
import * as T from "./thread.ts"
import * as V from "./vspace.ts"
import type { IncrementalScope, Invariant, Layer, Violation } from "./types.ts"
import type { StateDelta } from "./delta.ts"
import { all, leaves, scopedView } from "./types.ts"

export * from "./types.ts"
export * from "./objects.ts"
export * from "./pspace.ts"
export * from "./mdb.ts"
export * from "./thread.ts"
export * from "./irq.ts"
export * from "./domain.ts"
export * from "./vspace.ts"
export * from "./memory.ts"
export * from "./preemption.ts"

/** l4v `valid_objs`: caps well formed and not dangling, slots real, object fields valid (page tables and directories well formed). */
export const validObjs: Layer = all("valid_objs", ...O.objectInvariants, V.wellformedVSpaceObj)

/** l4v `valid_pspace`: valid_objs, aligned and distinct objects, symmetric references, live objects capped, Zombies final. */
export const validPspace: Layer = all("valid_pspace", validObjs, P.pspaceAligned, P.pspaceDistinct, P.symRefs, P.ifLiveThenNonzCap, Z.zombiesFinal)

/** l4v `valid_mdb`: the CDT is a forest of non-empty slots consistent with untyped memory and reply caps. */
export const validMdb: Layer = all("valid_mdb", ...M.mdbInvariants)

/**
 * The interrupt part of l4v's `valid_state`: `valid_irq_node`, `valid_irq_handlers`,
 * `valid_irq_states`, the IRQ-node part of `if_unsafe_then_cap`, and kspec's `irq_timer`.
 */
export const validIrq: Layer = all("valid_irq", ...I.irqInvariants)

/** l4v `valid_arch_caps`: the VSpace caps agree with the mappings they describe. */
export const validArchCaps: Layer = all("valid_arch_caps", ...V.archCapsInvariants)

/**
 * The address-space part of l4v's `valid_state`: `valid_vspace_objs`, `valid_arch_state`'s ASID
 * table, `valid_asid_map`, `valid_global_objs`, `equal_kernel_mappings`, `valid_arch_caps`.
 */
export const validVSpace: Layer = all("valid_vspace", ...V.vspaceInvariants, validArchCaps)

/**
 * l4v `valid_state` (kspec's part), with the deterministic extension's `valid_list` and kspec's
 * `derived_rights`. Left out, as kspec has no such state: the hardware-ASID, FPU, cache and
 * device-region conjuncts.
 */
export const validState: Layer = all(
  "valid_state",
  validPspace, validMdb, M.validIoc, M.validList, M.derivedRights,
  T.validIdle, T.onlyIdle, T.validReplyCaps, T.validReplyMasters, T.validGlobalRefs, validIrq, validVSpace, Mem.validMachineState,
  ...Z.preemptionInvariants,
)

/**
 * l4v `valid_sched` (DetSchedInvs_AI): `valid_queues`, `ct_not_in_q`, `valid_sched_action`,
 * `ct_in_cur_domain`, `valid_blocked`, `valid_idle_etcb`, plus kspec's `valid_time_slice`.
 */
export const validSched: Layer = all(
  "valid_sched",
  T.validQueues, T.ctNotInQ, T.validSchedAction, T.ctInCurDomain, T.validBlocked, T.validIdleEtcb, T.validTimeSlice,
)

/**
 * The domain schedule: what l4v's kernel-entry invariant (proof/refine Refine.thy) adds to
 * `einvs`, `valid_domain_list` and `0 < domain_time`, with the entry bounds of Invariants_H
 * `valid_dom_schedule'` and `ksCurDomain ≤ maxDomain` from `invs'`.
 */
export const validDomainSchedule: Layer = all("valid_domain_schedule", ...D.domainInvariants)

/**
 * l4v `invs = valid_state and cur_tcb`, plus the scheduler layer (l4v's `einvs` adds `valid_sched`
 * and `valid_list`) and the domain schedule. Every state at kernel exit satisfies it.
 */
export const invs: Layer = all("invs", validState, T.curTcb, validSched, validDomainSchedule)

/** Every invariant, each once, in a fixed order (the order `invs` reaches them). */
export const invariants: readonly Invariant[] = leaves(invs)

/** Every violation of every invariant in `s`; empty exactly when `s` satisfies `invs`. */
export const checkAll = (s: KernelState): readonly Violation[] => invs.check(s)

export * from "./delta.ts"
export * from "./capRefs.ts"

/** Each invariant's checking mode under the incremental checker, by name. */
export const invariantModes: ReadonlyMap<string, "incremental" | "periodic"> = new Map(invariants.map((i) => [i.name, i.mode]))

const incrementalInvariants = invariants.filter((i) => i.checkChanged !== undefined && i.scope !== undefined)
const periodicInvariants = invariants.filter((i) => i.checkChanged === undefined)

/**
 * Every violation of the invariants without an incremental form ("periodic"), in registry order:
 * what the incremental checker's periodic full check must run in full. The incremental ones need
 * no full run there: `checkChanged` after every step keeps them, by induction from a state that
 * satisfied them, as long as no state is mutated in place (which the checker guards separately).
 */
export const checkPeriodic = (s: KernelState): readonly Violation[] => periodicInvariants.flatMap((i) => i.check(s))

/**
 * The invariants the lockstep checker runs after every step, through their incremental forms: the
 * checks of each changed object or cap (`eachObject`, `eachCap`: called on the changed keys
 * directly) and the checks that cost at most about 0.1 µs a step (measured at 100 objects on the
 * bench's mix: most steps leave what they read alone). The others (`checkedPerPeriod`) walk a
 * neighbourhood (object references, CDT edges and lists, the cap index, a TCB's slots, the kernel
 * window) or check whole after some kinds of step, at 0.1-3 µs a step; after every step they made
 * the default campaign find the planted bugs 12-20% slower (CPU time), and sym_refs,
 * tcb_cap_cases, valid_ioc and equal_kernel_mappings alone made a checked step 13% slower with no
 * planted bug found sooner. They run at each full check, on everything changed since the last
 * one, which costs about what one step's check does. A violation that a step makes and a later
 * step mends within one period escapes those (RunOptions.eachStep "all", KSPEC_EACH_STEP=all,
 * checks every invariant after every step).
 */
export const checkedEachStep: ReadonlySet<string> = new Set([
  // Per changed object or slot.
  "valid_objs.wellformed_cap", "valid_objs.valid_fault", "valid_objs.obj_sizes", "valid_objs.wellformed_vspace_obj",
  "pspace_aligned", "valid_mdb.ut_revocable", "valid_mdb.reply_master_revocable",
  // At most about 0.1 µs a step.
  "work_units_bounded", "domain_time_left", "valid_cur_domain",
  "valid_idle", "valid_idle_etcb", "ct_not_in_q", "valid_irq_node", "if_unsafe_then_cap.irq_node", "valid_irq_states", "irq_timer",
  "valid_domain_list", "valid_dom_schedule", "valid_mdb.irq_control", "valid_mdb.untyped_inc",
])

/** The invariants with incremental forms that the lockstep checker leaves to its periodic full check (see `checkedEachStep`). */
export const checkedPerPeriod: ReadonlySet<string> = new Set(invariants.filter((i) => i.scope !== undefined && !checkedEachStep.has(i.name)).map((i) => i.name))

/** Which incremental invariants a check runs: those run after every step, those run per period, or all. */
export type InvariantSelection = "each-step" | "per-period" | "all"

/**
 * A selection's incremental forms, split by kind once: the checks of each changed object, of each
 * changed cap, and the scoped ones (a scope and the check it views). The loop over them then reads
 * no invariant record (the records have many shapes, and reading their optional fields on every
 * step was a visible part of a step's check).
 */
interface ChangePlan {
  readonly invariants: readonly Invariant[]
  readonly atObject: readonly NonNullable<Invariant["atObject"]>[]
  readonly atCap: readonly NonNullable<Invariant["atCap"]>[]
  readonly scopes: readonly NonNullable<Invariant["scope"]>[]
  readonly checks: readonly Invariant["check"][]
}
const plan = (invs: readonly Invariant[]): ChangePlan => {
  const scoped = invs.filter((i) => i.atObject === undefined && i.atCap === undefined)
  return {
    invariants: invs,
    atObject: invs.flatMap((i) => (i.atObject === undefined ? [] : [i.atObject])),
    atCap: invs.flatMap((i) => (i.atObject === undefined && i.atCap !== undefined ? [i.atCap] : [])),
    scopes: scoped.map((i) => i.scope!),
    checks: scoped.map((i) => i.check),
  }
}

const selected: Readonly<Record<InvariantSelection, ChangePlan>> = {
  "each-step": plan(incrementalInvariants.filter((i) => !checkedPerPeriod.has(i.name))),
  "per-period": plan(incrementalInvariants.filter((i) => checkedPerPeriod.has(i.name))),
  all: plan(incrementalInvariants),
}

/** Do two scopes iterate the same key sets (the same set objects)? */
const sameKeys = (a: IncrementalScope, b: IncrementalScope): boolean =>
  a.objects === b.objects && a.slots === b.slots && a.edges === b.edges && a.lists === b.lists

/**
 * The violations the change from `prev` to `s` introduced, among the invariants with an incremental
 * form (those of `which`); sound when `prev` satisfied them. The change may be one step's or several
 * steps' (`stateDelta` of the two states). Invariants without an incremental form are not run. When a
 * boot parameter the incremental forms rely on changed (idle thread, IRQ or domain counts, IRQ node,
 * global page directory or table), every selected invariant runs in full.
 */
export const checkChanged = (s: KernelState, prev: KernelState, delta: StateDelta, which: InvariantSelection = "all"): readonly Violation[] => {
  const p = selected[which]
  const fixed = s.idleThread === prev.idleThread && s.numIRQs === prev.numIRQs && s.numDomains === prev.numDomains && s.irqNode === prev.irqNode &&
    s.armGlobalPD === prev.armGlobalPD && s.armGlobalPT === prev.armGlobalPT
  if (!fixed) return p.invariants.flatMap((i) => i.check(s))
  const out: Violation[] = []
  // An invariant of each object or each cap on its own skips the view: it runs on the changed ones.
  const objects = present(s.kheap, delta.objects)
  for (const f of p.atObject) for (let j = 0; j < objects.keys.length; j++) f(s, objects.keys[j]!, objects.values[j]!, out)
  const caps = present(s.caps, delta.slots)
  for (const f of p.atCap) for (let j = 0; j < caps.keys.length; j++) f(s, caps.keys[j]!, caps.values[j]!, out)
  // Each other invariant's `checkChanged` is `check` on a view of its scope; invariants whose scopes
  // name the same key sets (most take the delta's objects or slots as they are) share one view.
  const views: { scope: IncrementalScope; view: KernelState }[] = []
  for (let i = 0; i < p.scopes.length; i++) {
    const sc = p.scopes[i]!(s, prev, delta)
    if (sc.nothing === true) continue
    let view: KernelState | undefined
    for (const v of views) if (sameKeys(v.scope, sc)) { view = v.view; break }
    if (view === undefined) {
      view = scopedView(s, sc)
      views.push({ scope: sc, view })
    }
    const r = p.checks[i]!(view)
    for (let j = 0; j < r.length; j++) out.push(r[j]!)
  }
  return out
}

/** The keys of a change still present in a map, with their values (parallel arrays). */
interface Present<K, V> { readonly keys: K[]; readonly values: V[] }
const present = <K, V>(m: ReadonlyMap<K, V>, changed: ReadonlySet<K>): Present<K, V> => {
  const keys: K[] = []
  const values: V[] = []
  for (const k of changed) {
    const v = m.get(k)
    if (v !== undefined) { keys.push(k); values.push(v) }
  }
  return { keys, values }
}
