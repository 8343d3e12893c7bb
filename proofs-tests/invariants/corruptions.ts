/**
 * The corruption corpus: what every invariant flags on twelve thousand one-field corruptions of
 * reachable states, pinned in corruptions.json. The hand-built negative cases give each invariant
 * one state it must flag; a weakened clause elsewhere in the same invariant goes unnoticed by them,
 * and a random campaign only ever shows valid states. Here the states are reachable ones (the spec
 * run on random traces, some cut where a Zombie exists) with one thing changed, drawn two ways:
 * - random walks: a leaf moved by one, to 0, to -1 or to another object's address, a tag swapped for
 *   another tag the state uses, a flag flipped, or an entry of a map, set or list dropped or a map
 *   entry moved to another key;
 * - boundaries (drawBoundaries): every field, variant and map the states hold, and every untyped's
 *   edges, taken to its limits: words to 2^32 - 1 and 2^32, sizes to 20..33, addresses to their
 *   object's neighbours and to objects of each other kind, variants to every other variant of their
 *   union (as the model declares it), map keys to -1 and to powers of two, objects and slots to the
 *   edges of other objects and of untyped memory.
 * The verdict of each corruption is the set of invariants that flag it, with a hash of the messages
 * each gives. Any change to what an invariant flags, or says, shows as a changed verdict, with the
 * corruption that shows it. After an intended change (a new or rewritten invariant, a changed kernel
 * state), write the file again and read the diff: `npx tsx proofs-tests/invariants/corruptions.ts --write`
 * (with `--keep-bases` the base traces stay those of the committed file, and only the corruptions are redrawn).
 */
