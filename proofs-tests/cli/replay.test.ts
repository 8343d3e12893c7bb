import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { regressionsDir } from "../../cli/check.ts"
import { main } from "../../cli/main.ts"
import { runReplay } from "../../cli/replay.ts"
import { TraceFileError } from "../../harness/trace.ts"
import { loadMutant } from "../mutants/build.ts"
import { mutants } from "../mutants/mutants.ts"
import type { ImplUnderTest } from "../../harness/lockstep/runner.ts"
import { decodeTraceFile } from "../../model/index.ts"
import { renderTrace } from "../../cli/render.ts"

const tour = join(regressionsDir, "cspace-tour.json")
const replay = (file: string, impl?: ImplUnderTest<unknown>) => {
  const lines: string[] = []
  const code = runReplay(file, (s) => lines.push(s), impl === undefined ? {} : { impl })
  return { code, out: lines.join("\n") }
}

describe("kspec replay", () => {
  it("replays a good trace cleanly, printing readable events and results", () => {
    const { code, out } = replay(tour)
    expect(code).toBe(0)
    expect(out).toContain("tcb#0   seL4_Untyped_Retype(ut#2 20b, type=CNode, size_bits=2")
    expect(out).toMatch(/seL4_CNode_Mint\(cnode#1, dest_index=0x68, .*badge=9, src_root=cnode#1\)  -> IllegalOperation/)
    expect(out).toContain("-> FailedLookup(src, MissingCapability(bitsLeft=32))")
    expect(out).toContain("via seL4_Send")
    expect(out).toContain("-> Inactive; now running idle")
    expect(out).toContain("replayed 13 events")
  })

  it("renderTrace (used by kspec check) prints the same step lines as the replay", () => {
    const d = decodeTraceFile(readFileSync(tour, "utf8"))
    if (!d.ok) throw new Error(d.message)
    const lines = replay(tour).out.split("\n").filter((l) => /^ +\d+\. /.test(l))
    expect(renderTrace(d.value.config, d.value.events)).toEqual(lines)
  })

  it("stops at the first divergence from a mutant impl with the state diff and exits 1", async () => {
    const m = mutants.find((x) => x.name === "mint-rebadges")!
    // Its own build directory, so the mutant self-test running alongside is not disturbed.
    const impl = await loadMutant({ ...m, name: `replay-test-${m.name}` })
    const { code, out } = replay(tour, impl as ImplUnderTest<unknown>)
    expect(code).toBe(1)
    expect(out).toContain("FAILED at step 4: impl diverges from spec")
    expect(out).toMatch(/abstract states differ \(spec \| impl\)/)
    expect(out).toMatch(/caps\.0x[0-9a-f]+: spec .* \| impl /)
    expect(out).toMatch(/invariants: all hold in the spec state|invariants broken in the spec state/)
    expect(out).toMatch(/objects: #0 tcb at 0x/)
    // The trace stops at the failing step.
    expect(out).not.toContain("   5. ")
  })

  describe("a file that cannot be replayed is one clear message (exit 2), and nothing is written", () => {
    const dir = mkdtempSync(join(tmpdir(), "kspec-replay-"))
    const good = JSON.parse(readFileSync(tour, "utf8")) as Record<string, unknown> & { events: Record<string, unknown>[] }
    const write = (name: string, text: string) => { const f = join(dir, name); writeFileSync(f, text); return f }
    const cases: [string, string, RegExp][] = [
      ["missing file", join(dir, "nope.json"), /nope\.json: no such file or directory$/],
      ["bad JSON", write("bad.json", "{ \"kspec\": \"trace\", "), /bad\.json: not JSON: the text ends too early \(line 1, column 21\)$/],
      ["not a trace", write("other.json", JSON.stringify({ hello: 1 })), /other\.json: not a trace file: it has no "kspec": "trace" field$/],
      ["wrong shape", write("shape.json", JSON.stringify({ ...good, config: { ...(good.config as object), numIRQs: "16" } })), /shape\.json: config\.numIRQs: expected number, got "16"$/],
      ["unknown syscall", write("sys.json", JSON.stringify({ ...good, events: [good.events[0], { ...good.events[1], syscall: "SendRecv" }] })), /sys\.json: events\[1\]\.syscall: unknown syscall "SendRecv" \(kspec models Send, NBSend/],
      ["other version", write("v1.json", JSON.stringify({ ...good, version: 1 })), /incompatible kspec model: trace format version 1, this kspec reads version 2$/],
    ]
    for (const [what, file, msg] of cases) {
      it(what, () => {
        const before = readdirSync(dir).length
        expect(() => replay(file)).toThrow(TraceFileError)
        try { replay(file) } catch (e) { expect((e as Error).message).toMatch(msg) }
        expect(readdirSync(dir).length).toBe(before)
      })
    }
    it("main exits 2 and writes the message to stderr", async () => {
      let err = ""
      const io = { out: () => {}, err: (s: string) => { err += s }, progress: null }
      expect(await main(["replay", join(dir, "v1.json")], io)).toBe(2)
      expect(err).toMatch(/^kspec: .*incompatible kspec model.*\n$/)
      expect(await main(["replay"], io)).toBe(2)
    })
  })
})
