/** `kspec bench`: run the benchmarks in one process and print (and save) the table. */
import { writeFileSync, mkdirSync } from "node:fs"
import { cpus } from "node:os"
import { dirname, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { runCapBench } from "../../bench/caps.ts"

const resultsFile = resolve(dirname(fileURLToPath(import.meta.url)), "../../bench/results/latest.json")

export const runBench = (log: (s: string) => void): number => {
  const machine = `${cpus()[0]?.model ?? "unknown cpu"} x${cpus().length}, node ${process.version}`
  log(`kspec bench on ${machine}`)
  const c = runCapBench()
  log("")
  log("| workload | entries | spec ns/entry | impl ns/entry | impl speed-up |")
  log("|---|---:|---:|---:|---:|")
  log(`| capability-heavy (retype, copy, mint, move, mutate, rotate, delete, revoke) | ${c.entries} | ${c.specNsPerEntry.toFixed(0)} | ${c.implNsPerEntry.toFixed(0)} | ${c.ratio.toFixed(1)}x |`)
  mkdirSync(dirname(resultsFile), { recursive: true })
  writeFileSync(resultsFile, `${JSON.stringify({ machine, date: new Date().toISOString(), caps: c }, null, 1)}\n`)
  return 0
}