import fc from "fast-check"
import { readFileSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import type { Event } from "../../model/index.ts"
import { defaultBootConfig } from "../../model/index.ts"
import type { KernelState } from "../../spec/index.ts"
import { boot, step } from "../../spec/index.ts"
import { checkAll } from "../../spec/invariants/index.ts"
import { capObjRef, objBits, untypedRange } from "../../spec/invariants/internal.ts"
import { bit, slotBits, tcbCNodeEntries, wordBits, zombieTypeTCB } from "../../model/index.ts"
import { mapDelete, mapSet, setAdd, setDelete } from "../../spec/state.ts"
import type { Choice } from "../../harness/gen/choices.ts"
import { resolveChoice, traceArb } from "../../harness/gen/choices.ts"
import { writeFileAtomic } from "../../harness/files.ts"
import { projectRoot } from "../../harness/paths.ts"

/**
 * A value as JSON can hold it: a leaf (a bigint as its decimal string), or a whole variant of a
 * union (an object with another tag and that tag's fields, which may hold lists).
 */
export type Leaf = number | string | boolean | null | { readonly bigint: string } | { readonly variant: { readonly [k: string]: Leaf | readonly Leaf[] } }
/** One corruption: in base state `base`, the value at `path` set to `value`, the entry at `path` dropped, or moved to key `value`. */
export interface Corruption {
  readonly base: number
  readonly path: readonly (string | number)[]
  readonly op: "set" | "drop" | "rekey"
  readonly value?: Leaf
}
export interface Corpus {
  readonly about: string
  /** The traces whose end states are corrupted, as events from the default boot. */
  readonly bases: readonly (readonly Event[])[]
  readonly corruptions: readonly Corruption[]
  /** Per corruption, the invariants that flag it, sorted, each with a hash of its messages (`name#hash`). */
  readonly verdicts: readonly (readonly string[])[]
}

export const corpusFile = join(projectRoot, "proofs-tests/invariants/corruptions.json")

type Node = unknown
const isMap = (n: Node): n is ReadonlyMap<number, unknown> => typeof n === "object" && n !== null && typeof (n as Map<number, unknown>).get === "function" && typeof (n as Map<number, unknown>).entries === "function"
const isSet = (n: Node): n is ReadonlySet<number> => typeof n === "object" && n !== null && typeof (n as Set<number>).has === "function" && typeof (n as Map<number, unknown>).get !== "function"
const children = (n: Node): (string | number)[] =>
  isMap(n) ? [...n.keys()] : isSet(n) ? [...n] : Array.isArray(n) ? n.map((_, i) => i) : typeof n === "object" && n !== null ? Object.keys(n) : []
const child = (n: Node, k: string | number): Node =>
  isMap(n) ? n.get(k as number) : isSet(n) ? k : Array.isArray(n) ? n[k as number] : (n as Record<string, unknown>)[k as string]
const isLeaf = (n: Node): boolean => n === null || typeof n !== "object"
const toLeaf = (v: Node): Leaf => (typeof v === "bigint" ? { bigint: v.toString() } : (v as Leaf))
const fromLeaf = (l: Leaf | readonly Leaf[] | undefined): Node => {
  if (Array.isArray(l)) return (l as readonly Leaf[]).map(fromLeaf)
  const x = l as Leaf | undefined
  if (typeof x !== "object" || x === null) return x
  return "bigint" in x ? BigInt(x.bigint) : Object.fromEntries(Object.entries(x.variant).map(([k, v]) => [k, fromLeaf(v)]))
}

/** `n` with the value at `path[i..]` replaced by `v` (or dropped), sharing everything else. */
const rebuild = (n: Node, path: readonly (string | number)[], i: number, c: Corruption): Node => {
  const k = path[i]!
  const last = i === path.length - 1
  if (isSet(n)) {
    const without = setDelete(n, k as number)
    return c.op === "drop" || !last ? without : setAdd(without, fromLeaf(c.value) as number)
  }
  if (last && c.op === "rekey" && isMap(n)) return mapSet(mapDelete(n, k as number), c.value as number, n.get(k as number))
  if (last && c.op === "drop") {
    if (isMap(n)) return mapDelete(n, k as number)
    if (Array.isArray(n)) return n.filter((_, j) => j !== k)
    const { [k as string]: _, ...rest } = n as Record<string, unknown>
    return rest
  }
  const v = last ? fromLeaf(c.value) : rebuild(child(n, k), path, i + 1, c)
  if (isMap(n)) return mapSet(n, k as number, v)
  if (Array.isArray(n)) return n.map((x, j) => (j === k ? v : x))
  return { ...(n as object), [k as string]: v }
}

/** The state with corruption `c` applied, or undefined if its path is not in the state (a stale corpus). */
export const corrupt = (s: KernelState, c: Corruption): KernelState | undefined => {
  let n: Node = s
  for (const k of c.path.slice(0, -1)) {
    if (isLeaf(n) || !children(n).includes(k)) return undefined
    n = child(n, k)
  }
  if (isLeaf(n) || !children(n).includes(c.path.at(-1)!)) return undefined
  return rebuild(s, c.path, 0, c) as KernelState
}

/** A short hash of a text (FNV-1a, 32 bits, in hex): the messages an invariant gives, in a few characters. */
const fnv = (t: string): string => {
  let h = 0x811c9dc5
  for (let i = 0; i < t.length; i++) h = Math.imul(h ^ t.charCodeAt(i), 0x01000193)
  return (h >>> 0).toString(16).padStart(8, "0")
}

/** Which invariants flag `s`, sorted, each as `name#hash` of the messages it gives (so a changed message shows too). */
export const verdict = (s: KernelState): string[] => {
  const by = new Map<string, string[]>()
  for (const v of checkAll(s)) (by.get(v.invariant) ?? by.set(v.invariant, []).get(v.invariant)!).push(v.message)
  return [...by].map(([name, ms]) => `${name}#${fnv(ms.sort().join("\n"))}`).sort()
}

/** The end state of each base trace. */
export const baseStates = (bases: readonly (readonly Event[])[]): KernelState[] =>
  bases.map((evs) => evs.reduce((s, e) => step(s, e), boot(defaultBootConfig)))

/** Draw `perBase` corruptions of `s` (one random walk from the root each) with a seeded source of numbers. */
const drawCorruptions = (s: KernelState, base: number, perBase: number, rnd: () => number): Corruption[] => {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
  const addresses = [...s.kheap.keys(), ...s.caps.keys()]
  // The strings the state holds under each property name: the tags a corrupted tag may become.
  const strings = new Map<string, Set<string>>()
  const collect = (n: Node, key: string, depth: number): void => {
    if (typeof n === "string") { (strings.get(key) ?? strings.set(key, new Set()).get(key)!).add(n); return }
    if (isLeaf(n) || depth > 6) return
    for (const k of children(n).slice(0, 64)) collect(child(n, k), typeof k === "string" ? k : key, depth + 1)
  }
  collect(s, "", 0)
  const rootWeighted: (keyof KernelState)[] = [
    ...Array<keyof KernelState>(8).fill("kheap"), ...Array<keyof KernelState>(5).fill("caps"), "cdt", "cdt", "cdtList", "isOriginal", "readyQueues", "irqStates", "armASIDTable",
  ]
  const out: Corruption[] = []
  for (let tries = 0; out.length < perBase && tries < perBase * 20; tries++) {
    const path: (string | number)[] = []
    let n: Node = s
    let key = ""
    let c: Corruption | undefined
    while (!isLeaf(n)) {
      const ks = children(n)
      if (ks.length === 0) break
      // From the root, mostly into the objects, caps and derivation tree, where the invariants' clauses are.
      const k = n === s && rnd() < 0.8 ? pick(rootWeighted) : pick(ks)
      path.push(k)
      // Now and then, drop an entry of a map, set or list, or move a map entry to another key, instead of going further.
      if ((isMap(n) || isSet(n) || Array.isArray(n)) && rnd() < 0.12) { c = { base, path, op: "drop" }; break }
      if (isMap(n) && rnd() < 0.06) {
        const to = pick([(k as number) + 1, (k as number) - 1, 2 ** Math.floor(rnd() * 33), pick(addresses)])
        if (!n.has(to)) { c = { base, path, op: "rekey", value: to }; break }
      }
      if (typeof k === "string") key = k
      n = child(n, k)
    }
    if (c === undefined) {
      if (!isLeaf(n)) continue
      const v = n
      const candidates: Node[] =
        typeof v === "number" ? (sizes.has(key) ? [v + 1, v - 1, 0, -1].filter((x) => x <= 24) : [v + 1, v - 1, 0, -1, pick(addresses), pick(addresses) + 16])
          : typeof v === "string" ? [...(strings.get(key) ?? [])]
            : typeof v === "boolean" ? [!v]
              : typeof v === "bigint" ? [v + 1n, 0n]
                : v === null ? [pick(addresses)] : []
      const w = candidates.filter((x) => x !== v)
      if (w.length === 0) continue
      c = { base, path, op: "set", value: toLeaf(pick(w)) }
    }
    if (corrupt(s, c) !== undefined) out.push(c)
  }
  return out
}

// ---- boundary corruptions: every field, map and address edge the states hold, at its limits ----

/** One variant of a union the model declares: its tag, the union's other tags, and its fields' names and type texts. */
interface Variant { readonly tag: string; readonly union: string; readonly fields: readonly (readonly [string, string])[] }

/**
 * The tagged unions the model declares (model/*.ts and spec/state.ts), read from their source: a
 * corruption may turn a variant into any other of its union, including variants no reachable state
 * shows between steps (a scheduler action switching to a thread, a user exception).
 */
const modelUnions = (): { byTag: Map<string, Variant[]>; byUnion: Map<string, Variant[]> } => {
  const files = [...readdirSync(join(projectRoot, "model")).filter((f) => f.endsWith(".ts")).map((f) => `model/${f}`), "spec/state.ts"].sort()
  const byTag = new Map<string, Variant[]>(), byUnion = new Map<string, Variant[]>()
  for (const f of files) {
    const text = readFileSync(join(projectRoot, f), "utf8")
    // A declaration runs from `type X =` to the next line that starts in column 0.
    for (const m of text.matchAll(/^(?:export )?type (\w+)[^=\n]*=([^\n]*\n(?:[ \t)|][^\n]*\n|\n)*)/gm)) {
      const union = m[1]!, body = m[2]!
      const vs: Variant[] = []
      for (const v of body.matchAll(/\{\s*readonly tag: "(\w+)"([^}]*)\}\s*(&)?/g)) {
        // A variant whose fields come from an intersection (a TCB) cannot be written out here.
        if (v[3] !== undefined) continue
        const fields = [...v[2]!.matchAll(/readonly (\w+): ([^;\n]+)/g)].map((x) => [x[1]!, x[2]!.trim()] as const)
        vs.push({ tag: v[1]!, union, fields })
      }
      if (vs.length < 2) continue
      byUnion.set(union, vs)
      for (const v of vs) (byTag.get(v.tag) ?? byTag.set(v.tag, []).get(v.tag)!).push(v)
    }
  }
  return { byTag, byUnion }
}

