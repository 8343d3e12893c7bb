/**
 * The breadth-first search of `kspec prove`: level by level from the initial state, every state
 * checked once, every edge of every state tried, successors deduplicated by fingerprint in a
 * typed-array table. The search keeps, per state, only its parent and the index of the event
 * that leads to it (8 bytes with the table's 16): workers rebuild states from their paths
 * (expand.ts).
 *
 * **Order and counterexamples.** States get ids in discovery order, and chunks of a level are
 * folded into the table in chunk order whatever order the workers finish in, so ids, paths and
 * results do not depend on timing. A state at depth L is checked when level L is expanded; an
 * edge is checked when its source is expanded, so a failing edge is a counterexample of depth
 * L + 1. The first failure stops the expansion of further edges; the rest of the level is still
 * checked (a failing state there is shorter than a failing edge), and the failure reported is the
 * shortest, then the first in BFS order: the shortest path to a failure in the scope.
 *
 * **Workers.** Chunks of consecutive states of a level go to the runners (threads, or this thread):
 * consecutive states share ancestors, so a worker rebuilds each state from its cached parent.
 * The visited table stays with the search (one insertion per edge, about 50 ns, beside the tens
 * of microseconds a worker spends on the edge), so there is no shared-memory table to grow under
 * concurrent writers and no cross-worker traffic per state; workers return their edges' keys
 * in one typed array per chunk.
 *
 * **Shards.** With `shard` I/N the search runs as usual until the first level with at least 8N
 * states (or the depth bound), keeps of that level only the states whose key is I modulo N, and
 * goes on from those alone. The N shards together check every state: each state past the split
 * lies below some state of the split level, which exactly one shard keeps. What they lose is
 * deduplication across shards: a state below states of two shards is checked by both, and every
 * shard checks the levels above the split.
 * @category prove
 */
import type { Event } from "../../model/index.ts"
import type { Chunk, ChunkResult, ProveFailure } from "./expand.ts"
import { edgeWords } from "./expand.ts"
import { FingerprintTable, collisionProbability } from "./table.ts"

/** Runs chunks: in this thread or on worker threads. Results come back in submission order per call. */
export interface ChunkRunner {
  /** How many chunks may be in flight at once. */
  readonly parallelism: number
  run(c: Chunk): Promise<ChunkResult>
  /** The key (lo, hi) and spec print of the initial state. */
  rootKey(): Promise<{ readonly key: { readonly lo: number; readonly hi: number }; readonly spec: { readonly lo: number; readonly hi: number } }>
  close(): Promise<void>
}

export interface SearchOptions {
  /** The depth bound: events after the initial state. */
  readonly depth: number
  /** Stop once this many distinct states are found (the result is then incomplete). */
  readonly maxStates?: number
  /** Part I of N (0-based index). */
  readonly shard?: { readonly index: number; readonly count: number }
  /** States per chunk (default: 16, fewer for small levels). */
  readonly chunkSize?: number
  /** Called after each chunk is folded in. */
  readonly onProgress?: (p: SearchProgress) => void
  /** Polled between chunks: true stops the search (Ctrl-C); the result is incomplete. */
  readonly stop?: () => boolean
  /** Called with each new state's key and spec print (tests: the set of states reached). */
  readonly onState?: (keyLo: number, keyHi: number, specLo: number, specHi: number, level: number) => void
}

export interface SearchProgress {
  /** Successor states generated (edges tried), plus the initial state, as TLC counts them. */
  readonly generated: number
  /** Distinct states found (fingerprints of (spec, impl) pairs). */
  readonly distinct: number
  /** States checked so far. */
  readonly checked: number
  /** The level being expanded, how many states it has, and how many of them are not checked yet. */
  readonly level: number
  readonly levelSize: number
  readonly levelLeft: number
  /** States found and not checked yet. */
  readonly queue: number
  readonly ms: number
}

