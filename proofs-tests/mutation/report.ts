/**
 * `npm run mutation`'s summary: reads Stryker's JSON report (reports/mutation/mutation.json) and
 * the equivalent-mutant file (proofs-tests/mutation/equivalent.json), and prints the mutation
 * score per folder with equivalent mutants left out, the surviving mutants by kind (Stryker's
 * mutator) and by file, and each survivor's place, so the next search improvement has a target.
 * Score: killed + timed out, over killed + timed out + survived + not covered (Stryker's own
 * definition), equivalent mutants excluded. A mutant Stryker calls survived although not one test
 * completed with it (a static mutant that stops the test files from loading: `npm test` fails on
 * it) counts as killed, and the summary lists it as killed at load.
 */
import { readFileSync } from "node:fs"
import { resolve } from "node:path"
import { pathToFileURL } from "node:url"
import type { Sample } from "./sample.ts"
import { reportKey, sampledKey, stratum } from "./sample.ts"

export interface Mutant {
  readonly id: string
  readonly mutatorName: string
  readonly replacement?: string
  readonly status: string
  readonly location: { readonly start: { readonly line: number; readonly column: number }; readonly end?: { readonly line: number; readonly column: number } }
  /** How many tests ran to completion with the mutant active (Stryker's report). */
  readonly testsCompleted?: number
}

/** Did Stryker report the mutant survived while not one test completed (the test files did not load)? */
export const killedAtLoad = (m: Mutant): boolean => m.status === "Survived" && m.testsCompleted === 0
export interface Report { readonly files: Record<string, { readonly source: string; readonly mutants: readonly Mutant[] }> }
export interface Rule { readonly mutator: string; readonly line: string; readonly reason: string }
/**
 * One mutant by file, line and replacement; `column` (Stryker's, 1-based) tells apart mutants of the
 * same kind and text on one line, and `endColumn` those that also start together (`a !== b` and
 * `a !== b || c` both replaced by false).
 */
export interface Entry {
  readonly file: string; readonly line: number; readonly column?: number; readonly endColumn?: number; readonly mutator: string; readonly replacement: string; readonly reason: string
}
export interface Equivalents { readonly rules: readonly Rule[]; readonly mutants: readonly Entry[] }

/** Why a mutant is equivalent, or null. */
export const equivalence = (eq: Equivalents, file: string, lines: readonly string[], m: Mutant): string | null => {
  const line = lines[m.location.start.line - 1] ?? ""
  const rule = eq.rules.find((r) => r.mutator === m.mutatorName && new RegExp(r.line).test(line))
  if (rule !== undefined) return rule.reason
  const e = eq.mutants.find((x) => x.file === file && x.line === m.location.start.line && (x.column === undefined || x.column === m.location.start.column) &&
    (x.endColumn === undefined || x.endColumn === m.location.end?.column) && x.mutator === m.mutatorName && x.replacement === m.replacement)
  return e?.reason ?? null
}

export type Tally = { killed: number; survived: number; noCoverage: number; equivalent: number; other: number }
const empty = (): Tally => ({ killed: 0, survived: 0, noCoverage: 0, equivalent: 0, other: 0 })

/** Stryker's score (killed and timed out over all but equivalent and errored), in percent. */
export const score = (t: Tally): number => (100 * t.killed) / Math.max(1, t.killed + t.survived + t.noCoverage)

export interface Summary {
  /** Per folder ("all", each top folder, each file's folder). */
  readonly byFolder: ReadonlyMap<string, Tally>
  readonly survivorsByKind: ReadonlyMap<string, number>
  readonly survivorsByFile: ReadonlyMap<string, number>
  readonly survivors: readonly string[]
  /** The mutants counted as killed because no test file loaded with them (see `killedAtLoad`). */
  readonly killedAtLoad: readonly string[]
}

