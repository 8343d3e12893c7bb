/**
 * Persistent maps and sets for the abstract state: immutable values that share structure, so an
 * update costs O(log n) instead of a copy of the whole map, and an old state stays valid.
 *
 * `PMap` and `PSet` implement `ReadonlyMap` and `ReadonlySet` with number keys (every key in the
 * kernel state is an address or a queue index) and iterate in insertion order exactly as a native
 * `Map` does: setting an existing key keeps its place, deleting and re-adding moves it to the end.
 * Readers (invariants, views, generators, diffs) therefore see the same order as before.
 *
 * Representation: a hash array mapped trie from key to leaf (lookup), plus a persistent 32-way
 * vector from insertion sequence number to leaf (order). A delete leaves a hole in the vector;
 * when holes outnumber live entries the vector is rebuilt. Nothing is mutated after
 * construction, so deep-freezing a state is safe.
 * @category objects
 */

// ---- nodes --------------------------------------------------------------------------------------

/** One entry: its key, value, the key's hash and its insertion sequence number. */
class Leaf<K, V> {
  constructor(readonly key: K, readonly value: V, readonly hash: number, readonly seq: number) {}
}
/** A trie node: `bitmap` says which of the 32 children exist; `slots` holds them in order. */
class Branch<K, V> {
  constructor(readonly bitmap: number, readonly slots: readonly Slot<K, V>[]) {}
}
/** Entries whose keys share one 32-bit hash. */
class Collision<K, V> {
  constructor(readonly hash: number, readonly leaves: readonly Leaf<K, V>[]) {}
}
type Slot<K, V> = Leaf<K, V> | Branch<K, V> | Collision<K, V>

/**
 * A 32-bit mix of a number key: Fibonacci hashing of its low word (and high word, for keys past
 * 2^32), folded so the low bits, which the trie consumes first, depend on every key bit.
 * Addresses are aligned, so their own low bits would crowd one branch. Equal hashes of different
 * keys are handled (`Collision`), only slower.
 */
const hashKey = (k: number): number => {
  const h = Math.imul((k | 0) ^ ((k / 4294967296) | 0), 0x9e3779b1)
  return (h ^ (h >>> 16)) >>> 0
}

const popcount = (x: number): number => {
  x -= (x >>> 1) & 0x55555555
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333)
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24)
}

const arraySet = <T>(a: readonly T[], i: number, v: T): T[] => {
  const b = a.slice()
  b[i] = v
  return b
}
const arrayInsert = <T>(a: readonly T[], i: number, v: T): T[] => {
  const b = new Array<T>(a.length + 1)
  for (let j = 0; j < i; j++) b[j] = a[j]!
  b[i] = v
  for (let j = i; j < a.length; j++) b[j + 1] = a[j]!
  return b
}
const arrayRemove = <T>(a: readonly T[], i: number): T[] => {
  const b = new Array<T>(a.length - 1)
  for (let j = 0; j < i; j++) b[j] = a[j]!
  for (let j = i + 1; j < a.length; j++) b[j - 1] = a[j]!
  return b
}

const trieGet = <K, V>(node: Slot<K, V> | undefined, hash: number, key: K): Leaf<K, V> | undefined => {
  let shift = 0
  while (node !== undefined) {
    if (node instanceof Branch) {
      const bit = 1 << ((hash >>> shift) & 31)
      if ((node.bitmap & bit) === 0) return undefined
      node = node.slots[popcount(node.bitmap & (bit - 1))]
      shift += 5
    } else if (node instanceof Leaf) {
      return node.key === key ? node : undefined
    } else {
      for (const l of node.leaves) if (l.key === key) return l
      return undefined
    }
  }
  return undefined
}

/** Two leaves with different keys, placed under a new node at `shift`. */
const mergeLeaves = <K, V>(a: Leaf<K, V>, b: Leaf<K, V>, shift: number): Slot<K, V> => {
  if (a.hash === b.hash) return new Collision(a.hash, [a, b])
  const ia = (a.hash >>> shift) & 31
  const ib = (b.hash >>> shift) & 31
  if (ia === ib) return new Branch(1 << ia, [mergeLeaves(a, b, shift + 5)])
  return new Branch((1 << ia) | (1 << ib), ia < ib ? [a, b] : [b, a])
}

