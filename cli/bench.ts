/**
 * `kspec bench`: run every benchmark in one process and print (and save) the table: IPC round trip,
 * the mixed workload, scaling with live objects, lockstep checking throughput, fuzz scaling.
 * `--quick` is a smoke run (small sizes, short timings; the figures mean little).
 */
import { cpus } from "node:os"
import { resolve } from "node:path"
import { runCapBench } from "../bench/caps.ts"
import { fuzzBenchSeconds, runCheckingBench, runFuzzBench } from "../bench/checking.ts"
import { runHostileBench } from "../bench/hostile.ts"
import { runIpcBench } from "../bench/ipc.ts"
import { runScalingBench } from "../bench/scaling.ts"
import { runProveBench } from "../bench/prove.ts"
import { writeFileAtomic } from "../harness/files.ts"
import { projectRoot } from "../harness/paths.ts"

/** Where a full run saves its results. */
export const resultsFile = resolve(projectRoot, "bench/results/latest.json")

export interface BenchOptions {
  readonly quick?: boolean
  /** Also run kspec prove's search of over a million distinct states (the default scope to depth 3, two workers). */
  readonly million?: boolean
  /** Where to write the JSON results (default bench/results/latest.json, or nowhere with `quick`; null: nowhere). */
  readonly out?: string | null
}

const f0 = (n: number): string => Math.round(n).toLocaleString("en-US")
const x1 = (n: number): string => `${n.toFixed(1)}x`

