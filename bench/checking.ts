/**
 * Benchmarks of the checker: lockstep steps per second (impl step, spec step, abstraction and
 * relation, every spec and impl invariant, the frame check) at states of about 50, 200 and 1,000
 * objects, through the lockstep runner as it stands; and `kspec fuzz` steps per second with 1 and 2
 * workers (a fixed seed and run count, each its own process), beside two 1-worker processes at once.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import type { Event } from "../src/model/index.ts"
import { ObjectType } from "../src/model/index.ts"
import { realImpl } from "../src/proofs-tests/lockstep/impls.ts"
import { describeFailure, runLockstep } from "../src/proofs-tests/lockstep/runner.ts"
import { pingPongSetup } from "../src/proofs-tests/scenarios/pingpong.ts"
import { projectRoot } from "../src/paths.ts"
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
  /** "1 worker", "2 workers", or "2 processes x 1 worker" (the machine's ceiling for this workload). */
  readonly setup: string
  readonly workers: number
  readonly runs: number
  readonly steps: number
  /** Wall time of the whole command, start-up included. */
  readonly ms: number
  /** Steps per second once the first worker is running (kspec fuzz's own figure; summed over processes). */
  readonly stepsPerSec: number
}

interface FuzzReport { readonly steps: number; readonly ms: number; readonly stepsPerSec: number }

const kspecBin = resolve(projectRoot, "bin/kspec.js")

/** Run `kspec fuzz` as a user would (its own process, the bundled CLI) and read its --json report. */
const fuzzProcess = (dir: string, name: string, workers: number, runs: number, seed: number): Promise<FuzzReport> =>
  new Promise((res, rej) => {
    const json = join(dir, `${name}.json`)
    const p = spawn(process.execPath, [kspecBin, "fuzz", "--runs", String(runs), "--seed", String(seed), "--workers", String(workers), "--json", json], {
      stdio: ["ignore", "ignore", "pipe"],
    })
    let err = ""
    p.stderr.on("data", (d: Buffer) => { err += d.toString() })
    p.on("exit", (code) => {
      if (code !== 0) { rej(new Error(`fuzz bench: kspec fuzz exited ${code}: ${err.slice(-400)}`)); return }
      res(JSON.parse(readFileSync(json, "utf8")) as FuzzReport)
    })
  })

/**
 * `kspec fuzz --runs N` with 1 and 2 workers, and, as the machine's ceiling for this workload, two
 * independent 1-worker processes of N/2 runs each at once (no shared process, heap or main thread):
 * two workers cannot beat two separate processes.
 */
export const runFuzzBench = async (runs = 800, seed = 11, workerCounts: readonly number[] = [1, 2], ceiling = true): Promise<FuzzPoint[]> => {
  const dir = mkdtempSync(join(tmpdir(), "kspec-bench-fuzz-"))
  const out: FuzzPoint[] = []
  try {
    for (const workers of workerCounts) {
      const r = await fuzzProcess(dir, `w${workers}`, workers, runs, seed)
      out.push({ setup: `${workers} worker${workers === 1 ? "" : "s"}`, workers, runs, steps: r.steps, ms: r.ms, stepsPerSec: r.stepsPerSec })
    }
    if (ceiling) {
      const t0 = performance.now()
      const [a, b] = await Promise.all([fuzzProcess(dir, "pa", 1, runs / 2, seed), fuzzProcess(dir, "pb", 1, runs / 2, seed + 1)])
      out.push({
        setup: "2 processes x 1 worker", workers: 2, runs, steps: a.steps + b.steps, ms: performance.now() - t0,
        stepsPerSec: a.stepsPerSec + b.stepsPerSec,
      })
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return out
}
