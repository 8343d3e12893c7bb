/**
 * defineInvariant's three forms (a search of the state, a check of each object, a check of each
 * cap) agree with each other, whole and on a step's change; a predicate that throws is reported
 * under its own name; and one run's violations never leak into the next.
 */
import { describe, expect, it } from "vitest"
import { defaultBootConfig } from "../../model/index.ts"
import type { KernelState } from "../../spec/index.ts"
import { boot } from "../../spec/index.ts"
import { setCap, updateTcb } from "../../spec/state.ts"
import type { Invariant, Violation } from "../../spec/invariants/index.ts"
import { defineInvariant, invariantModes, invariants, stateDelta } from "../../spec/invariants/index.ts"

const doc = { statement: "test", mirrors: "none", threatenedBy: [] }

/** "No thread runs above priority `max`", as a check of each object and as a search. */
const prioEach = (max: number): Invariant => defineInvariant({
  name: "prio_each", ...doc,
  eachObject: (_s, p, o, report) => { if (o.tag === "TCB" && o.tcbPriority > max) report(`TCB ${p} at ${o.tcbPriority}`) },
})
const prioFind = (max: number): Invariant => defineInvariant({
  name: "prio_each", ...doc,
  find: (s, report) => { for (const [p, o] of s.kheap) if (o.tag === "TCB" && o.tcbPriority > max) report(`TCB ${p} at ${o.tcbPriority}`) },
  scope: (_s, _prev, d) => ({ objects: d.objects }),
})
/** "No cap is an untyped cap", as a check of each cap and as a search. */
const noUntypedEach = defineInvariant({
  name: "no_untyped", ...doc,
  eachCap: (_s, slot, c, report) => { if (c.tag === "UntypedCap") report(`slot ${slot}`) },
})
const noUntypedFind = defineInvariant({
  name: "no_untyped", ...doc,
  find: (s, report) => { for (const [slot, c] of s.caps) if (c.tag === "UntypedCap") report(`slot ${slot}`) },
  scope: (_s, _prev, d) => ({ slots: d.slots }),
})

const s0 = boot(defaultBootConfig)
const root = s0.curThread
/** The state with the root thread's priority set to `prio`. */
const withPrio = (prio: number): KernelState => updateTcb(s0, root, (t) => ({ ...t, tcbPriority: prio }))
const messages = (vs: readonly Violation[]) => vs.map((v) => `${v.invariant}: ${v.message}`)

describe("defineInvariant's forms", () => {
  it("a check of each object and the same predicate as a search find the same violations, whole and on a step's change", () => {
    const rootPrio = (s0.kheap.get(root) as { tcbPriority: number }).tcbPriority
    for (const max of [0, rootPrio - 1, rootPrio, 255]) {
      const each = prioEach(max)
      const find = prioFind(max)
      expect(each.mode).toBe("incremental")
      expect(messages(each.check(s0))).toEqual(messages(find.check(s0)))
      const s = withPrio(max === 0 ? 1 : max + 1)
      const d = stateDelta(s0, s)
      expect(messages(each.checkChanged!(s, s0, d))).toEqual(messages(find.checkChanged!(s, s0, d)))
      // The checker's direct form: the changed object alone, into the caller's list.
      const out: Violation[] = []
      for (const p of d.objects) each.atObject!(s, p, s.kheap.get(p)!, out)
      expect(messages(out)).toEqual([`prio_each: TCB ${root} at ${max === 0 ? 1 : max + 1}`])
    }
    // The boot state has untyped caps: both forms list every one of them.
    const untyped = messages(noUntypedFind.check(s0))
    expect(untyped.length).toBeGreaterThan(0)
    expect(messages(noUntypedEach.check(s0))).toEqual(untyped)
    // A step that copies an untyped cap into an empty slot: both incremental forms see that slot alone.
    const [, ut] = [...s0.caps].find(([, c]) => c.tag === "UntypedCap")!
    const free = Math.max(...s0.caps.keys()) + 16
    const s1 = setCap(s0, free, ut)
    const d1 = stateDelta(s0, s1)
    expect(messages(noUntypedEach.checkChanged!(s1, s0, d1))).toEqual([`no_untyped: slot ${free}`])
    expect(messages(noUntypedEach.checkChanged!(s1, s0, d1))).toEqual(messages(noUntypedFind.checkChanged!(s1, s0, d1)))
    const out: Violation[] = []
    noUntypedEach.atCap!(s1, free, ut, out)
    expect(messages(out)).toEqual([`no_untyped: slot ${free}`])
    expect(noUntypedEach.atObject).toBeUndefined()
    expect(prioEach(0).atCap).toBeUndefined()
  })

  it("a search without a scope has no incremental form: it is periodic, run whole at the full check", () => {
    const whole = defineInvariant({
      name: "no_untyped_whole", ...doc,
      find: (s, report) => { for (const [slot, c] of s.caps) if (c.tag === "UntypedCap") report(`slot ${slot}`) },
    })
    expect(whole.mode).toBe("periodic")
    expect(whole.scope).toBeUndefined()
    expect(whole.checkChanged).toBeUndefined()
    expect(messages(whole.check(s0))).toEqual(messages(noUntypedFind.check(s0)).map((m) => m.replace("no_untyped", "no_untyped_whole")))
  })

  it("a predicate that throws is a violation of its own invariant, in every form, never an exception", () => {
    const boom = defineInvariant({
      name: "boom", ...doc,
      eachObject: (_s, _p, o) => { if (o.tag === "CNode") throw new Error("no CNodes here") },
    })
    expect(messages(boom.check(s0))).toEqual(["boom: the check itself threw: no CNodes here"])
    const [cnode] = [...s0.kheap].find(([, o]) => o.tag === "CNode")!
    const out: Violation[] = []
    boom.atObject!(s0, cnode, s0.kheap.get(cnode)!, out)
    expect(messages(out)).toEqual(["boom: the check itself threw: no CNodes here"])
    const capBoom = defineInvariant({ name: "cap_boom", ...doc, eachCap: () => { throw new Error("x") } })
    expect(capBoom.check(s0).length).toBe(1)
  })

  it("one run's violations do not leak into the next run, nor into another caller's list", () => {
    const inv = prioEach(100)
    const bad = withPrio(200)
    const good = withPrio(50)
    expect(inv.check(bad).length).toBe(1)
    expect(inv.check(good)).toEqual([])
    const out: Violation[] = []
    inv.atObject!(bad, root, bad.kheap.get(root)!, out)
    expect(out.length).toBe(1)
    // A whole check after the direct form writes a list of its own.
    expect(inv.check(good)).toEqual([])
    expect(inv.check(bad).length).toBe(1)
    expect(out.length).toBe(1)
    const other: Violation[] = []
    inv.atObject!(good, root, good.kheap.get(root)!, other)
    expect(other).toEqual([])
    expect(out.length).toBe(1)
  })
})

describe("the registry", () => {
  it("lists every invariant's mode under its name, and every invariant has an incremental form", () => {
    expect([...invariantModes.keys()].sort()).toEqual(invariants.map((i) => i.name).sort())
    for (const i of invariants) expect(invariantModes.get(i.name)).toBe(i.mode)
    // The campaigns never check an invariant whole (README, "Checking as the state grows").
    expect(invariants.filter((i) => i.mode !== "incremental").map((i) => i.name)).toEqual([])
  })
})
