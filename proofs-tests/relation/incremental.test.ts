/**
 * Incremental checking stays sound: a change outside what a step touched is still caught, at the
 * step when it lies in the spec's delta, otherwise at the next full check (a stray impl write,
 * impl-only invariants, periodic spec invariants), and the failure reported is the one full
 * checking reports.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { BootConfig, Event } from "../../model/index.ts"
import { InitialSlot, ObjectType, defaultBootConfig } from "../../model/index.ts"
import { bootInfo } from "../../spec/kernel/boot.ts"
import { seL4_Untyped_Retype } from "../../harness/builders.ts"
import type { Kernel } from "../../impl/index.ts"
import { boot, stepWithOutcome } from "../../spec/index.ts"
import type { KernelState } from "../../spec/state.ts"
import type { StateDelta } from "../../spec/invariants/delta.ts"
import { CapRefIndex, checkAll, checkChanged, invariantModes, invariants, stateDelta, validCap } from "../../spec/invariants/index.ts"
import type { Choice } from "../../harness/gen/choices.ts"
import { resolveChoice, traceArb, weightsFor } from "../../harness/gen/choices.ts"
import { domainsBootConfig } from "../../harness/configs.ts"
import { deepEqual, fingerprint, statesEqual } from "../../harness/lockstep/diff.ts"
import { realImpl } from "../../harness/lockstep/impls.ts"
import type { ImplUnderTest } from "../../harness/lockstep/runner.ts"
import { fullPeriod, runChoices, runEvents, runLockstep, runnerStats } from "../../harness/lockstep/runner.ts"
import { loadMutant } from "../mutants/build.ts"
import { mutants } from "../mutants/mutants.ts"
import { pingPongRound, pingPongSetup } from "../../harness/scenarios/pingpong.ts"
import { absState, nearestCovering } from "../../harness/relation/abstract.ts"
import { SlotLocator, agreesOn } from "../../harness/relation/incremental.ts"

/** The real impl with `corrupt` applied right after step `at`. */
const corruptedAfter = (at: number, corrupt: (k: Kernel) => void): ImplUnderTest<Kernel> => {
  let n = 0
  return { ...realImpl, boot: (c) => { n = 0; return realImpl.boot(c) }, step: (k, ev) => { realImpl.step(k, ev); if (++n === at) corrupt(k) } }
}

const events: Event[] = fc.sample(fc.array(pingPongRound, { minLength: 8, maxLength: 8 }).map((rs) => rs.flat()), { numRuns: 1, seed: 7 })[0]!
const trace = [...pingPongSetup(), ...events]

