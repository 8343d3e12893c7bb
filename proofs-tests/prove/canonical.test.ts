/**
 * The fingerprints `kspec prove` deduplicates on, and the symmetry renaming beneath them. Two
 * states share a fingerprint only if they are equal (up to the renaming): every field counts
 * (a field added to the model and forgotten by the hasher fails the perturbation tests, naming
 * it), the incremental hash is the full hash, the renaming is a true isomorphism (renamed states
 * are valid kernel states, and equal fingerprints mean equal renamed states), and a search with
 * symmetry reduction reaches the orbit of every state the plain search reaches.
 */
import { describe, expect, it } from "vitest"
import type { Cap } from "../../model/index.ts"
import type { KernelState } from "../../spec/index.ts"
import { checkAll, stateDelta } from "../../spec/invariants/index.ts"
import type { Cte, ImplState, ImplTcb } from "../../impl/index.ts"
import { statesEqual } from "../../harness/lockstep/diff.ts"
import { absState } from "../../harness/relation/abstract.ts"
import type { Renaming } from "../../harness/prove/canonical.ts"
import { abstractHash, applyRenaming, canonicalRenaming, identity, implHash, specHash, specHashFrom } from "../../harness/prove/canonical.ts"
import { cloneKernel } from "../../harness/prove/clone.ts"
import { prove } from "../../harness/prove/index.ts"
import { sampleStates } from "./sample.ts"

const same = (a: { lo: number; hi: number }, b: { lo: number; hi: number }) => a.lo === b.lo && a.hi === b.hi

// States with blocked threads, badges, reply caps, faults, retyped objects, bound IRQs.
const samples = [...sampleStates("server", 1, 120), ...sampleStates("default", 1, 120), ...sampleStates("mirror", 3, 150)]

/** A different value of the same kind, for any leaf of a state. */
const other = (v: unknown): unknown =>
  typeof v === "number" ? (v === 0xffff_ffff ? 0 : v + 1) : typeof v === "boolean" ? !v : typeof v === "string" ? `${v}X` : typeof v === "bigint" ? v + 1n : v === null ? 16 : undefined

const isMapLike = (v: object): v is ReadonlyMap<number, unknown> =>
  typeof (v as Map<number, unknown>).get === "function" && typeof (v as Map<number, unknown>).entries === "function" && !("add" in v)

/** Every leaf of a plain value with the value changed: [path, copy] for each (in arrays: the first, second and last element). */
const perturb = (v: unknown, path: string): [string, unknown][] => {
  if (typeof v !== "object" || v === null) return other(v) === undefined ? [] : [[path, other(v)]]
  // A map inside an object (a frame's words, a page table's entries): its first entries' values changed, and its first entry dropped.
  if (isMapLike(v)) {
    const es = [...v.entries()]
    const out: [string, unknown][] = es.slice(0, 2).flatMap(([k, x]) => perturb(x, `${path}[0x${k.toString(16)}]`).map(([p, y]): [string, unknown] => [p, new Map(v).set(k, y)]))
    if (es.length > 0) { const m = new Map(v); m.delete(es[0]![0]); out.push([`${path} without an entry`, m]) }
    return out
  }
  if (Array.isArray(v)) {
    const idx = [...new Set([0, 1, v.length - 1])].filter((i) => i >= 0 && i < v.length)
    return idx.flatMap((i) => perturb(v[i], `${path}[${i}]`).map(([p, x]): [string, unknown] => { const c = v.slice(); c[i] = x; return [p, c] }))
  }
  return Object.keys(v).filter((k) => k !== "tag").flatMap((k) =>
    perturb((v as Record<string, unknown>)[k], `${path}.${k}`).map(([p, x]): [string, unknown] => [p, { ...(v as object), [k]: x }]))
}

