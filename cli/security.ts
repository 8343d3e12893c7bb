/**
 * `kspec security`: l4v's three security properties (pas_refined, integrity, nonleakage) checked
 * after every step of random traces on labelled systems, on the spec and on the abstraction of the
 * impl: the three built-in systems and N random ones, or one system file (`--system`). Prints one
 * line per system (traces, steps, the steps each check ran on spec and impl, violations), the first
 * violation shrunk, and the command that reruns it; `--html` writes the page of policy and
 * authority graphs (cli/securityPage.ts).
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import fc from "fast-check"
import type { ImplUnderTest } from "../harness/lockstep/runner.ts"
import { realImpl } from "../harness/lockstep/impls.ts"
import { writeFileAtomic } from "../harness/files.ts"
import type { SecurityReport, SecurityStats } from "../harness/security/campaign.ts"
import { addStats, describeSecurityFailure, newStats, runSecurityCampaign } from "../harness/security/campaign.ts"
import { randomSystemArb } from "../harness/security/random.ts"
import type { LabelledSystem, SystemFile } from "../harness/security/system.ts"
import { buildSystem, builtinSystems, loadSystem, loadSystemFile, systemsDir } from "../harness/security/system.ts"
import { loadMutant } from "../proofs-tests/mutants/build.ts"
import { mutants } from "../proofs-tests/mutants/mutants.ts"
import type { CommandIO } from "./command.ts"
import type { PageSection } from "./securityPage.ts"
import { securityPage } from "./securityPage.ts"
import { showEvent } from "./show.ts"

export interface SecurityFlags {
  readonly seed: number | undefined
  readonly runs: number
  readonly depth: number
  readonly random: number
  readonly system: string | undefined
  readonly html: string | undefined
  readonly mutant: string | undefined
  /** Repeat rounds (seed, seed + 1, ...: the built-ins and fresh random systems) for this many ms. */
  readonly time: number | undefined
}

/** The security mutants (`--mutant`): each a bug made in the spec and the impl alike. */
export const securityMutantNames = mutants.filter((m) => m.securityCheck !== undefined).map((m) => m.name)

/** l4v's assumptions kspec adopts (docs/security.md says why), for the summary and the page. */
export const securityAssumptions: readonly string[] = [
  "a static domain schedule, one label per domain (pas_domains_distinct; nonleakage is skipped for a system without it)",
  "no DomainCap, IRQControl or IRQHandler cap held by a partition, IRQ states fixed (domain_sep_inv)",
  "the root task builds the system and suspends itself before the checks start (l4v's initial states have no root task)",
  "the policy is well formed for every partition (policy_wellformed), checked when a system is loaded",
]

/** One system to check: built, with where it came from (for the rerun line). */
interface Target {
  readonly sys: LabelledSystem
  /** The system file to rerun with (`--system`), or null for a built-in found by name. */
  readonly file: string | null
  /** A random system's file contents, saved only if it fails. */
  readonly randomFile?: SystemFile
  readonly focus?: readonly string[]
}

const pad = (s: string | number, n: number) => String(s).padEnd(n)
const us = (ms: number, n: number) => (n === 0 ? "-" : `${Math.round((1000 * ms) / n)}`)

/** One line per system: traces, steps, each check's steps on spec/impl (nonleakage: its pairs), the result. */
const systemLine = (name: string, r: SecurityReport): string => {
  const c = r.stats.checks
  const check = (k: "pas_refined" | "integrity") => `${c[k].steps}/${c[k].implSteps}`
  const leak = c.nonleakage.steps === 0 ? "skipped" : `${c.nonleakage.steps}/${c.nonleakage.implSteps} (${c.nonleakage.pairs}/${c.nonleakage.implPairs} pairs)`
  const result = r.failure === null ? "0 violations" : `1 violation: ${r.failure.check}${"layer" in r.failure ? ` (${r.failure.layer})` : ""} at step ${r.failure.step}`
  return `${pad(name, 28)} ${pad(r.stats.traces, 7)} ${pad(r.stats.steps, 7)} ${pad(check("pas_refined"), 13)} ${pad(check("integrity"), 13)} ${pad(leak, 30)} ${result}`
}