describe("incremental checking catches changes outside the tracked set", () => {
  const cases: [string, (k: Kernel) => void, "divergence" | "invariant"][] = [
    ["an idle TCB's priority", (k) => { k.idleThread.tcbPriority = 77 }, "divergence"],
    ["a CTE's cap in the root CNode", (k) => {
      const root = [...k.objects.values()].find((o) => o.tag === "CNode" && o !== k.irqNode)!
      const c = root.tag === "CNode" ? root.slots.find((x) => x !== undefined && x.cap.tag === "EndpointCap") : undefined
      if (c !== undefined && c.cap.tag === "EndpointCap") c.cap = { ...c.cap, rights: c.cap.rights ^ 1 }
      else k.idleThread.tcbMCP = 3
    }, "divergence"],
    ["an endpoint queue link of an unqueued thread (impl-only: the periodic full check)", (k) => { k.idleThread.tcbEPNext = k.curThread }, "invariant"],
    // Globals the spec's steps leave alone: the per-step check reads only what the spec changed, the full check all.
    ["a ready queue no spec state has (the periodic full check)", (k) => { k.readyQueueHead[3] = k.idleThread }, "divergence"],
    ["an interrupt line's mask (the periodic full check)", (k) => { k.irqMasks[2] = !k.irqMasks[2] }, "divergence"],
  ]
  for (const [what, corrupt, kind] of cases) {
    it(`${what}: reported as full checking reports it`, () => {
      const full = runEvents(corruptedAfter(pingPongSetup().length + 3, corrupt), defaultBootConfig, trace)
      const incr = runEvents(corruptedAfter(pingPongSetup().length + 3, corrupt), defaultBootConfig, trace, { fullEvery: 32 })
      expect(full.failure?.kind).toBe(kind)
      expect(incr.failure).toEqual(full.failure)
      expect(incr.events.length).toBe(full.events.length)
    })
  }

  it("in a large state the full check comes less often, and a stray write is still caught by the end of the trace, as full checking reports it", () => {
    // 512 endpoints more, in a root CNode of 4096 slots: the period grows past the default 32.
    const config: BootConfig = { rootCNodeBits: 12, memory: [{ base: 0x2000_0000, size: 0x100_0000, isDevice: false }], numIRQs: 16, numDomains: 1 }
    const untyped = bootInfo(config).untyped.start
    const setup = [...pingPongSetup(), ...[0, 256].map((o) => seL4_Untyped_Retype(untyped, ObjectType.Endpoint, 0, InitialSlot.InitThreadCNode, 0, 0, 1024 + o, 256))]
    const big = [...setup, ...events.slice(0, 24)]
    const spec = runEvents(realImpl, config, setup, { fullEvery: 32 }).spec
    const period = fullPeriod(32, spec)
    expect(spec.kheap.size).toBeGreaterThan(512)
    expect(period).toBeGreaterThan(100)
    // The write lands 3 steps after the setup, outside every later delta; 24 steps follow, fewer than the period.
    const stray = (k: Kernel) => { k.idleThread.tcbPriority = 77 }
    const r0 = runnerStats.replays
    const incr = runEvents(corruptedAfter(setup.length + 3, stray), config, big, { fullEvery: 32 })
    expect(runnerStats.replays).toBe(r0 + 1)
    const full = runEvents(corruptedAfter(setup.length + 3, stray), config, big)
    expect(full.failure?.kind).toBe("divergence")
    expect(incr.failure).toEqual(full.failure)
    expect(fullPeriod(32, boot(defaultBootConfig))).toBe(32)
  }, 60_000)

  it("a stray impl write outside the delta passes the step's check and fails the full relation", () => {
    const k = realImpl.boot(defaultBootConfig)
    const s = boot(defaultBootConfig)
    const loc = new SlotLocator(k)
    const none = { objects: new Set<number>(), slots: new Set<number>() }
    expect(agreesOn(k, s, none, loc)).toBe(true)
    k.idleThread.tcbPriority = 9
    // The step's check looks only at the delta (and the globals): the write is outside it...
    expect(agreesOn(k, s, none, loc)).toBe(true)
    // ...and inside it, or in the full check, it is seen.
    expect(agreesOn(k, s, { ...none, objects: new Set([k.idleThread.base]) }, loc)).toBe(false)
    expect(statesEqual(s, absState(k))).toBe(false)
  })

  it("the step's check compares the ready queues the spec has or had across the step, and the tables it replaced; the others are the full check's", () => {
    const k = realImpl.boot(defaultBootConfig)
    const s = boot(defaultBootConfig)
    const loc = new SlotLocator(k)
    const none = { objects: new Set<number>(), slots: new Set<number>() }
    const idle = k.idleThread
    expect(s.readyQueues.size).toBe(0)
    expect(agreesOn(k, s, none, loc, s)).toBe(true)
    // The spec's step made queue 7; the impl made none.
    expect(agreesOn(k, { ...s, readyQueues: new Map([[7, [idle.base]]]) }, none, loc, s)).toBe(false)
    // The spec's step emptied queue 7; the impl kept it.
    k.readyQueueHead[7] = idle
    expect(agreesOn(k, s, none, loc, { ...s, readyQueues: new Map([[7, [idle.base]]]) })).toBe(false)
    // A queue no spec state of the step has: the full check's (and the check without `prev`).
    expect(agreesOn(k, s, none, loc, s)).toBe(true)
    expect(agreesOn(k, s, none, loc)).toBe(false)
    k.readyQueueHead[7] = null
    // An interrupt mask: compared when the spec's step replaced the table.
    k.irqMasks[2] = !k.irqMasks[2]
    expect(agreesOn(k, s, none, loc, s)).toBe(true)
    expect(agreesOn(k, s, none, loc, { ...s, irqMasks: [...s.irqMasks] })).toBe(false)
    expect(agreesOn(k, s, none, loc)).toBe(false)
  })

  it("a spec-side violation in an untouched object is missed by the incremental forms and caught by the full check", () => {
    const s0 = boot(defaultBootConfig)
    // Point a CNode cap at nothing: valid_cap breaks.
    const [slot, cap] = [...s0.caps].find(([, c]) => c.tag === "CNodeCap")!
    const bad: KernelState = { ...s0, caps: new Map(s0.caps).set(slot, { ...cap, ptr: 0x7000_0000 } as typeof cap) }
    // Outside the tracked set: a delta that does not name the slot (with the checker's cap index, so
    // valid_cap's incremental form looks only at the delta).
    expect(checkChanged(bad, s0, { objects: new Set(), slots: new Set(), capRefs: CapRefIndex.of(bad) })).toEqual([])
    expect(checkAll(bad).some((v) => v.invariant === validCap.name)).toBe(true)
    // And when the delta is computed (by reference), the changed slot is tracked.
    expect(stateDelta(s0, bad).slots.has(slot)).toBe(true)
  })

  it("every invariant has a mode, and the incremental ones agree with full checking on boot", () => {
    expect(invariantModes.size).toBe(invariants.length)
    const s = boot(defaultBootConfig)
    expect(checkChanged(s, s, stateDelta(s, s))).toEqual([])
  })
})

