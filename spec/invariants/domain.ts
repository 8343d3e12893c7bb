/**
 * Domain-schedule invariants: the schedule table is well formed and its indexes in range (l4v
 * DetSchedDomainTime_AI `valid_domain_list`, Invariants_H `valid_dom_schedule'`), the current
 * domain has time left after every kernel entry (l4v Refine's `0 < domain_time`, kept by
 * DetSchedDomainTime_AI `call_kernel_domain_time_inv_det_ext`), and the current domain is a
 * domain (Invariants_H `invs'`: `ksCurDomain ≤ maxDomain`). l4v's kernel-entry invariant in
 * proof/refine Refine.thy is `einvs ∧ 0 < domain_time ∧ valid_domain_list`; the domain parts of
 * `valid_sched` (`ct_in_cur_domain`, the queues' domains, `switch_in_cur_domain`) are in thread.ts.
 * @category invariants
 */
import { maxDomainDuration } from "../../model/index.ts"
import type { DomainScheduleItem } from "../state.ts"
import { defineInvariant, noKeys, nothingChanged } from "./types.ts"

/** The incremental scope of an invariant over globals only: no keys to visit (the check reads the globals in full). */
const globalsOnly = noKeys

const isEndMarker = (e: DomainScheduleItem): boolean => e.domain === 0 && e.duration === 0n
const show = (e: DomainScheduleItem | undefined): string => (e === undefined ? "missing" : `(${e.domain}, ${e.duration})`)

/**
 * The domain schedule has a live entry and the reserved end marker at least; only end markers
 * have duration 0; the start entry is in range and no end marker; the last entry is an end marker;
 * the running entry is before the last.
 *
 * Why: `nextDomain` steps from the running entry to the next, or back to the start at an end
 * marker; these facts make it land on an entry with time to give (so `schedule` never picks a
 * domain with no time) and never read past the table.
 *
 * Mirrors: l4v DetSchedDomainTime_AI `valid_domain_list` (Invariants_H `valid_dom_schedule'`).
 */
export const validDomainList = defineInvariant({
  name: "valid_domain_list",
  statement:
    "The domain schedule has at least 2 entries; an entry of duration 0 has domain 0 (an end marker); the start index is in " +
    "range and its entry no end marker; the last entry is an end marker; the running index is below the last.",
  mirrors: "l4v DetSchedDomainTime_AI valid_domain_list (Invariants_H valid_dom_schedule')",
  threatenedBy: ["DomainSet_ScheduleConfigure", "DomainSet_ScheduleSetStart", "nextDomain"],
  // The schedule and its indices (numDomains is fixed at boot).
  scope: (s, prev) => (s.domainList === prev.domainList && s.domainStartIndex === prev.domainStartIndex && s.domainIndex === prev.domainIndex ? nothingChanged : globalsOnly),
  find: (s, report) => {
    const l = s.domainList
    const n = l.length
    if (n < 2) report(`the domain schedule has ${n} entries, fewer than 2`)
    l.forEach((e, i) => {
      if (e.duration === 0n && e.domain !== 0) report(`domain schedule entry ${i} is ${show(e)}: duration 0 but domain ${e.domain}, not an end marker`)
    })
    const start = l[s.domainStartIndex]
    if (start === undefined) report(`the domain schedule's start index ${s.domainStartIndex} is past its ${n} entries`)
    else if (isEndMarker(start)) report(`the domain schedule's start entry ${s.domainStartIndex} is an end marker`)
    const last = l[n - 1]
    if (last !== undefined && !isEndMarker(last)) report(`the domain schedule's last entry ${n - 1} is ${show(last)}, not the end marker (0, 0)`)
    if (!(Number.isInteger(s.domainIndex) && s.domainIndex >= 0 && s.domainIndex < n - 1)) {
      report(`the domain schedule's running index ${s.domainIndex} is not below its last entry ${n - 1}`)
    }
  },
})

