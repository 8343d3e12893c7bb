// `kspec security` from the command line: a bad system file is one line naming the file and the
// problem, exit 2, no stack trace; a good one is checked and summarised per system; a security
// mutant is caught, with its rerun command, exit 1. One subprocess run shows the real binary's exit
// code; the rest call `main` in-process.
import { execFile } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import type { MainIO } from "../../cli/main.ts"
import { main } from "../../cli/main.ts"
import { projectRoot } from "../../harness/paths.ts"
import { systemsDir } from "../../harness/security/system.ts"

const dir = mkdtempSync(join(tmpdir(), "kspec-security-cli-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const put = (name: string, content: string | object): string => {
  const f = join(dir, name)
  writeFileSync(f, typeof content === "string" ? content : JSON.stringify(content))
  return f
}
const pipe = JSON.parse(readFileSync(join(systemsDir, "pipe.json"), "utf8")) as Record<string, unknown>

const run = async (...argv: string[]): Promise<{ code: number; out: string; err: string }> => {
  let out = ""
  let err = ""
  const io: MainIO = { out: (s) => { out += s }, err: (s) => { err += s }, progress: null }
  const code = await main(argv, io)
  return { code, out, err }
}
const stack = /\n\s+at .+[:(]\d+/

describe("kspec security rejects a bad system file: one line, exit 2, no stack trace", () => {
  const cases: [string, string | object, RegExp][] = [
    ["not-json.json", "{ \"kspec\": ", /not-json\.json.*JSON/],
    ["wrong-shape.json", { ...pipe, partitions: "two" }, /wrong-shape\.json.*partitions/],
    ["bad-label.json", { ...pipe, partitions: [{ label: "9lives", domain: 0 }] }, /bad-label\.json.*label/],
    ["unknown-object.json", { ...pipe, caps: [{ partition: "Sender", object: "nowhere", rights: "W" }] }, /unknown-object\.json.*caps\[0\]\.object: no object is named "nowhere"/],
    ["bad-rights.json", { ...pipe, caps: [{ partition: "Sender", object: "flag", rights: "X" }] }, /bad-rights\.json.*rights/],
    // A policy the initial state breaks: the sender's caps give it Notify and Reset, which this policy lacks.
    ["too-small-policy.json", { ...pipe, policy: [] }, /too-small-policy\.json.*breaks its policy.*\(Sender, (Notify|Reset), Receiver\) is not in the policy/],
    // Grant between two labels needs Control both ways (l4v policy_wellformed).
    ["ill-formed.json", { ...pipe, policy: [["Sender", "Grant", "Receiver"], ["Receiver", "Receive", "Receiver"], ["Sender", "Notify", "Receiver"], ["Sender", "Reset", "Receiver"]] }, /ill-formed\.json.*policy_wellformed/],
  ]
  for (const [name, content, message] of cases) {
    it(name, async () => {
      const r = await run("security", "--system", put(name, content), "--runs", "1")
      expect(r.code, r.err).toBe(2)
      expect(r.out).toBe("")
      expect(r.err).not.toMatch(stack)
      const lines = r.err.trimEnd().split("\n")
      expect(lines, r.err).toHaveLength(1)
      expect(lines[0]).toMatch(/^kspec: /)
      expect(lines[0]).toMatch(message)
    })
  }
  it("a missing file, and --system with --random", async () => {
    const r = await run("security", "--system", join(dir, "nope.json"))
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/^kspec: .*nope\.json/)
    expect((await run("security", "--system", join(systemsDir, "pipe.json"), "--random", "2")).err).toMatch(/--system and --random exclude each other/)
  })
  it("the real binary exits 2 on a bad file", async () => {
    const code = await new Promise<number>((resolve) => {
      const p = execFile(process.execPath, [join(projectRoot, "bin/kspec.js"), "security", "--system", put("bin.json", { kspec: "security-system" })], { cwd: projectRoot })
      p.on("exit", (c) => resolve(c ?? -1))
    })
    expect(code).toBe(2)
  })
})

describe("kspec security runs the checks", () => {
  it("on a system file: one line per system with steps and checks on both layers, exit 0", async () => {
    const html = join(dir, "page.html")
    const r = await run("security", "--system", join(systemsDir, "pipe.json"), "--seed", "5", "--runs", "3", "--depth", "30", "--html", html)
    expect(r.code, r.out + r.err).toBe(0)
    expect(r.out).toMatch(/^kspec security: seed=5 runs=3 depth=30/)
    expect(r.out).toMatch(/\npipe +3 +\d+ +\d+\/\d+ +\d+\/\d+ +\d+\/\d+ \(\d+\/\d+ pairs\) +0 violations\n/)
    expect(r.out).toMatch(/steps\/s with every check on both layers/)
    expect(r.out).toContain("every check held on every system")
    expect(readFileSync(html, "utf8")).toContain("data-system=\"pipe\"")
  })
  it("time-boxed (--time): rounds of the systems, each system's totals, then the rounds run", async () => {
    const r = await run("security", "--time", "1500ms", "--seed", "8", "--runs", "1", "--depth", "10", "--random", "1")
    expect(r.code, r.out + r.err).toBe(0)
    expect(r.out).toMatch(/time=2s \(rounds of seed, seed\+1, \.\.\.\)/)
    expect(r.out).toMatch(/\nisolated +\d+ +\d+ /)
    expect(r.out).toMatch(/\n\d+ rounds?\n/)
  })
  it("kspec fuzz --security runs the same campaign (--runs: traces per system); it excludes the lockstep fuzzer's flags", async () => {
    const r = await run("fuzz", "--security", "--runs", "1", "--depth", "10", "--seed", "6")
    expect(r.code, r.out + r.err).toBe(0)
    expect(r.out).toMatch(/^kspec security: seed=6 runs=1 depth=10 random=4\n/)
    expect(r.out).toContain("every check held on every system")
    const bad = await run("fuzz", "--security", "--focus", "Call")
    expect(bad.code).toBe(2)
    expect(bad.err).toMatch(/--focus and --security exclude each other|--security and --focus exclude each other/)
  })
  it("on a security mutant: caught by its check, the counterexample and the rerun command printed, exit 1", async () => {
    const r = await run("security", "--mutant", "sec-bind-without-read", "--seed", "3", "--runs", "60")
    expect(r.code, r.out + r.err).toBe(1)
    expect(r.out).toMatch(/1 violation: pas_refined/)
    expect(r.out).toMatch(/is not in the policy; it comes from/)
    expect(r.out).toMatch(/the trace after set-up \(the failing step marked\):\n(  [ >] +\d+  .+\n)+/)
    expect(r.out).toMatch(/\n  > +\d+  seL4_/)
    expect(r.out).toMatch(/rerun: kspec security --mutant sec-bind-without-read --seed 3 --runs 60 --depth 60/)
  })
})