/** The address ranges a state holds: its objects', and its untyped memory's. */
const ranges = (s: KernelState): { lo: number; hi: number }[] => [
  ...[...s.kheap].map(([p, o]) => ({ lo: p, hi: p + bit(objBits(o)) })),
  ...[...s.caps.values()].filter((c) => c.tag === "UntypedCap").map(untypedRange),
]

/**
 * Corruptions that take each kind of field to its limits, rather than where a random walk happens to
 * go. Across all base states, each field (by its path with map keys and list indices left out, and
 * the tags on the way: `kheap.*<TCB>.tcbFault<UserException>.number`) is corrupted at two of its
 * instances, each map at two of its entries, and each base state's objects and slots at the edges of
 * other objects and of untyped memory:
 * - a number to the word bounds (2^32 - 1, 2^32), to -1 and to a fraction; an address to its object's
 *   neighbours (one byte below, its last byte, one past its end), to null and to an object of each
 *   other kind;
 * - a size field (sizes) by one and to each value from 20 to 33, where the limits of frames,
 *   untypeds, CNodes, guards and the word lie. A Zombie's count moves with its type to its table's
 *   end: zombie_slots_empty walks the table from the count up (2^27 slots took 12 s);
 * - a variant (a cap, an object, a thread state, a fault, a scheduler action, ...) to every other
 *   variant of its union as the model declares it, the leaf fields it shares kept and the rest filled
 *   with the value the states hold under the same name (a reference no state holds: one object of
 *   each kind), and once more with each of its bit counts at 32 and at 33;
 * - a map entry moved to key -1 and to each power of two up to 2^20 and to 2^32 (one past any table's
 *   size), a set member to -1;
 * - the largest object and one other moved to straddle each untyped's start and end by half their
 *   size (covering what lies next to the edge), and objects and slots moved to one byte below other
 *   objects' and untypeds' starts, to just below them (ending at the start), to their last byte and
 *   to their end.
 */
