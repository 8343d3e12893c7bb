/**
 * Benchmarks of `kspec prove`: distinct states per second per core (one thread), what symmetry
 * reduction saves, what sharding loses, and (with `kspec bench --million`) the run of over a
 * million distinct states on two worker threads.
 */
import { cpus } from "node:os"
import type { ProveResult } from "../harness/prove/index.ts"
import { prove } from "../harness/prove/index.ts"

export interface ProveRun {
  readonly scope: string
  readonly depth: number
  readonly workers: number
  readonly symmetry: boolean
  readonly status: string
  readonly exhausted: boolean
  readonly distinct: number
  readonly generated: number
  readonly ms: number
  /** CPU time of this process (all its threads), in ms. */
  readonly cpuMs: number
  readonly distinctPerSec: number
  /** Distinct states per second of CPU time: per core, whatever the number of workers. */
  readonly distinctPerCpuSec: number
  readonly collisionProbability: number
}

/** One search, timed (wall and CPU). */
export const timeProve = async (scope: string, depth: number | undefined, workers: number, symmetry = false): Promise<ProveRun & { readonly result: ProveResult }> => {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const r = await prove({ scope, ...(depth !== undefined ? { depth } : {}), workers, symmetry })
  const ms = performance.now() - t0
  const c = process.cpuUsage(c0)
  const cpuMs = (c.user + c.system) / 1000
  if (r.status === "counterexample") throw new Error(`prove bench: ${r.statement}`)
  return {
    scope, depth: r.depth, workers, symmetry, status: r.status, exhausted: r.exhausted, distinct: r.stats.distinct, generated: r.stats.generated, ms, cpuMs,
    distinctPerSec: r.stats.distinct / (ms / 1000), distinctPerCpuSec: r.stats.distinct / (cpuMs / 1000), collisionProbability: r.collisionProbability, result: r,
  }
}

export interface ShardingPoint {
  readonly scope: string
  readonly depth: number
  readonly shards: number
  /** States checked by one unsharded search. */
  readonly whole: number
  /** States checked by all the shards together. */
  readonly sum: number
  /** The largest shard's share of the whole. */
  readonly largest: number
  readonly splitLevel: number | null
}

/** What sharding loses: states checked by all shards together against one search. */
export const shardingLoss = async (scope: string, depth: number | undefined, counts: readonly number[]): Promise<ShardingPoint[]> => {
  const whole = await prove({ scope, ...(depth !== undefined ? { depth } : {}) })
  const out: ShardingPoint[] = []
  for (const n of counts) {
    const parts: ProveResult[] = []
    for (let i = 0; i < n; i++) parts.push(await prove({ scope, ...(depth !== undefined ? { depth } : {}), shard: { index: i, count: n } }))
    out.push({
      scope, depth: whole.depth, shards: n, whole: whole.stats.checked, sum: parts.reduce((a, p) => a + p.stats.checked, 0),
      largest: Math.max(...parts.map((p) => p.stats.checked)) / whole.stats.checked, splitLevel: parts[0]!.split?.level ?? null,
    })
  }
  return out
}

export interface ProveBench {
  readonly machine: string
  /** Distinct states per second on one core, per scope, and the search on two workers. */
  readonly rates: readonly ProveRun[]
  /** Distinct states with and without symmetry reduction. */
  readonly symmetry: readonly { readonly scope: string; readonly depth: number; readonly plain: number; readonly reduced: number }[]
  readonly sharding: readonly ShardingPoint[]
  /** The million-state run (with --million only). */
  readonly million: ProveRun | null
}

const strip = ({ result: _r, ...run }: ProveRun & { readonly result: ProveResult }): ProveRun => run

/**
 * The prove section of `kspec bench`: rates on the named scopes (one thread), symmetry savings on
 * the default scope and the mirror scope, sharding loss on the default scope and on tiny, and with
 * `million` the default scope to depth 3 on two workers. `quick`: small sizes.
 */
export const runProveBench = async (quick: boolean, million: boolean): Promise<ProveBench> => {
  const machine = `${cpus()[0]?.model ?? "unknown cpu"} x${cpus().length}`
  const rates: ProveRun[] = []
  if (quick) {
    rates.push(strip(await timeProve("tiny", 3, 1)))
  } else {
    rates.push(strip(await timeProve("tiny", undefined, 1)))
    rates.push(strip(await timeProve("ipc", undefined, 1)))
    rates.push(strip(await timeProve("default", 2, 1)))
  }
  const symmetry = []
  for (const [scope, depth] of quick ? [["mirror", 3] as const] : [["default", 2] as const, ["mirror", undefined] as const]) {
    const plain = await prove({ scope, ...(depth !== undefined ? { depth } : {}) })
    const reduced = await prove({ scope, ...(depth !== undefined ? { depth } : {}), symmetry: true })
    symmetry.push({ scope, depth: plain.depth, plain: plain.stats.distinct, reduced: reduced.stats.distinct })
  }
  // A search that fans out (default: most states lie below one state of the split level) and one that converges (tiny: most are reached from many).
  const sharding = quick ? await shardingLoss("tiny", 3, [2]) : [...await shardingLoss("default", 2, [2, 4]), ...await shardingLoss("tiny", undefined, [2])]
  const m = million ? strip(await timeProve("default", 3, 2)) : null
  return { machine, rates, symmetry, sharding, million: m }
}
