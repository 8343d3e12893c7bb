/**
 * `kspec prove` from the command line: its flags, a bad --config (one line, exit 2), a proof
 * (exit 0 and the statement), a planted bug (exit 1, the shortest counterexample printed and
 * saved for `kspec replay`), a run stopped early (exit 1, not a proof), the JSON report, and the
 * bundled command with workers.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { projectRoot } from "../../harness/paths.ts"
import { scopes } from "../../harness/prove/scope.ts"
import { loadTraceFile } from "../../harness/trace.ts"
import { UsageError } from "../../cli/command.ts"
import { parseProveFlags } from "../../cli/commands.ts"
import { main } from "../../cli/main.ts"
import { runProve } from "../../cli/prove.ts"
import { runReplay } from "../../cli/replay.ts"

const dir = mkdtempSync(join(tmpdir(), "kspec-prove-cli-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const run = async (...argv: string[]) => {
  let out = ""
  let err = ""
  const code = await main(["prove", ...argv], { out: (s) => { out += s }, err: (s) => { err += s }, progress: null })
  return { code, out, err }
}

describe("kspec prove flags", () => {
  it("decodes every flag, with the defaults", () => {
    expect(parseProveFlags([])).toMatchObject({ config: "default", depth: undefined, maxStates: undefined, symmetry: false, implState: false, mutant: undefined })
    expect(parseProveFlags(["--config", "tiny", "--depth", "3", "--max-states", "10", "--workers", "1", "--shard", "2/3", "--symmetry", "--impl-state", "--json", "r.json"]))
      .toEqual({ config: "tiny", depth: 3, maxStates: 10, workers: 1, shard: { index: 1, count: 3 }, symmetry: true, implState: true, mutant: undefined, json: "r.json" })
  })
  it("rejects bad values with one line", () => {
    const usage = (argv: string[]) => { try { parseProveFlags(argv) } catch (e) { expect(e).toBeInstanceOf(UsageError); return (e as Error).message } return "" }
    expect(usage(["--depth", "-1"])).toMatch(/^--depth: "-1" is not valid \(expected a whole number from 0 to 1000\)/)
    expect(usage(["--mutant", "nope"])).toMatch(/^--mutant: unknown name "nope"/)
    expect(usage(["--shard", "0/2"])).toMatch(/^--shard: "0\/2" is not valid/)
  })
})

describe("kspec prove --config", () => {
  it("an unknown scope name: one line, exit 2", async () => {
    const r = await run("--config", "tinny")
    expect(r.code).toBe(2)
    expect(r.err).toBe("kspec: tinny: not a named scope (expected one of tiny, ipc, queues, badges, mirror, server, default, vm, preempt, domains, or a scope file)\n")
  })
  it("a bad scope file: one line naming the place, exit 2", async () => {
    const tiny = scopes.find((s) => s.name === "tiny")!
    const badges = scopes.find((s) => s.name === "badges")!
    const cases: [string, unknown, RegExp][] = [
      ["not-json.json", "{ scope", /^kspec: .*not-json\.json: not JSON: /],
      ["slot.json", { ...tiny, threads: [{ ...tiny.threads[0]!, caps: [{ slot: 9, object: "ep" }] }] }, /^kspec: .*slot\.json: threads\[0\]\.caps\[0\]\.slot: slot 9 is outside the thread's 4-slot CNode$/],
      ["object.json", { ...tiny, threads: [{ ...tiny.threads[0]!, caps: [{ slot: 1, object: "epp" }] }] }, /^kspec: .*object\.json: threads\[0\]\.caps\[0\]\.object: "epp" is not a scope object/],
      ["field.json", { ...tiny, alphabet: { ...tiny.alphabet, famlies: [] } }, /^kspec: .*field\.json: alphabet\.famlies: unknown field$/],
      ["family.json", { ...tiny, alphabet: { ...tiny.alphabet, families: ["ipc", "teleport"] } }, /^kspec: .*family\.json: alphabet\.families\[1\]: /],
      ["refused.json", { ...tiny, objects: [...tiny.objects, { name: "big", type: "Untyped", sizeBits: 12 }, { name: "bigger", type: "Untyped", sizeBits: 12 }, { name: "c", type: "CNode", sizeBits: 12 }] }, /^kspec: .*refused\.json: set-up: .*Untyped_Retype/],
      // A prelude invocation that fails, or that names an endpoint (its caller blocks), is refused: the search would start elsewhere.
      ["prelude.json", { ...badges, prelude: [badges.prelude[1]] }, /^kspec: .*prelude\.json: prelude\[0\]: the kernel replied FailedLookup/],
      ["blocked.json", { ...badges, threads: [...badges.threads].reverse() }, /^kspec: .*blocked\.json: prelude\[0\]: the thread that ran it blocked/],
    ]
    for (const [name, content, message] of cases) {
      const f = join(dir, name)
      writeFileSync(f, typeof content === "string" ? content : JSON.stringify(content))
      const r = await run("--config", f)
      expect(r.code, name).toBe(2)
      expect(r.err.split("\n").filter((l) => l !== "")).toHaveLength(1)
      expect(r.err.trimEnd(), name).toMatch(message)
    }
  })
  it("a good scope file is searched like a named scope", async () => {
    const f = join(dir, "mine.json")
    writeFileSync(f, JSON.stringify({ ...scopes.find((s) => s.name === "tiny")!, name: "mine", depth: 2 }))
    const r = await run("--config", f, "--workers", "1")
    expect(r.code).toBe(0)
    expect(r.out).toContain("PROVED: for configuration mine, every trace of depth <= 2 over alphabet mine")
  })
})

describe("kspec prove runs", () => {
  it("proves a scope: exit 0, TLC's figures, and the statement", async () => {
    const json = join(dir, "report.json")
    const r = await run("--config", "tiny", "--depth", "3", "--workers", "1", "--json", json)
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/[\d,]+ states generated, [\d,]+ distinct states found, 0 states left on queue\./)
    expect(r.out).toMatch(/the depth of the complete state graph search is 3; distinct states by depth: 1, \d+, \d+, [\d,]+/)
    expect(r.out).toMatch(/the probability that a collision hid a state \(calculated, optimistic\): \d\.\dE-\d+/)
    expect(r.out).toMatch(/\nPROVED: for configuration tiny, every trace of depth <= 3 over alphabet tiny \(at most \d+ events a state\): refinement and \d+ invariants hold/)
    const report = JSON.parse(readFileSync(json, "utf8")) as { status: string; stats: { distinct: number }; counterexample: unknown }
    expect(report).toMatchObject({ status: "proved", counterexample: null })
    expect(report.stats.distinct).toBeGreaterThan(100)
  })
  it("a planted bug: exit 1, the shortest counterexample printed and saved, and kspec replay runs the file", async () => {
    const out: string[] = []
    const code = await runProve(parseProveFlags(["--config", "tiny", "--workers", "1", "--mutant", "badge-not-delivered"]), { log: (s) => out.push(s), progress: null }, { regressionsDir: dir, handleSigint: false })
    expect(code).toBe(1)
    const text = out.join("\n")
    expect(text).toMatch(/COUNTEREXAMPLE of depth 2 \(the shortest, by breadth-first search\), after the \d+ set-up events:/)
    expect(text).toMatch(/step \d+: impl diverges from spec:\n {2}kheap\.0x[0-9a-f]+\.tcbContext\.badge: spec 3 \| impl 0/)
    const saved = join(dir, "prove-tiny-depth2.json")
    expect(text).toContain("replay: kspec replay ")
    const trace = loadTraceFile(saved)
    expect(trace.events.length).toBeGreaterThan(2)
    // The impl (not the mutant) replays it clean.
    expect(runReplay(saved, () => {})).toBe(0)
  })
  it("stopped by --max-states: exit 1, and the statement says it is not a proof", async () => {
    const r = await run("--config", "tiny", "--max-states", "50", "--workers", "1")
    expect(r.code).toBe(1)
    expect(r.out).toMatch(/for configuration tiny: not proved, stopped after 50 states/)
  })
  it("the kspec command (its bundle) searches on worker threads", () => {
    const out = execFileSync(process.execPath, [join(projectRoot, "bin/kspec.js"), "prove", "--config", "tiny", "--depth", "4", "--workers", "2"], { encoding: "utf8", timeout: 120_000 })
    expect(out).toContain("on 2 workers")
    expect(out).toMatch(/\nPROVED: for configuration tiny, every trace of depth <= 4/)
  }, 150_000)
})
