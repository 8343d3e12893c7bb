// The page `kspec security --html` writes, rendered in real Chromium: what is drawn, not the text
// of the HTML. One node per label in each graph, the policy's arrows all dark, an arrow outside the
// policy red (a violation planted in the final state), the check table, and no page errors.
import { afterAll, describe, expect } from "vitest"
import { RightR } from "../../model/index.ts"
import { slotOf } from "../../spec/index.ts"
import { setCap } from "../../spec/state.ts"
import { runSecurityCampaign } from "../../harness/security/campaign.ts"
import { PartitionSlot, loadSystem, rootLabel } from "../../harness/security/system.ts"
import { securityAssumptions } from "../../cli/security.ts"
import { securityPage } from "../../cli/securityPage.ts"
import { browserTest, closeBrowser, withPage } from "../browser/chromium.ts"

afterAll(closeBrowser)

const sys = loadSystem("pipe")
const report = runSecurityCampaign(sys, { seed: 11, runs: 2, depth: 20 })
const s0 = sys.initial
const [sender] = sys.threads.get("Sender")!
const cspace = (() => { const c = s0.caps.get(slotOf(sender!, 0)); if (c?.tag !== "CNodeCap") throw new Error("no CSpace"); return c.ptr })()
const doorbell = (() => { const c = s0.caps.get(slotOf(cspace, PartitionSlot.Shared)); if (c?.tag !== "NotificationCap") throw new Error("no doorbell"); return c.ptr })()
// The planted violation: a cap that lets the sender receive on the receiver's notification.
const planted = setCap(report.final, slotOf(cspace, 40), { tag: "NotificationCap", ptr: doorbell, badge: 0, rights: RightR })
const labels = sys.labels.all().filter((l) => l !== rootLabel)

const red = "rgb(204, 0, 0)"

describe("the security page in Chromium", () => {
  browserTest("draws one node per label, policy edges dark, and the check table, with no page errors", async () => {
    await withPage(securityPage([{ system: sys, report }], securityAssumptions), async (page, errors) => {
      const policy = page.locator("figure.policy svg")
      const authority = page.locator("figure.authority svg")
      expect(await policy.locator("g.node").count()).toBe(labels.length)
      expect(await authority.locator("g.node").count()).toBe(labels.length)
      expect(await policy.locator("g.node text").allTextContents()).toEqual(labels)
      // The pipe's one policy edge between labels: the sender notifies (and resets) the receiver.
      const edges = policy.locator("g.edge")
      expect(await edges.count()).toBe(1)
      expect(await edges.first().getAttribute("data-auths")).toBe("Notify Reset")
      const stroke = await edges.first().locator("path").evaluate((p) => getComputedStyle(p).stroke)
      expect(stroke).not.toBe(red)
      expect(await page.locator("section.system table.checks tbody tr").count()).toBe(3)
      expect(await page.locator("p.inside").isVisible()).toBe(true)
      // Each graph is laid out inside its picture.
      for (const svg of [policy, authority]) {
        const box = (await svg.boundingBox())!
        for (const n of await svg.locator("g.node rect").all()) {
          const b = (await n.boundingBox())!
          expect(b.x >= box.x && b.y >= box.y && b.x + b.width <= box.x + box.width && b.y + b.height <= box.y + box.height).toBe(true)
        }
      }
      expect(errors).toEqual([])
    })
  })
  browserTest("draws an edge outside the policy in red, and lists where it comes from", async () => {
    await withPage(securityPage([{ system: sys, report, final: planted }], securityAssumptions), async (page, errors) => {
      const out = page.locator("figure.authority svg g.edge.outside")
      expect(await out.count()).toBe(1)
      expect(await out.getAttribute("data-from")).toBe("Sender")
      expect(await out.getAttribute("data-to")).toBe("Receiver")
      expect(await out.getAttribute("data-outside")).toBe("Receive")
      expect(await out.locator("path").evaluate((p) => getComputedStyle(p).stroke)).toBe(red)
      expect(await out.locator("tspan.out").evaluate((t) => getComputedStyle(t).fill)).toBe(red)
      // Only that edge is red; the policy graph has none.
      expect(await page.locator("figure.policy svg g.edge.outside").count()).toBe(0)
      expect(await page.locator("table.outside tbody tr").allTextContents()).toEqual([expect.stringMatching(/^\(Sender, Receive, Receiver\)sbta_caps: Notification/)])
      expect(errors).toEqual([])
    })
  })
})