/** Every field of a spec state, changed one at a time (map entries by value; set members removed). */
const statePerturbations = (s: KernelState): [string, KernelState][] => {
  const out: [string, KernelState][] = []
  for (const key of Object.keys(s) as (keyof KernelState)[]) {
    const v = s[key] as unknown
    if (v instanceof Map || (typeof v === "object" && v !== null && "get" in v && "entries" in v && !(v instanceof Set) && typeof (v as Map<unknown, unknown>).get === "function" && !("add" in v))) {
      for (const [k, val] of v as ReadonlyMap<number, unknown>) {
        for (const [p, x] of perturb(val, `${key}[0x${k.toString(16)}]`)) out.push([p, { ...s, [key]: new Map(v as ReadonlyMap<number, unknown>).set(k, x) }])
        // The key itself (an address or a queue index) counts too.
        const moved = new Map(v as ReadonlyMap<number, unknown>)
        moved.delete(k)
        if (!moved.has(k + 1)) out.push([`${key}[0x${k.toString(16)}] (key)`, { ...s, [key]: moved.set(k + 1, val) }])
      }
    } else if (typeof v === "object" && v !== null && "has" in v && !Array.isArray(v)) {
      const first = [...(v as ReadonlySet<number>)][0]
      if (first !== undefined) out.push([`${key} without 0x${first.toString(16)}`, { ...s, [key]: new Set([...(v as ReadonlySet<number>)].filter((x) => x !== first)) }])
    } else {
      for (const [p, x] of perturb(v, key)) out.push([p, { ...s, [key]: x }])
    }
  }
  // Tags are not walked (a made-up tag is no state): the scheduler action's, changed to another action.
  out.push(["schedulerAction.tag", { ...s, schedulerAction: s.schedulerAction.tag === "ChooseNewThread" ? { tag: "ResumeCurrentThread" } : { tag: "ChooseNewThread" } }])
  return out
}

describe("the spec fingerprint", () => {
  it("changes with every field of the state: objects, caps, CDT, originals, queues, globals", () => {
    const seen = new Set<string>()
    for (const { spec } of samples.filter((_, i) => i % 40 === 0)) {
      const h = specHash(spec)
      for (const [path, t] of statePerturbations(spec)) {
        seen.add(path.replace(/\[[^\]]*\]/g, "[]"))
        expect(same(specHash(t), h), `changing ${path} does not change the fingerprint`).toBe(false)
      }
    }
    // The walk reached the fields it should (a state shape it cannot walk would pass vacuously).
    for (const f of [
      "kheap[].tcbState", "kheap[].tcbContext.mrs[]", "kheap[].tcbPriority", "caps[].badge", "cdt[]", "cdtList[][]", "isOriginal without", "readyQueues[][]",
      "curThread", "irqStates[]", "irqMasks[]", "schedulerAction.tag",
      // Memory and address spaces: frame words, page-table and page-directory entries, ASID pools.
      "kheap[].words[]", "kheap[].ptes[]", "kheap[].pdes[]", "kheap[].kernelPDEs[]", "kheap[].pool[]",
    ]) {
      expect([...seen].some((p) => p.startsWith(f)), `no perturbation of ${f}`).toBe(true)
    }
    // And every field of KernelState, one by one: a field left out of the fingerprint would merge states that differ there.
    const top = new Set([...seen].map((p) => p.split(/[.[ ]/)[0]!))
    expect(Object.keys(samples[0]!.spec).filter((k) => !top.has(k))).toEqual([])
  })

  it("tells apart two states that differ in any one field of KernelState (every field, a state built for each)", () => {
    const base = samples[samples.length - 1]!.spec
    const h = specHash(base)
    // One changed value per field, including those the sampled states never vary.
    const changes: { [K in keyof KernelState]: (s: KernelState) => KernelState[K] } = {
      kheap: (s) => new Map([...s.kheap].filter(([, o]) => o.tag !== "Endpoint")),
      caps: (s) => new Map([...s.caps].slice(1)),
      cdt: (s) => new Map([...s.cdt].slice(1)),
      cdtList: (s) => new Map([...s.cdtList].slice(1)),
      isOriginal: (s) => new Set([...s.isOriginal].slice(1)),
      curThread: (s) => s.idleThread,
      idleThread: (s) => s.curThread,
      schedulerAction: (s) => (s.schedulerAction.tag === "ChooseNewThread" ? { tag: "ResumeCurrentThread" } : { tag: "ChooseNewThread" }),
      readyQueues: (s) => new Map([[0, [s.idleThread]]]),
      curDomain: (s) => s.curDomain + 1,
      domainList: (s) => [{ domain: 0, duration: 7n }, ...s.domainList.slice(1)],
      domainIndex: (s) => s.domainIndex + 1,
      domainStartIndex: (s) => s.domainStartIndex + 1,
      domainTime: (s) => s.domainTime + 1n,
      irqStates: (s) => s.irqStates.map((q, i) => (i === 2 ? (q === "IRQSignal" ? "IRQInactive" : "IRQSignal") : q)),
      irqMasks: (s) => s.irqMasks.map((m, i) => (i === 2 ? !m : m)),
      irqNode: (s) => s.irqNode + 16,
      numIRQs: (s) => s.numIRQs + 1,
      numDomains: (s) => s.numDomains + 1,
      armASIDTable: (s) => new Map([...s.armASIDTable, [5, 0x2000_0000]]),
      armGlobalPD: (s) => s.armGlobalPD + 0x4000,
      armGlobalPT: (s) => s.armGlobalPT + 0x400,
      workUnitsCompleted: (s) => s.workUnitsCompleted + 1,
      workUnitsLimit: (s) => s.workUnitsLimit + 1,
      resetChunkBits: (s) => s.resetChunkBits + 1,
      irqPending: (s) => (s.irqPending === null ? 1 : null),
    }
    expect(Object.keys(changes).sort()).toEqual(Object.keys(base).sort())
    for (const k of Object.keys(changes) as (keyof KernelState)[]) {
      const t = { ...base, [k]: (changes[k] as (s: KernelState) => unknown)(base) } as KernelState
      expect(same(specHash(t), h), `two states differing only in ${k} have one fingerprint`).toBe(false)
    }
  })

  it("from a parent's fingerprint and the step's delta, equals the fingerprint of the whole state", () => {
    let n = 0
    for (const child of samples) {
      const parent = samples.find((p) => p.path.length === child.path.length - 1 && p.path.every((e, i) => e === child.path[i]))
      if (parent === undefined) continue
      const inc = specHashFrom(parent.spec, specHash(parent.spec), child.spec, stateDelta(parent.spec, child.spec))
      expect(same(inc, specHash(child.spec))).toBe(true)
      n++
    }
    expect(n).toBeGreaterThan(100)
  })

  it("of the impl's abstraction, computed in place, equals the spec state's and the abstraction's (the per-edge relation check)", () => {
    for (const { spec, impl } of samples) {
      const ren = canonicalRenaming(spec)
      expect(same(abstractHash(impl, ren), specHash(spec, ren))).toBe(true)
      expect(same(abstractHash(impl), specHash(absState(impl)))).toBe(true)
    }
  })
})