/** Insert or replace `leaf` (matched by key). */
const trieSet = <K, V>(node: Slot<K, V> | undefined, leaf: Leaf<K, V>, shift: number): Slot<K, V> => {
  if (node === undefined) return leaf
  if (node instanceof Branch) {
    const bit = 1 << ((leaf.hash >>> shift) & 31)
    const i = popcount(node.bitmap & (bit - 1))
    if ((node.bitmap & bit) === 0) return new Branch(node.bitmap | bit, arrayInsert(node.slots, i, leaf))
    return new Branch(node.bitmap, arraySet(node.slots, i, trieSet(node.slots[i], leaf, shift + 5)))
  }
  if (node instanceof Leaf) return node.key === leaf.key ? leaf : mergeLeaves(node, leaf, shift)
  if (node.hash === leaf.hash) {
    const i = node.leaves.findIndex((l) => l.key === leaf.key)
    return new Collision(node.hash, i < 0 ? [...node.leaves, leaf] : arraySet(node.leaves, i, leaf))
  }
  // A collision node sits where a branch would; push it down beside the new leaf.
  return trieSet(new Branch(1 << ((node.hash >>> shift) & 31), [node]), leaf, shift)
}

/** Remove `key` (known present); undefined when the node becomes empty. */
const trieDelete = <K, V>(node: Slot<K, V>, hash: number, key: K, shift: number): Slot<K, V> | undefined => {
  if (node instanceof Branch) {
    const bit = 1 << ((hash >>> shift) & 31)
    const i = popcount(node.bitmap & (bit - 1))
    const child = trieDelete(node.slots[i]!, hash, key, shift + 5)
    if (child !== undefined) return new Branch(node.bitmap, arraySet(node.slots, i, child))
    if (node.slots.length === 1) return undefined
    const slots = arrayRemove(node.slots, i)
    // A lone leaf needs no branch above it.
    if (slots.length === 1 && slots[0] instanceof Leaf) return slots[0]
    return new Branch(node.bitmap & ~bit, slots)
  }
  if (node instanceof Leaf) return undefined
  const leaves = node.leaves.filter((l) => l.key !== key)
  return leaves.length === 1 ? leaves[0] : new Collision(node.hash, leaves)
}

/** Every leaf under `node`. */
const trieLeaves = <K, V>(node: Slot<K, V> | undefined, out: Leaf<K, V>[]): Leaf<K, V>[] => {
  if (node === undefined) return out
  if (node instanceof Leaf) out.push(node)
  else if (node instanceof Branch) for (const c of node.slots) trieLeaves(c, out)
  else out.push(...node.leaves)
  return out
}

/** Keys bound to different values (or present on one side only) in two tries, skipping shared subtrees. */
const trieDiff = <K, V>(a: Slot<K, V> | undefined, b: Slot<K, V> | undefined, out: Set<K>): void => {
  if (a === b) return
  // One entry on each side: a rewritten leaf (a compaction renumbers every entry) is not a change.
  if (a instanceof Leaf && b instanceof Leaf && a.key === b.key) {
    if (a.value !== b.value) out.add(b.key)
    return
  }
  if (a instanceof Branch && b instanceof Branch) {
    // The same children present (the common case: entries rewritten, none added or removed): pair
    // the slots by index and descend only where they differ.
    if (a.bitmap === b.bitmap) {
      const sa = a.slots, sb = b.slots
      for (let i = 0; i < sa.length; i++) if (sa[i] !== sb[i]) trieDiff(sa[i], sb[i], out)
      return
    }
    let bits = a.bitmap | b.bitmap
    while (bits !== 0) {
      const bit = bits & -bits
      bits ^= bit
      const ca = (a.bitmap & bit) === 0 ? undefined : a.slots[popcount(a.bitmap & (bit - 1))]
      const cb = (b.bitmap & bit) === 0 ? undefined : b.slots[popcount(b.bitmap & (bit - 1))]
      trieDiff(ca, cb, out)
    }
    return
  }
  // A subtree on one side only (keys added or removed): each of its keys changed.
  if (a === undefined || b === undefined) {
    const ls = trieLeaves(a ?? b, [])
    for (let i = 0; i < ls.length; i++) out.add(ls[i]!.key)
    return
  }
  // Different shapes (a leaf against a branch, collisions): compare the entries one by one.
  const la = new Map(trieLeaves(a, []).map((l) => [l.key, l] as const))
  for (const l of trieLeaves(b, [])) {
    const old = la.get(l.key)
    if (old === undefined || old.value !== l.value) out.add(l.key)
    la.delete(l.key)
  }
  for (const k of la.keys()) out.add(k)
}

