import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { decodeTraceFile } from "../../model/index.ts"
import { Ops, defaultWeights } from "../../harness/gen/choices.ts"
import { coverageRows, focusNames, focusRows, focusWeights, opTargets, reachableOutcomes, rowsOfFocus } from "../../harness/gen/focus.ts"
import { runEvents } from "../../harness/lockstep/runner.ts"
import { loadMutant } from "../mutants/build.ts"
import { mutants } from "../mutants/mutants.ts"
import { UsageError } from "../../cli/command.ts"
import { parseFuzzFlags } from "../../cli/commands.ts"
import { totalSteps } from "../../cli/coverage.ts"
import type { FuzzFlags } from "../../cli/fuzz.ts"
import { runFuzz, shardRuns } from "../../cli/fuzz.ts"
import { batchCount, batchOwner, nthBatch } from "../../cli/fuzzLoop.ts"
import { main } from "../../cli/main.ts"
import { domainsBootConfig } from "../../harness/configs.ts"

const parse = (argv: string[]) => parseFuzzFlags(argv)
const usageError = (argv: string[]): string => {
  try { parse(argv) } catch (e) {
    expect(e).toBeInstanceOf(UsageError)
    return (e as Error).message
  }
  throw new Error(`no usage error for ${argv.join(" ")}`)
}

