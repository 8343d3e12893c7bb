/**
 * The domain schedule, step by step and in lockstep (spec and impl side by side, every invariant
 * after every step): timer ticks use up the current domain's time, `schedule` moves to the next
 * entry (back to the start after an end marker), only the current domain's threads run and the
 * idle thread runs when it has none, and the two schedule invocations behave as seL4's
 * decodeDomainScheduleConfigure / decodeDomainScheduleSetStart, errors in C's order.
 */
import { describe, expect, it } from "vitest"
import type { BootConfig, Event } from "../../model/index.ts"
import { InitialSlot, decodeBootConfig, defaultBootConfig, maxDomainDuration } from "../../model/index.ts"
import type { SyscallError } from "../../model/index.ts"
import { observe } from "../../spec/index.ts"
import { lockstep } from "../../harness/lockstep/runner.ts"
import type { Lockstep } from "../../harness/lockstep/runner.ts"
import type { Kernel } from "../../impl/index.ts"
import { domainsBootConfig } from "../../harness/configs.ts"
import { SystemBuilder } from "../../harness/setup.ts"
import { decodeReply } from "../../harness/reply.ts"
import { raw, seL4_DomainSet_ScheduleConfigure, seL4_DomainSet_ScheduleSetStart, seL4_DomainSet_Set, timerTick } from "../../harness/builders.ts"
import { InvocationLabel as L, messageInfo } from "../../model/index.ts"

const D = InitialSlot.Domain

/** Step events in lockstep, failing on the first refinement or invariant failure. */
const run = (h: Lockstep<Kernel>, events: readonly Event[]): void => {
  for (const e of events) {
    const r = h.step(e)
    if (r.failure !== null) throw new Error(JSON.stringify(r.failure))
  }
}
const ticks = (n: number): Event[] => Array.from({ length: n }, () => timerTick())
/** The error a Call got, or null for a success. */
const replyError = (h: Lockstep<Kernel>, t: number): SyscallError | null => {
  const r = decodeReply(observe(h.spec, t))
  return r.tag === "Error" ? r.error : null
}
const where = (h: Lockstep<Kernel>) => ({ domain: h.spec.curDomain, index: h.spec.domainIndex, time: h.spec.domainTime })

describe("the static domain schedule", () => {
  it("boots in the first entry's domain, for its length, with the root thread in that domain", () => {
    const h = lockstep(domainsBootConfig)
    expect(where(h)).toEqual({ domain: 0, index: 0, time: 4n })
    expect(h.spec.domainList.slice(0, 5).map((e) => [e.domain, e.duration])).toEqual([[0, 4n], [2, 1n], [1, 3n], [2, 2n], [0, 0n]])
    expect(h.spec.domainList.length).toBe(8)
    const s = lockstep({ ...defaultBootConfig, numDomains: 3, domainSchedule: [{ domain: 2, length: 6 }] })
    expect(where(s)).toEqual({ domain: 2, index: 0, time: 6n })
  })

  it("with one domain (the default) keeps seL4's boot schedule: domain 0 for 2^56 - 1 ticks, which never tick down", () => {
    const h = lockstep(defaultBootConfig)
    expect(h.spec.domainList).toEqual([{ domain: 0, duration: maxDomainDuration }, { domain: 0, duration: 0n }])
    run(h, ticks(7))
    expect(where(h)).toEqual({ domain: 0, index: 0, time: maxDomainDuration })
  })

  it("ticks use up each entry's time; the next entry follows, back to the start after the last; an empty domain runs the idle thread", () => {
    const h = lockstep(domainsBootConfig)
    const root = h.spec.curThread
    run(h, ticks(3))
    expect(where(h)).toEqual({ domain: 0, index: 0, time: 1n })
    run(h, ticks(1))
    // Domain 2 has no threads: the idle thread runs, the root thread waits in its queue.
    expect(where(h)).toEqual({ domain: 2, index: 1, time: 1n })
    expect(h.spec.curThread).toBe(h.spec.idleThread)
    run(h, ticks(1))
    expect(where(h)).toEqual({ domain: 1, index: 2, time: 3n })
    run(h, ticks(3))
    expect(where(h)).toEqual({ domain: 2, index: 3, time: 2n })
    run(h, ticks(2))
    expect(where(h)).toEqual({ domain: 0, index: 0, time: 4n })
    expect(h.spec.curThread).toBe(root)
  })

  it("a thread moved to another domain runs only in that domain's time", () => {
    const sys = new SystemBuilder(domainsBootConfig)
    const t1 = sys.thread({ domain: 1, priority: 100 })
    const t2 = sys.thread({ domain: 2, priority: 100 })
    const h = lockstep(domainsBootConfig)
    run(h, sys.events)
    const root = h.spec.curThread
    const seen = new Map<number, Set<number>>()
    for (let i = 0; i < 30; i++) {
      run(h, [timerTick()])
      const s = h.spec
      if (!seen.has(s.curDomain)) seen.set(s.curDomain, new Set())
      seen.get(s.curDomain)!.add(s.curThread)
    }
    expect([...seen.get(0)!]).toEqual([root])
    expect([...seen.get(1)!]).toEqual([t1.ptr])
    expect([...seen.get(2)!]).toEqual([t2.ptr])
  })

  it("DomainSet_Set of the running thread to another domain: it waits for that domain's turn", () => {
    const h = lockstep(domainsBootConfig)
    const root = h.spec.curThread
    run(h, [seL4_DomainSet_Set(D, 1, InitialSlot.InitThreadTCB)])
    expect(h.spec.curThread).toBe(h.spec.idleThread)
    run(h, ticks(4 + 1))
    expect(where(h)).toEqual({ domain: 1, index: 2, time: 3n })
    expect(h.spec.curThread).toBe(root)
    expect(replyError(h, root)).toBeNull()
  })
})

