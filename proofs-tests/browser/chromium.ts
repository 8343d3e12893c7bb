/**
 * Browser tests open kspec's HTML pages (counterexamples, policy graphs, a run of the userland
 * system) in a real headless Chromium, Debian's, driven by playwright-core. .ci/run installs
 * Chromium before the suite, so in CI (CI set) a missing browser fails every browser test; on a
 * developer's machine without it they are reported as skipped, the reason in their name, never
 * passed silently.
 */
import { existsSync } from "node:fs"
import { chromium } from "playwright-core"
import type { Browser, Page } from "playwright-core"
import { it } from "vitest"

/** Where Chromium is: KSPEC_CHROMIUM, else Debian's path. */
export const chromiumPath = (): string => process.env.KSPEC_CHROMIUM ?? "/usr/bin/chromium"

/** Is there a Chromium to drive? */
export const hasChromium = (): boolean => existsSync(chromiumPath())

/**
 * A test that needs the browser: run it when Chromium is there (and always in CI, where a missing
 * browser is a failure); otherwise skip it with the reason in its name.
 */
export const browserTest = (name: string, f: () => Promise<void>, timeoutMs = 60_000): void => {
  if (hasChromium() || process.env.CI !== undefined) it(name, f, timeoutMs)
  else it.skip(`${name} [skipped: no Chromium at ${chromiumPath()}; apt-get install chromium, or set KSPEC_CHROMIUM]`, f)
}

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