/** The impl's fields that are not state between kernel entries, with the reason (everything else must count). */
const implExempt: Readonly<Record<string, string>> = {
  tag: "the object's kind, fixed", base: "the object's address, the key", addr: "the slot's address, the key",
  slots: "walked slot by slot", tsBlockedOnSend: "a preallocated record: counts as the thread state when in use",
  tsBlockedOnReceive: "likewise", tsBlockedOnNotification: "likewise", replyCapNoGrant: "a constant of the TCB", replyCapGrant: "likewise",
  indexKeys: "the object table's lookup cache", indexObjects: "likewise", objects: "walked object by object",
  currentLookupFault: "per-entry scratch, set before it is read", currentSyscallError: "likewise", currentFault: "likewise",
  currentExtraCaps: "likewise", lookupSlotResult: "likewise", lookupBitsRemaining: "likewise",
  fastpathEnabled: "a build option, the same in every state", fastpathHits: "a statistic",
  currentIPCBuffer: "per-entry scratch, set before it is read", finaliseSlotSuccess: "likewise", finaliseSlotCleanupInfo: "likewise",
  views: "views of IPC buffers on the frame's pages, made once per buffer position (the words are its pages')",
  obj: "the object the slot's cap names, kept: the object table's answer, cached", objCap: "likewise", objEpoch: "likewise",
}