const drawBoundaries = (states: readonly KernelState[], rnd: () => number): Corruption[] => {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
  const { byTag, byUnion } = modelUnions()
  // Every instance of a field, by signature, kept as two seeded picks (reservoir sampling).
  type Site = { base: number; path: (string | number)[]; node: Node; key: string }
  const sites = new Map<string, Site[]>(), counts = new Map<string, number>()
  // The values the states hold under each field name, first seen first: what a filled-in field becomes.
  const named = new Map<string, Node>()
  // The strings the states hold under each field name: what a string field may become.
  const strings = new Map<string, Set<string>>()
  // The first instance of each map, set or list that has entries: where both picks of its signature
  // are empty (most frames hold no words, so a frame's word map was never drawn), its entries'
  // boundaries are drawn on this one too (after every other draw, so those stay as they were).
  const filled = new Map<string, Site>()
  const keep = (sg: string, site: Site): void => {
    const xs = sites.get(sg) ?? sites.set(sg, []).get(sg)!
    const seen = (counts.get(sg) ?? 0) + 1
    counts.set(sg, seen)
    if (xs.length < 2) xs.push(site)
    else { const j = Math.floor(rnd() * seen); if (j < 2) xs[j] = site }
  }
  const visit = (base: number, n: Node, path: (string | number)[], sig: string, key: string): void => {
    const site = (): Site => ({ base, path: [...path], node: n, key })
    if (isLeaf(n)) {
      // A field's own value only (a map's or list's entries are not the field's value).
      if (!named.has(key) && n !== null && typeof path.at(-1) === "string") named.set(key, n)
      if (typeof n === "string") (strings.get(key) ?? strings.set(key, new Set()).get(key)!).add(n)
      keep(`${sig}:${typeof n}`, site())
      return
    }
    const tag = !isMap(n) && !isSet(n) && !Array.isArray(n) && typeof (n as { tag?: unknown }).tag === "string" ? (n as { tag: string }).tag : undefined
    if (isMap(n) || isSet(n) || Array.isArray(n) || tag !== undefined) {
      const sg = sig + (tag !== undefined ? `<${tag}>` : "[]")
      keep(sg, site())
      if (tag === undefined && !filled.has(sg) && children(n).length > 0) filled.set(sg, site())
    }
    if (isSet(n)) return
    const here = tag !== undefined ? `${sig}<${tag}>` : sig
    const seq = isMap(n) || Array.isArray(n)
    for (const k of children(n)) {
      if (k === "tag") continue
      path.push(k)
      visit(base, child(n, k), path, seq ? `${here}.*` : `${here}.${k}`, typeof k === "string" ? k : key)
      path.pop()
    }
  }
  states.forEach((s, b) => visit(b, s, [], "", ""))
  // An object of each kind in each state, picked once: where a reference moves to another kind.
  const kinds = states.map((s) => {
    const by = new Map<string, number[]>()
    for (const [p, o] of s.kheap) (by.get(o.tag) ?? by.set(o.tag, []).get(o.tag)!).push(p)
    return new Map([...by].sort(([a], [b]) => (a < b ? -1 : 1)).map(([t, ps]) => [t, pick(ps)] as const))
  })
  type Fill = Leaf | readonly Leaf[]
  /** What a field the old variant lacks becomes: the value the states hold under its name, else by its type; a reference no state holds names an object of each kind. */
  const fill = (name: string, type: string, b: number): readonly Fill[] => {
    if (named.has(name)) return [toLeaf(named.get(name))]
    if (type.endsWith("| null")) return [null]
    if (type.includes("Ptr>")) return [[pick([...states[b]!.kheap.keys()])]]
    if (type.includes("Ptr")) return [...kinds[b]!.values()]
    if (type === "number") return [0]
    if (type === "boolean") return [false]
    const v = byUnion.get(type)?.find((w) => w.fields.length === 0)
    return v === undefined ? [] : [{ variant: { tag: v.tag } }]
  }
  const out: Corruption[] = []
  const add = (s: KernelState, c: Corruption) => { if (corrupt(s, c) !== undefined) out.push(c) }
  /** A map entry moved to key -1 and to each power of two (one past any table's size); a set member to -1. */
  const drawEntries = (x: Site): void => {
    const s = states[x.base]!
    const v = x.node
    const ks = children(v).filter((k): k is number => typeof k === "number")
    if (ks.length === 0 || isSet(v) || Array.isArray(v)) { if (isSet(v) && ks.length > 0) add(s, { base: x.base, path: [...x.path, pick(ks)], op: "set", value: -1 }); return }
    const k = pick(ks)
    const m = v as ReadonlyMap<number, unknown>
    // Address-keyed maps (objects, slots) move by the edges below; index-keyed ones to the powers of two.
    if (Math.max(...ks) >= 2 ** 20) return
    for (const to of [-1, ...Array.from({ length: 21 }, (_, i) => 2 ** i), 2 ** 32]) if (!m.has(to)) add(s, { base: x.base, path: [...x.path, k], op: "rekey", value: to })
  }
  const sorted = [...sites].sort(([a], [b]) => (a < b ? -1 : 1))
  for (const [sig, xs] of sorted) {
    for (const x of xs) {
      const s = states[x.base]!
      const set = (value: Leaf | undefined) => { if (value !== undefined) add(s, { base: x.base, path: x.path, op: "set", value }) }
      const v = x.node
      if (sig.endsWith(">")) {
        // A variant becomes every other variant of its union.
        const tag = (v as { tag: string }).tag
        for (const u of byTag.get(tag) ?? []) {
          for (const w of byUnion.get(u.union)!) {
            if (w.tag === tag) continue
            // Fields it shares keep their values (leaves only); the others are filled in.
            const old = v as Record<string, Node>
            const fields = w.fields.map(([f, t]) => [f, f in old && (isLeaf(old[f]) || typeof old[f] === "bigint") ? [toLeaf(old[f])] : fill(f, t, x.base)] as const)
            if (fields.some(([, ls]) => ls.length === 0)) continue
            const many = fields.find(([, ls]) => ls.length > 1)
            for (const alt of many?.[1] ?? [undefined]) {
              const entries = fields.map(([f, ls]) => [f, f === many?.[0] ? alt! : ls[0]!] as const)
              set({ variant: Object.fromEntries([["tag", w.tag], ...entries]) as Record<string, Leaf> })
            }
            // Each bit count of the new variant (a field named ...bits...) at the word's width and one past it.
            for (const [f, t] of w.fields) {
              if (t !== "number" || !/bits/i.test(f)) continue
              for (const lim of [wordBits, wordBits + 1]) {
                set({ variant: Object.fromEntries([["tag", w.tag], ...fields.map(([g, ls]) => [g, g === f ? lim : ls[0]!] as const)]) as Record<string, Leaf> })
              }
            }
          }
        }
        continue
      }
      if (sig.endsWith("[]")) { drawEntries(x); continue }
      if (typeof v === "number") {
        if (isSize(x.key, sig)) {
          // A size to each value from 20 to 33, where the limits of frames, untypeds, CNodes, guards and the word lie.
          const limits = [v + 1, v - 1, ...Array.from({ length: 14 }, (_, i) => 20 + i)].filter((w, i, ws) => w !== v && ws.indexOf(w) === i)
          // zombie_slots_empty walks a Zombie's table from its count up, so the count goes to the table's end with it.
          const cap = x.key === "zombieType" ? at(s, x.path.slice(0, -1)) as Record<string, Node> : undefined
          for (const w of limits) {
            if (cap === undefined) set(w)
            else add(s, { base: x.base, path: x.path.slice(0, -1), op: "set", value: { variant: { ...Object.fromEntries(Object.entries(cap).map(([f, y]) => [f, toLeaf(y)])), zombieType: w, number: bit(w) } } })
          }
          continue
        }
        // Past the word, and one past each narrower field seL4 packs into a word: priorities (8 bits),
        // ASIDs (17), badges (28).
        for (const w of [2 ** 32 - 1, 2 ** 32, -1, v + 0.5, 2 ** 8, 2 ** 17, 2 ** 28]) if (w !== v) set(w)
        const o = s.kheap.get(v)
        if (o !== undefined) {
          // An address: to its object's neighbours, and to an object of each other kind.
          const end = v + bit(objBits(o))
          for (const w of [v - 1, end - 1, end, null]) set(w)
          for (const [t, p] of kinds[x.base]!) if (t !== o.tag) set(p)
          // And to the kernel's own objects, which no user cap or object may name.
          for (const g of [s.idleThread, s.irqNode, s.armGlobalPD, s.armGlobalPT]) if (g !== v) set(g)
        }
      } else if (typeof v === "bigint") {
        for (const w of [-1n, 2n ** 56n, 2n ** 64n]) set(toLeaf(w))
      } else if (typeof v === "string") {
        for (const w of [...(strings.get(x.key) ?? [])].sort()) if (w !== v) set(w)
      } else if (typeof v === "boolean") set(!v)
      else if (v === null) for (const p of kinds[x.base]!.values()) set(p)
    }
  }
  // Objects and slots moved to the edges of other objects and of untyped memory.
  states.forEach((s, b) => {
    // The largest object and one other straddle each untyped's start and end by half their size, covering what lies next to the edge.
    const objs = [...s.kheap].map(([p, o]) => [p, bit(objBits(o))] as const)
    const largest = objs.reduce((a, o) => (o[1] > a[1] ? o : a))
    for (const c of s.caps.values()) {
      if (c.tag !== "UntypedCap") continue
      const r = untypedRange(c)
      for (const [p, z] of [largest, pick(objs)]) {
        for (const to of [r.lo - z / 2, r.hi - z / 2]) if (to >= 0 && !s.kheap.has(to)) add(s, { base: b, path: ["kheap", p], op: "rekey", value: to })
      }
    }
    // A CDT parent moved to a slot holding a cap of another kind, once per kind of child, to one
    // naming the same object where there is one (a reply cap under its thread's ThreadCap) and to
    // any other: each such derivation crosses kinds (derived_rights' per-kind branches, the MDB's
    // parent checks).
    const byKind = new Map<string, number>()
    for (const [c] of s.cdt) { const t = s.caps.get(c)?.tag; if (t !== undefined && !byKind.has(t)) byKind.set(t, c) }
    for (const [t, c] of [...byKind].sort(([a], [b2]) => (a < b2 ? -1 : 1))) {
      const parentTag = s.caps.get(s.cdt.get(c)!)?.tag
      const ref = capObjRef(s.caps.get(c)!)
      const others = [...s.caps].filter(([sl, cap]) => sl !== c && cap.tag !== parentTag && cap.tag !== t)
      const same = ref === null ? undefined : others.find(([, cap]) => capObjRef(cap) === ref)
      for (const o of new Set([same, others[0]])) if (o !== undefined) add(s, { base: b, path: ["cdt", c], op: "set", value: o[0] })
    }
    // A frame cap's parent frame cap weakened below it (its VM rights lowered), once per state:
    // derived_rights' frame branch (a copied frame cap never has rights its parent lacks).
    const rank = ["KernelOnly", "ReadOnly", "ReadWrite"]
    const framePair = [...s.cdt].find(([c, p]) => s.caps.get(c)?.tag === "FrameCap" && s.caps.get(p)?.tag === "FrameCap")
    const child = framePair === undefined ? undefined : s.caps.get(framePair[0])
    if (framePair !== undefined && child?.tag === "FrameCap") {
      for (const r of rank.slice(0, rank.indexOf(child.vmRights))) add(s, { base: b, path: ["caps", framePair[1], "vmRights"], op: "set", value: r })
    }
    // A cap moved into a Zombie's table, at the Zombie's count and at the table's end: the filled
    // slot is not the Zombie's own, so zombie_slots_empty's form must look at every Zombie then.
    const zombie = [...s.caps].find(([, c]) => c.tag === "ZombieCap")
    const mover = [...s.caps].find(([, c]) => c.tag !== "ZombieCap")
    if (zombie !== undefined && mover !== undefined && zombie[1].tag === "ZombieCap") {
      const z = zombie[1]
      const size = z.zombieType === zombieTypeTCB ? tcbCNodeEntries : bit(z.zombieType)
      for (const i of new Set([z.number, size - 1])) {
        const to = z.ptr + i * bit(slotBits)
        if (i >= z.number && !s.caps.has(to)) add(s, { base: b, path: ["caps", mover[0]], op: "rekey", value: to })
      }
    }
    const rs = ranges(s)
    for (let i = 0; i < 8; i++) {
      const r = pick(rs)
      const [p, o] = pick([...s.kheap])
      const z = bit(objBits(o))
      for (const to of [r.lo - 1, r.lo - z, r.hi - 1, r.hi]) if (to >= 0 && !s.kheap.has(to)) add(s, { base: b, path: ["kheap", p], op: "rekey", value: to })
      const slot = pick([...s.caps.keys()])
      const slotSize = bit(slotBits)
      for (const to of [r.lo - slotSize, r.hi - 1, r.hi]) if (to >= 0 && !s.caps.has(to)) add(s, { base: b, path: ["caps", slot], op: "rekey", value: to })
    }
  })
  // A map or set whose two picks were both empty (most frames hold no words): its entries drawn on
  // the first instance that has some. Last, so that every draw above stays as it was.
  for (const [sig, xs] of sorted) {
    const other = filled.get(sig)
    if (other !== undefined && xs.every((x) => children(x.node).length === 0)) drawEntries(other)
  }
  return out
}

