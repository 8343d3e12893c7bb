/**
 * The domain invariants on a three-domain boot state: each holds there, and each flags a state
 * broken in its domain part (the registry's own negative cases, negativeCases.ts, break the
 * one-domain default boot). The domain parts of valid_sched live in the scheduler invariants:
 * a ready queue holds only threads of its domain (valid_queues), a thread to switch to is in the
 * current domain (valid_sched_action), the thread to resume is (ct_in_cur_domain).
 */
import { describe, expect, it } from "vitest"
import { domainsBootConfig } from "../../harness/configs.ts"
import { boot, bootLayout } from "../../spec/kernel/boot.ts"
import type { KernelState } from "../../spec/state.ts"
import { mapSet, readyQueueIndex, updateTcb } from "../../spec/state.ts"
import {
  checkAll, ctInCurDomain, domainTimeLeft, validCurDomain, validDomSchedule, validDomainList, validQueues, validSchedAction,
} from "../../spec/invariants/index.ts"
import type { Invariant } from "../../spec/invariants/index.ts"

const L = bootLayout(domainsBootConfig)
const base = (): KernelState => boot(domainsBootConfig)

const cases: readonly [string, Invariant, () => KernelState][] = [
  ["a ready queue of domain 1 holds the root thread, of domain 0", validQueues,
    () => { const s = base(); return { ...s, readyQueues: mapSet(s.readyQueues, readyQueueIndex(1, 255), [L.rootTcb]) } }],
  ["the thread to switch to is in domain 2 while domain 0 runs", validSchedAction,
    () => ({ ...updateTcb(base(), L.rootTcb, (t) => ({ ...t, tcbDomain: 2 })), schedulerAction: { tag: "SwitchToThread", target: L.rootTcb } })],
  ["the thread to resume is in domain 1 while domain 0 runs", ctInCurDomain,
    () => updateTcb(base(), L.rootTcb, (t) => ({ ...t, tcbDomain: 1 }))],
  ["the start index names an end marker", validDomainList, () => ({ ...base(), domainStartIndex: 5 })],
  ["the start index is past the table", validDomainList, () => ({ ...base(), domainStartIndex: 8 })],
  ["the last entry is no end marker", validDomainList,
    () => { const s = base(); return { ...s, domainList: [...s.domainList.slice(0, 7), { domain: 1, duration: 1n }] } }],
  ["an entry of duration 0 has domain 2", validDomainList,
    () => { const s = base(); return { ...s, domainList: [...s.domainList.slice(0, 4), { domain: 2, duration: 0n }, ...s.domainList.slice(5)] } }],
  ["an entry names domain 3 of 3", validDomSchedule,
    () => { const s = base(); return { ...s, domainList: [{ domain: 3, duration: 4n }, ...s.domainList.slice(1)] } }],
  ["an entry lasts 2^56 ticks", validDomSchedule,
    () => { const s = base(); return { ...s, domainList: [{ domain: 0, duration: 1n << 56n }, ...s.domainList.slice(1)] } }],
  ["the domain time wrapped round to 2^64 - 1", domainTimeLeft, () => ({ ...base(), domainTime: (1n << 64n) - 1n })],
  ["the current domain is 3 of 3", validCurDomain, () => ({ ...base(), curDomain: 3 })],
]

describe("domain invariants on a three-domain boot", () => {
  it("the boot state satisfies every invariant", () => expect(checkAll(base())).toEqual([]))
  for (const [what, inv, state] of cases) {
    it(`${inv.name} flags: ${what}`, () => {
      const found = inv.check(state())
      expect(found.length).toBeGreaterThan(0)
      for (const v of found) expect(v.invariant).toBe(inv.name)
    })
  }
})
