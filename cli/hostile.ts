/**
 * `kspec hostile`: drive both layers with kernel entries of random words (any syscall, cap
 * pointer, message info, message words, extra caps and receive slot; interrupts on any line; user
 * faults with any words), in traces from a fresh boot, checking refinement and every invariant
 * (incrementally, in full every `defaultFullEvery` steps and at each trace's end) under the watchdog. seL4 handles
 * every such entry; a throw, a loop, a divergence or a broken invariant is a counterexample, saved
 * as a trace file for `kspec replay`. The stream is a plain PRNG from the seed: the same seed and
 * count draw the same events.
 */
import { join, relative } from "node:path"
import { defaultBootConfig } from "../model/index.ts"
import { runHostile } from "../harness/gen/hostile.ts"
import { realImpl } from "../harness/lockstep/impls.ts"
import type { ImplUnderTest } from "../harness/lockstep/runner.ts"
import { defaultFullEvery } from "../harness/lockstep/runner.ts"
import { writeFileAtomic } from "../harness/files.ts"
import { loadBootConfigFile, saveTraceFile } from "../harness/trace.ts"
import type { CommandIO } from "./command.ts"
import { regressionsDir } from "./check.ts"

export interface HostileFlags {
  readonly events: number
  readonly seed: number | undefined
  readonly traceLength: number
  readonly config: string | undefined
  readonly json: string | undefined
}

export const runHostileCommand = <K>(flags: HostileFlags, io: CommandIO, dir = regressionsDir, impl: ImplUnderTest<K> = realImpl as unknown as ImplUnderTest<K>): number => {
  const seed = flags.seed ?? (Date.now() % 2 ** 31)
  const config = flags.config === undefined ? defaultBootConfig : loadBootConfigFile(flags.config)
  io.log(`kspec hostile: seed=${seed} events=${flags.events} trace length=${flags.traceLength}`)
  let shown = 0
  const r = runHostile(impl, config, {
    seed, events: flags.events, traceLength: flags.traceLength, fullEvery: defaultFullEvery,
    onTrace: (done) => { if (done - shown >= 1_000_000) { shown = done; io.log(`  ${done.toLocaleString("en-US")} events`) } },
  })
  const rate = Math.round(r.events / (r.ms / 1000))
  io.log(`${r.events.toLocaleString("en-US")} hostile events in ${r.traces} traces, ${(r.ms / 1000).toFixed(1)} s (${rate.toLocaleString("en-US")} events/s): ${r.failures.length} failure${r.failures.length === 1 ? "" : "s"}`)
  if (flags.json !== undefined) {
    writeFileAtomic(flags.json, `${JSON.stringify({ seed, events: r.events, traces: r.traces, ms: r.ms, eventsPerSecond: rate, failures: r.failures.map((f) => ({ trace: f.trace, description: f.description })) })}\n`)
  }
  if (r.failures.length === 0) {
    io.log("no exception, no loop, no divergence, no broken invariant")
    return 0
  }
  for (const f of r.failures.slice(0, 5)) {
    const file = join(dir, `hostile-seed${seed}-trace${f.trace}.json`)
    saveTraceFile(file, { config, events: f.events, seed, note: f.description.split("\n")[0] ?? "" })
    io.log("")
    io.log(`trace ${f.trace}: ${f.description}`)
    io.log(`saved: ${relative(process.cwd(), file)}`)
    io.log(`replay: kspec replay ${relative(process.cwd(), file)}`)
  }
  io.log(`rerun: kspec hostile --seed ${seed} --events ${flags.events} --trace-length ${flags.traceLength}${flags.config === undefined ? "" : ` --config ${flags.config}`}`)
  return 1
}