describe("DomainSet_ScheduleConfigure and DomainSet_ScheduleSetStart", () => {
  it("check their arguments in seL4's order", () => {
    const h = lockstep(domainsBootConfig)
    const root = h.spec.curThread
    const err = (e: Event): SyscallError | null => { run(h, [e]); return replyError(h, root) }
    const call = (label: number, mrs: number[]) => raw("Call", D, messageInfo(label, mrs.length, 0), mrs)
    expect(err(call(L.DomainScheduleConfigure, [1, 1, 5]))).toEqual({ tag: "TruncatedMessage" })
    expect(err(seL4_DomainSet_ScheduleConfigure(D, 7, 1, 5))).toEqual({ tag: "RangeError", min: 0, max: 6 })
    expect(err(seL4_DomainSet_ScheduleConfigure(D, 7, 9, 1n << 60n))).toEqual({ tag: "RangeError", min: 0, max: 6 })
    expect(err(seL4_DomainSet_ScheduleConfigure(D, 1, 3, 5))).toEqual({ tag: "RangeError", min: 0, max: 2 })
    expect(err(seL4_DomainSet_ScheduleConfigure(D, 1, 1, 1n << 56n))).toEqual({ tag: "InvalidArgument", argument: 2 })
    expect(err(seL4_DomainSet_ScheduleConfigure(D, 1, 1, 0))).toEqual({ tag: "InvalidArgument", argument: 1 })
    expect(err(seL4_DomainSet_ScheduleConfigure(D, 0, 0, 0))).toEqual({ tag: "InvalidArgument", argument: 2 })
    expect(err(seL4_DomainSet_ScheduleConfigure(D, 1, 1, maxDomainDuration))).toBeNull()
    expect(err(call(L.DomainScheduleSetStart, []))).toEqual({ tag: "TruncatedMessage" })
    expect(err(seL4_DomainSet_ScheduleSetStart(D, 8))).toEqual({ tag: "RangeError", min: 0, max: 7 })
    expect(err(seL4_DomainSet_ScheduleSetStart(D, 5))).toEqual({ tag: "InvalidArgument", argument: 0 })
    expect(err(raw("Call", D, messageInfo(33, 0, 0)))).toEqual({ tag: "IllegalOperation" })
  })

  it("Configure rewrites an entry from its next turn; an end marker shortens the round", () => {
    const h = lockstep(domainsBootConfig)
    // The running entry 0 gets 2 ticks: the current turn keeps its 4.
    run(h, [seL4_DomainSet_ScheduleConfigure(D, 0, 0, 2), seL4_DomainSet_ScheduleConfigure(D, 2, 0, 0)])
    expect(where(h)).toEqual({ domain: 0, index: 0, time: 4n })
    run(h, ticks(4))
    expect(where(h)).toEqual({ domain: 2, index: 1, time: 1n })
    // Entry 2 is an end marker now: back to the start, entry 0, with its new length.
    run(h, ticks(1))
    expect(where(h)).toEqual({ domain: 0, index: 0, time: 2n })
  })

  it("SetStart ends the current domain at once and starts the schedule over from the new start", () => {
    const h = lockstep(domainsBootConfig)
    run(h, [seL4_DomainSet_ScheduleSetStart(D, 2)])
    expect(where(h)).toEqual({ domain: 1, index: 2, time: 3n })
    expect(h.spec.domainStartIndex).toBe(2)
    run(h, ticks(3 + 2))
    // Entry 4 is an end marker: back to entry 2, not 0.
    expect(where(h)).toEqual({ domain: 1, index: 2, time: 3n })
  })
})

describe("boot configurations with a domain schedule are validated", () => {
  const bad: readonly [string, Partial<BootConfig> & Record<string, unknown>, RegExp][] = [
    ["a domain past numDomains", { numDomains: 2, domainSchedule: [{ domain: 2, length: 3 }] }, /domainSchedule\[0\]\.domain: 2 is not below numDomains \(2\)/],
    ["an empty schedule", { numDomains: 2, domainSchedule: [] }, /./],
    ["a zero length", { numDomains: 2, domainSchedule: [{ domain: 1, length: 0 }] }, /./],
    ["a schedule longer than the table", { numDomains: 2, numDomainSchedules: 3, domainSchedule: [{ domain: 1, length: 1 }, { domain: 0, length: 1 }, { domain: 1, length: 1 }] }, /do not fit numDomainSchedules 3/],
    ["two entries with one domain and the default table", { domainSchedule: [{ domain: 0, length: 1 }, { domain: 0, length: 2 }] }, /numDomainSchedules 2 \(the default\)/],
    ["a table of one entry", { numDomains: 2, numDomainSchedules: 1 }, /./],
  ]
  for (const [what, patch, message] of bad) {
    it(`rejects ${what}`, () => {
      const d = decodeBootConfig({ ...defaultBootConfig, ...patch })
      expect(d.ok).toBe(false)
      if (!d.ok) expect(d.message).toMatch(message)
    })
  }
  it("accepts a config without a schedule (old configs and trace files) and the three-domain config", () => {
    expect(decodeBootConfig(defaultBootConfig).ok).toBe(true)
    expect(decodeBootConfig(domainsBootConfig).ok).toBe(true)
  })
})