/** The node at `path` in `n`. */
const at = (n: Node, path: readonly (string | number)[]): Node => path.reduce((m: Node, k) => child(m, k), n)

/** Is field `key` (at signature `sig`) a size? A `number` is a size only in a Zombie (elsewhere it is a fault's word). */
const isSize = (key: string, sig: string): boolean => sizes.has(key) && (key !== "number" || sig.includes("<ZombieCap>"))

/**
 * Fields that count or size things (2^radix slots, a Zombie's slots to go): never moved to an address.
 * A random walk moves them by one or to 0 or -1, at most to 24; the boundary pass to 20..33, with a
 * Zombie's count at its table's end, since zombie_slots_empty iterates from the count up (2^31 slots
 * took 26 s, a Zombie of type 27 with 3 slots left 12 s).
 */
const sizes = new Set(["radix", "sizeBits", "guardSize", "number", "zombieType", "numIRQs", "numDomains", "workUnitsLimit", "resetChunkBits", "freeIndex"])

/** Does the state hold a Zombie (a preempted delete of a CNode or TCB, half done)? */
const hasZombie = (s: KernelState): boolean => [...s.caps.values()].some((c) => c.tag === "ZombieCap")

/** The events of a trace from boot, cut after the first step that leaves a Zombie if `cutAtZombie`; undefined if it never does. */
const traceEvents = (choices: readonly Choice[], cutAtZombie: boolean): Event[] | undefined => {
  let s = boot(defaultBootConfig)
  const evs: Event[] = []
  for (const c of choices) {
    const e = resolveChoice(s, c)
    evs.push(e)
    s = step(s, e)
    if (cutAtZombie && hasZombie(s)) return evs
  }
  return cutAtZombie ? undefined : evs
}

