/**
 * Benchmarks of the checker: lockstep steps per second (impl step, spec step, abstraction and
 * relation, every spec and impl invariant, the frame check) at states of about 50, 100, 200 and
 * 1,000 objects, through the lockstep runner as it stands; and `kspec fuzz` steps per second with
 * 1 and 2 workers (20 s campaigns, each its own process), beside two 1-worker processes at once.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import type { Event } from "../model/index.ts"
import { ObjectType } from "../model/index.ts"
import { Kernel } from "../impl/index.ts"
import { boot, stepWithOutcome } from "../spec/index.ts"
import { realImpl } from "../harness/lockstep/impls.ts"
import { defaultFullEvery, describeFailure, fullPeriod, runLockstep } from "../harness/lockstep/runner.ts"
import { pingPongSetup } from "../harness/scenarios/pingpong.ts"
import { projectRoot } from "../harness/paths.ts"
import { bigBootConfig, bulkEvents, mixedRound, retypeInto } from "../harness/scenarios/bulk.ts"

export interface CheckingPoint {
  readonly objects: number
  /** Steps between full checks asked for (0: everything checked after every step). */
  readonly fullEvery: number
  /** Steps between full checks at this size (`fullPeriod`: more than `fullEvery` in a large state). */
  readonly period: number
  readonly steps: number
  readonly stepsPerSec: number
  /** The spec alone on the same mix from the same state (its kernel entries per second), for the checked-to-spec ratio. */
  readonly specEntriesPerSec: number
}

/** Objects in the ping-pong state before any bulk objects (boot objects plus the setup's). */
const baseObjects = (() => {
  const k = Kernel.boot(bigBootConfig)
  for (const e of pingPongSetup()) k.step(e)
  return k.objects.size
})()

/** Events that grow the ping-pong state to about `objects` objects: the mapped frame, one bulk CNode, then endpoints 256 at a time. */
const bulkTo = (objects: number): Event[] => {
  const extra = Math.max(0, objects - baseObjects - 2)
  const evs = bulkEvents(1).slice(0, 2)
  for (let done = 0; done < extra; done += 256) evs.push(retypeInto(ObjectType.Endpoint, 0, done, Math.min(256, extra - done)))
  return evs
}

/**
 * Lockstep steps per second over the fixed mixed round (IPC, CNode copy/delete, signals, register
 * reads, a frame mapped, flushed and unmapped) replayed from a state of about `objects` objects,
 * for about `budgetMs` of lockstep time (whole rounds): only the steps after the state-building
 * prefix are timed. Beside it, the spec alone steps the same round from the same state, one round
 * after each lockstep round, timed apart: the two rates are taken over the same seconds, so a
 * machine that speeds up or slows down during the run moves both alike, and their ratio holds.
 */
export const runCheckingBench = (sizes: readonly number[] = [50, 100, 200, 1000], budgetMs = 3000, modes: readonly number[] = [0, defaultFullEvery]): CheckingPoint[] =>
  sizes.flatMap((objects) => modes.map((fullEvery) => {
    const prefix = [...pingPongSetup(), ...bulkTo(objects)]
    const round = mixedRound()
    let alone = boot(bigBootConfig)
    for (const e of prefix) alone = stepWithOutcome(alone, e).state
    let lockMs = 0
    let specMs = 0
    let specEntries = 0
    let mark = 0
    let steps = 0
    const r = runLockstep(realImpl, bigBootConfig, (_s, i) => {
      if (i < prefix.length) return prefix[i]
      steps = i - prefix.length
      if (steps % round.length === 0) {
        if (steps > 0) {
          lockMs += performance.now() - mark
          // One round of the spec alone, outside the lockstep's time.
          const t = performance.now()
          for (const e of round) alone = stepWithOutcome(alone, e).state
          specMs += performance.now() - t
          specEntries += round.length
          if (lockMs >= budgetMs) return undefined
        }
        mark = performance.now()
      }
      return round[steps % round.length]
    }, { fullEvery })
    if (r.failure !== null) throw new Error(`checking bench: ${describeFailure(r.failure)}`)
    const period = fullEvery === 0 ? 0 : fullPeriod(fullEvery, r.spec)
    return {
      objects: r.spec.kheap.size, fullEvery, period, steps, stepsPerSec: steps / (Math.max(0.001, lockMs) / 1000),
      specEntriesPerSec: specEntries / (Math.max(0.001, specMs) / 1000),
    }
  }))