// ---- the order vector ---------------------------------------------------------------------------

/** A 32-way trie of arrays indexed by sequence number; `shift` is 5 per level above the leaves. */
type VecNode<K, V> = readonly (VecNode<K, V> | Leaf<K, V> | undefined)[]

const vecSet = <K, V>(node: VecNode<K, V> | undefined, shift: number, i: number, v: Leaf<K, V> | undefined): VecNode<K, V> => {
  const ix = (i >>> shift) & 31
  const b = node === undefined ? [] : node.slice()
  b[ix] = shift === 0 ? v : vecSet(b[ix] as VecNode<K, V> | undefined, shift - 5, i, v)
  return b
}

const vecEach = <K, V>(node: VecNode<K, V>, shift: number, f: (l: Leaf<K, V>) => void): void => {
  for (let i = 0; i < node.length; i++) {
    const c = node[i]
    if (c === undefined) continue
    if (shift === 0) f(c as Leaf<K, V>)
    else vecEach(c as VecNode<K, V>, shift - 5, f)
  }
}

/** Does `f` hold for some leaf, in order? Stops at the first. */
const vecSome = <K, V>(node: VecNode<K, V>, shift: number, f: (l: Leaf<K, V>) => boolean): boolean => {
  for (let i = 0; i < node.length; i++) {
    const c = node[i]
    if (c === undefined) continue
    if (shift === 0 ? f(c as Leaf<K, V>) : vecSome(c as VecNode<K, V>, shift - 5, f)) return true
  }
  return false
}

const emptyVec: VecNode<never, never> = Object.freeze([])

const refuse = (): never => { throw new TypeError("spec purity: persistent maps and sets are immutable (update them with mapSet, mapDelete, setAdd, setDelete)") }

/** Each map's entries as an array, once iterated (see `PMap.flat`). */
const flatCache = new WeakMap<object, unknown[]>()
const keysCache = new WeakMap<object, unknown[]>()
const valuesCache = new WeakMap<object, unknown[]>()

// ---- PMap ---------------------------------------------------------------------------------------

/**
 * A persistent map with number keys and native `Map` iteration order. Build one with
 * `PMap.from` or `PMap.empty()`, update with `with` and `without` (each returns a new map);
 * the native mutators `set`, `delete` and `clear` throw.
 */
export class PMap<K extends number, V> implements ReadonlyMap<K, V> {
  private constructor(
    private readonly root: Slot<K, V> | undefined,
    private readonly vec: VecNode<K, V>,
    private readonly vecShift: number,
    /** The next insertion sequence number (live entries plus holes). */
    private readonly next: number,
    readonly size: number,
  ) {}

  private static readonly EMPTY = new PMap<never, never>(undefined, emptyVec, 0, 0, 0)
  static empty<K extends number, V>(): PMap<K, V> { return PMap.EMPTY as unknown as PMap<K, V> }

  /** A map holding `entries` in their order (a later duplicate key replaces in place, as `new Map` does). */
  static from<K extends number, V>(entries: Iterable<readonly [K, V]>): PMap<K, V> {
    if (entries instanceof PMap) return entries as PMap<K, V>
    let m = PMap.empty<K, V>()
    for (const [k, v] of entries) m = m.with(k, v)
    return m
  }

  get(k: K): V | undefined { return trieGet(this.root, hashKey(k), k)?.value }
  has(k: K): boolean { return trieGet(this.root, hashKey(k), k) !== undefined }