export const runSecurityCommand = async (flags: SecurityFlags, io: CommandIO): Promise<number> => {
  const seed = flags.seed ?? (Date.now() % 2 ** 31)
  const mutant = flags.mutant === undefined ? undefined : mutants.find((m) => m.name === flags.mutant)
  const impl: ImplUnderTest<unknown> = mutant === undefined ? (realImpl as unknown as ImplUnderTest<unknown>) : ((await loadMutant(mutant)) as unknown as ImplUnderTest<unknown>)
  // The systems of round r (seed + r): the given file; else a mutant's aim (its systems, aimed as
  // its self-test aims); else the built-ins and N random ones drawn from the round's seed.
  const targetsOf = (roundSeed: number): Target[] => {
    const targets: Target[] = []
    if (flags.system !== undefined) targets.push({ sys: loadSystemFile(flags.system), file: flags.system })
    else if (mutant?.aim !== undefined) for (const a of mutant.aim) targets.push({ sys: loadSystem(a.system), file: null, ...(a.focus !== undefined ? { focus: a.focus } : {}) })
    else {
      for (const name of builtinSystems) targets.push({ sys: loadSystem(name), file: null })
      const files = flags.random === 0 ? [] : fc.sample(randomSystemArb, { numRuns: flags.random, seed: roundSeed })
      files.forEach((f, i) => {
        const named: SystemFile = { ...f, name: `r${i + 1}-${f.name}`.slice(0, 32) }
        targets.push({ sys: buildSystem(named), file: null, randomFile: named })
      })
    }
    return targets
  }
  const first = targetsOf(seed)
  io.log(`kspec security: seed=${seed} runs=${flags.runs} depth=${flags.depth}${flags.system === undefined && mutant === undefined ? ` random=${flags.random}` : ""}` +
    `${flags.time !== undefined ? ` time=${Math.round(flags.time / 1000)}s (rounds of seed, seed+1, ...)` : ""}${mutant !== undefined ? ` mutant=${mutant.name}` : ""}`)
  io.log(`checks after every step, on the spec and on the impl's abstraction: pas_refined (authority confinement), integrity, nonleakage (by unwinding)`)
  io.log("")
  io.log(`${pad("system", 28)} ${pad("traces", 7)} ${pad("steps", 7)} ${pad("pas_refined", 13)} ${pad("integrity", 13)} ${pad("nonleakage", 30)} result`)
  io.log(`${pad("", 28)} ${pad("", 7)} ${pad("", 7)} ${pad("spec/impl", 13)} ${pad("spec/impl", 13)} ${pad("spec/impl (pairs spec/impl)", 30)}`)
  const total: SecurityStats = newStats()
  const sections: PageSection[] = []
  const failures: { target: Target; report: SecurityReport; seed: number }[] = []
  const t0 = performance.now()
  const deadline = flags.time === undefined ? Infinity : t0 + flags.time
  /** With --time: each system's counts over the rounds (random systems together), printed at the end. */
  const rounds = new Map<string, { stats: SecurityStats; report: SecurityReport; systems: number }>()
  let round = 0
  for (let targets = first; ; targets = targetsOf(seed + round)) {
    const roundSeed = seed + round
    for (const t of targets) {
      const left = deadline - performance.now()
      if (left <= 0) break
      const stats = newStats()
      const runs = t.randomFile !== undefined ? Math.max(1, Math.ceil(flags.runs / 2)) : flags.runs
      const report = runSecurityCampaign(t.sys, {
        seed: roundSeed, runs, depth: flags.depth, stats, shrinkLimitMs: 20_000,
        ...(Number.isFinite(left) ? { timeLimitMs: Math.max(1, Math.round(left)) } : {}), ...(t.focus !== undefined ? { focus: t.focus } : {}),
      }, impl)
      addStats(total, stats)
      if (flags.time === undefined) {
        io.log(systemLine(t.sys.name, report))
        if (t.sys.nonleakageSkipped !== null) io.log(`  nonleakage skipped: ${t.sys.nonleakageSkipped}`)
      } else {
        const key = t.randomFile !== undefined ? "random systems" : t.sys.name
        const r = rounds.get(key) ?? { stats: newStats(), report, systems: 0 }
        addStats(r.stats, stats)
        rounds.set(key, { stats: r.stats, report: { ...report, stats: r.stats }, systems: r.systems + 1 })
      }
      sections.push({ system: t.sys, report })
      if (report.failure !== null) failures.push({ target: t, report, seed: roundSeed })
      // A mutant is shown by its first catch; a timed campaign stops at its first violation.
      if (report.failure !== null && (mutant !== undefined || flags.time !== undefined)) break
    }
    round++
    if (flags.time === undefined || failures.length > 0 || performance.now() >= deadline) break
  }
  if (flags.time !== undefined) {
    for (const [key, r] of rounds) io.log(systemLine(key === "random systems" ? `random systems (${r.systems})` : key, r.report))
    io.log(`${round} round${round === 1 ? "" : "s"}`)
  }
  const secs = (performance.now() - t0) / 1000
  const c = total.checks
  io.log("")
  io.log(`${total.traces} traces, ${total.steps} steps in ${secs.toFixed(1)} s (${Math.round(total.steps / secs)} steps/s with every check on both layers${failures.length > 0 ? ", the shrinking's time included" : ""}); ` +
    `checks run: pas_refined ${c.pas_refined.steps + c.pas_refined.implSteps}, integrity ${c.integrity.steps + c.integrity.implSteps}, nonleakage ${c.nonleakage.pairs + c.nonleakage.implPairs} pairs`)
  const per = (k: "pas_refined" | "integrity" | "nonleakage") => `${k} ${us(c[k].ms, c[k].steps)}/${us(c[k].implMs, c[k].implSteps)} µs`
  io.log(`time per checked step (spec/impl): ${per("pas_refined")}, ${per("integrity")}, ${per("nonleakage")} (the impl's nonleakage replays the trace into a fresh impl per pair)`)
  if (flags.html !== undefined) {
    writeFileAtomic(flags.html, securityPage(flags.time === undefined ? sections : sections.slice(-first.length), securityAssumptions))
    io.log(`page: ${flags.html}`)
  }
  if (failures.length === 0) {
    io.log(mutant === undefined ? "every check held on every system" : `every check held: mutant ${mutant.name} survived this campaign`)
    return 0
  }
  for (const { target, report, seed } of failures) {
    const f = report.failure!
    io.log("")
    io.log(`${report.system}: ${describeSecurityFailure(f)}`)
    io.log("the trace after set-up (the failing step marked):")
    f.events.slice(f.setupLength).forEach((e, i) => io.log(`  ${i + 1 === f.step ? ">" : " "} ${String(i + 1).padStart(3)}  ${showEvent(e)}`))
    let file = target.file ?? join(systemsDir, `${target.sys.name}.json`)
    if (target.randomFile !== undefined) {
      const dir = join(tmpdir(), "kspec-security")
      mkdirSync(dir, { recursive: true })
      file = join(dir, `${target.sys.name}-seed${seed}.json`)
      writeFileSync(file, `${JSON.stringify(target.randomFile, null, 2)}\n`)
      io.log(`the random system: ${file}`)
    }
    const runs = target.randomFile !== undefined ? Math.max(1, Math.ceil(flags.runs / 2)) : flags.runs
    io.log(mutant !== undefined && flags.system === undefined
      ? `rerun: kspec security --mutant ${mutant.name} --seed ${seed} --runs ${flags.runs} --depth ${flags.depth}`
      : `rerun: kspec security --system ${relative(process.cwd(), file) || file} --seed ${seed} --runs ${runs} --depth ${flags.depth}${mutant !== undefined ? ` --mutant ${mutant.name}` : ""}`)
  }
  return 1
}
