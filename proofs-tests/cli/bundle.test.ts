/**
 * The kspec command runs from an esbuild bundle of the sources (bin/kspec.js) and, with
 * KSPEC_TSX=1, from the sources through tsx: both must be the same program.
 */
import { execFileSync } from "node:child_process"
import { existsSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { projectRoot } from "../../harness/paths.ts"

const bin = join(projectRoot, "bin/kspec.js")
const run = (env: Record<string, string>) =>
  execFileSync(process.execPath, [bin, "check", "--runs", "20", "--seed", "7"], { encoding: "utf8", env: { ...process.env, ...env }, timeout: 120_000 })

describe("the kspec command", () => {
  it("checks the same steps from its bundle as from the sources under tsx", () => {
    const bundled = run({})
    const sources = run({ KSPEC_TSX: "1" })
    const steps = (out: string) => /checked (\d+) steps in 20 traces/.exec(out)?.[1]
    expect(steps(bundled)).toBeDefined()
    expect(steps(bundled)).toBe(steps(sources))
    expect(bundled.replace(/in [\d.]+ s \([\d,]+ steps\/s\)/, "")).toBe(sources.replace(/in [\d.]+ s \([\d,]+ steps\/s\)/, ""))
    // The bundle (CLI, fuzz worker and demo worker entries) sits in a content-named cache directory.
    const cache = join(projectRoot, "node_modules/.cache/kspec")
    expect(readdirSync(cache).some((d) => existsSync(join(cache, d, "main.js")) && existsSync(join(cache, d, "fuzzWorker.js")) && existsSync(join(cache, d, "demoWorker.js")))).toBe(true)
  }, 150_000)
})
