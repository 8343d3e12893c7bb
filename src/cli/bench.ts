/** `kspec bench`: run the benchmarks in one process and print (and save) the table. */
import { writeFileSync, mkdirSync } from "node:fs"
import { cpus } from "node:os"
import { dirname, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { runCapBench } from "../../bench/caps.ts"
import { runIpcBench } from "../../bench/ipc.ts"

const resultsFile = resolve(dirname(fileURLToPath(import.meta.url)), "../../bench/results/latest.json")

export const runBench = (log: (s: string) => void): number => {
  const machine = `${cpus()[0]?.model ?? "unknown cpu"} x${cpus().length}, node ${process.version}`
  log(`kspec bench on ${machine}`)
  const c = runCapBench()
  log("")
  log("| workload | entries | spec ns/entry | impl ns/entry | impl speed-up |")
  log("|---|---:|---:|---:|---:|")
  log(`| mixed: the lockstep generator's default mix (CSpace, threads, IPC, notifications, IRQs, faults) | ${c.entries} | ${c.specNsPerEntry.toFixed(0)} | ${c.implNsPerEntry.toFixed(0)} | ${c.ratio.toFixed(1)}x |`)
  const p = runIpcBench()
  const x = (ns: number) => `${(ns / p.floorNs).toFixed(1)}x`
  log("")
  log(`IPC ping-pong (Call + ReplyRecv, ${p.length} words each way), ns per round trip:`)
  log("")
  log("| contestant | ns/round trip | vs floor |")
  log("|---|---:|---:|")
  log(`| bare-JS floor (copy the words, swap the current thread) | ${p.floorNs.toFixed(1)} | 1.0x |`)
  log(`| impl, fastpath | ${p.fastpathNs.toFixed(0)} | ${x(p.fastpathNs)} |`)
  log(`| impl, slow path | ${p.slowpathNs.toFixed(0)} | ${x(p.slowpathNs)} |`)
  log(`| spec | ${p.specNs.toFixed(0)} | ${x(p.specNs)} |`)
  mkdirSync(dirname(resultsFile), { recursive: true })
  writeFileSync(resultsFile, `${JSON.stringify({ machine, date: new Date().toISOString(), caps: c, ipc: p }, null, 1)}\n`)
  return 0
}