describe("kspec fuzz flags", () => {
  it("decodes every flag", () => {
    const f = parse(["--runs", "50", "--focus", "Call", "Recv", "--focus", "CNode_Copy,UserFault", "--workers", "1", "--shard", "2/3", "--seed", "9",
      "--json", "r.json", "--stats", "s.jsonl", "--min-cover", "2", "--emit-test"])
    expect(f).toMatchObject({ runs: 50, timeMs: null, focus: ["Call", "Recv", "CNode_Copy", "UserFault"], workers: 1, shard: { index: 1, count: 3 }, seed: 9,
      json: "r.json", stats: "s.jsonl", minCover: 2, emitTest: true })
    expect(parse(["--time", "90s"]).timeMs).toBe(90_000)
    expect(parse(["--time", "2m"]).timeMs).toBe(120_000)
    expect(parse([]).timeMs).toBe(60_000)
  })
  it("rejects bad values with one clear line", () => {
    expect(usageError(["--runs", "abc"])).toMatch(/^--runs: "abc" is not valid/)
    expect(usageError(["--runs", "0"])).toMatch(/^--runs: "0" is not valid/)
    expect(usageError(["--time", "5 parsecs"])).toMatch(/^--time: "5 parsecs" is not valid \(expected a positive duration such as 90s/)
    expect(usageError(["--time", "10s", "--runs", "5"])).toMatch(/exclude each other/)
    expect(usageError(["--shard", "3/2"])).toMatch(/^--shard: "3\/2" is not valid/)
    expect(usageError(["--shard", "two"])).toMatch(/^--shard: "two" is not valid \(expected part I of N/)
    expect(usageError(["--workers", "0"])).toMatch(/^--workers: "0" is not valid/)
    expect(usageError(["--bogus"])).toMatch(/^unknown flag --bogus \(kspec fuzz takes --time, --runs, /)
    expect(usageError(["stray"])).toMatch(/unexpected argument "stray"/)
    expect(usageError(["--mutant", "nope"])).toMatch(/^--mutant: unknown name "nope" \(expected a planted mutant: revoke-stops-early, /)
  })
  it("rejects unknown focus names and lists the valid ones", () => {
    const m = usageError(["--focus", "Call", "Cal", "TCB_SetPrio"])
    expect(m).toMatch(/unknown names "Cal", "TCB_SetPrio"/)
    expect(m).toContain("TCB_SetPriority")
    expect(m).toContain("ReplyRecv")
  })
  it("exits 2 from the command line, with the message and the usage line and no stack trace", async () => {
    let out = ""
    let err = ""
    const code = await main(["fuzz", "--focus", "Nope"], { out: (s) => { out += s }, err: (s) => { err += s }, progress: null })
    expect(code).toBe(2)
    expect(out).toBe("")
    const lines = err.trimEnd().split("\n")
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/^kspec: --focus: unknown name "Nope"/)
    expect(lines[1]).toMatch(/^usage: kspec fuzz \[--time DURATION \| --runs N\] \[--focus NAME\.\.\.\]/)
    expect(err).not.toMatch(/\bat .*\.ts:\d+/)
  })
})

describe("kspec fuzz shards and workers", () => {
  it("every batch belongs to exactly one shard and worker, and each enumerates its own", () => {
    for (let shards = 1; shards <= 5; shards++) {
      for (let workers = 1; workers <= 4; workers++) {
        const seen = new Map<number, string>()
        for (let s = 0; s < shards; s++) {
          for (let w = 0; w < workers; w++) {
            for (let k = 0; ; k++) {
              const b = nthBatch({ index: s, count: shards }, { index: w, count: workers }, k)
              if (b >= 200) break
              expect(seen.has(b), `batch ${b} twice`).toBe(false)
              seen.set(b, `${s}/${w}`)
              expect(batchOwner(b, shards, workers)).toEqual({ shard: s, worker: w })
            }
          }
        }
        expect(seen.size).toBe(200)
      }
    }
  })
  it("the shards of a run-boxed campaign run every trace once", () => {
    for (const runs of [1, 7, 64, 200, 1001]) {
      for (let n = 1; n <= 6; n++) {
        const parts = Array.from({ length: n }, (_, i) => shardRuns(runs, { index: i, count: n }))
        expect(parts.reduce((a, x) => a + x, 0)).toBe(runs)
        expect(batchCount(runs, n)).toBeGreaterThan(0)
      }
    }
  })
})

describe("the focus table", () => {
  it("covers every op, with rows of the reachable table", () => {
    for (const op of Ops) {
      expect(opTargets[op].length, op).toBeGreaterThan(0)
      for (const r of opTargets[op]) expect(reachableOutcomes[r], `${op} -> ${r}`).toBeDefined()
    }
  })
  it("every row and every focus name is produced by some op", () => {
    const produced = new Set(Ops.flatMap((o) => opTargets[o]))
    for (const r of coverageRows) expect(produced.has(r), r).toBe(true)
    for (const n of focusNames) expect(rowsOfFocus(n).length, n).toBeGreaterThan(0)
  })
  it("focusing raises the weights of the ops that produce the name and keeps the others", () => {
    const w = focusWeights(focusRows(["TCB_SetPriority"]))
    expect(w.SetPriority).toBeGreaterThan(defaultWeights.SetPriority)
    expect(w.Retype).toBe(defaultWeights.Retype)
    const total = Ops.reduce((a, o) => a + w[o], 0)
    expect(w.SetPriority / total).toBeGreaterThan(0.5)
    expect(focusRows(["Call"])).toContain("Call/EndpointCap")
    expect(focusRows(["CNode"])).toContain("CNode_Copy")
  })
})

describe("runFuzz in-process", () => {
  const dir = mkdtempSync(join(tmpdir(), "kspec-fuzz-test-"))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const quiet = { log: () => {}, progress: null }
  const flags = (over: Partial<FuzzFlags>): FuzzFlags => ({
    timeMs: null, runs: 6, focus: [], workers: 1, shard: { index: 0, count: 1 }, seed: 11, json: undefined, stats: undefined,
    minCover: undefined, emitTest: false, mutant: undefined, depth: 40, ...over,
  })

  it("returns a coverage report whose counts add up to the steps run, and writes the JSON report and statistics", async () => {
    const json = join(dir, "report.json")
    const stats = join(dir, "stats.jsonl")
    const r = await runFuzz(flags({ json, stats, focus: ["Call", "TCB_SetPriority"] }), quiet, { inProcess: true, regressionsDir: dir })
    expect(r.exitCode).toBe(0)
    expect(r.runs).toBe(6)
    expect(r.steps).toBeGreaterThan(0)
    expect(totalSteps(r.coverage)).toBe(r.steps)
    expect(r.rows).toContain("TCB_SetPriority")
    const rep = JSON.parse(readFileSync(json, "utf8"))
    expect(rep.steps).toBe(r.steps)
    expect(rep.coverage.steps).toBe(r.steps)
    expect(rep.coverage.rows.map((x: { row: string }) => x.row)).toContain("Call/EndpointCap")
    const lines = readFileSync(stats, "utf8").trim().split("\n").map((l) => JSON.parse(l))
    expect(lines.at(-1)).toMatchObject({ final: true, steps: r.steps, runs: 6 })
  })

  it("with several domains, reports the steps each domain's threads ran, in the log and the JSON report, and counts them for --min-cover", async () => {
    const json = join(dir, "domains.json")
    const lines: string[] = []
    const r = await runFuzz(flags({ runs: 30, depth: 150, json, focus: ["Domain", "TimerTick"] }), { log: (l) => lines.push(l), progress: null },
      { inProcess: true, regressionsDir: dir, config: domainsBootConfig })
    expect(r.failures).toHaveLength(0)
    expect(r.domains).toHaveLength(3)
    for (const d of r.domains) expect(d.running).toBeGreaterThan(0)
    const all = r.domains.reduce((a, d) => a + d.running + d.idle, 0)
    expect(all).toBe(r.steps)
    expect(lines.join("\n")).toContain("every domain's threads ran")
    expect(JSON.parse(readFileSync(json, "utf8")).domains).toEqual(r.domains.map((d, domain) => ({ domain, ...d })))
    const short = await runFuzz(flags({ runs: 3, depth: 10, minCover: 1e9 }), quiet, { inProcess: true, regressionsDir: dir, config: domainsBootConfig })
    expect(short.minCoverMet).toBe(false)
  })

  it("--min-cover fails the run when a cell cannot be reached that often", async () => {
    const r = await runFuzz(flags({ runs: 3, minCover: 1e9 }), quiet, { inProcess: true, regressionsDir: dir })
    expect(r.minCoverMet).toBe(false)
    expect(r.exitCode).toBe(1)
    expect(r.failures).toHaveLength(0)
  })

  it("finds, shrinks and saves a counterexample in a planted mutant", async () => {
    const m = mutants.find((x) => x.name === "badge-not-delivered")!
    // Built under its own name: the mutant self-test builds the same mutant at the same time.
    const impl = await loadMutant({ ...m, name: `fuzz-test-${m.name}` })
    const out = join(dir, "found")
    const r = await runFuzz(flags({ runs: 100, depth: 150, seed: 7, emitTest: true }), quiet, { inProcess: true, impl: impl as never, regressionsDir: out })
    expect(r.exitCode).toBe(1)
    expect(r.failures).toHaveLength(1)
    const f = r.failures[0]!
    expect(f.shrunk).toBe(true)
    expect(readdirSync(out).sort()).toEqual([`fuzz-seed7-batch${f.batch}.json`, `fuzz-seed7-batch${f.batch}.test.ts`])
    const d = decodeTraceFile(readFileSync(f.file, "utf8"))
    if (!d.ok) throw new Error(d.message)
    expect(d.value.events).toEqual(f.events)
    expect(runEvents(impl, d.value.config, d.value.events).failure).not.toBeNull()
    const test = readFileSync(f.testFile!, "utf8")
    // The emitted test replays through the library by its package name, with the trace's events.
    expect(test).toContain('import { describeFailure, lockstep } from "kspec"')
    expect(test).toContain("lockstep(config).run(events)")
    const inline = /const events: readonly Event\[\] = \[\n([\s\S]*?)\n\]/.exec(test)![1]!
    expect(JSON.parse(`[${inline.split("\n").map((l) => l.replace(/, \/\/ .*$/, "")).join(",")}]`)).toEqual(f.events)
    // Finding and shrinking take about 7 s alone; on a 2-core machine shared with other work, ten times that.
  }, 120_000)
})
