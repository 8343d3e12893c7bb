/**
 * Benchmarks of the checker: lockstep steps per second (impl step, spec step, abstraction and
 * relation, every spec and impl invariant, the frame check) at states of about 50, 200 and 1,000
 * objects, through the lockstep runner as it stands; and `kspec fuzz` steps per second with 1 and 2
 * workers (a fixed seed and run count), with the workers' start-up measured apart.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Event } from "../src/model/index.ts"
import { ObjectType } from "../src/model/index.ts"
import { realImpl } from "../src/proofs-tests/lockstep/impls.ts"
import { describeFailure, runLockstep } from "../src/proofs-tests/lockstep/runner.ts"
import { pingPongSetup } from "../src/proofs-tests/scenarios/pingpong.ts"
import { runFuzz } from "../src/cli/fuzz.ts"
import type { FuzzFlags } from "../src/cli/args.ts"
import { bigBootConfig, bulkEvents, mixedRound, retypeInto } from "./scaling.ts"

export interface CheckingPoint {
  readonly objects: number
  /** Steps between full checks (0: everything checked after every step). */
  readonly fullEvery: number
  readonly steps: number
  readonly stepsPerSec: number
}

/** Objects in the ping-pong state before any bulk objects (boot objects plus the setup's). */
const baseObjects = 12

/** Events that grow the ping-pong state to about `objects` objects: one bulk CNode, then endpoints 256 at a time. */
const bulkTo = (objects: number): Event[] => {
  const extra = Math.max(0, objects - baseObjects - 1)
  const evs = bulkEvents(1).slice(0, 1)
  for (let done = 0; done < extra; done += 256) evs.push(retypeInto(ObjectType.Endpoint, 0, done, Math.min(256, extra - done)))
  return evs
}

/**
 * Lockstep steps per second over the fixed mixed round (IPC, CNode copy/delete, signals, register
 * reads) replayed from a state of about `objects` objects, for about `budgetMs` (at least one round):
 * only the steps after the state-building prefix are timed.
 */
export const runCheckingBench = (sizes: readonly number[] = [50, 200, 1000], budgetMs = 3000, modes: readonly number[] = [0, 32]): CheckingPoint[] =>
  sizes.flatMap((objects) => modes.map((fullEvery) => {
    const prefix = [...pingPongSetup(), ...bulkTo(objects)]
    const round = mixedRound()
    let t0 = 0
    let t1 = 0
    let steps = 0
    const r = runLockstep(realImpl, bigBootConfig, (_s, i) => {
      if (i < prefix.length) return prefix[i]
      const now = performance.now()
      if (i === prefix.length) t0 = now
      steps = i - prefix.length
      t1 = now
      if (steps % round.length === 0 && steps > 0 && now - t0 >= budgetMs) return undefined
      return round[steps % round.length]
    }, { fullEvery })
    if (r.failure !== null) throw new Error(`checking bench: ${describeFailure(r.failure)}`)
    return { objects: r.spec.kheap.size, fullEvery, steps, stepsPerSec: steps / (Math.max(0.001, t1 - t0) / 1000) }
  }))

export interface FuzzPoint {
  readonly workers: number
  readonly runs: number
  readonly steps: number
  /** A campaign of one trace per worker: worker start-up and the first trace. */
  readonly startupMs: number
  /** Steps per second net of start-up: (steps - startup steps) / (time - startup time). */
  readonly stepsPerSec: number
}

const flagsFor = (workers: number, runs: number, seed: number): FuzzFlags => ({
  timeMs: null, runs, focus: [], workers, shard: { index: 0, count: 1 }, seed, json: undefined, stats: undefined,
  minCover: undefined, emitTest: false, mutant: undefined, depth: 150,
})

export const runFuzzBench = async (runs = 200, seed = 11, workerCounts: readonly number[] = [1, 2]): Promise<FuzzPoint[]> => {
  const dir = mkdtempSync(join(tmpdir(), "kspec-bench-fuzz-"))
  const io = { log: () => {}, progress: null }
  const out: FuzzPoint[] = []
  try {
    for (const workers of workerCounts) {
      const small = await runFuzz(flagsFor(workers, workers, seed), io, { regressionsDir: dir, handleSigint: false })
      const big = await runFuzz(flagsFor(workers, runs, seed), io, { regressionsDir: dir, handleSigint: false })
      if (big.failures.length > 0) throw new Error(`fuzz bench: counterexample found: ${big.failures[0]!.description}`)
      out.push({
        workers, runs, steps: big.steps, startupMs: small.ms,
        stepsPerSec: (big.steps - small.steps) / (Math.max(1, big.ms - small.ms) / 1000),
      })
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return out
}
