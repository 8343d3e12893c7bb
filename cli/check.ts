/**
 * `kspec check`: the lockstep refinement campaign on the default boot configuration. Prints the
 * seed, the steps checked, a table of invocation x outcome counts and, on failure, the minimal
 * trace, the first diverging state diff, the file it was saved to and the command that replays it.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import type { BootConfig, Event } from "../model/index.ts"
import { defaultBootConfig, errorNames, traceFormatVersion } from "../model/index.ts"
import { runCampaign } from "../harness/lockstep/campaign.ts"
import type { CampaignReport } from "../harness/lockstep/campaign.ts"
import { realImpl } from "../harness/lockstep/impls.ts"
import { renderTrace } from "./render.ts"
import type { CheckFlags } from "./args.ts"
import { projectRoot } from "../harness/paths.ts"

export const regressionsDir = resolve(projectRoot, "proofs-tests/regressions")

/** Save a trace file atomically (write a temporary file, then rename). */
export const saveTrace = (file: string, config: BootConfig, events: readonly Event[], seed: number, note: string): void => {
  mkdirSync(dirname(file), { recursive: true })
  const tmp = `${file}.tmp-${process.pid}`
  writeFileSync(tmp, `${JSON.stringify({ kspec: "trace", version: traceFormatVersion, config, events, seed, note }, null, 1)}\n`)
  renameSync(tmp, file)
}

/** The invocation x outcome table: one row per invocation, one column per result seen. */
export const outcomeTable = (cells: ReadonlyMap<string, number>): string => {
  const rows = new Map<string, Map<string, number>>()
  const cols = new Set<string>()
  for (const [k, n] of cells) {
    const [inv, res] = k.split("|") as [string, string]
    cols.add(res)
    rows.set(inv, (rows.get(inv) ?? new Map()).set(res, n))
  }
  const order = ["Success", ...errorNames, "CapFault", "Idle"]
  const colList = [...cols].sort((a, b) => order.indexOf(a) - order.indexOf(b))
  const short = (c: string) => c.replace("IllegalOperation", "IllegalOp").replace("TruncatedMessage", "Truncated").replace("InvalidArgument", "InvalidArg").replace("InvalidCapability", "InvalidCap").replace("NotEnoughMemory", "NoMemory")
  const w0 = Math.max(10, ...[...rows.keys()].map((r) => r.length))
  const widths = colList.map((c) => Math.max(6, short(c).length))
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(w0) : c.padStart(widths[i - 1]!))).join("  ")
  const out = [line(["invocation", ...colList.map(short)])]
  for (const inv of [...rows.keys()].sort()) {
    out.push(line([inv, ...colList.map((c) => String(rows.get(inv)!.get(c) ?? "."))]))
  }
  return out.join("\n")
}

export const printReport = (r: CampaignReport, log: (s: string) => void): void => {
  const okSteps = [...r.cells].filter(([k]) => k.endsWith("|Success")).reduce((a, [, n]) => a + n, 0)
  log(`checked ${r.steps} steps in ${r.runs} traces in ${(r.ms / 1000).toFixed(1)} s (${Math.round(r.steps / (r.ms / 1000))} steps/s); ${(100 * okSteps / Math.max(1, r.steps)).toFixed(1)}% of steps succeeded`)
  log("")
  log(outcomeTable(r.cells))
}

export const runCheck = (flags: CheckFlags, log: (s: string) => void): number => {
  const seed = flags.seed ?? (Date.now() % 2 ** 31)
  const config = defaultBootConfig
  log(`kspec check: seed=${seed} runs=${flags.runs} depth=${flags.depth}`)
  const r = runCampaign(realImpl, { config, seed, runs: flags.runs, depth: flags.depth })
  printReport(r, log)
  if (r.failure === null) {
    log("")
    log("no counterexample: the impl refined the spec and every invariant held after every step")
    return 0
  }
  const f = r.failure
  log("")
  log(`COUNTEREXAMPLE after ${f.shrinks} shrinks: ${f.events.length} events`)
  renderTrace(config, f.events).forEach((line) => log(line))
  log("")
  log(f.description)
  const file = join(regressionsDir, `check-seed${seed}.json`)
  saveTrace(file, config, f.events, seed, f.description.split("\n")[0] ?? "")
  log("")
  log(`saved: ${relative(process.cwd(), file)}`)
  log(`replay: kspec check --seed ${seed} --runs ${flags.runs} --depth ${flags.depth}`)
  return 1
}
