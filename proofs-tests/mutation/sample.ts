/**
 * A stratified random sample of Stryker's mutants of spec/ and impl/, for a mutation score per
 * folder in the time a whole run cannot have (14,000 mutants; the focused suite takes 20 s on a
 * survivor). Stryker's own instrumenter lists every mutant it would make; the sample takes `perStratum`
 * of them, uniformly at random from a seed, in each folder (impl/object, spec/invariants, ...; a
 * layer's top-level files form one stratum); Stryker then tests those mutants and the others on the
 * same syntax node (sampleIgnorer.mjs ignores the rest). The score per folder is the sample's, with
 * a 95% interval, and a layer's is the folders' scores weighted by their mutant counts.
 */
import { readFileSync } from "node:fs"

/** One sampled mutant: where Stryker puts it (0-based lines, 0-based columns) and what it writes. */
export interface SampledMutant {
  readonly file: string
  readonly location: { readonly start: { readonly line: number; readonly column: number }; readonly end: { readonly line: number; readonly column: number } }
  readonly mutator: string
  readonly replacement: string
}
export interface Sample {
  readonly seed: number
  readonly perStratum: number
  /** Every stratum's mutant count, for weighting. */
  readonly population: Record<string, number>
  readonly mutants: readonly SampledMutant[]
}

/** The folder a file's mutants are drawn from: its first two path parts, or "impl/(top)" for a layer's top-level files. */
export const stratum = (file: string): string => {
  const p = file.split("/")
  return p.length > 2 ? `${p[0]}/${p[1]}` : `${p[0]}/(top)`
}

/** A seeded 31-bit linear congruential generator: the same seed draws the same sample on every machine. */
const lcg = (seed: number): (() => number) => {
  let s = seed >>> 0
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32
}

/** Draw `perStratum` mutants uniformly without replacement from each stratum (all of a smaller one). */
export const drawSample = (all: readonly SampledMutant[], perStratum: number, seed: number): Sample => {
  const rnd = lcg(seed)
  const by = new Map<string, SampledMutant[]>()
  for (const m of all) {
    const k = stratum(m.file)
    const xs = by.get(k) ?? by.set(k, []).get(k)!
    xs.push(m)
  }
  const population: Record<string, number> = {}
  const mutants: SampledMutant[] = []
  for (const [k, xs] of [...by].sort((a, b) => a[0].localeCompare(b[0]))) {
    population[k] = xs.length
    const a = [...xs]
    for (let i = 0; i < Math.min(perStratum, a.length); i++) {
      const j = i + Math.floor(rnd() * (a.length - i))
      ;[a[i], a[j]] = [a[j]!, a[i]!]
      mutants.push(a[i]!)
    }
  }
  return { seed, perStratum, population, mutants }
}

/** Every mutant Stryker's instrumenter makes in `files`, with its configured exclusions. */
export const listMutants = async (files: readonly string[]): Promise<SampledMutant[]> => {
  const { Instrumenter } = await import("@stryker-mutator/instrumenter")
  const quiet = new Proxy({}, { get: (_t, k) => (String(k).startsWith("is") ? () => false : () => undefined) })
  const res = await new Instrumenter(quiet as never).instrument(
    files.map((name) => ({ name, content: readFileSync(name, "utf8"), mutate: true })),
    { plugins: null, excludedMutations: [], ignorers: [], mutationRanges: [] } as never,
  )
  return res.mutants.map((m) => ({ file: m.fileName, location: m.location, mutator: m.mutatorName, replacement: m.replacement }))
}

/** Stryker's `--mutate` pattern for one mutant's node (1-based line, 0-based column, as Stryker reads it). */
export const mutateRange = (m: SampledMutant): string =>
  `${m.file}:${m.location.start.line + 1}:${m.location.start.column}-${m.location.end.line + 1}:${m.location.end.column}`

/** The key that identifies a mutant in Stryker's JSON report (1-based lines and columns there). */
export const reportKey = (file: string, line1: number, column1: number, mutator: string, replacement: string): string =>
  `${file}:${line1}:${column1}:${mutator}:${replacement}`
export const sampledKey = (m: SampledMutant): string =>
  reportKey(m.file, m.location.start.line + 1, m.location.start.column + 1, m.mutator, m.replacement)
