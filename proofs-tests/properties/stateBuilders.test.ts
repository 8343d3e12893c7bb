/**
 * The spec's field-by-field builders (spec/state.ts): `updateState`, `tcbWith`, `contextWith`, and
 * `setObject`/`setCap` (through `withHeapAndCaps`). They are written field by field for speed,
 * not as spreads, so each must equal the spread it replaces for any patch: every field patched
 * (falsy values and null included, where the field allows them) replaced, every other one kept,
 * and the fields in one fixed order (the booted state's), so all states share one shape.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { Cap, TcbFields, UserContext } from "../../model/index.ts"
import { defaultBootConfig } from "../../model/index.ts"
import { boot } from "../../spec/index.ts"
import type { KernelState, Tcb } from "../../spec/state.ts"
import { contextWith, getCap, getTcb, mapFrom, mapSet, setCap, setFrom, setObject, tcbWith, updateState } from "../../spec/state.ts"

const s0 = boot(defaultBootConfig)
const threads = [...s0.kheap].filter(([, o]) => o.tag === "TCB").map(([p]) => p)

/** Values of the kind of `v` (a field's current value), falsy ones first: 0, 0n, null, empty collections. */
const likeArb = (v: unknown, nullable: boolean): fc.Arbitrary<unknown> => {
  const base: fc.Arbitrary<unknown> =
    typeof v === "number" ? fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 0xffff_ffff }))
    : typeof v === "bigint" ? fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 2n ** 56n - 1n }))
    : typeof v === "boolean" ? fc.boolean()
    : Array.isArray(v) ? fc.constantFrom([], v.slice())
    : v instanceof Object && "add" in v ? fc.constantFrom(setFrom<number>([]), setFrom([...(v as unknown as ReadonlySet<number>)].slice(1)))
    : v instanceof Object && "get" in v ? fc.constantFrom(mapFrom<number, unknown>([]), mapFrom([...(v as unknown as ReadonlyMap<number, unknown>)].slice(1)))
    : fc.constantFrom({ tag: "ChooseNewThread" }, { tag: "ResumeCurrentThread" }, { tag: "SwitchToThread", target: 0 })
  return nullable ? fc.oneof(fc.constant(null), base) : base
}
/** A patch of any subset of `fields`, each with a fresh value of its kind. */
const patchArb = <T extends object>(sample: T, nullable: readonly string[]): fc.Arbitrary<Partial<T>> =>
  fc.record(Object.fromEntries(Object.keys(sample).filter((k) => k !== "tag").map((k) => [k, likeArb((sample as Record<string, unknown>)[k], nullable.includes(k))])), { requiredKeys: [] }) as unknown as fc.Arbitrary<Partial<T>>

/** The two agree field by field (by identity) and in field order. */
const sameAs = (got: object, want: object): void => {
  expect(Object.keys(got)).toEqual(Object.keys(want))
  for (const k of Object.keys(want)) expect((got as Record<string, unknown>)[k]).toBe((want as Record<string, unknown>)[k])
}

describe("field-by-field builders equal the spreads they replace", () => {
  it("updateState(s, patch) is { ...s, ...patch } for any patch, in the booted state's field order", () => {
    fc.assert(fc.property(patchArb<KernelState>(s0, ["irqPending"]), (patch) => {
      const got = updateState(s0, patch)
      sameAs(got, { ...s0, ...patch })
      // Patching back restores the state.
      sameAs(updateState(got, s0), s0)
    }), { seed: 51, numRuns: 200 })
  })
  it("tcbWith(t, patch) is { ...t, ...patch } for any patch of any field (0 and null included)", () => {
    const t0 = getTcb(s0, threads[0]!)
    const sample: TcbFields = { ...t0, tcbFault: { tag: "UnknownSyscall", syscallNumber: 0 }, tcbBoundNotification: threads[0]! }
    const faults: TcbFields["tcbFault"][] = [null, { tag: "UnknownSyscall", syscallNumber: 0 }, { tag: "VMFault", address: 0, fsr: 0, instructionFault: false }]
    const arb = fc.tuple(
      patchArb<TcbFields>(sample, ["tcbBoundNotification"]),
      fc.option(fc.constantFrom(...faults), { nil: undefined }),
      fc.option(fc.constantFrom<TcbFields["tcbState"]>({ tag: "Running" }, { tag: "Inactive" }, { tag: "Restart" }), { nil: undefined }),
      fc.constantFrom(...threads),
    )
    fc.assert(fc.property(arb, ([p, fault, state, at]) => {
      const patch: Partial<TcbFields> = { ...p }
      delete (patch as Record<string, unknown>).tcbFault
      delete (patch as Record<string, unknown>).tcbState
      delete (patch as Record<string, unknown>).tcbContext
      if (fault !== undefined) (patch as Record<string, unknown>).tcbFault = fault
      if (state !== undefined) (patch as Record<string, unknown>).tcbState = state
      const t = getTcb(s0, at)
      sameAs(tcbWith(t, patch), { ...t, ...patch })
      const ctx: UserContext = { ...t.tcbContext, badge: 7 }
      sameAs(tcbWith(t, { ...patch, tcbContext: ctx }), { ...t, ...patch, tcbContext: ctx })
    }), { seed: 52, numRuns: 300 })
  })
  it("contextWith(c, patch) is { ...c, ...patch } for any patch", () => {
    const c0 = getTcb(s0, threads[0]!).tcbContext
    const sample: UserContext = { ...c0, msgInfo: 1, badge: 1 }
    fc.assert(fc.property(patchArb<UserContext>(sample, []), (patch) => {
      sameAs(contextWith(c0, patch), { ...c0, ...patch })
    }), { seed: 53, numRuns: 200 })
  })
  it("setObject and setCap change only the heap or the caps map, keeping every other field and the field order", () => {
    fc.assert(fc.property(patchArb<KernelState>(s0, ["irqPending"]), fc.constantFrom(...threads), fc.boolean(), (patch, at, nullCap) => {
      const s = updateState(s0, patch)
      const t = getTcb(s0, at)
      const obj: Tcb = tcbWith(t, { tcbPriority: t.tcbPriority + 1 })
      const a = setObject(s, at, obj)
      sameAs(a, { ...s, kheap: a.kheap })
      expect([...a.kheap]).toEqual([...mapSet(s.kheap, at, obj)])
      const slot = [...s0.caps.keys()][0]!
      const cap: Cap = nullCap ? { tag: "NullCap" } : getCap(s0, [...s0.caps.keys()][1]!)
      const b = setCap(s, slot, cap)
      sameAs(b, { ...s, caps: b.caps })
      expect(getCap(b, slot)).toEqual(cap)
      expect(b.caps.has(slot)).toBe(!nullCap)
    }), { seed: 54, numRuns: 100 })
  })
})
