/**
 * The corruption corpus: what every invariant flags on two thousand random one-field corruptions of
 * reachable states, pinned in corruptions.json. The hand-built negative cases give each invariant
 * one state it must flag; a weakened clause elsewhere in the same invariant goes unnoticed by them,
 * and a random campaign only ever shows valid states. Here the states are reachable ones (the spec
 * run on random traces, some cut where a Zombie exists) with one leaf changed (a number moved by
 * one, to 0, to -1 or to another object's address, a tag swapped for another tag the state uses, a
 * flag flipped) or one entry of a
 * map, set or list dropped or a map entry moved to another key, and the verdict of each corruption is the set of invariants that flag
 * it, with a hash of the messages each gives. Any change to what an invariant flags, or says, shows
 * as a changed verdict, with the corruption that
 * shows it. After an intended change (a new or rewritten invariant, a changed kernel state), write
 * the file again and read the diff: `npx tsx proofs-tests/invariants/corruptions.ts --write`.
 */
import fc from "fast-check"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import type { Event } from "../../model/index.ts"
import { defaultBootConfig } from "../../model/index.ts"
import type { KernelState } from "../../spec/index.ts"
import { boot, step } from "../../spec/index.ts"
import { checkAll } from "../../spec/invariants/index.ts"
import { mapDelete, mapSet, setAdd, setDelete } from "../../spec/state.ts"
import type { Choice } from "../../harness/gen/choices.ts"
import { resolveChoice, traceArb } from "../../harness/gen/choices.ts"
import { writeFileAtomic } from "../../harness/files.ts"
import { projectRoot } from "../../harness/paths.ts"

/** A leaf value as JSON can hold it (a bigint as its decimal string). */
export type Leaf = number | string | boolean | null | { readonly bigint: string }
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
const fromLeaf = (l: Leaf | undefined): Node => (typeof l === "object" && l !== null ? BigInt(l.bigint) : l)

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

/** Fields that count or size things (2^radix slots, a Zombie's slots to go): moved by one or to 0 or -1, at most to 24, never to an address: a check iterates over them (2^31 slots took 26 s). */
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

/**
 * A fresh corpus: `perBase` corruptions of each of `bases` reachable states: the end states of
 * random traces of up to `depth` steps, and (one in six) states cut where a trace first holds a
 * Zombie (a preempted delete), so the clauses about half-deleted objects have something to flag.
 */
export const makeCorpus = (seed = 20261206, bases = 24, depth = 80, perBase = 330): Corpus => {
  const plain = fc.sample(traceArb(depth), { seed, numRuns: bases - Math.floor(bases / 6) }).map((cs) => traceEvents(cs, false)!)
  const zombies = fc.sample(traceArb(120, undefined, { swarm: true }), { seed, numRuns: bases * 8 })
    .map((cs) => traceEvents(cs, true)).filter((e) => e !== undefined).slice(0, Math.floor(bases / 6))
  const events = [...plain, ...zombies]
  let x = seed >>> 0
  const rnd = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32
  const states = baseStates(events)
  const corruptions = states.flatMap((s, b) => drawCorruptions(s, b, perBase, rnd))
  const timed = corruptions.map((c) => { const t = performance.now(); const v = verdict(corrupt(states[c.base]!, c)!); return { c, v, ms: performance.now() - t } })
  if (process.env.KSPEC_VERBOSE) for (const x of timed.filter((x) => x.ms > 20)) console.log(`slow: ${x.ms.toFixed(0)} ms ${x.c.path.join(".")} ${x.c.op} ${JSON.stringify(x.c.value)}`)
  const verdicts = timed.map((x) => x.v)
  return {
    about: "What each invariant flags on random one-field corruptions of reachable states (proofs-tests/invariants/corruptions.ts). Regenerate after an intended change with `npx tsx proofs-tests/invariants/corruptions.ts --write`, and read the diff.",
    bases: events, corruptions, verdicts,
  }
}

export const loadCorpus = (): Corpus => JSON.parse(readFileSync(corpusFile, "utf8")) as Corpus

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const c = makeCorpus()
  const flagged = new Set(c.verdicts.flat().map((v) => v.split("#")[0]))
  const caught = c.verdicts.filter((v) => v.length > 0).length
  console.log(`${c.corruptions.length} corruptions of ${c.bases.length} reachable states; ${caught} flagged by some invariant; ${flagged.size} invariants flag at least one`)
  if (process.argv.includes("--write")) { writeFileAtomic(corpusFile, JSON.stringify(c) + "\n"); console.log(`wrote ${corpusFile}`) }
}
