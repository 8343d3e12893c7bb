/**
 * Hostile input at volume: `kspec hostile` as a user runs it, one process per core, each a
 * different seed, until the events add up (10^7 for the full bench): kernel entries of random
 * words through both layers with refinement and every invariant checked. The figure is events/s;
 * a run is valid only with zero exceptions, loops, divergences and broken invariants.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { projectRoot } from "../harness/paths.ts"

export interface HostileBench {
  readonly processes: number
  readonly events: number
  readonly ms: number
  readonly eventsPerSec: number
  readonly failures: number
}

const kspecBin = resolve(projectRoot, "bin/kspec.js")

const hostileProcess = (json: string, events: number, seed: number): Promise<{ events: number; failures: number }> =>
  new Promise((res, rej) => {
    const p = spawn(process.execPath, [kspecBin, "hostile", "--events", String(events), "--seed", String(seed), "--json", json], { stdio: ["ignore", "ignore", "pipe"] })
    let err = ""
    p.stderr.on("data", (d: Buffer) => { err += d.toString() })
    p.on("exit", (code) => {
      if (code !== 0 && code !== 1) { rej(new Error(`hostile bench: kspec hostile exited ${code}: ${err.slice(-400)}`)); return }
      const r = JSON.parse(readFileSync(json, "utf8")) as { events: number; failures: readonly unknown[] }
      res({ events: r.events, failures: r.failures.length })
    })
  })

/** `events` hostile entries split over `processes` processes run at once. */
export const runHostileBench = async (events = 10_000_000, processes = 2, seed = 1): Promise<HostileBench> => {
  const dir = mkdtempSync(join(tmpdir(), "kspec-bench-hostile-"))
  try {
    const t0 = performance.now()
    const per = Math.ceil(events / processes)
    const rs = await Promise.all(Array.from({ length: processes }, (_, i) => hostileProcess(join(dir, `p${i}.json`), per, seed + i)))
    const ms = performance.now() - t0
    const total = rs.reduce((a, r) => a + r.events, 0)
    return { processes, events: total, ms, eventsPerSec: total / (ms / 1000), failures: rs.reduce((a, r) => a + r.failures, 0) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
