// The example CI workflow stays runnable: its fuzz step is a command line kspec accepts, its
// matrix has as many shards as the campaign is split into, and the uploads name the files fuzz
// writes.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { expect, it } from "vitest"
import { parseFuzzFlags } from "../../cli/commands.ts"
import { projectRoot } from "../../harness/paths.ts"

const yml = readFileSync(join(projectRoot, ".github/workflows/kspec.yml"), "utf8")

it("the workflow's fuzz step parses as kspec fuzz flags, one shard per matrix entry", () => {
  const shards = Number(/FUZZ_SHARDS: (\d+)/.exec(yml)![1])
  const matrix = /shard: \[([\d, ]+)\]/.exec(yml)![1]!.split(",").map((x) => Number(x.trim()))
  expect(matrix).toEqual(Array.from({ length: shards }, (_, i) => i + 1))
  // The folded command (`run: >`), with the shell's and the workflow's expressions filled in.
  const cmd = /run: >\n((?: {10}.*\n)+)/.exec(yml)![1]!.replace(/\s+/g, " ").trim()
    .replaceAll("$FUZZ_RUNS", "4000").replaceAll("${{ matrix.shard }}", "2").replaceAll("$FUZZ_SHARDS", String(shards))
    .replace(/\$\(\( GITHUB_RUN_ID % 2147483647 \)\)/, "123456").replaceAll('"', "")
  expect(cmd.startsWith("node bin/kspec.js fuzz ")).toBe(true)
  const flags = parseFuzzFlags(cmd.split(" ").slice(3))
  expect(flags).toMatchObject({ runs: 4000, shard: { index: 1, count: shards }, seed: 123456, emitTest: true, json: "fuzz-report-2.json" })
  expect(yml).toContain("proofs-tests/regressions/fuzz-*.json")
  expect(yml).toContain("proofs-tests/regressions/fuzz-*.test.ts")
  expect(yml).toMatch(/- run: npm ci\n\s+- run: npm test/)
})
