// The invariants' incremental forms are sound on the corruption corpus: a corruption is a step from
// a valid state that changed one field, and `checkChanged`, which looks only at what that step
// changed (the delta found by reference, as the lockstep checker finds it), must flag exactly the
// incremental invariants that the full check flags. An incremental scope that leaves out a key a
// violation can hide in (an object whose change breaks a cap that points at it, say) shows here as
// a corruption the full check flags and the step's check passes.
import { describe, expect, it } from "vitest"
import type { KernelState } from "../../spec/state.ts"
import type { IncrementalScope } from "../../spec/invariants/types.ts"
import type { StateDelta } from "../../spec/invariants/delta.ts"
import { boot, step } from "../../spec/index.ts"
import { pingPongSetup } from "../../harness/scenarios/pingpong.ts"
import { bigBootConfig, bulkEvents, mixedRound } from "../../harness/scenarios/bulk.ts"
import { isRunnable, numPriorities } from "../../model/index.ts"
import { mapSet } from "../../spec/state.ts"
import { CapRefIndex, checkAll, checkChanged, checkPeriodic, checkedEachStep, checkedPerPeriod, invariants, stateDelta } from "../../spec/invariants/index.ts"
import { baseStates, corrupt, loadCorpus } from "./corruptions.ts"

describe("incremental forms on the corruption corpus", () => {
  const corpus = loadCorpus()
  const states = baseStates(corpus.bases)
  const incremental = invariants.filter((i) => i.mode === "incremental")
  const incrementalNames = new Set(incremental.map((i) => i.name))
  const baseIndex = states.map((st) => CapRefIndex.of(st))
  /** An index as text, over the objects and cap targets of `s`. */
  const show = (ix: CapRefIndex, s: KernelState) => [...s.kheap.keys(), ...[...s.caps.values()].map((c) => ("ptr" in c ? c.ptr : 0))]
    .map((p) => `${p}:${[...ix.naming(p)].sort().join(",")}`).sort().join(" ") + ` zombies ${[...ix.zombies].sort().join(",")} untypeds ${[...ix.untypeds].sort().join(",")}`

  // With the checker's cap index (as the lockstep runner keeps it), and without it (scopes that need it
  // check in full) on every fourth corruption.
  for (const indexed of [true, false]) {
    const cases = corpus.corruptions.map((c, n) => ({ ...c, n })).filter(({ n }) => indexed || n % 4 === 0)
    it(`checkChanged flags exactly the incremental invariants the full check flags, on ${cases.length} one-field steps${indexed ? ", with the cap index" : ", with a bare delta (no index, no refinements)"}`, () => {
      const wrong: string[] = []
      let flagged = 0
      cases.forEach((c) => {
        const { n } = c
        const prev = states[c.base]!
        const s = corrupt(prev, c)
        if (s === undefined) return
        // What the full check flags, as the corpus pins it (corruptions.test.ts checks the pins).
        const full = corpus.verdicts[n]!.map((v) => v.split("#")[0]!).filter((name) => incrementalNames.has(name))
        let d = stateDelta(prev, s)
        // The base state's index, advanced to the corrupted state and back (a step and its undoing).
        const capRefs = indexed ? baseIndex[c.base]! : undefined
        if (capRefs !== undefined) {
          capRefs.advance(prev, s, d)
          d = { ...d, capRefs }
        } else {
          // Without the index, a bare delta too: the changed objects and slots only, none of the
          // optional refinements (which slots' caps, parents or child lists changed), as a caller
          // that builds its own delta may pass.
          d = { objects: d.objects, slots: d.slots }
        }
        const step = [...new Set(checkChanged(s, prev, d).map((v) => v.invariant))]
        capRefs?.advance(s, prev, stateDelta(s, prev))
        full.sort(); step.sort()
        if (full.length > 0) flagged++
        if (full.join() !== step.join()) {
          wrong.push(`#${n}: ${c.path.join(".")} ${c.op} ${JSON.stringify(c.value)} in base ${c.base}: full ${full.join(", ") || "none"}; step ${step.join(", ") || "none"}`)
        }
      })
      expect(wrong.slice(0, Number(process.env.SHOW ?? 10)), `${wrong.length} corruptions`).toEqual([])
      // Each base state's index, after all those steps and their undoings, is its own again.
      if (indexed) states.forEach((st, b) => expect(show(baseIndex[b]!, st)).toBe(show(CapRefIndex.of(st), st)))
      // The test means something only if many corruptions break an incremental invariant.
      expect(flagged).toBeGreaterThan(cases.length / 4)
    })
  }

  it("and on steps that change only globals (the current thread, the scheduler action, the ready queues, the domain schedule, the interrupt lines), which the corpus leaves alone", () => {
    const wrong: string[] = []
    let steps = 0
    let flagged = 0
    states.forEach((prev, b) => {
      const tcbs = [...prev.kheap].filter(([, o]) => o.tag === "TCB").map(([p]) => p)
      const other = [...prev.kheap].find(([, o]) => o.tag !== "TCB")![0]
      const variants: [string, KernelState][] = []
      for (const t of [...tcbs, other]) {
        variants.push([`curThread ${t}`, { ...prev, curThread: t }])
        variants.push([`switch to ${t}`, { ...prev, schedulerAction: { tag: "SwitchToThread", target: t } }])
        const o = prev.kheap.get(t)
        const key = o?.tag === "TCB" ? o.tcbDomain * numPriorities + o.tcbPriority : 7
        for (const k of [key, key + 1]) variants.push([`${t} queued at ${k}`, { ...prev, readyQueues: new Map(prev.readyQueues).set(k, [...(prev.readyQueues.get(k) ?? []), t]) }])
      }
      for (const tag of ["ResumeCurrentThread", "ChooseNewThread"] as const) variants.push([tag, { ...prev, schedulerAction: { tag } }])
      for (const k of prev.readyQueues.keys()) {
        const m = new Map(prev.readyQueues)
        m.delete(k)
        variants.push([`queue ${k} dropped`, { ...prev, readyQueues: m }])
      }
      for (const dx of [-1, 1]) {
        variants.push([`domainIndex ${dx}`, { ...prev, domainIndex: prev.domainIndex + dx }])
        variants.push([`domainStartIndex ${dx}`, { ...prev, domainStartIndex: prev.domainStartIndex + dx }])
        variants.push([`curDomain ${dx}`, { ...prev, curDomain: prev.curDomain + dx }])
      }
      for (let irq = 0; irq < prev.numIRQs; irq++) {
        for (const st of ["IRQInactive", "IRQSignal", "IRQTimer"] as const) {
          if (prev.irqStates[irq] !== st) variants.push([`IRQ ${irq} ${st}`, { ...prev, irqStates: prev.irqStates.map((x, i) => (i === irq ? st : x)) }])
        }
        variants.push([`IRQ ${irq} mask flipped`, { ...prev, irqMasks: prev.irqMasks.map((x, i) => (i === irq ? !x : x)) }])
      }
      variants.push(["last schedule entry dropped", { ...prev, domainList: prev.domainList.slice(0, -1) }])
      variants.push(["first entry's domain 5", { ...prev, domainList: prev.domainList.map((e, i) => (i === 0 ? { ...e, domain: 5 } : e)) }])
      // A change of domain under a pending switch, from a state that holds (the switch target runnable and in the domain).
      for (const t of tcbs) {
        const o = prev.kheap.get(t)
        if (o?.tag !== "TCB" || !isRunnable(o.tcbState) || o.tcbDomain !== prev.curDomain) continue
        const pending: KernelState = { ...prev, schedulerAction: { tag: "SwitchToThread", target: t } }
        if (incremental.some((i) => i.check(pending).length > 0)) continue
        const s = { ...pending, curDomain: pending.curDomain + 1 }
        steps++
        const full = incremental.filter((i) => i.check(s).length > 0).map((i) => i.name).sort()
        const step = [...new Set(checkChanged(s, pending, { ...stateDelta(pending, s), capRefs: CapRefIndex.of(pending) }).map((v) => v.invariant))].sort()
        if (full.length > 0) flagged++
        if (full.join() !== step.join()) wrong.push(`base ${b}, switch to ${t} pending, curDomain + 1: full ${full.join(", ") || "none"}; step ${step.join(", ") || "none"}`)
      }
      for (const [what, s] of variants) {
        steps++
        const full = incremental.filter((i) => i.check(s).length > 0).map((i) => i.name).sort()
        const capRefs = CapRefIndex.of(prev)
        const step = [...new Set(checkChanged(s, prev, { ...stateDelta(prev, s), capRefs }).map((v) => v.invariant))].sort()
        if (full.length > 0) flagged++
        if (full.join() !== step.join()) wrong.push(`base ${b}, ${what}: full ${full.join(", ") || "none"}; step ${step.join(", ") || "none"}`)
      }
    })
    expect(wrong.slice(0, 10), `${wrong.length} of ${steps} steps`).toEqual([])
    expect(flagged).toBeGreaterThan(steps / 3)
  })

  it("the cap index (and its Zombies and untypeds), advanced by each step's delta, equals the index built afresh", () => {
    let compared = 0
    for (const c of corpus.corruptions.filter((_, n) => n % 3 === 0)) {
      const prev = states[c.base]!
      const s = corrupt(prev, c)
      if (s === undefined || s.caps === prev.caps) continue
      const ix = CapRefIndex.of(prev)
      ix.advance(prev, s, stateDelta(prev, s))
      expect(show(ix, s)).toBe(show(CapRefIndex.of(s), s))
      compared++
    }
    expect(compared).toBeGreaterThan(100)
  })

  it("the invariants checked after every step are invariants, and the change of several steps is checked as one", () => {
    const names = new Set(invariants.map((i) => i.name))
    expect([...checkedEachStep].filter((n) => !names.has(n))).toEqual([])
    expect(checkedPerPeriod.size + checkedEachStep.size).toBe(incremental.length)
    // Two corruptions of one base state at once: a change of two steps, against the state before both.
    let compared = 0
    for (let n = 0; n + 1 < corpus.corruptions.length; n += 7) {
      const a = corpus.corruptions[n]!, b = corpus.corruptions[n + 1]!
      if (a.base !== b.base) continue
      const prev = states[a.base]!
      const mid = corrupt(prev, a)
      const s = mid === undefined ? undefined : corrupt(mid, b)
      if (s === undefined) continue
      const capRefs = CapRefIndex.of(prev)
      const d = stateDelta(prev, s)
      capRefs.advance(prev, s, d)
      const full = incremental.filter((i) => i.check(s).length > 0).map((i) => i.name).sort()
      const step = [...new Set(checkChanged(s, prev, { ...d, capRefs }).map((v) => v.invariant))].sort()
      expect(step, `corruptions #${n} and #${n + 1}`).toEqual(full)
      compared++
    }
    expect(compared).toBeGreaterThan(500)
  })

  it("every invariant has an incremental form, so the periodic check runs none whole", () => {
    expect(invariants.filter((i) => i.mode !== "incremental").map((i) => i.name)).toEqual([])
    // On a state that breaks many invariants, checkPeriodic (the invariants without a form) finds nothing.
    const bad = corpus.corruptions.map((c) => corrupt(states[c.base]!, c)).find((s) => s !== undefined && checkAll(s).length > 3)!
    expect(checkAll(bad).length).toBeGreaterThan(3)
    expect(checkPeriodic(bad)).toEqual([])
  })

  it("a step's delta is the same whether the state's maps are persistent or native", () => {
    const prev = states.find((st) => [...st.caps.values()].some((c) => c.tag === "EndpointCap"))!
    const [slot, cap] = [...prev.caps].find(([, c]) => c.tag === "EndpointCap")!
    const [obj, o] = [...prev.kheap].find(([, x]) => x.tag === "Endpoint")!
    const persistent = { ...prev, caps: mapSet(prev.caps, slot, { ...cap }), kheap: mapSet(prev.kheap, obj, { ...o }) }
    const native = { ...prev, caps: new Map(prev.caps).set(slot, { ...cap }), kheap: new Map(prev.kheap).set(obj, { ...o }) }
    for (const s of [persistent, native]) {
      const d = stateDelta(prev, s)
      expect([...d.slots]).toEqual([slot])
      expect([...d.objects]).toEqual([obj])
    }
  })

  it("a scope that leaves out what changed misses a violation the full check finds (the test above can fail)", () => {
    // Empty every incremental scope: the step's check sees nothing, so some corruption slips by.
    let missed = 0
    for (const c of corpus.corruptions.slice(0, 400)) {
      const prev = states[c.base]!
      const s = corrupt(prev, c)
      if (s === undefined) continue
      const full = incremental.some((i) => i.check(s).length > 0)
      const blind = checkChanged(s, prev, { objects: new Set(), slots: new Set() }).length > 0
      if (full && !blind) missed++
    }
    expect(missed).toBeGreaterThan(0)
  })
})

