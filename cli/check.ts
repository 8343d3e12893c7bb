/**
 * `kspec check`: the lockstep refinement campaign on a boot configuration (the built-in one, or
 * `--config FILE`). Prints the seed, the steps checked, a table of invocation x outcome counts
 * and, on failure, the minimal trace, the first diverging state diff, the file it was saved to
 * (with the boot configuration, so a replay reproduces it) and the commands that replay it.
 */
import { join, relative, resolve } from "node:path"
import { defaultBootConfig, errorNames } from "../model/index.ts"
import { runCampaign } from "../harness/lockstep/campaign.ts"
import type { CampaignReport } from "../harness/lockstep/campaign.ts"
import { realImpl } from "../harness/lockstep/impls.ts"
import { loadBootConfigFile, saveTraceFile } from "../harness/trace.ts"
import { renderTrace } from "./render.ts"
import { projectRoot } from "../harness/paths.ts"

/** Where counterexamples are saved, and replayed forever by the suite. */
export const regressionsDir = resolve(projectRoot, "proofs-tests/regressions")

/** The flags of `kspec check`, decoded (cli/commands.ts). */
export interface CheckFlags {
  readonly seed: number | undefined
  readonly runs: number
  readonly depth: number
  /** A boot-configuration file (default: the built-in configuration). */
  readonly config?: string | undefined
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

/**
 * Run the campaign; returns the exit code (0 clean, 1 counterexample). A bad --config file throws
 * a ConfigFileError before anything runs; counterexamples go to `dir` (default proofs-tests/regressions).
 */
export const runCheck = (flags: CheckFlags, log: (s: string) => void, dir = regressionsDir): number => {
  const seed = flags.seed ?? (Date.now() % 2 ** 31)
  const config = flags.config === undefined ? defaultBootConfig : loadBootConfigFile(flags.config)
  const withConfig = flags.config === undefined ? "" : ` --config ${flags.config}`
  log(`kspec check: seed=${seed} runs=${flags.runs} depth=${flags.depth}${flags.config === undefined ? "" : ` config=${flags.config}`}`)
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
  const file = join(dir, `check-seed${seed}.json`)
  saveTraceFile(file, { config, events: f.events, seed, note: f.description.split("\n")[0] ?? "" })
  log("")
  log(`saved: ${relative(process.cwd(), file)}`)
  log(`replay: kspec replay ${relative(process.cwd(), file)}`)
  log(`rerun the campaign: kspec check --seed ${seed} --runs ${flags.runs} --depth ${flags.depth}${withConfig}`)
  return 1
}
