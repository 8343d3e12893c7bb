/**
 * `npm run mutation [-- PATH...]`: Stryker on spec/ and impl/ (or only the files and folders given,
 * e.g. `npm run mutation -- impl/object/cnode.ts` for a run of a few minutes), with the focused
 * suite of vitest.mutation.config.ts, per-test coverage analysis and incremental mode (a mutant
 * whose code and covering tests did not change keeps its last result), then the summary of
 * report.ts. The HTML report is reports/mutation/mutation.html.
 *
 * `npm run mutation -- --sample K [--seed S] [--tag T]`: the same on a stratified random sample of K
 * mutants per folder (sample.ts) and a score per folder with its 95% interval (K = 20: 286 mutants
 * drawn, about 35 minutes on two cores); the report is reports/mutation/sample[-T].html.
 * A tag keeps a run apart (its own report, no incremental reuse): to compare the search with a
 * technique turned off, e.g. `KSPEC_SWARM=0 npm run mutation -- --sample 30 --tag no-swarm`.
 * `--suite campaign` tests each mutant against the lockstep campaign alone (vitest.campaign.config.ts),
 * the search those techniques feed, rather than the whole focused suite. `--strata impl/object,spec/api`
 * keeps only those folders of the sample drawn over everything (the same mutants a whole sampled run tests).
 */
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { drawSample, listMutants, mutateRange, stratum } from "./sample.ts"

const args = process.argv.slice(2)
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name)
  if (i < 0) return undefined
  const v = args[i + 1]
  if (v === undefined || v.startsWith("-")) { console.error(`mutation: ${name} needs a value`); process.exit(2) }
  args.splice(i, 2)
  return v
}
const count = (name: string, v: string | undefined, dflt: number): number => {
  if (v === undefined) return dflt
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1) { console.error(`mutation: ${name} wants a positive whole number, not ${JSON.stringify(v)}`); process.exit(2) }
  return n
}
const sampleArg = flag("--sample")
const seed = count("--seed", flag("--seed"), 20261206)
const tag = flag("--tag")
const suite = flag("--suite")
const strata = flag("--strata")?.split(",")
if (suite !== undefined && suite !== "campaign") { console.error(`mutation: --suite is "campaign" (the lockstep campaign alone) or absent (the focused suite), not ${JSON.stringify(suite)}`); process.exit(2) }
if (tag !== undefined && !/^[a-z0-9-]+$/.test(tag)) { console.error(`mutation: --tag wants lower-case letters, digits and dashes, not ${JSON.stringify(tag)}`); process.exit(2) }
const list = args.includes("--list")
const paths = args.filter((a) => !a.startsWith("-"))
for (const p of paths) {
  if (!existsSync(p)) { console.error(`mutation: no such file or folder: ${p}`); process.exit(2) }
}
const mutate = paths.map((p) => (p.endsWith(".ts") ? p : `${p.replace(/\/$/, "")}/**/*.ts`))

const run = (cmd: string, argv: string[], env: NodeJS.ProcessEnv = process.env): number =>
  spawnSync(cmd, argv, { stdio: "inherit", env }).status ?? 1

if (sampleArg === undefined) {
  const status = run("npx", ["stryker", "run", ...(mutate.length > 0 ? ["--mutate", mutate.join(",")] : [])])
  if (status !== 0) process.exit(status)
  process.exit(run("npx", ["tsx", "proofs-tests/mutation/report.ts", ...(list ? ["--list"] : [])]))
}

// The sampled run: list every mutant, draw the sample, and give Stryker its nodes only.
const perStratum = count("--sample", sampleArg, 30)
const scope = paths.length > 0 ? paths : ["impl", "spec"]
const git = spawnSync("git", ["ls-files", "--", ...scope], { encoding: "utf8" })
const files = git.stdout.split("\n").filter((f) => f.endsWith(".ts") && !/^(impl|spec)\/index\.ts$/.test(f) && /^(impl|spec)\//.test(f))
if (files.length === 0) { console.error(`mutation: no files of spec/ or impl/ under ${scope.join(" ")}`); process.exit(2) }
const drawn = drawSample(await listMutants(files), perStratum, seed)
// --strata keeps some folders of the sample drawn over all of them: the same mutants as a whole run's.
const sample = strata === undefined ? drawn : {
  ...drawn,
  population: Object.fromEntries(Object.entries(drawn.population).filter(([k]) => strata.includes(k))),
  mutants: drawn.mutants.filter((m) => strata.includes(stratum(m.file))),
}
if (sample.mutants.length === 0) { console.error(`mutation: no sampled mutant in ${strata?.join(", ")} (folders: ${Object.keys(drawn.population).join(", ")})`); process.exit(2) }
const name = `sample${tag !== undefined ? `-${tag}` : ""}`
mkdirSync("reports/mutation", { recursive: true })
const sampleFile = `reports/mutation/${name}.sample.json`
writeFileSync(sampleFile, JSON.stringify(sample))
const base = JSON.parse(readFileSync("stryker.config.json", "utf8")) as Record<string, unknown>
const config = {
  ...base,
  ...(suite === "campaign" ? { vitest: { configFile: "vitest.campaign.config.ts" } } : {}),
  mutate: sample.mutants.map(mutateRange),
  plugins: ["@stryker-mutator/*", "./proofs-tests/mutation/sampleIgnorer.mjs"],
  ignorers: ["sample"],
  incremental: tag === undefined,
  incrementalFile: `reports/mutation/${name}-incremental.json`,
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  clearTextReporter: { allowEmojis: false, logTests: false, reportScoreTable: false },
}
const configFile = `reports/mutation/${name}.stryker.json`
writeFileSync(configFile, JSON.stringify(config, null, 2))
console.log(`mutation: ${sample.mutants.length} mutants sampled (${perStratum} per folder, seed ${seed}) of ${Object.values(sample.population).reduce((a, b) => a + b, 0)}; sample in ${sampleFile}`)
// A killed mutant needs no shrunk counterexample: campaigns stop at the first failing trace.
const status = run("npx", ["stryker", "run", configFile], { ...process.env, KSPEC_MUTATION_SAMPLE: sampleFile, KSPEC_SHRINK: process.env.KSPEC_SHRINK ?? "0" })
if (status !== 0) process.exit(status)
process.exit(run("npx", ["tsx", "proofs-tests/mutation/report.ts", `reports/mutation/${name}.json`, "--sample", sampleFile, ...(list ? ["--list"] : [])]))
