/**
 * `npm run mutation [-- PATH...]`: Stryker on spec/ and impl/ (or only the files and folders given,
 * e.g. `npm run mutation -- impl/object/cnode.ts` for a run of a few minutes), with the focused
 * suite of vitest.mutation.config.ts, per-test coverage analysis and incremental mode (a mutant
 * whose code and covering tests did not change keeps its last result), then the summary of
 * report.ts. The HTML report is reports/mutation/mutation.html.
 */
import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"

const paths = process.argv.slice(2).filter((a) => !a.startsWith("-"))
for (const p of paths) {
  if (!existsSync(p)) { console.error(`mutation: no such file or folder: ${p}`); process.exit(2) }
}
const mutate = paths.map((p) => (p.endsWith(".ts") ? p : `${p.replace(/\/$/, "")}/**/*.ts`))
const stryker = spawnSync("npx", ["stryker", "run", ...(mutate.length > 0 ? ["--mutate", mutate.join(",")] : [])], { stdio: "inherit" })
if (stryker.status !== 0) process.exit(stryker.status ?? 1)
const report = spawnSync("npx", ["tsx", "proofs-tests/mutation/report.ts", ...process.argv.slice(2).filter((a) => a === "--list")], { stdio: "inherit" })
process.exit(report.status ?? 1)