export interface SearchStats extends SearchProgress {
  /** Distinct spec states among the distinct states (equal when the impl keeps no state of its own beyond the spec's). */
  readonly specDistinct: number
  /** Distinct states found at each depth. */
  readonly levels: readonly number[]
  /** Bytes of the visited table. */
  readonly tableBytes: number
  /** The most events one state's alphabet had (0 if no state was expanded). */
  readonly alphabetMax: number
}

export type SearchStatus =
  /** Every state the bound allows was checked, and nothing failed. */
  | "proved"
  /** A check failed: `failure` is the shortest counterexample. */
  | "counterexample"
  /** Stopped by --max-states or an interrupt before the bound. */
  | "incomplete"

export interface SearchResult {
  readonly status: SearchStatus
  /** The search reached a fixpoint: the last level expanded found no new state, so every reachable state was checked, whatever the depth. */
  readonly exhausted: boolean
  /** Every trace of at most this many events was checked (states and edges); -1 when not even the initial state was. */
  readonly depthChecked: number
  readonly failure: ProveFailure | null
  readonly stats: SearchStats
  /** The chance that two distinct states shared a fingerprint (TLC's optimistic estimate). */
  readonly collisionProbability: number
  /** For a shard: the level where the search split, and how many of its states this shard kept (null when it never split). */
  readonly split: { readonly level: number; readonly kept: number; readonly of: number } | null
  readonly outcomes: ReadonlyMap<string, number>
}

/** A growable typed array of state data. */
class Column<T extends Int32Array | Uint16Array | Uint32Array> {
  constructor(public a: T, private readonly make: (n: number) => T) {}
  set(i: number, v: number): void {
    if (i >= this.a.length) { const b = this.make(2 * this.a.length); b.set(this.a); this.a = b }
    this.a[i] = v
  }
  get(i: number): number { return this.a[i]! }
}

