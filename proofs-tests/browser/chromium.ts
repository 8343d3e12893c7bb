/**
 * Browser tests open kspec's HTML pages (counterexamples, policy graphs, a run of the userland
 * system) in a real headless Chromium, Debian's, driven by playwright-core. The browser is not
 * optional: a page nobody has rendered is not tested, so a missing Chromium fails the test with
 * the command that installs it (.ci/run installs it before the suite).
 */
import { existsSync } from "node:fs"
import { chromium } from "playwright-core"
import type { Browser, Page } from "playwright-core"

/** Where Chromium is: KSPEC_CHROMIUM, else Debian's path. */
export const chromiumPath = (): string => process.env.KSPEC_CHROMIUM ?? "/usr/bin/chromium"

let shared: Promise<Browser> | undefined

/** One headless browser per test file (launching takes a second). */
const browser = (): Promise<Browser> => {
  const path = chromiumPath()
  if (!existsSync(path)) throw new Error(`no Chromium at ${path}: install it (apt-get install -y chromium) or set KSPEC_CHROMIUM`)
  shared ??= chromium.launch({ executablePath: path, args: ["--no-sandbox", "--disable-gpu"] })
  return shared
}

/** Open `html` (a self-contained page) in a fresh page, run `f`, close the page. Console errors and page errors are collected. */
export const withPage = async <T>(html: string, f: (page: Page, errors: string[]) => Promise<T>): Promise<T> => {
  const context = await (await browser()).newContext({ viewport: { width: 1280, height: 900 } })
  const page = await context.newPage()
  const errors: string[] = []
  page.on("pageerror", (e) => errors.push(e.message))
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()) })
  try {
    await page.setContent(html, { waitUntil: "load" })
    return await f(page, errors)
  } finally {
    await context.close()
  }
}

/** Close the shared browser (call from afterAll). */
export const closeBrowser = async (): Promise<void> => {
  if (shared !== undefined) await (await shared).close()
  shared = undefined
}