  /** This map with `k` bound to `v`; the same map when it already was. */
  with(k: K, v: V): PMap<K, V> {
    const hash = hashKey(k)
    const old = trieGet(this.root, hash, k)
    if (old !== undefined) {
      if (old.value === v) return this
      const leaf = new Leaf(k, v, hash, old.seq)
      return new PMap(trieSet(this.root, leaf, 0), vecSet(this.vec, this.vecShift, old.seq, leaf), this.vecShift, this.next, this.size)
    }
    const leaf = new Leaf(k, v, hash, this.next)
    let vec = this.vec
    let shift = this.vecShift
    if (this.next >= 2 ** (shift + 5)) { vec = [vec]; shift += 5 }
    return new PMap(trieSet(this.root, leaf, 0), vecSet(vec, shift, this.next, leaf), shift, this.next + 1, this.size + 1)
  }

  /** This map without `k`; the same map when `k` was absent. */
  without(k: K): PMap<K, V> {
    const hash = hashKey(k)
    const old = trieGet(this.root, hash, k)
    if (old === undefined) return this
    if (this.size === 1) return PMap.empty()
    const holes = this.next - this.size + 1
    if (holes > 32 && holes > this.size) {
      // Too many holes: rebuild in order with fresh sequence numbers.
      let m = PMap.empty<K, V>()
      vecEach(this.vec, this.vecShift, (l) => { if (l.key !== k) m = m.with(l.key, l.value) })
      return m
    }
    return new PMap(trieDelete(this.root!, hash, k, 0), vecSet(this.vec, this.vecShift, old.seq, undefined), this.vecShift, this.next, this.size - 1)
  }

  /**
   * Every entry rewritten by `f` in its place: equals `new Map([...this].map(([k, v]) => f(k, v)))`,
   * order included (two entries given one key: the later value, at the earlier one's place), but
   * copies only the changed entries (`f` returns `v` itself for an unchanged value).
   */
  remap(f: (k: K, v: V) => readonly [K, V]): PMap<K, V> {
    const changed: [Leaf<K, V>, K, V][] = []
    vecEach(this.vec, this.vecShift, (l) => {
      const [k2, v2] = f(l.key, l.value)
      if (k2 !== l.key || v2 !== l.value) changed.push([l, k2, v2])
    })
    if (changed.length === 0) return this
    let root = this.root
    let vec = this.vec
    // Remove every renamed key first, so that a swap of two keys does not collide.
    for (const [l, k2] of changed) if (k2 !== l.key) root = trieDelete(root!, l.hash, l.key, 0)
    for (const [l, k2, v2] of changed) {
      const hash = k2 === l.key ? l.hash : hashKey(k2)
      if (k2 !== l.key && trieGet(root, hash, k2) !== undefined) return PMap.from([...this].map(([k, v]) => f(k, v)))
      const leaf = new Leaf(k2, v2, hash, l.seq)
      root = trieSet(root, leaf, 0)
      vec = vecSet(vec, this.vecShift, l.seq, leaf)
    }
    return new PMap(root, vec, this.vecShift, this.next, this.size)
  }

  /**
   * The keys whose binding differs between `older` and this map (added, removed, or bound to
   * another object), in time proportional to the change when one map was derived from the other:
   * subtrees they share are skipped. Exact: an entry rewritten with the very same value (a
   * compaction renumbers every entry) is not reported, so a checker may trust it both ways.
   */
  changedKeys(older: ReadonlyMap<K, V>): K[] {
    const out = new Set<K>()
    this.addChangedKeys(older, out)
    return [...out]
  }
  /** Add to `out` the keys `changedKeys` lists (the checker's delta gathers them into one set). */
  addChangedKeys(older: ReadonlyMap<K, V>, out: Set<K>): void {
    if (older instanceof PMap) { trieDiff((older as PMap<K, V>).root, this.root, out); return }
    for (const [k, v] of this) if (!older.has(k) || older.get(k) !== v) out.add(k)
    for (const k of older.keys()) if (!this.has(k)) out.add(k)
  }

  /** Native-Map mutators refuse: a cast that tries to mutate the state fails loudly. */
  set(): never { return refuse() }
  delete(): never { return refuse() }
  clear(): never { return refuse() }