/** Run the search with `runner`; see the module comment. */
export const search = async (runner: ChunkRunner, o: SearchOptions): Promise<SearchResult> => {
  const t0 = performance.now()
  const table = new FingerprintTable(1 << 16)
  const specTable = new FingerprintTable(1 << 16)
  const parent = new Column(new Int32Array(1 << 16), (n) => new Int32Array(n))
  const event = new Column(new Uint16Array(1 << 16), (n) => new Uint16Array(n))
  const keyLo = new Column(new Uint32Array(1 << 16), (n) => new Uint32Array(n))
  const outcomes = new Map<string, number>()
  const levels: number[] = []
  const shard = o.shard ?? { index: 0, count: 1 }
  let split: SearchResult["split"] = null

  const root = await runner.rootKey()
  table.add(root.key.lo, root.key.hi)
  specTable.add(root.spec.lo, root.spec.hi)
  parent.set(0, -1)
  event.set(0, 0)
  keyLo.set(0, root.key.lo)
  o.onState?.(root.key.lo, root.key.hi, root.spec.lo, root.spec.hi, 0)
  let count = 1
  let generated = 1
  let checked = 0
  let current: Int32Array = Int32Array.of(0)
  levels.push(1)

  let failure: ProveFailure | null = null
  let capped = false
  let interrupted = false
  let exhausted = false
  let depthChecked = -1
  let level = 0
  // States of the current level not checked yet, and states of the next level found so far.
  let pending = 0
  let nextFound = 0
  let alphabetMax = 0

  const progress = (): SearchProgress => ({ generated, distinct: count, checked, level, levelSize: current.length, levelLeft: pending, queue: pending + nextFound, ms: performance.now() - t0 })
  const better = (f: ProveFailure): boolean =>
    failure === null || f.depth < failure.depth || (f.depth === failure.depth && (f.stateId < failure.stateId || (f.stateId === failure.stateId && f.eventIndex < failure.eventIndex)))

  for (level = 0; ; level++) {
    const checkOnly = level >= o.depth
    const next: number[] = []
    const size = o.chunkSize ?? Math.max(1, Math.min(16, Math.ceil(current.length / (4 * runner.parallelism))))
    pending = current.length
    nextFound = 0
    // Chunks in order; at most `parallelism` in flight; folded in strictly in order.
    const inFlight: Promise<ChunkResult>[] = []
    const chunkStarts: number[] = []
    let nextStart = 0
    let stateFailureFound = false
    const makeChunk = (start: number, only: boolean): Chunk => {
      const end = Math.min(current.length, start + size)
      const ids = new Int32Array((end - start) * (level + 1))
      const evs = new Uint16Array((end - start) * level)
      for (let i = start; i < end; i++) {
        let id = current[i]!
        for (let j = level; j >= 0; j--) {
          ids[(i - start) * (level + 1) + j] = id
          if (j > 0) evs[(i - start) * level + j - 1] = event.get(id)
          id = parent.get(id)
        }
      }
      return { level, ids, events: evs, checkOnly: only }
    }
    const dispatch = (): void => {
      while (inFlight.length < runner.parallelism && nextStart < current.length && !stateFailureFound && !capped && !interrupted) {
        chunkStarts.push(nextStart)
        inFlight.push(runner.run(makeChunk(nextStart, checkOnly || failure !== null)))
        nextStart += size
      }
    }
    dispatch()
    while (inFlight.length > 0) {
      const r = await inFlight.shift()!
      const start = chunkStarts.shift()!
      const stop = stateFailureFound || capped || interrupted
      if (!stop) {
        const n = Math.min(size, current.length - start)
        checked += n
        pending -= n
        for (const [k, v] of r.outcomes) outcomes.set(k, (outcomes.get(k) ?? 0) + v)
        if (r.alphabetMax > alphabetMax) alphabetMax = r.alphabetMax
        for (const f of r.failures) {
          if (better(f)) failure = f
          if (f.eventIndex < 0) stateFailureFound = true
        }
        if (failure === null) {
          const e = r.edges
          for (let x = 0; x < e.length; x += edgeWords) {
            generated++
            if (capped) continue
            const lo = e[x + 2]!
            const hi = e[x + 3]!
            if (!table.add(lo, hi)) continue
            specTable.add(e[x + 4]!, e[x + 5]!)
            const id = count++
            parent.set(id, current[start + e[x]!]!)
            event.set(id, e[x + 1]!)
            keyLo.set(id, lo)
            next.push(id)
            nextFound++
            o.onState?.(lo, hi, e[x + 4]!, e[x + 5]!, level + 1)
            if (o.maxStates !== undefined && count >= o.maxStates) capped = true
          }
        }
        if (o.stop?.() === true) interrupted = true
        o.onProgress?.(progress())
      }
      dispatch()
    }
    if (failure !== null || capped || interrupted) break
    depthChecked = level
    if (checkOnly) break
    if (next.length === 0) { exhausted = true; break }
    levels.push(next.length)
    current = Int32Array.from(next)
    // A shard keeps its part of the first level big enough to split (or of the last level).
    if (shard.count > 1 && split === null && (current.length >= 8 * shard.count || level + 1 >= o.depth)) {
      const kept = current.filter((id) => keyLo.get(id) % shard.count === shard.index)
      split = { level: level + 1, kept: kept.length, of: current.length }
      current = kept
    }
  }
  const stats: SearchStats = {
    ...progress(), queue: failure === null && !capped && !interrupted ? 0 : pending + nextFound, specDistinct: specTable.size, levels, tableBytes: table.bytes + specTable.bytes, alphabetMax,
  }
  // (Assigned in closures: the compiler cannot see it may be set.)
  const found = failure as ProveFailure | null
  const status: SearchStatus = found !== null ? "counterexample" : capped || interrupted ? "incomplete" : "proved"
  return {
    status, exhausted: exhausted && found === null, depthChecked: found !== null ? found.depth - 1 : capped || interrupted ? Math.max(-1, level - 1) : depthChecked,
    failure: found, stats, collisionProbability: collisionProbability(count), split, outcomes,
  }
}