/**
 * The full relation restricted to a delta's entries and the globals, what `agreesOn` must decide:
 * changed objects; each changed slot's cap and originality, its CDT parent where that (or its cap
 * or originality) changed, its children where those (or its cap or originality) changed; every
 * scalar global; the ready queues the spec has or had non-empty across the step; the IRQ and ASID
 * tables where the spec's step replaced them (`prev`: the spec's state before the step).
 */
const restrictedAgree = (a: KernelState, s: KernelState, d: StateDelta, prev: KernelState): boolean => {
  for (const p of d.objects) if (!deepEqual(a.kheap.get(p), s.kheap.get(p))) return false
  for (const sl of d.slots) {
    const all = d.capsOrOriginal!.has(sl)
    if (!deepEqual(a.caps.get(sl), s.caps.get(sl)) || a.isOriginal.has(sl) !== s.isOriginal.has(sl)) return false
    if ((all || d.parents!.has(sl)) && a.cdt.get(sl) !== s.cdt.get(sl)) return false
    if ((all || d.children!.has(sl)) && !deepEqual(a.cdtList.get(sl), s.cdtList.get(sl))) return false
  }
  for (const idx of new Set([...prev.readyQueues.keys(), ...s.readyQueues.keys()])) {
    if (!deepEqual(a.readyQueues.get(idx), s.readyQueues.get(idx))) return false
  }
  if (prev.irqStates !== s.irqStates && !deepEqual(a.irqStates, s.irqStates)) return false
  if (prev.irqMasks !== s.irqMasks && !deepEqual(a.irqMasks, s.irqMasks)) return false
  if (prev.armASIDTable !== s.armASIDTable && !deepEqual(a.armASIDTable, s.armASIDTable)) return false
  const { kheap: _a, caps: _b, cdt: _c, cdtList: _d, isOriginal: _e, readyQueues: _q, irqStates: _i1, irqMasks: _m1, armASIDTable: _t1, ...ga } = a
  const { kheap: _f, caps: _g, cdt: _h, cdtList: _i, isOriginal: _j, readyQueues: _r, irqStates: _i2, irqMasks: _m2, armASIDTable: _t2, ...gs } = s
  return deepEqual(ga, gs)
}

/** The real impl and the named mutants, each with its name. */
const implsNamed = async (names: readonly string[]): Promise<[string, ImplUnderTest<Kernel>][]> => {
  const impls: [string, ImplUnderTest<Kernel>][] = [["real", realImpl]]
  for (const name of names) impls.push([name, (await loadMutant(mutants.find((m) => m.name === name)!)) as unknown as ImplUnderTest<Kernel>])
  return impls
}

/**
 * Step each trace in the spec and `impl`, comparing at every step the relation on the delta with
 * the restricted full relation: they must agree (the real impl must always pass). Stops a trace at
 * its first divergence. Returns the steps compared and the traces that diverged.
 */
const deltaChecks = (name: string, impl: ImplUnderTest<Kernel>, config: BootConfig, traces: readonly Choice[][]): { checks: number; disagreements: number } => {
  let checks = 0
  let disagreements = 0
  for (const t of traces) {
    let s = boot(config)
    const k = impl.boot(config)
    const loc = new SlotLocator(k)
    for (const c of t) {
      const ev = resolveChoice(s, c)
      const prev = s
      s = stepWithOutcome(s, ev).state
      impl.step(k, ev)
      const d = stateDelta(prev, s)
      loc.noteObjects(k, d.objects)
      const expected = restrictedAgree(absState(k), s, d, prev)
      const got = agreesOn(k, s, d, loc, prev)
      checks++
      if (!expected) {
        disagreements++
        expect(got, `${name}: a divergence on the delta passed`).toBe(false)
        break
      }
      if (name === "real") expect(got).toBe(true)
    }
  }
  return { checks, disagreements }
}

describe("the relation on the delta decides what the full relation decides there", () => {
  it("on random traces of the real impl and of mutants: never passes a step the restricted full relation fails, never fails the real impl", async () => {
    let disagreements = 0
    let checks = 0
    for (const [name, impl] of await implsNamed(["delete-leaves-stale-link", "badge-not-delivered", "cancel-forgets-last", "copy-keeps-rights"])) {
      const r = deltaChecks(name, impl, defaultBootConfig, fc.sample(traceArb(80), { numRuns: 6, seed: 99 }))
      checks += r.checks
      disagreements += r.disagreements
    }
    expect(checks).toBeGreaterThan(500)
    expect(disagreements).toBeGreaterThan(0)
  }, 60_000)
})