/**
 * Every entry of the domain schedule names a domain below numDomains, for at most 2^56 - 1 ticks.
 *
 * Why: `nextDomain` makes an entry's domain current and its duration the time left: a domain
 * past the last would run threads no queue can hold, and the duration must fit C's packed entry.
 *
 * Mirrors: l4v Invariants_H `valid_dom_schedule'` (its entry bounds: domain ≤ maxDomain,
 * duration ≤ maxDomainDuration).
 */
export const validDomSchedule = defineInvariant({
  name: "valid_dom_schedule",
  statement: "Every domain schedule entry names a domain below numDomains and a duration of at most 2^56 - 1 ticks.",
  mirrors: "l4v Invariants_H valid_dom_schedule' (the entry bounds)",
  threatenedBy: ["DomainSet_ScheduleConfigure"],
  // The schedule's entries (numDomains is fixed at boot).
  scope: (s, prev) => (s.domainList === prev.domainList ? nothingChanged : globalsOnly),
  find: (s, report) => {
    s.domainList.forEach((e, i) => {
      if (!(Number.isInteger(e.domain) && e.domain >= 0 && e.domain < s.numDomains)) {
        report(`domain schedule entry ${i} is ${show(e)}: domain ${e.domain} is not below numDomains ${s.numDomains}`)
      }
      if (typeof e.duration !== "bigint" || e.duration < 0n || e.duration > maxDomainDuration) {
        report(`domain schedule entry ${i} is ${show(e)}: the duration is not in 0..2^56 - 1`)
      }
    })
  },
})

/**
 * After every kernel entry the current domain has time left: 0 < domainTime ≤ 2^56 - 1.
 *
 * Why: a tick takes one from the domain time and asks for a reschedule when it reaches 0, and
 * `schedule` then moves to the next domain, whose entry has a positive duration; a domain time of
 * 0 at kernel exit would wrap round at the next tick and the domain would (all but) never end.
 * (l4v does not bound the time by the running entry's duration: DomainSet_ScheduleConfigure may
 * rewrite the running entry, which changes only its next turn.)
 *
 * Mirrors: l4v DetSchedDomainTime_AI `call_kernel_domain_time_inv_det_ext` (`0 < domain_time`,
 * part of the kernel invariant in proof/refine Refine.thy).
 */
export const domainTimeLeft = defineInvariant({
  name: "domain_time_left",
  statement: "The current domain has time left after every kernel entry: 0 < domainTime ≤ 2^56 - 1 ticks.",
  mirrors: "l4v DetSchedDomainTime_AI call_kernel_domain_time_inv_det_ext (0 < domain_time)",
  threatenedBy: ["timerTick", "schedule", "nextDomain", "DomainSet_ScheduleSetStart"],
  find: (s, report) => {
    if (typeof s.domainTime !== "bigint" || s.domainTime <= 0n || s.domainTime > maxDomainDuration) {
      report(`the domain schedule's time left is ${String(s.domainTime)} ticks, not in 1..2^56 - 1 (domain ${s.curDomain}, entry ${s.domainIndex})`)
    }
  },
  // Globals only: checked in full after every step.
  scope: () => globalsOnly,
})

/**
 * The current domain is one of the configured domains.
 *
 * Why: `chooseThread` reads the current domain's ready queues, and a new thread is created in
 * the current domain.
 *
 * Mirrors: l4v Invariants_H `invs'` (`ksCurDomain ≤ maxDomain`).
 */
export const validCurDomain = defineInvariant({
  name: "valid_cur_domain",
  statement: "The current domain is below numDomains.",
  mirrors: "l4v Invariants_H invs' (ksCurDomain ≤ maxDomain)",
  threatenedBy: ["nextDomain"],
  find: (s, report) => {
    if (!(Number.isInteger(s.curDomain) && s.curDomain >= 0 && s.curDomain < s.numDomains)) {
      report(`the domain schedule's current domain ${s.curDomain} is not below numDomains ${s.numDomains}`)
    }
  },
  scope: () => globalsOnly,
})

/** The domain-schedule invariants, in registry order. */
export const domainInvariants = [validDomainList, validDomSchedule, domainTimeLeft, validCurDomain] as const
