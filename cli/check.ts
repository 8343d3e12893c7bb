/**
 * `kspec check`: the lockstep refinement campaign on a boot configuration (the built-in one, then
 * a fastpath phase and a domains phase; or `--config FILE`). Prints the seed, the steps checked,
 * a table of invocation x outcome counts and, on failure, the minimal trace, the first diverging
 * state diff, the file it was saved to (with the boot configuration, so a replay reproduces it)
 * and the commands that replay it.
 */
import fc from "fast-check"
import { join, relative, resolve } from "node:path"
import type { BootConfig, Event } from "../model/index.ts"
import { defaultBootConfig, errorNames } from "../model/index.ts"
import { runCampaign } from "../harness/lockstep/campaign.ts"
import type { CampaignReport } from "../harness/lockstep/campaign.ts"
import { realImpl } from "../harness/lockstep/impls.ts"
import type { ImplUnderTest } from "../harness/lockstep/runner.ts"
import { defaultDeadlineMs, describeFailure, runEvents } from "../harness/lockstep/runner.ts"
import { domainsBootConfig } from "../harness/configs.ts"
import { pingPongRound, pingPongSetup } from "../harness/scenarios/pingpong.ts"
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

/** A counterexample of any phase: the boot configuration, the events (from boot), how it was shrunk, what failed. */
interface Found {
  readonly config: BootConfig
  readonly events: readonly Event[]
  readonly shrinks: number
  readonly description: string
}

/**
 * The fastpath phase: ping-pong traces (a client Calls and a server ReplyRecvs on one endpoint,
 * the fastpath's preconditions knocked out now and then: long messages, extra caps, caps without
 * Grant, other priorities, ticks), run in lockstep with every invariant. Random choices rarely
 * line up everything the fastpath needs (a receiver waiting, a short message, a granting cap, a
 * valid VSpace, the priority order), so the main job aims a share of its traces at it, as the
 * suite does. One trace in five of the campaign's, on the default configuration only (the set-up
 * is built for it). Shrunk by fast-check; the set-up is kept whole.
 */
const runFastpathPhase = <K>(impl: ImplUnderTest<K>, config: BootConfig, seed: number, runs: number): { traces: number; steps: number; found: Found | null } => {
  const setup = pingPongSetup()
  let traces = 0
  let steps = 0
  let shrinking = false
  const details = fc.check(fc.property(fc.array(pingPongRound, { minLength: 1, maxLength: 40 }).map((rs) => rs.flat()), (events) => {
    const r = runEvents(impl, config, [...setup, ...events], { invariants: true, deadlineMs: defaultDeadlineMs })
    if (!shrinking) { traces++; steps += r.events.length }
    if (r.failure !== null) shrinking = true
    return r.failure === null
  }), { seed, numRuns: runs })
  if (!details.failed || details.counterexample === null) return { traces, steps, found: null }
  const r = runEvents(impl, config, [...setup, ...details.counterexample[0]], { invariants: true, deadlineMs: defaultDeadlineMs })
  return { traces, steps, found: r.failure === null ? null : { config, events: r.events, shrinks: details.numShrinks, description: describeFailure(r.failure) } }
}

/**
 * The domains phase: the campaign again, one trace in five of its number, on three scheduling
 * domains under a static schedule (harness/configs.ts `domainsBootConfig`). The default
 * configuration has one domain, as seL4's default build does, so its traces never run out a
 * domain's time, switch domains or move a thread to another; the domain schedule's bugs (and the
 * scheduler's, where a thread of another domain is ready) show only on several. On the default
 * configuration only: a `--config` file names its own domains.
 */
const runDomainsPhase = <K>(impl: ImplUnderTest<K>, seed: number, runs: number, depth: number): { report: CampaignReport; found: Found | null } => {
  const report = runCampaign(impl, { config: domainsBootConfig, seed, runs, depth })
  return { report, found: report.failure === null ? null : { ...report.failure, config: domainsBootConfig } }
}

/**
 * Run the campaign, then (on the default configuration) the fastpath and domains phases; returns the exit code
 * (0 clean, 1 counterexample). A bad --config file throws a ConfigFileError before anything runs;
 * counterexamples go to `dir` (default proofs-tests/regressions). `impl` is for self-tests (a mutant).
 */
export const runCheck = <K = unknown>(flags: CheckFlags, log: (s: string) => void, dir = regressionsDir, impl: ImplUnderTest<K> = realImpl as unknown as ImplUnderTest<K>): number => {
  const seed = flags.seed ?? (Date.now() % 2 ** 31)
  const config = flags.config === undefined ? defaultBootConfig : loadBootConfigFile(flags.config)
  const withConfig = flags.config === undefined ? "" : ` --config ${flags.config}`
  log(`kspec check: seed=${seed} runs=${flags.runs} depth=${flags.depth}${flags.config === undefined ? "" : ` config=${flags.config}`}`)
  const r = runCampaign(impl, { config, seed, runs: flags.runs, depth: flags.depth })
  printReport(r, log)
  let f: Found | null = r.failure === null ? null : { ...r.failure, config }
  const phaseRuns = Math.max(1, Math.ceil(flags.runs / 5))
  if (f === null && flags.config === undefined) {
    const p = runFastpathPhase(impl, config, seed, phaseRuns)
    log("")
    log(`fastpath phase: ${p.traces} ping-pong traces, ${p.steps} steps checked`)
    f = p.found
  }
  if (f === null && flags.config === undefined) {
    const d = runDomainsPhase(impl, seed, phaseRuns, flags.depth)
    log("")
    log(`domains phase: ${d.report.runs} traces on three domains, ${d.report.steps} steps checked`)
    f = d.found
  }
  if (f === null) {
    log("")
    log("no counterexample: the impl refined the spec and every invariant held after every step")
    return 0
  }
  log("")
  log(`COUNTEREXAMPLE after ${f.shrinks} shrinks: ${f.events.length} events`)
  renderTrace(f.config, f.events).forEach((line) => log(line))
  log("")
  log(f.description)
  const file = join(dir, `check-seed${seed}.json`)
  saveTraceFile(file, { config: f.config, events: f.events, seed, note: f.description.split("\n")[0] ?? "" })
  log("")
  log(`saved: ${relative(process.cwd(), file)}`)
  log(`replay: kspec replay ${relative(process.cwd(), file)}`)
  log(`rerun the campaign: kspec check --seed ${seed} --runs ${flags.runs} --depth ${flags.depth}${withConfig}`)
  return 1
}
