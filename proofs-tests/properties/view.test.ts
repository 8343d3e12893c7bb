/**
 * The canonical JSON view (spec/view.ts `toCanonicalJSON`), used for state equality, diffs, traces
 * and counterexample files. Its doc promises: two states are equal exactly when their canonical
 * JSON strings are; message registers lose trailing zeros; a page directory's kernel window shows
 * as "global" when it equals the global page directory's, else as the entries that differ (an
 * absent one as InvalidPDE). Checked on booted states whose page directories and registers are
 * rewritten, equal ones built apart (deep copies, native maps) and different ones.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { PDE, PPtr, PTE } from "../../model/index.ts"
import { defaultBootConfig, kernelBase, pdIndexOf } from "../../model/index.ts"
import { boot, toCanonicalJSON } from "../../spec/index.ts"
import type { KObject, KernelState } from "../../spec/state.ts"
import { contextWith, getTcb, mapFrom, setObject, tcbWith, updateState } from "../../spec/state.ts"

const s0 = boot(defaultBootConfig)
const text = (s: KernelState): string => JSON.stringify(toCanonicalJSON(s), (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v))
type PD = Extract<KObject, { tag: "PageDirectory" }>
const globalPD = s0.kheap.get(s0.armGlobalPD) as PD
/** The booted user page directory (the root thread's), which shares the global kernel window. */
const userPD: PPtr = [...s0.kheap].find(([p, o]) => o.tag === "PageDirectory" && p !== s0.armGlobalPD)![0]
const kernelFirst = pdIndexOf(kernelBase)
const withKernelPDEs = (s: KernelState, pd: PPtr, kernelPDEs: ReadonlyMap<number, PDE>): KernelState =>
  setObject(s, pd, { ...(s.kheap.get(pd) as PD), kernelPDEs })
const kernelView = (s: KernelState, pd: PPtr): unknown => (toCanonicalJSON(s) as { kheap: Record<string, { kernelPDEs: unknown }> }).kheap[`0x${pd.toString(16).padStart(8, "0")}`]!.kernelPDEs
/** Entries equal as values: same indices, same JSON per entry. */
const samePDEs = (a: ReadonlyMap<number, PDE>, b: ReadonlyMap<number, PDE>): boolean =>
  a.size === b.size && [...a].every(([i, e]) => b.has(i) && JSON.stringify(b.get(i)) === JSON.stringify(e))

/** A rewrite of one kernel-window entry: removed, replaced by a different entry, or by an equal copy. */
const editArb = fc.record({
  index: fc.constantFrom(kernelFirst, kernelFirst + 1, kernelFirst + 0x100, 0xfff, kernelFirst - 1),
  kind: fc.constantFrom("delete", "other", "copy", "attr"),
})
type Edit = { index: number; kind: "delete" | "other" | "copy" | "attr" }
const applyEdits = (base: ReadonlyMap<number, PDE>, edits: readonly Edit[], native: boolean): ReadonlyMap<number, PDE> => {
  const m = new Map([...base].map(([i, e]) => [i, structuredClone(e)] as [number, PDE]))
  for (const { index, kind } of edits) {
    const cur = m.get(index)
    if (kind === "delete") m.delete(index)
    else if (kind === "copy") { if (cur !== undefined) m.set(index, structuredClone(cur)) }
    else if (kind === "other") m.set(index, { tag: "PageTablePDE", table: 0x0200_0000 + index * 0x400, attr: 0 })
    else m.set(index, cur !== undefined && cur.tag !== "InvalidPDE" ? { ...cur, attr: cur.attr ^ 1 } : { tag: "SectionPDE", frame: index << 20, attr: 1, rights: "ReadWrite" })
  }
  return native ? m : mapFrom(m)
}