/** Tally a Stryker report with the equivalent mutants left out. */
export const summarize = (report: Report, eq: Equivalents): Summary => {
  const byFolder = new Map<string, Tally>()
  const survivorsByKind = new Map<string, number>()
  const survivorsByFile = new Map<string, number>()
  const survivors: string[] = []
  const loadKilled: string[] = []
  const tally = (key: string): Tally => byFolder.get(key) ?? byFolder.set(key, empty()).get(key)!
  for (const [file, f] of Object.entries(report.files)) {
    const lines = f.source.split("\n")
    const folders = ["all", file.split("/")[0]!, file.split("/").slice(0, -1).join("/")]
    for (const m of f.mutants) {
      const why = equivalence(eq, file, lines, m)
      const atLoad = why === null && killedAtLoad(m)
      if (atLoad) loadKilled.push(`${file}:${m.location.start.line}:${m.location.start.column} ${m.mutatorName}`)
      const kind: keyof Tally = why !== null ? "equivalent"
        : m.status === "Killed" || m.status === "Timeout" || atLoad ? "killed"
          : m.status === "Survived" ? "survived"
            : m.status === "NoCoverage" ? "noCoverage" : "other"
      for (const k of new Set(folders)) tally(k)[kind]++
      if (kind === "survived" || kind === "noCoverage") {
        survivorsByKind.set(m.mutatorName, (survivorsByKind.get(m.mutatorName) ?? 0) + 1)
        survivorsByFile.set(file, (survivorsByFile.get(file) ?? 0) + 1)
        survivors.push(`${file}:${m.location.start.line}:${m.location.start.column} ${m.mutatorName}${m.status === "NoCoverage" ? " (no coverage)" : ""}: ${(lines[m.location.start.line - 1] ?? "").trim().slice(0, 90)}  ->  ${(m.replacement ?? "").replace(/\s+/g, " ").slice(0, 60)}`)
      }
    }
  }
  return { byFolder, survivorsByKind, survivorsByFile, survivors, killedAtLoad: loadKilled }
}

const print = (s: Summary, list: boolean): void => {
  const pad = (x: string | number, n: number) => String(x).padStart(n)
  console.log(`${"folder".padEnd(26)} ${pad("score", 7)} ${pad("killed", 7)} ${pad("survived", 9)} ${pad("no cov", 7)} ${pad("equiv", 6)}`)
  for (const [k, t] of [...s.byFolder].sort((a, b) => (a[0] === "all" ? -1 : b[0] === "all" ? 1 : a[0].localeCompare(b[0])))) {
    console.log(`${k.padEnd(26)} ${pad(score(t).toFixed(1) + "%", 7)} ${pad(t.killed, 7)} ${pad(t.survived, 9)} ${pad(t.noCoverage, 7)} ${pad(t.equivalent, 6)}`)
  }
  console.log(`\nsurviving mutants by kind: ${[...s.survivorsByKind].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(", ") || "none"}`)
  console.log(`by file: ${[...s.survivorsByFile].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([k, n]) => `${k} ${n}`).join(", ") || "none"}`)
  if (s.killedAtLoad.length > 0) console.log(`killed at load (Stryker says survived, but no test file loaded with it): ${s.killedAtLoad.join(", ")}`)
  if (list) for (const x of s.survivors) console.log(`  ${x}`)
}

export const equivalentsFile = "proofs-tests/mutation/equivalent.json"

/** Only the sampled mutants of a report (the others on their nodes were tested too, but are not drawn at random). */
export const restrictToSample = (report: Report, sample: Sample): Report => {
  const keys = new Set(sample.mutants.map(sampledKey))
  const files: Record<string, { source: string; mutants: Mutant[] }> = {}
  for (const [file, f] of Object.entries(report.files)) {
    const ms = f.mutants.filter((m) => keys.has(reportKey(file, m.location.start.line, m.location.start.column, m.mutatorName, m.replacement ?? "")))
    if (ms.length > 0) files[file] = { source: f.source, mutants: ms }
  }
  return { files }
}

/** Wilson's 95% interval for k successes in n trials, in percent. */
export const wilson = (k: number, n: number): readonly [number, number] => {
  if (n === 0) return [0, 100]
  const z = 1.96, p = k / n, d = 1 + (z * z) / n
  const c = (p + (z * z) / (2 * n)) / d, h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d
  return [100 * Math.max(0, c - h), 100 * Math.min(1, c + h)]
}