export const runBench = async (log: (s: string) => void, opts: BenchOptions = {}): Promise<number> => {
  const quick = opts.quick === true
  const machine = `${cpus()[0]?.model ?? "unknown cpu"} x${cpus().length}, node ${process.version}`
  log(`kspec bench${quick ? " --quick" : ""} on ${machine}`)
  const results: Record<string, unknown> = { machine, date: new Date().toISOString(), quick }
  let failed = false
  /** Run one section; a section that throws prints its error and the others still run. */
  const section = async <T>(title: string, name: string, run: () => T | Promise<T>, print: (r: T) => void): Promise<void> => {
    log("")
    log(title)
    log("")
    const t0 = performance.now()
    try {
      const r = await run()
      results[name] = r
      print(r)
    } catch (e) {
      failed = true
      results[name] = { error: String(e) }
      log(`(failed: ${e instanceof Error ? e.message.split("\n")[0] : String(e)})`)
    }
    if (!quick) log(`(${((performance.now() - t0) / 1000).toFixed(1)} s)`)
  }

  await section("1. IPC round trip (Call + ReplyRecv, 2 words each way), ns per round trip:", "ipc",
    () => (quick ? runIpcBench(2, 2_000, 100, 3) : runIpcBench()),
    (p) => {
      const x = (ns: number) => x1(ns / p.floorNs)
      log("| contestant | ns/round trip | vs floor |")
      log("|---|---:|---:|")
      log(`| bare-JS floor (copy the words, swap the current thread) | ${p.floorNs.toFixed(1)} | 1.0x |`)
      log(`| the fastpath's work in its cheapest JS (bench/specialised.ts: a bound, not a kernel) | ${p.specialisedNs.toFixed(0)} | ${x(p.specialisedNs)} |`)
      log(`| impl, fastpath | ${p.fastpathNs.toFixed(0)} | ${x(p.fastpathNs)} |`)
      log(`| impl, slow path | ${p.slowpathNs.toFixed(0)} | ${x(p.slowpathNs)} |`)
      log(`| spec | ${p.specNs.toFixed(0)} | ${x(p.specNs)} |`)
    })

  await section("2. Mixed workload (the lockstep generator's default mix: CSpace, threads, IPC, notifications, IRQs, faults, virtual memory), kernel entries only (boots untimed):", "mixed",
    () => (quick ? runCapBench(4, 60, 7, 2) : runCapBench()),
    (c) => {
      log("| layer | entries | ns/entry | entries/s |")
      log("|---|---:|---:|---:|")
      log(`| spec | ${c.entries} | ${f0(c.specNsPerEntry)} | ${f0(1e9 / c.specNsPerEntry)} |`)
      log(`| impl | ${c.entries} | ${f0(c.implNsPerEntry)} | ${f0(1e9 / c.implNsPerEntry)} |`)
      log(`| impl speed-up | | | ${x1(c.ratio)} |`)
    })

  await section("3. Scaling: impl ns per kernel entry of a fixed mix (ping-pong, CNode copy + delete, signals + poll, ReadRegisters, Page_Map + PD flush + Page_Unmap) by live objects:", "scaling",
    () => (quick ? runScalingBench([1e3, 1e4], 500, 3) : runScalingBench()),
    (pts) => {
      log("| live objects | caps | build ms | ns/entry | vs smallest |")
      log("|---:|---:|---:|---:|---:|")
      for (const p of pts) log(`| ${f0(p.objects)} | ${f0(p.caps)} | ${f0(p.buildMs)} | ${p.nsPerEntry.toFixed(0)} | ${x1(p.nsPerEntry / pts[0]!.nsPerEntry)} |`)
      log("")
      log("Not bounded, so not in the mix: revoke (linear in the descendants deleted), Untyped_Retype (linear in num_objects),")
      log("deleting the last cap to a CNode (linear in its slots), resetting an untyped (min(live objects, untyped bytes / 16)).")
      log("All but Untyped_Retype's object creation are preemptible: with an interrupt pending, an entry stops after at most")
      log("workUnitsPerPreemption units of that work (a descendant, a slot, a chunk; a reset's object sweep aside), and restarts.")
    })

  await section("4. Checking throughput: lockstep steps/s (impl step, spec step, relation, all invariants) on the fixed mix, beside the spec alone on the same mix from the same state:", "checking",
    () => (quick ? runCheckingBench([50], 200) : runCheckingBench()),
    (pts) => {
      log("| objects | checking | steps | steps/s | spec alone, entries/s | checked vs spec |")
      log("|---:|---|---:|---:|---:|---:|")
      for (const p of pts) {
        log(`| ${f0(p.objects)} | ${p.fullEvery === 0 ? "everything after every step" : `incremental, full every ${p.period}`} | ${p.steps} | ` +
          `${f0(p.stepsPerSec)} | ${f0(p.specEntriesPerSec)} | ${(p.stepsPerSec / p.specEntriesPerSec).toFixed(2)} |`)
      }
    })

  await section(`5. Fuzz scaling: kspec fuzz --time ${quick ? 2 : fuzzBenchSeconds}s --seed 11 (depth 150), each its own process, steps/s once running:`, "fuzz",
    () => (quick ? runFuzzBench(2, 11, [1], false) : runFuzzBench()),
    (pts) => {
      log("| setup | steps | steps/s | vs 1 worker | steps/s, 2nd half | vs 1 worker | CPU cores busy, 2nd half |")
      log("|---|---:|---:|---:|---:|---:|---:|")
      for (const p of pts) {
        log(`| ${p.setup} | ${f0(p.steps)} | ${f0(p.stepsPerSec)} | ${x1(p.stepsPerSec / pts[0]!.stepsPerSec)} | ` +
          `${f0(p.warmStepsPerSec)} | ${x1(p.warmStepsPerSec / pts[0]!.warmStepsPerSec)} | ${p.warmCores.toFixed(2)} |`)
      }
    })

  await section("6. Hostile input at volume: kspec hostile (kernel entries of random words, refinement and every invariant checked), one process per core:", "hostile",
    () => (quick ? runHostileBench(20_000, 2) : runHostileBench()),
    (h) => {
      log("| processes | events | s | events/s | exceptions, loops, divergences, broken invariants |")
      log("|---:|---:|---:|---:|---:|")
      log(`| ${h.processes} | ${f0(h.events)} | ${(h.ms / 1000).toFixed(0)} | ${f0(h.eventsPerSec)} | ${h.failures} |`)
      if (h.failures > 0) throw new Error(`${h.failures} hostile traces failed: run kspec hostile to see them`)
    })

  await section("7. Bounded exhaustive checking (kspec prove): distinct states per second, symmetry, shards:", "prove",
    () => runProveBench(quick, opts.million === true),
    (p) => {
      const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`
      log("| scope | depth | workers | distinct states | edges | status | wall | distinct/s | distinct/s per core (CPU time) |")
      log("|---|---:|---:|---:|---:|---|---:|---:|---:|")
      for (const r of [...p.rates, ...(p.million === null ? [] : [p.million])]) {
        log(`| ${r.scope} | ${r.depth}${r.exhausted ? " (fixpoint)" : ""} | ${r.workers} | ${f0(r.distinct)} | ${f0(r.generated)} | ${r.status} | ${secs(r.ms)} | ${f0(r.distinctPerSec)} | ${f0(r.distinctPerCpuSec)} |`)
      }
      log("")
      log("| scope | depth | distinct states | with symmetry reduction | saved |")
      log("|---|---:|---:|---:|---:|")
      for (const x of p.symmetry) log(`| ${x.scope} | ${x.depth} | ${f0(x.plain)} | ${f0(x.reduced)} | ${(100 * (1 - x.reduced / x.plain)).toFixed(1)}% |`)
      log("")
      log("| scope | depth | shards | split at depth | states checked, one search | all shards together | lost to cross-shard duplicates | largest shard |")
      log("|---|---:|---:|---:|---:|---:|---:|---:|")
      for (const x of p.sharding) {
        log(`| ${x.scope} | ${x.depth} | ${x.shards} | ${x.splitLevel ?? "-"} | ${f0(x.whole)} | ${f0(x.sum)} | ${(100 * (x.sum / x.whole - 1)).toFixed(1)}% | ${(100 * x.largest).toFixed(0)}% |`)
      }
      if (p.million === null && !quick) log("\n(the run of over a million states: kspec bench --million)")
    })

  const out = opts.out === undefined ? (quick ? null : resultsFile) : opts.out
  if (out !== null) writeFileAtomic(out, `${JSON.stringify(results, null, 1)}\n`)
  return failed ? 1 : 0
}
