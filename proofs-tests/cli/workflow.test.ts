// The example CI workflow stays runnable: its fuzz and prove steps are command lines kspec
// accepts, their matrices have as many shards as the work is split into, and the uploads name the
// files fuzz and prove write.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { expect, it } from "vitest"
import { parseFuzzFlags, parseProveFlags } from "../../cli/commands.ts"
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

it("the workflow's prove step parses as kspec prove flags, one shard per matrix entry", () => {
  const shards = Number(/PROVE_SHARDS: (\d+)/.exec(yml)![1])
  const matrix = /part: \[([\d, ]+)\]/.exec(yml)![1]!.split(",").map((x) => Number(x.trim()))
  expect(matrix).toEqual(Array.from({ length: shards }, (_, i) => i + 1))
  const cmd = /run: (node bin\/kspec\.js prove .*)\n/.exec(yml)![1]!
    .replaceAll("${{ matrix.part }}", "2").replaceAll("$PROVE_SHARDS", String(shards)).replaceAll('"', "")
  const flags = parseProveFlags(cmd.split(" ").slice(3))
  expect(flags).toMatchObject({ config: "default", depth: 3, shard: { index: 1, count: shards }, json: "prove-report-2.json" })
  expect(yml).toContain("proofs-tests/regressions/prove-*.json")
})
