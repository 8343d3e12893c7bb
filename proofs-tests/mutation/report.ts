/**
 * `npm run mutation`'s summary: reads Stryker's JSON report (reports/mutation/mutation.json) and
 * the equivalent-mutant file (proofs-tests/mutation/equivalent.json), and prints the mutation
 * score per folder with equivalent mutants left out, the surviving mutants by kind (Stryker's
 * mutator) and by file, and each survivor's place, so the next search improvement has a target.
 * Score: killed + timed out, over killed + timed out + survived + not covered (Stryker's own
 * definition), equivalent mutants excluded.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { pathToFileURL } from "node:url"

export interface Mutant {
  readonly id: string
  readonly mutatorName: string
  readonly replacement?: string
  readonly status: string
  readonly location: { readonly start: { readonly line: number; readonly column: number } }
}
export interface Report { readonly files: Record<string, { readonly source: string; readonly mutants: readonly Mutant[] }> }
export interface Rule { readonly mutator: string; readonly line: string; readonly reason: string }
export interface Entry { readonly file: string; readonly line: number; readonly mutator: string; readonly replacement: string; readonly reason: string }
export interface Equivalents { readonly rules: readonly Rule[]; readonly mutants: readonly Entry[] }

/** Why a mutant is equivalent, or null. */
export const equivalence = (eq: Equivalents, file: string, lines: readonly string[], m: Mutant): string | null => {
  const line = lines[m.location.start.line - 1] ?? ""
  const rule = eq.rules.find((r) => r.mutator === m.mutatorName && new RegExp(r.line).test(line))
  if (rule !== undefined) return rule.reason
  const e = eq.mutants.find((x) => x.file === file && x.line === m.location.start.line && x.mutator === m.mutatorName && x.replacement === m.replacement)
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
}

/** Tally a Stryker report with the equivalent mutants left out. */
export const summarize = (report: Report, eq: Equivalents): Summary => {
  const byFolder = new Map<string, Tally>()
  const survivorsByKind = new Map<string, number>()
  const survivorsByFile = new Map<string, number>()
  const survivors: string[] = []
  const tally = (key: string): Tally => byFolder.get(key) ?? byFolder.set(key, empty()).get(key)!
  for (const [file, f] of Object.entries(report.files)) {
    const lines = f.source.split("\n")
    const folders = ["all", file.split("/")[0]!, file.split("/").slice(0, -1).join("/")]
    for (const m of f.mutants) {
      const why = equivalence(eq, file, lines, m)
      const kind: keyof Tally = why !== null ? "equivalent"
        : m.status === "Killed" || m.status === "Timeout" ? "killed"
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
  return { byFolder, survivorsByKind, survivorsByFile, survivors }
}

const print = (s: Summary, list: boolean): void => {
  const pad = (x: string | number, n: number) => String(x).padStart(n)
  console.log(`${"folder".padEnd(26)} ${pad("score", 7)} ${pad("killed", 7)} ${pad("survived", 9)} ${pad("no cov", 7)} ${pad("equiv", 6)}`)
  for (const [k, t] of [...s.byFolder].sort((a, b) => (a[0] === "all" ? -1 : b[0] === "all" ? 1 : a[0].localeCompare(b[0])))) {
    console.log(`${k.padEnd(26)} ${pad(score(t).toFixed(1) + "%", 7)} ${pad(t.killed, 7)} ${pad(t.survived, 9)} ${pad(t.noCoverage, 7)} ${pad(t.equivalent, 6)}`)
  }
  console.log(`\nsurviving mutants by kind: ${[...s.survivorsByKind].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(", ") || "none"}`)
  console.log(`by file: ${[...s.survivorsByFile].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([k, n]) => `${k} ${n}`).join(", ") || "none"}`)
  if (list) for (const x of s.survivors) console.log(`  ${x}`)
}

export const equivalentsFile = "proofs-tests/mutation/equivalent.json"

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = process.cwd()
  const reportFile = process.argv.slice(2).find((a) => !a.startsWith("--")) ?? "reports/mutation/mutation.json"
  const report = JSON.parse(readFileSync(join(root, reportFile), "utf8")) as Report
  const eq = JSON.parse(readFileSync(join(root, equivalentsFile), "utf8")) as Equivalents
  print(summarize(report, eq), process.argv.includes("--list"))
}