export interface Estimate { readonly folder: string; readonly population: number; readonly sampled: number; readonly scored: number; readonly score: number; readonly low: number; readonly high: number }

/**
 * The score per stratum of a sampled run, with Wilson's interval, and per layer (impl, spec, all):
 * the strata's scores weighted by their mutant counts times their share of non-equivalent mutants.
 */
export const estimates = (report: Report, eq: Equivalents, sample: Sample): Estimate[] => {
  const byStratum = new Map<string, Tally>()
  for (const [file, f] of Object.entries(restrictToSample(report, sample).files)) {
    const s = summarize({ files: { [file]: f } }, eq).byFolder.get("all")!
    const t = byStratum.get(stratum(file)) ?? byStratum.set(stratum(file), { killed: 0, survived: 0, noCoverage: 0, equivalent: 0, other: 0 }).get(stratum(file))!
    for (const k of Object.keys(t) as (keyof Tally)[]) t[k] += s[k]
  }
  const out: Estimate[] = []
  const layers = new Map<string, { w: number; ws: number; pop: number; sampled: number; scored: number }>()
  for (const [folder, population] of Object.entries(sample.population)) {
    const t = byStratum.get(folder) ?? { killed: 0, survived: 0, noCoverage: 0, equivalent: 0, other: 0 }
    const scored = t.killed + t.survived + t.noCoverage, sampled = scored + t.equivalent + t.other
    const [low, high] = wilson(t.killed, scored)
    out.push({ folder, population, sampled, scored, score: score(t), low, high })
    const w = sampled === 0 ? 0 : (population * scored) / sampled
    for (const layer of [folder.split("/")[0]!, "all"]) {
      const l = layers.get(layer) ?? layers.set(layer, { w: 0, ws: 0, pop: 0, sampled: 0, scored: 0 }).get(layer)!
      l.w += w; l.ws += w * score(t); l.pop += population; l.sampled += sampled; l.scored += scored
    }
  }
  for (const [folder, l] of layers) out.push({ folder, population: l.pop, sampled: l.sampled, scored: l.scored, score: l.w === 0 ? 0 : l.ws / l.w, low: NaN, high: NaN })
  return out
}

const printEstimates = (es: readonly Estimate[]): void => {
  const pad = (x: string | number, n: number) => String(x).padStart(n)
  console.log(`\nestimated score per folder (sampled mutants only, equivalent ones left out):`)
  console.log(`${"folder".padEnd(18)} ${pad("mutants", 8)} ${pad("sampled", 8)} ${pad("scored", 7)} ${pad("score", 7)}  95% interval`)
  for (const e of es) console.log(`${e.folder.padEnd(18)} ${pad(e.population, 8)} ${pad(e.sampled, 8)} ${pad(e.scored, 7)} ${pad(e.score.toFixed(1) + "%", 7)}  ${Number.isNaN(e.low) ? "(weighted)" : `${e.low.toFixed(0)}-${e.high.toFixed(0)}%`}`)
}

/** A JSON file the summary reads, or a one-line message and exit 2. */
const readJson = <T>(file: string, what: string): T => {
  try { return JSON.parse(readFileSync(resolve(file), "utf8")) as T } catch (e) {
    console.error(`mutation report: cannot read ${what} ${file}: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`)
    process.exit(2)
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2)
  const si = argv.indexOf("--sample")
  const sampleFile = si >= 0 ? argv.splice(si, 2)[1] : undefined
  const reportFile = argv.find((a) => !a.startsWith("--")) ?? "reports/mutation/mutation.json"
  const report = readJson<Report>(reportFile, "the Stryker report")
  const eq = readJson<Equivalents>(equivalentsFile, "the equivalent-mutant file")
  print(summarize(report, eq), argv.includes("--list"))
  if (sampleFile !== undefined) printEstimates(estimates(report, eq, readJson<Sample>(sampleFile, "the sample")))
}
