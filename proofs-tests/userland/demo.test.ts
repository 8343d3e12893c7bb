// `kspec demo` end to end, and its page in a real headless Chromium: it loads without errors,
// the system diagram has a node per process and an edge per channel, restarts are marked, the
// timeline and the sequence diagram show the injected fault and the restart. A screenshot is
// saved beside the page.
import { existsSync, mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runDemo, runDemoCampaign } from "../../cli/demo.ts"
import { runCampaign } from "../../userland/campaign.ts"
import { demoPage } from "../../userland/html.ts"
import { Pid } from "../../userland/layout.ts"
import { browserTest, closeBrowser, withPage } from "../browser/chromium.ts"

const dir = mkdtempSync(join(tmpdir(), "kspec-demo-"))
afterAll(closeBrowser)

describe("kspec demo", () => {
  const html = join(dir, "demo.html")
  const lines: string[] = []
  let code = -1
  beforeAll(async () => { code = await runDemo({ faults: 60, seed: 5, clients: 2, html, lockstepEvery: 0, policy: "default", workers: 1 }, { log: (s) => lines.push(s), progress: null }) })

  it("runs the campaign, prints its table and the rerun line, exits 0, writes the page", () => {
    expect(code).toBe(0)
    expect(lines[0]).toMatch(/^kspec demo: seed=5 faults=60 clients=2/)
    expect(lines.some((l) => /^faults injected +60$/.test(l))).toBe(true)
    expect(lines.some((l) => /^ {2}lost \(never answered\) +0$/.test(l))).toBe(true)
    expect(lines).toContain("rerun: kspec demo --seed 5 --faults 60 --clients 2 --lockstep-every 0")
    expect(existsSync(html)).toBe(true)
  })

  browserTest("the page, in Chromium: no errors, a node per process, restart markers, the fault and the restart in the sequence diagram", async () => {
    await withPage(readFileSync(html, "utf8"), async (page, errors) => {
      const processes = await page.locator("#system g.process").count()
      expect(processes).toBe(5 + 2)
      expect(await page.locator("#system").getAttribute("data-process-count")).toBe(String(processes))
      expect(await page.locator("#system g.channel").count()).toBe(4 + 1 + 1 + 3 * 2)
      const restarts = await page.locator("#system .restart-marker").evaluateAll((es) => es.map((e) => Number(e.getAttribute("data-restarts"))))
      expect(restarts.length).toBeGreaterThan(0)
      expect(await page.locator("#timeline .mark.restart").count()).toBe(restarts.reduce((a, b) => a + b, 0))
      expect(await page.locator("#timeline .mark.injected").count()).toBeGreaterThan(0)
      expect(await page.locator("#sequence .lifeline").count()).toBeGreaterThanOrEqual(6)
      expect(await page.locator("#sequence .step.injected").count()).toBeGreaterThan(0)
      expect(await page.locator("#sequence .step.restart").count()).toBeGreaterThan(0)
      expect(await page.locator("#verdict.pass").count()).toBe(1)
      const box = await page.locator("#system").boundingBox()
      expect(box!.width).toBeGreaterThan(500)
      await page.screenshot({ path: join(dir, "demo.png"), fullPage: true })
      expect(errors).toEqual([])
    })
    expect(existsSync(join(dir, "demo.png"))).toBe(true)
  })

  it("the counts do not depend on the number of threads: runs are planned and seeded before they are spread", async () => {
    const o = { seed: 9, faults: 90, faultsPerRun: 30, lockstepEvery: 0, drain: 6_000 }
    const strip = ({ ms: _ms, first: _first, ...rest }: Awaited<ReturnType<typeof runDemoCampaign>>) => rest
    const one = strip(await runDemoCampaign(o, 1, () => {}))
    const two = strip(await runDemoCampaign(o, 2, () => {}))
    expect(one.runs).toBe(3)
    expect(one.injected).toBe(90)
    expect(two).toEqual(one)
  })

  browserTest("a campaign where isolation failed shows it on the page", async () => {
    const r = runCampaign({ seed: 5, faults: 3, faultsPerRun: 3, kinds: ["exception"], targets: [Pid.nameServer], lockstepEvery: 0, drain: 9_000, keepFirst: true, system: { bugs: { noRestart: true } } })
    expect(r.lost).toBeGreaterThan(0)
    await withPage(demoPage(r, r.first, 3, "kspec demo"), async (page, errors) => {
      expect(await page.locator("#verdict.fail").count()).toBe(1)
      expect(await page.locator("#system .restart-marker").count()).toBe(0)
      expect(errors).toEqual([])
    })
  })
})