export interface FuzzPoint {
  /** "1 worker", "2 workers", or "2 processes x 1 worker" (the machine's ceiling for this workload). */
  readonly setup: string
  readonly workers: number
  /** The campaign's length (`--time`), in seconds. */
  readonly seconds: number
  readonly steps: number
  /** Steps per second over the whole campaign once the first worker is running (kspec fuzz's own figure; summed over processes). */
  readonly stepsPerSec: number
  /** Steps per second over the campaign's second half, when V8 has compiled the hot code (summed over processes). */
  readonly warmStepsPerSec: number
  /**
   * CPU cores the campaign kept busy over its second half (CPU seconds on every thread over wall
   * seconds, summed over processes): a worker's thread, and V8's compiler and collector threads.
   */
  readonly warmCores: number
}

interface FuzzRun { readonly steps: number; readonly stepsPerSec: number; readonly warmStepsPerSec: number; readonly warmCores: number }

const kspecBin = resolve(projectRoot, "bin/kspec.js")

/**
 * Run `kspec fuzz --time` as a user would (its own process, the bundled CLI) and read its --json
 * report and --stats lines (cumulative steps every 2 s) for the rate over the second half.
 */
const fuzzProcess = (dir: string, name: string, workers: number, seconds: number, seed: number): Promise<FuzzRun> =>
  new Promise((res, rej) => {
    const json = join(dir, `${name}.json`)
    const stats = join(dir, `${name}.jsonl`)
    const args = [kspecBin, "fuzz", "--time", `${seconds}s`, "--seed", String(seed), "--workers", String(workers), "--json", json, "--stats", stats]
    const p = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] })
    let err = ""
    p.stderr.on("data", (d: Buffer) => { err += d.toString() })
    p.on("exit", (code) => {
      if (code !== 0) { rej(new Error(`fuzz bench: kspec fuzz exited ${code}: ${err.slice(-400)}`)); return }
      const report = JSON.parse(readFileSync(json, "utf8")) as { steps: number; stepsPerSec: number }
      const lines = readFileSync(stats, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { t: number; steps: number; cpuSeconds: number })
      const last = lines[lines.length - 1]!
      const mid = lines.find((l) => l.t >= last.t / 2) ?? lines[0]!
      const warm = last.t > mid.t ? (last.steps - mid.steps) / (last.t - mid.t) : report.stepsPerSec
      const warmCores = last.t > mid.t ? (last.cpuSeconds - mid.cpuSeconds) / (last.t - mid.t) : last.cpuSeconds / Math.max(0.01, last.t)
      res({ steps: report.steps, stepsPerSec: report.stepsPerSec, warmStepsPerSec: warm, warmCores })
    })
  })

/**
 * The fuzz bench's campaign length. A worker compiles the campaign's code for its first tens of
 * seconds (V8's optimising compiler on background threads; two workers on two cores compile both
 * copies on the cores they run on, so they warm up more slowly): two workers' rate was still rising
 * at 40 s and held from there to 100 s, so the second half of 90 s is the campaign once compiled.
 */
export const fuzzBenchSeconds = 90

/**
 * `kspec fuzz --time` with 1 and 2 workers, and, as the machine's ceiling for this workload, two
 * independent 1-worker processes at once (no shared process, heap or main thread): two workers
 * cannot beat two separate processes.
 */
export const runFuzzBench = async (seconds = fuzzBenchSeconds, seed = 11, workerCounts: readonly number[] = [1, 2], ceiling = true): Promise<FuzzPoint[]> => {
  const dir = mkdtempSync(join(tmpdir(), "kspec-bench-fuzz-"))
  const out: FuzzPoint[] = []
  try {
    for (const workers of workerCounts) {
      const r = await fuzzProcess(dir, `w${workers}`, workers, seconds, seed)
      out.push({ setup: `${workers} worker${workers === 1 ? "" : "s"}`, workers, seconds, ...r })
    }
    if (ceiling) {
      const [a, b] = await Promise.all([fuzzProcess(dir, "pa", 1, seconds, seed), fuzzProcess(dir, "pb", 1, seconds, seed + 1)])
      out.push({
        setup: "2 processes x 1 worker", workers: 2, seconds, steps: a.steps + b.steps,
        stepsPerSec: a.stepsPerSec + b.stepsPerSec, warmStepsPerSec: a.warmStepsPerSec + b.warmStepsPerSec, warmCores: a.warmCores + b.warmCores,
      })
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return out
}