  forEach(f: (v: V, k: K, m: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    vecEach(this.vec, this.vecShift, (l) => f.call(thisArg, l.value, l.key, this))
  }
  /** Does `f` hold for some entry? Visits entries in order and stops at the first hit. */
  some(f: (v: V, k: K) => boolean): boolean { return vecSome(this.vec, this.vecShift, (l) => f(l.value, l.key)) }
  entries(): MapIterator<[K, V]> { return this.flat().values() }
  keys(): MapIterator<K> {
    let a = keysCache.get(this) as K[] | undefined
    if (a === undefined) { a = this.flat().map((e) => e[0]); keysCache.set(this, a) }
    return a.values()
  }
  values(): MapIterator<V> {
    let a = valuesCache.get(this) as V[] | undefined
    if (a === undefined) { a = this.flat().map((e) => e[1]); valuesCache.set(this, a) }
    return a.values()
  }
  [Symbol.iterator](): MapIterator<[K, V]> { return this.flat().values() }

  /**
   * The entries in order as an array, built on first iteration and kept beside the map (not in
   * it, so a frozen map stays frozen); readers iterate often, so this makes iteration as cheap
   * as a native Map's. The tuples are shared: callers must not mutate them (none do).
   */
  private flat(): [K, V][] {
    let a = flatCache.get(this) as [K, V][] | undefined
    if (a === undefined) {
      const out: [K, V][] = []
      vecEach(this.vec, this.vecShift, (l) => { out.push([l.key, l.value]) })
      flatCache.set(this, out)
      a = out
    }
    return a
  }
  get [Symbol.toStringTag](): string { return "PMap" }
}

// ---- PSet ---------------------------------------------------------------------------------------

/** A persistent set of numbers with native `Set` iteration order (a `PMap` from each member to itself). */
export class PSet<K extends number> implements ReadonlySet<K> {
  private constructor(private readonly map: PMap<K, K>) {}
  private static readonly EMPTY = new PSet<never>(PMap.empty())
  static empty<K extends number>(): PSet<K> { return PSet.EMPTY as unknown as PSet<K> }
  static from<K extends number>(members: Iterable<K>): PSet<K> {
    if (members instanceof PSet) return members as PSet<K>
    let s = PSet.empty<K>()
    for (const k of members) s = s.with(k)
    return s
  }

  /** This set with every member renamed by `f` in its place (see `PMap.remap`). */
  remap(f: (k: K) => K): PSet<K> {
    const m = this.map.remap((k) => { const k2 = f(k); return [k2, k2] })
    return m === this.map ? this : new PSet(m)
  }

  get size(): number { return this.map.size }
  has(k: K): boolean { return this.map.has(k) }
  with(k: K): PSet<K> { return this.map.has(k) ? this : new PSet(this.map.with(k, k)) }
  /** The members added or removed since `older` (exact; see `PMap.changedKeys`). */
  changedKeys(older: ReadonlySet<K>): K[] {
    const out = new Set<K>()
    this.addChangedKeys(older, out)
    return [...out]
  }
  /** Add to `out` the members `changedKeys` lists. */
  addChangedKeys(older: ReadonlySet<K>, out: Set<K>): void {
    if (older instanceof PSet) { this.map.addChangedKeys((older as PSet<K>).map, out); return }
    for (const k of this) if (!older.has(k)) out.add(k)
    for (const k of older) if (!this.has(k)) out.add(k)
  }
  without(k: K): PSet<K> { return this.map.has(k) ? new PSet(this.map.without(k)) : this }
  add(): never { return refuse() }
  delete(): never { return refuse() }
  clear(): never { return refuse() }

  forEach(f: (v: K, k: K, s: ReadonlySet<K>) => void, thisArg?: unknown): void {
    this.map.forEach((k) => f.call(thisArg, k, k, this))
  }
  *entries(): SetIterator<[K, K]> { for (const k of this.map.keys()) yield [k, k] }
  keys(): SetIterator<K> { return this.map.keys() }
  values(): SetIterator<K> { return this.map.keys() }
  [Symbol.iterator](): SetIterator<K> { return this.map.keys() }
  get [Symbol.toStringTag](): string { return "PSet" }
}
