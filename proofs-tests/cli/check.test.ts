/**
 * `kspec check` runs the campaign and then, on the default configuration, the fastpath phase
 * (ping-pong traces that line up the IPC fastpath's preconditions, which random choices rarely
 * do) and the domains phase (the campaign on three scheduling domains; the default configuration
 * has one). A fastpath bug the campaign misses (seed 1: fastpath-skips-grant-check survives its
 * 100 traces) is caught in the first, a domain-schedule bug in the second, each shrunk, saved with
 * its configuration and replayable.
 */
import { mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { decodeTraceFile } from "../../model/index.ts"
import { runCheck } from "../../cli/check.ts"
import { realImpl } from "../../harness/lockstep/impls.ts"
import { runEvents } from "../../harness/lockstep/runner.ts"
import { loadMutant } from "../mutants/build.ts"
import { mutants } from "../mutants/mutants.ts"

/** `kspec check --seed 1 --runs N` on a planted mutant, which must fail: its output lines and the trace it saved. */
const checkMutant = async (name: string, runs: number) => {
  const m = mutants.find((x) => x.name === name)!
  const impl = await loadMutant({ ...m, name: `check-test-${m.name}` })
  const dir = mkdtempSync(join(tmpdir(), "kspec-check-"))
  const lines: string[] = []
  expect(runCheck({ seed: 1, runs, depth: 150 }, (s) => lines.push(s), dir, impl)).toBe(1)
  const d = decodeTraceFile(readFileSync(join(dir, "check-seed1.json"), "utf8"))
  if (!d.ok) throw new Error(d.message)
  return { impl, dir, lines, saved: d.value }
}

describe("kspec check's fastpath and domains phases", () => {
  it("run after a clean campaign: one trace each per five of the campaign's", () => {
    const lines: string[] = []
    expect(runCheck({ seed: 3, runs: 10, depth: 40 }, (s) => lines.push(s), mkdtempSync(join(tmpdir(), "kspec-check-")))).toBe(0)
    expect(lines).toContainEqual(expect.stringMatching(/^fastpath phase: 2 ping-pong traces, \d+ steps checked$/))
    expect(lines).toContainEqual(expect.stringMatching(/^domains phase: 2 traces on three domains, \d+ steps checked$/))
    expect(lines.at(-1)).toBe("no counterexample: the impl refined the spec and every invariant held after every step")
  })

  it("catches a fastpath bug the campaign misses, and saves a trace that replays it", async () => {
    const { impl, dir, lines, saved: d } = await checkMutant("fastpath-skips-grant-check", 100)
    const phase = lines.findIndex((l) => l.startsWith("fastpath phase: "))
    const found = lines.findIndex((l) => l.startsWith("COUNTEREXAMPLE"))
    // The campaign passed; the fastpath phase found it.
    expect(phase).toBeGreaterThan(0)
    expect(found).toBeGreaterThan(phase)
    expect(readdirSync(dir)).toEqual(["check-seed1.json"])
    expect(runEvents(impl, d.config, d.events, { invariants: true }).failure).not.toBeNull()
  }, 120_000)

  it("catches a domain-schedule bug the one-domain campaign cannot, and saves the trace with its three domains", async () => {
    const { impl, lines, saved: d } = await checkMutant("domain-never-ends", 20)
    const phase = lines.findIndex((l) => l.startsWith("domains phase: "))
    expect(phase).toBeGreaterThan(lines.findIndex((l) => l.startsWith("fastpath phase: ")))
    expect(lines.findIndex((l) => l.startsWith("COUNTEREXAMPLE"))).toBeGreaterThan(phase)
    expect(d.config.numDomains).toBe(3)
    expect(runEvents(impl, d.config, d.events, { invariants: true }).failure).not.toBeNull()
    expect(runEvents(realImpl, d.config, d.events, { invariants: true }).failure).toBeNull()
  }, 120_000)
})
