// `kspec replay FILE --html OUT`: the trace as a sequence diagram, in a real headless Chromium.
// A clean replay: a lifeline per thread (and the hardware's and the kernel's), an arrow per step,
// no failure. A replay against a planted mutant: the steps up to the divergence, the failing one
// marked, the state diff beside it.
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { runReplay } from "../../cli/replay.ts"
import type { ImplUnderTest } from "../../harness/lockstep/runner.ts"
import { loadTraceFile } from "../../harness/trace.ts"
import { projectRoot } from "../../harness/paths.ts"
import { mutants } from "../mutants/mutants.ts"
import { loadMutant } from "../mutants/build.ts"
import { browserTest, closeBrowser, withPage } from "../browser/chromium.ts"

const dir = mkdtempSync(join(tmpdir(), "kspec-replay-html-"))
const tour = join(projectRoot, "proofs-tests/regressions/cspace-tour.json")
afterAll(closeBrowser)

describe("kspec replay --html", () => {
  browserTest("a clean replay: a lifeline per thread, an arrow per kernel entry, no failure marked", async () => {
    const out = join(dir, "clean.html")
    const lines: string[] = []
    expect(runReplay(tour, (s) => lines.push(s), { html: out })).toBe(0)
    expect(lines.at(-1)).toBe(`page: ${out}`)
    const events = loadTraceFile(tour).events.length
    await withPage(readFileSync(out, "utf8"), async (page, errors) => {
      expect(await page.locator("#sequence .step").count()).toBe(events)
      expect(await page.locator("#sequence").getAttribute("data-steps")).toBe(String(events))
      const lanes = await page.locator("#sequence .lifeline").evaluateAll((es) => es.map((e) => e.getAttribute("data-name")))
      expect(lanes[0]).toBe("hardware")
      expect(lanes.at(-1)).toBe("kernel")
      expect(lanes.some((l) => /^tcb#\d+$/.test(l ?? ""))).toBe(true)
      expect(await page.locator(".step.failure").count()).toBe(0)
      expect(await page.locator("#verdict.pass").count()).toBe(1)
      expect(errors).toEqual([])
    })
  })

  browserTest("a divergence from a mutant: the steps up to it, the failing step marked, the state diff beside it", async () => {
    const m = mutants.find((x) => x.name === "mint-rebadges")!
    const impl = await loadMutant({ ...m, name: `replay-html-test-${m.name}` })
    const out = join(dir, "diverging.html")
    expect(runReplay(tour, () => {}, { impl: impl as ImplUnderTest<unknown>, html: out })).toBe(1)
    await withPage(readFileSync(out, "utf8"), async (page, errors) => {
      expect(await page.locator("#sequence .step").count()).toBe(4)
      expect(await page.locator(".step.failure").getAttribute("data-step")).toBe("4")
      expect(await page.locator(".failure-marker").textContent()).toContain("impl diverges from spec")
      expect(await page.locator("#verdict.fail").textContent()).toMatch(/^Step 4: /)
      expect(await page.locator("#diff").textContent()).toMatch(/caps\.0x[0-9a-f]+: spec .* \| impl /)
      await page.screenshot({ path: join(dir, "diverging.png"), fullPage: true })
      expect(errors).toEqual([])
    })
  })
})