/** Change one field of a copy of `k` (found by object address, slot index and field name). */
const changed = (k: ImplState, base: number | null, slot: number | null, field: string): ImplState | null => {
  const c = cloneKernel(k) as ImplState & Record<string, unknown>
  let target: Record<string, unknown> = c
  if (base !== null) {
    const o = c.objects.get(base) as unknown as Record<string, unknown> & { slots?: (Cte | undefined)[] }
    target = slot === null ? o : (o.slots![slot] as unknown as Record<string, unknown>)
  }
  const v = target[field]
  if (field === "pages") {
    // A frame's memory: flip a bit of the first word of its first page.
    const page = (v as (Uint32Array | undefined)[] | null)?.find((x) => x !== undefined)
    if (page === undefined) return null
    page[0] = (page[0]! ^ 1) >>> 0
    return c
  }
  if (field === "pendingIRQ") { target[field] = v === null ? 1 : null; return c }
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "string" || typeof v === "bigint") target[field] = other(v)
  else if (Array.isArray(v) || ArrayBuffer.isView(v)) {
    const a = v as unknown[]
    if (a.length === 0 || (typeof a[0] === "object" && a[0] !== null)) return null
    const last = a[a.length - 1]
    a[a.length - 1] = typeof last === "boolean" ? !last : typeof last === "string" ? `${last}X` : typeof last === "bigint" ? last + 1n : ((last as number) + 1) >>> 0
  } else if (v === null) {
    // A link that is null now: point it at some object of the kind the field holds; any other field, a record.
    const objs = [...c.objects.values()]
    const some = field === "prev" || field === "next" ? objs.flatMap((o) => (o.tag === "TCB" ? o.slots : [])).find((x) => x !== (target as unknown))
      : field === "tcbBoundNotification" ? objs.find((o) => o.tag === "Notification")
      : /Next|Prev|Head|Tail|TCB$/.test(field) ? c.curThread
      : { tag: "UnknownSyscall", syscallNumber: 1 }
    if (some === undefined) return null
    target[field] = some
  } else if (typeof v === "object") {
    if ("tag" in (v as object) && field === "cap") target[field] = { ...(v as Cap), tag: (v as Cap).tag === "NullCap" ? "DomainCap" : "NullCap" }
    else if ("base" in (v as object) || "addr" in (v as object)) target[field] = null
    else if ("tag" in (v as object)) target[field] = { ...(v as object), tag: (v as { tag: string }).tag === "Restart" ? "Running" : "Restart" }
    else return null
  }
  return c
}

describe("the impl fingerprint", () => {
  it("changes with every field the impl keeps between kernel entries (the exemptions are listed with their reasons)", () => {
    const fields = new Set<string>()
    for (const { impl } of samples.filter((_, i) => i % 60 === 0)) {
      const h = implHash(impl)
      const check = (base: number | null, slot: number | null, obj: object, what: string) => {
        for (const f of Object.keys(obj)) {
          if (f in implExempt) continue
          fields.add(`${what}.${f}`)
          const c = changed(impl, base, slot, f)
          if (c === null) continue
          expect(same(implHash(c), h), `changing ${what}.${f} (at ${base === null ? "kernel" : `0x${base.toString(16)}`}${slot === null ? "" : ` slot ${slot}`}) does not change the impl fingerprint`).toBe(false)
        }
      }
      check(null, null, impl, "kernel")
      for (const [p, o] of impl.objects) {
        check(p, null, o, o.tag)
        if (o.tag === "TCB" || o.tag === "CNode") (o.slots as readonly (Cte | undefined)[]).forEach((c, i) => { if (c !== undefined && c.cap.tag !== "NullCap") check(p, i, c, "Cte") })
      }
    }
    for (const f of [
      "TCB.tcbState", "TCB.mrs", "TCB.tcbSchedNext", "TCB.tcbQueued", "Endpoint.epQueueHead", "Notification.ntfnMsgIdentifier", "Cte.prev", "Cte.firstBadged", "kernel.readyQueuesL2Bitmap",
      "Frame.pages", "PageTable.pt", "PageDirectory.pd", "kernel.domainTime", "kernel.ksWorkUnitsCompleted", "kernel.pendingIRQ", "kernel.resetChunkBits",
    ]) {
      expect(fields.has(f), `no field ${f} walked`).toBe(true)
    }
  })
})