describe("incremental forms stay small as the state grows", () => {
  it("on the bench's fixed mix in a state of over 500 objects, each form looks at a few dozen keys at most (the address-space forms whole after a map or unmap, cap_slots after a copy into a CNode), and sits idle after a step that left what it reads alone", () => {
    let s = [...pingPongSetup(), ...bulkEvents(512)].reduce((st, e) => step(st, e), boot(bigBootConfig))
    expect(s.kheap.size).toBeGreaterThan(500)
    const capRefs = CapRefIndex.of(s)
    const incremental = invariants.filter((i) => i.mode === "incremental")
    // Keys a scope visits: none for "nothing", every key for a scope that names no key set.
    const cost = (sc: IncrementalScope): number => {
      if (sc.nothing === true) return 0
      const sets = [sc.objects, sc.slots, sc.edges, sc.lists].filter((x) => x !== undefined)
      return sets.length === 0 ? Infinity : sets.reduce((n, x) => n + x.size, 0)
    }
    // What each form reads, for those that sit idle (a scope of nothing) when a step leaves it alone
    // (every step of the mix changes an object, the caller's registers, so none of those reads objects only).
    const slotsChanged = (_s: KernelState, _p: KernelState, d: StateDelta) => d.slots.size > 0
    const lines = (s: KernelState, p: KernelState) => s.irqStates !== p.irqStates || s.irqMasks !== p.irqMasks
    const reads: Record<string, (s: KernelState, p: KernelState, d: StateDelta) => boolean> = {
      ...Object.fromEntries(["valid_mdb.mdb_cte_at", "valid_mdb.no_mloop", "valid_mdb.descendants_inc", "valid_list", "derived_rights", "valid_mdb.reply_mdb",
        "valid_objs.wellformed_cap", "valid_mdb.ut_revocable", "valid_mdb.reply_master_revocable", "valid_ioc", "valid_reply_masters", "zombies_final",
        "valid_mdb.untyped_inc", "valid_mdb.irq_control", "valid_irq_handlers"].map((n) => [n, slotsChanged])),
      valid_irq_states: lines,
      irq_timer: lines,
      valid_domain_list: (s, p) => s.domainList !== p.domainList || s.domainIndex !== p.domainIndex || s.domainStartIndex !== p.domainStartIndex,
      valid_dom_schedule: (s, p) => s.domainList !== p.domainList,
      ct_not_in_q: (s, p) => s.schedulerAction !== p.schedulerAction || s.curThread !== p.curThread || s.readyQueues !== p.readyQueues,
    }
    const large = new Map<string, number>()
    const busy: string[] = []
    const idle = new Set<string>()
    const round = mixedRound()
    for (const e of [...round, ...round]) {
      const prev = s
      s = step(s, e)
      const d = stateDelta(prev, s)
      capRefs.advance(prev, s, d)
      for (const i of incremental) {
        const sc = i.scope!(s, prev, { ...d, capRefs })
        if (cost(sc) > 40) large.set(i.name, (large.get(i.name) ?? 0) + 1)
        const r = reads[i.name]
        if (r === undefined || r(s, prev, d)) continue
        if (sc.nothing === true) idle.add(i.name)
        else busy.push(`${i.name} runs after a step that left what it reads alone`)
      }
    }
    expect(busy.slice(0, 5)).toEqual([])
    expect([...idle].sort()).toEqual(Object.keys(reads).sort())
    const vspace = ["valid_vspace_objs", "valid_arch_state.valid_asid_table", "valid_asid_map", "valid_global_objs", "valid_arch_caps.valid_vs_lookup",
      "valid_arch_caps.valid_table_caps", "valid_arch_caps.unique_table_caps", "valid_arch_caps.unique_table_refs"]
    const allowed = new Map<string, number>([...vspace.map((n) => [n, 4] as const), ["valid_objs.cap_slots", 2]])
    expect([...large].filter(([n, k]) => k > (allowed.get(n) ?? 0))).toEqual([])
    // And the fallbacks happen where the mix maps and copies (the test sees them).
    expect(large.get("valid_vspace_objs")).toBe(4)
  })
})