/** A failure without the watchdog's deadline figure (the same for both runs anyway). */
const withoutMs = <F>(f: F): F => (f !== null && typeof f === "object" && "ms" in f ? { ...f, ms: 0 } : f)

describe("incremental and full checking report the same first failure", () => {
  const traces = fc.sample(traceArb(100), { numRuns: 6, seed: 4242 })
  it("on random traces of the real impl", () => {
    for (const t of traces) expect(runChoices(realImpl, defaultBootConfig, t, { fullEvery: 8 }).failure).toEqual(runChoices(realImpl, defaultBootConfig, t).failure)
  })
  for (const m of mutants.filter((x) => x.securityCheck === undefined)) {
    it(`mutant ${m.name}`, async () => {
      const impl = await loadMutant(m)
      // The looping mutants never return from a step: the watchdog stops both runs at the same step.
      const guard = m.loops === true ? { deadlineMs: 1000 } : {}
      for (const t of traces) {
        const full = runChoices(impl, defaultBootConfig, t, guard)
        const incr = runChoices(impl, defaultBootConfig, t, { ...guard, fullEvery: 8 })
        expect(withoutMs(incr.failure)).toEqual(withoutMs(full.failure))
        expect(incr.events.length).toBe(full.events.length)
      }
      const pp = runEvents(impl, defaultBootConfig, trace, { ...guard, fullEvery: 8 })
      expect(withoutMs(pp.failure)).toEqual(withoutMs(runEvents(impl, defaultBootConfig, trace, guard).failure))
    }, 60_000)
  }
})

describe("with three domains: the domain schedule's globals are checked at every step", () => {
  const domainMutants = ["domain-never-ends", "next-domain-ignores-start", "choose-thread-domain-zero", "set-start-keeps-time"]
  const traces = fc.sample(traceArb(100, weightsFor(domainsBootConfig)), { numRuns: 6, seed: 4243 })
  it("the relation on the delta decides what the full relation decides, for the real impl and the domain mutants", async () => {
    let disagreements = 0
    for (const [name, impl] of await implsNamed(domainMutants)) disagreements += deltaChecks(name, impl, domainsBootConfig, traces).disagreements
    expect(disagreements).toBeGreaterThanOrEqual(domainMutants.length)
  }, 60_000)
  it("incremental and full checking report the same first failure for the domain mutants", async () => {
    let failed = 0
    for (const name of domainMutants) {
      const impl = await loadMutant(mutants.find((m) => m.name === name)!)
      for (const t of traces) {
        const full = runChoices(impl, domainsBootConfig, t)
        expect(runChoices(impl, domainsBootConfig, t, { fullEvery: 8 }).failure, name).toEqual(full.failure)
        if (full.failure !== null) failed++
      }
    }
    expect(failed).toBeGreaterThan(domainMutants.length)
  }, 60_000)
})

describe("the pieces incremental checking rests on", () => {
  it("nearestCovering (the CDT's parent search, linear) equals its definition on every shape of runs", () => {
    const runs = fc.integer({ min: 0, max: 40 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => fc.integer({ min: i, max: n - 1 }))))
    fc.assert(fc.property(runs, (runEnd) => {
      const naive = runEnd.map((_, j) => { for (let i = j - 1; i >= 0; i--) if (runEnd[i]! >= j) return i; return -1 })
      expect(nearestCovering(runEnd)).toEqual(naive)
    }), { seed: 17, numRuns: 500 })
  })

  it("a fingerprint changes when anything inside a kept state is mutated in place, and only then", () => {
    const s = absState(realImpl.boot(defaultBootConfig))
    const before = fingerprint(s)
    expect(fingerprint(s)).toBe(before)
    const tcb = s.kheap.get(s.idleThread) as unknown as { tcbPriority: number; tcbContext: { regs: number[] } }
    tcb.tcbContext.regs[7] = (tcb.tcbContext.regs[7] ?? 0) + 1
    expect(fingerprint(s)).not.toBe(before)
    tcb.tcbContext.regs[7] = tcb.tcbContext.regs[7]! - 1
    expect(fingerprint(s)).toBe(before)
    tcb.tcbPriority++
    expect(fingerprint(s)).not.toBe(before)
  })

  it("a state mutated in place between full checks sends the trace to full checking (where states are frozen)", () => {
    const evs = trace
    const run = (mutate: boolean) => {
      const r0 = runnerStats.replays
      const r = runLockstep(realImpl, defaultBootConfig, (st, i) => {
        // An impure step: scribble on the state the next step receives (and later states share).
        if (mutate && i === 5) (st.kheap.get(st.idleThread) as { tcbMCP: number }).tcbMCP = 200
        return evs[i]
      }, { fullEvery: 32 })
      return { replays: runnerStats.replays - r0, failure: r.failure }
    }
    expect(run(false).replays).toBe(0)
    expect(run(true).replays).toBe(1)
  })
})
