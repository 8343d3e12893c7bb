/**
 * The worked example of docs/adding-a-syscall.md, step 8: a subtly wrong impl handler for a new
 * invocation is caught by `kspec fuzz --focus` aimed at it, with the suite's budget (the pinned
 * seed, 60 traces, one worker; the same function the command runs).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { parseFuzzFlags } from "../../cli/commands.ts"
import { runFuzz } from "../../cli/fuzz.ts"
import { suiteBudget } from "../refinement/budget.ts"
import { loadMutant } from "./build.ts"
import { mutants } from "./mutants.ts"

describe("kspec fuzz --focus TCB_SetTLSBase catches a wrong SetTLSBase handler", () => {
  const b = suiteBudget()
  const dir = mkdtempSync(join(tmpdir(), "kspec-focus-"))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const flags = parseFuzzFlags(["--focus", "TCB_SetTLSBase", "--runs", String(b.runs), "--workers", "1", "--seed", String(b.seed)])

  it("the real impl passes the focused campaign and every SetTLSBase cell is reached", async () => {
    const r = await runFuzz({ ...flags, minCover: 3 }, { log: () => {}, progress: null }, { inProcess: true, regressionsDir: dir })
    expect(r.failures).toHaveLength(0)
    expect(r.minCoverMet).toBe(true)
  }, 60_000)

  for (const name of ["tls-base-wrong-register", "tls-base-off-by-one-length"]) {
    it(`catches ${name}`, async () => {
      // Built under its own name: the mutant self-test builds the same mutant at the same time.
      const m = mutants.find((x) => x.name === name)!
      const impl = await loadMutant({ ...m, name: `focus-test-${m.name}` })
      const r = await runFuzz(flags, { log: () => {}, progress: null }, { inProcess: true, impl: impl as never, regressionsDir: join(dir, name) })
      expect(r.exitCode).toBe(1)
      expect(r.failures).toHaveLength(1)
    }, 60_000)
  }
})