/** The base traces: random ones of up to `depth` steps, and one in six cut where a trace first holds a Zombie. */
const drawBases = (seed: number, bases: number, depth: number): (readonly Event[])[] => {
  const plain = fc.sample(traceArb(depth), { seed, numRuns: bases - Math.floor(bases / 6) }).map((cs) => traceEvents(cs, false)!)
  const zombies = fc.sample(traceArb(120, undefined, { swarm: true }), { seed, numRuns: bases * 8 })
    .map((cs) => traceEvents(cs, true)).filter((e) => e !== undefined).slice(0, Math.floor(bases / 6))
  return [...plain, ...zombies]
}

/**
 * A fresh corpus: `perBase` corruptions of each of `bases` reachable states: the end states of
 * random traces of up to `depth` steps, and (one in six) states cut where a trace first holds a
 * Zombie (a preempted delete), so the clauses about half-deleted objects have something to flag.
 * With `keptBases`, the states are those traces' instead (the committed corpus's, when only the
 * drawing of the corruptions changed and the generator's traces should not move with it).
 */
export const makeCorpus = (seed = 20261206, bases = 24, depth = 80, perBase = 330, keptBases?: readonly (readonly Event[])[]): Corpus => {
  const events = keptBases ?? drawBases(seed, bases, depth)
  let x = seed >>> 0
  const rnd = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32
  const states = baseStates(events)
  const corruptions = [...states.flatMap((s, b) => drawCorruptions(s, b, perBase, rnd)), ...drawBoundaries(states, rnd)]
  const timed = corruptions.map((c) => { const t = performance.now(); const v = verdict(corrupt(states[c.base]!, c)!); return { c, v, ms: performance.now() - t } })
  if (process.env.KSPEC_VERBOSE) for (const x of timed.filter((x) => x.ms > 20)) console.log(`slow: ${x.ms.toFixed(0)} ms ${x.c.path.join(".")} ${x.c.op} ${JSON.stringify(x.c.value)}`)
  // A check that iterates over a size field (a table of 2^size slots) makes one corruption take seconds: say which.
  const slow = timed.find((x) => x.ms > 2000)
  if (slow !== undefined) throw new Error(`corruption ${slow.c.path.join(".")} ${slow.c.op} ${JSON.stringify(slow.c.value)} took ${slow.ms.toFixed(0)} ms to check: an invariant iterates over a size it sets; keep such sizes small (see sizes)`)
  const verdicts = timed.map((x) => x.v)
  return {
    about: "What each invariant flags on random one-field corruptions of reachable states (proofs-tests/invariants/corruptions.ts). Regenerate after an intended change with `npx tsx proofs-tests/invariants/corruptions.ts --write`, and read the diff.",
    bases: events, corruptions, verdicts,
  }
}

export const loadCorpus = (): Corpus => JSON.parse(readFileSync(corpusFile, "utf8")) as Corpus

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // --keep-bases: the committed corpus's traces, not the generator's current ones.
  const c = makeCorpus(undefined, undefined, undefined, undefined, process.argv.includes("--keep-bases") ? loadCorpus().bases : undefined)
  const flagged = new Set(c.verdicts.flat().map((v) => v.split("#")[0]))
  const caught = c.verdicts.filter((v) => v.length > 0).length
  console.log(`${c.corruptions.length} corruptions of ${c.bases.length} reachable states; ${caught} flagged by some invariant; ${flagged.size} invariants flag at least one`)
  if (process.argv.includes("--write")) { writeFileAtomic(corpusFile, JSON.stringify(c) + "\n"); console.log(`wrote ${corpusFile}`) }
}