describe("toCanonicalJSON: equal states render equally, different states differently", () => {
  it("a booted user page directory that shares the global kernel window renders it as \"global\"", () => {
    expect(globalPD.kernelPDEs.size).toBeGreaterThan(0)
    expect(kernelView(s0, userPD)).toBe("global")
    // The global page directory itself shows its entries.
    expect(typeof kernelView(s0, s0.armGlobalPD)).toBe("object")
  })
  it("a kernel window equal to the global one but built apart (deep copies, a native Map) still renders \"global\", and the state's JSON is unchanged", () => {
    for (const native of [false, true]) {
      const s = withKernelPDEs(s0, userPD, applyEdits(globalPD.kernelPDEs, [], native))
      expect(kernelView(s, userPD)).toBe("global")
      expect(text(s)).toBe(text(s0))
    }
  })
  it("kernel-window rewrites: JSON equal exactly when the entries are; a differing window lists exactly the differing entries, an absent one as InvalidPDE", () => {
    fc.assert(fc.property(fc.array(editArb, { maxLength: 4 }), fc.array(editArb, { maxLength: 4 }), fc.boolean(), fc.boolean(), (e1, e2, n1, n2) => {
      const a = applyEdits(globalPD.kernelPDEs, e1 as Edit[], n1)
      const b = applyEdits(globalPD.kernelPDEs, e2 as Edit[], n2)
      const sa = withKernelPDEs(s0, userPD, a)
      const sb = withKernelPDEs(s0, userPD, b)
      expect(text(sa) === text(sb)).toBe(samePDEs(a, b))
      expect(text(sa) === text(s0)).toBe(samePDEs(a, globalPD.kernelPDEs))
      // The documented shape.
      const view = kernelView(sa, userPD)
      const differ = new Map<string, unknown>()
      for (const i of new Set([...a.keys(), ...globalPD.kernelPDEs.keys()])) {
        const x = a.get(i)
        if (JSON.stringify(x) !== JSON.stringify(globalPD.kernelPDEs.get(i))) differ.set(String(i), x ?? { tag: "InvalidPDE" })
      }
      if (differ.size === 0) expect(view).toBe("global")
      else expect(view).toEqual(Object.fromEntries(differ))
    }), { seed: 41, numRuns: 120 })
  })
  it("without a global page directory (a corrupted state) a page directory's kernel window is shown whole, and a change in it shows", () => {
    const broken = updateState(s0, { kheap: mapFrom([...s0.kheap].filter(([p]) => p !== s0.armGlobalPD)) })
    const view = kernelView(broken, userPD) as Record<string, PDE>
    expect(typeof view).toBe("object")
    expect(Object.keys(view).length).toBeGreaterThan(0)
    const changed = withKernelPDEs(broken, userPD, applyEdits(globalPD.kernelPDEs, [{ index: 0xfff, kind: "delete" }], false))
    expect(text(changed)).not.toBe(text(broken))
  })
  it("message registers lose trailing zeros, and registers that differ render differently", () => {
    const t = [...s0.kheap].find(([, o]) => o.tag === "TCB")![0]
    const withMrs = (mrs: number[]): KernelState => {
      const tcb = getTcb(s0, t)
      return setObject(s0, t, tcbWith(tcb, { tcbContext: contextWith(tcb.tcbContext, { mrs }) }))
    }
    const mrsOf = (s: KernelState): unknown => (toCanonicalJSON(s) as { kheap: Record<string, { tcbContext: { mrs: unknown } }> }).kheap[`0x${t.toString(16).padStart(8, "0")}`]!.tcbContext.mrs
    const word = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 0xffff_ffff }))
    const mrsArb = fc.array(word, { minLength: 4, maxLength: 4 })
    fc.assert(fc.property(mrsArb, mrsArb, (a, b) => {
      let n = a.length
      while (n > 0 && a[n - 1] === 0) n--
      expect(mrsOf(withMrs(a))).toEqual(a.slice(0, n))
      expect(text(withMrs(a)) === text(withMrs(b))).toBe(JSON.stringify(a) === JSON.stringify(b))
    }), { seed: 42, numRuns: 200 })
  })
  it("a table's entries show by index, a run of equal entries at consecutive indices as one key i..j", () => {
    const pt = 0x7ff0_0000
    expect(s0.kheap.has(pt)).toBe(false)
    const small = (frame: number): PTE => ({ tag: "SmallPagePTE", frame, attr: 0, rights: "ReadWrite" })
    const large: PTE = { tag: "LargePagePTE", frame: 0x10000, attr: 0, rights: "ReadOnly" }
    // A large page's 16 copies, a small page alone, a run cut short by a different frame, and a run broken by a gap.
    const ptes: [number, PTE][] = [
      ...Array.from({ length: 16 }, (_, i): [number, PTE] => [16 + i, large]),
      [40, small(0x2000)], [41, small(0x3000)], [42, small(0x3000)], [44, small(0x3000)],
    ]
    const s = setObject(s0, pt, { tag: "PageTable", ptes: mapFrom(ptes) })
    const view = (toCanonicalJSON(s) as { kheap: Record<string, { ptes: Record<string, unknown> }> }).kheap[`0x${pt.toString(16).padStart(8, "0")}`]!.ptes
    expect(view).toEqual({ "16..31": large, "40": small(0x2000), "41..42": small(0x3000), "44": small(0x3000) })
  })
})