describe("symmetry: the canonical renaming", () => {
  const renamed = samples.map((x) => ({ ...x, ren: canonicalRenaming(x.spec) })).filter((x) => x.ren.moved.length > 0)

  it("moves objects in some sampled states (the mirror scope's threads swap when the second runs)", () => {
    expect(renamed.length).toBeGreaterThan(20)
  })

  it("gives a valid kernel state, whose plain fingerprint is the state's canonical fingerprint", () => {
    for (const { spec, ren } of renamed.filter((_, i) => i % 3 === 0)) {
      const r = applyRenaming(spec, ren)
      expect(checkAll(r)).toEqual([])
      expect(same(specHash(r, identity), specHash(spec, ren))).toBe(true)
    }
  })

  it("is canonical: a state renamed by any swap of two interchangeable objects gets the same canonical fingerprint", () => {
    for (const { spec } of samples.filter((x) => x.path.length >= 1)) {
      // Swap the two threads' TCBs and CNodes (same sizes, same untyped region) by hand.
      const tcbs = [...spec.kheap].filter(([p, o]) => o.tag === "TCB" && p >= 0x1000_0000).map(([p]) => p)
      if (tcbs.length !== 2) continue
      const cnodes = [...spec.kheap].filter(([p, o]) => o.tag === "CNode" && p >= 0x1000_0000 && o.radix === 2).map(([p]) => p)
      if (cnodes.length !== 2) continue
      const swap: Renaming = {
        moved: [
          { base: tcbs[0]!, size: 512, to: tcbs[1]! }, { base: tcbs[1]!, size: 512, to: tcbs[0]! },
          { base: cnodes[0]!, size: 64, to: cnodes[1]! }, { base: cnodes[1]!, size: 64, to: cnodes[0]! },
        ],
      }
      const t = applyRenaming(spec, swap)
      expect(same(specHash(t, canonicalRenaming(t)), specHash(spec, canonicalRenaming(spec)))).toBe(true)
    }
  })

  it("merges only isomorphic states and loses none: equal canonical fingerprints mean equal canonical states, and with symmetry the search reaches the orbit of every state the plain search reaches", async () => {
    const canon = (s: KernelState) => { const p = specHash(s, canonicalRenaming(s)); return `${p.lo}:${p.hi}` }
    const search = async (symmetry: boolean) => {
      const groups = new Map<string, KernelState[]>()
      const r = await prove({
        scope: "mirror", depth: 4, symmetry,
        properties: { state: (s) => { const k = canon(s); groups.set(k, [...(groups.get(k) ?? []), applyRenaming(s, canonicalRenaming(s))]); return true } },
      })
      return { groups, distinct: r.stats.distinct }
    }
    const plain = await search(false)
    const reduced = await search(true)
    // Every orbit the plain search reached, the reduced search reached; it keeps one state per orbit.
    expect([...plain.groups.keys()].filter((k) => !reduced.groups.has(k))).toEqual([])
    expect(reduced.distinct).toBe(plain.groups.size)
    expect(reduced.distinct).toBeLessThan(0.7 * plain.distinct)
    // The states the plain search found that share a canonical fingerprint are one state renamed.
    let compared = 0
    for (const group of plain.groups.values()) for (const s of group.slice(1)) { expect(statesEqual(s, group[0]!)).toBe(true); compared++ }
    expect(compared).toBeGreaterThan(100)
  })
})

describe("impl snapshots", () => {
  it("copy every field of the impl and share nothing mutable with it", async () => {
    const { cloneProblems } = await import("../../harness/prove/clone.ts")
    for (const { impl } of samples.filter((_, i) => i % 10 === 0)) expect(cloneProblems(impl, cloneKernel(impl))).toEqual([])
  })
  it("step independently: stepping a copy leaves the original as it was, and the copy steps as the original would", () => {
    for (const { impl, path } of samples.filter((x, i) => i % 10 === 0 && x.path.length > 0)) {
      const before = implHash(impl)
      const copy = cloneKernel(impl)
      const ev = path[path.length - 1]!
      copy.step(ev)
      expect(same(implHash(impl), before)).toBe(true)
      const again = cloneKernel(impl)
      again.step(ev)
      expect(same(implHash(copy), implHash(again))).toBe(true)
      expect((copy.objects.get(copy.curThread.base) as ImplTcb) === copy.curThread).toBe(true)
    }
  })
})
