/**
 * Command-line flags: parsed with node:util parseArgs (strict: unknown flags are errors) and
 * their values decoded with Effect Schema, so bad input gets one clear message and exit 2.
 */
import { availableParallelism } from "node:os"
import { parseArgs } from "node:util"
import { Result, Schema } from "effect"

export class UsageError extends Error {
  override readonly name = "UsageError"
}

const PositiveInt = Schema.NumberFromString.pipe(Schema.decodeTo(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 1e9 })))))
const Seed = Schema.NumberFromString.pipe(Schema.decodeTo(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: -(2 ** 31), maximum: 2 ** 31 - 1 })))))

const decodeFlag = (flag: string, schema: Schema.Top, raw: string): number => {
  const r = Schema.decodeUnknownResult(schema as never)(raw)
  if (Result.isFailure(r)) throw new UsageError(`--${flag}: ${JSON.stringify(raw)} is not valid (${(r.failure as { message: string }).message.split("\n")[0]})`)
  return r.success as number
}

export interface CheckFlags { readonly seed: number | undefined; readonly runs: number; readonly depth: number }

export const checkUsage = "usage: kspec check [--seed N] [--runs N] [--depth N]"

/** Flags of `kspec check`. */
export const parseCheckFlags = (argv: readonly string[]): CheckFlags => {
  let values: Record<string, string | boolean | undefined>
  try {
    ({ values } = parseArgs({
      args: [...argv], strict: true, allowPositionals: false,
      options: { seed: { type: "string" }, runs: { type: "string" }, depth: { type: "string" } },
    }))
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${checkUsage}`)
  }
  const str = (k: string) => (typeof values[k] === "string" ? (values[k] as string) : undefined)
  const seed = str("seed")
  const runs = str("runs")
  const depth = str("depth")
  return {
    seed: seed === undefined ? undefined : decodeFlag("seed", Seed, seed),
    runs: runs === undefined ? 500 : decodeFlag("runs", PositiveInt, runs),
    depth: depth === undefined ? 150 : decodeFlag("depth", PositiveInt, depth),
  }
}

export const replayUsage = "usage: kspec replay FILE"

/** Arguments of `kspec replay`: exactly one trace file. */
export const parseReplayArgs = (argv: readonly string[]): { readonly file: string } => {
  let positionals: string[]
  try {
    ({ positionals } = parseArgs({ args: [...argv], strict: true, allowPositionals: true, options: {} }))
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${replayUsage}`)
  }
  if (positionals.length !== 1) throw new UsageError(`kspec replay takes one trace file, got ${positionals.length}\n${replayUsage}`)
  return { file: positionals[0]! }
}

export interface DocsFlags { readonly check: boolean }

export const docsUsage = "usage: kspec docs [--check]"

/** Flags of `kspec docs`: `--check` compares instead of writing. */
export const parseDocsFlags = (argv: readonly string[]): DocsFlags => {
  let values: Record<string, string | boolean | undefined>
  try {
    ({ values } = parseArgs({ args: [...argv], strict: true, allowPositionals: false, options: { check: { type: "boolean" } } }))
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${docsUsage}`)
  }
  return { check: values.check === true }
}

// ---- kspec fuzz ----------------------------------------------------------------------------------

export interface FuzzFlags {
  /** Time box in milliseconds, or null with --runs. */
  readonly timeMs: number | null
  /** Traces in the whole campaign (all shards), or null for a time box. */
  readonly runs: number | null
  readonly focus: readonly string[]
  readonly workers: number
  /** 0-based shard index and shard count. */
  readonly shard: { readonly index: number; readonly count: number }
  readonly seed: number | undefined
  readonly json: string | undefined
  readonly stats: string | undefined
  readonly minCover: number | undefined
  readonly emitTest: boolean
  /** A planted mutant to fuzz instead of the impl (a self-test of the fuzzer). */
  readonly mutant: string | undefined
  readonly depth: number
}

export const fuzzUsage =
  "usage: kspec fuzz [--time 60s | --runs N] [--focus NAME...] [--workers N] [--shard I/N] [--seed N] [--json FILE] [--stats FILE] [--min-cover N] [--emit-test] [--mutant NAME]"

/** A duration: a number with an optional unit ms, s (the default), m or h. */
const Duration = Schema.String.pipe(Schema.check(Schema.isPattern(/^\d+(\.\d+)?(ms|s|m|h)?$/, { message: "expected a duration such as 90s, 2m, 1h or 500ms" })))
const durationMs = (s: string): number => {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(s)!
  return Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "s") as "ms" | "s" | "m" | "h"])
}
const Shard = Schema.String.pipe(Schema.check(Schema.isPattern(/^\d+\/\d+$/, { message: "expected I/N, e.g. 2/4" })))
const Workers = Schema.NumberFromString.pipe(Schema.decodeTo(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 64 })))))
const Count = Schema.NumberFromString.pipe(Schema.decodeTo(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 1e9 })))))

const decodeString = (flag: string, schema: Schema.Top, raw: string): string => {
  const r = Schema.decodeUnknownResult(schema as never)(raw)
  if (Result.isFailure(r)) throw new UsageError(`--${flag}: ${JSON.stringify(raw)} is not valid (${(r.failure as { message: string }).message.split("\n")[0]})`)
  return r.success as string
}

/**
 * Flags of `kspec fuzz`. `--focus` takes one or more names (`--focus Call Recv`, repeated, or
 * comma-separated); `validFocus` lists the names it accepts and `mutants` the planted mutants.
 */
export const parseFuzzFlags = (argv: readonly string[], validFocus: readonly string[], mutants: readonly string[]): FuzzFlags => {
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>
  let tokens: readonly { kind: string; name?: string; value?: string | undefined }[]
  try {
    ({ values, tokens } = parseArgs({
      args: [...argv], strict: true, allowPositionals: true, tokens: true,
      options: {
        time: { type: "string" }, runs: { type: "string" }, focus: { type: "string", multiple: true }, workers: { type: "string" },
        shard: { type: "string" }, seed: { type: "string" }, json: { type: "string" }, stats: { type: "string" },
        "min-cover": { type: "string" }, "emit-test": { type: "boolean" }, mutant: { type: "string" }, depth: { type: "string" },
      },
    }))
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${fuzzUsage}`)
  }
  // Positionals are more focus names, allowed only right after --focus NAME.
  const focus: string[] = []
  let inFocus = false
  for (const t of tokens) {
    if (t.kind === "option") { inFocus = t.name === "focus"; if (inFocus) focus.push(t.value ?? "") }
    else if (t.kind === "positional") {
      if (!inFocus) throw new UsageError(`unexpected argument ${JSON.stringify(t.value)}\n${fuzzUsage}`)
      focus.push(t.value ?? "")
    }
  }
  const names = focus.flatMap((f) => f.split(",")).map((f) => f.trim()).filter((f) => f !== "")
  const unknown = names.filter((n) => !validFocus.includes(n))
  if (unknown.length > 0) {
    throw new UsageError(`--focus: unknown name${unknown.length > 1 ? "s" : ""} ${unknown.map((n) => JSON.stringify(n)).join(", ")}. Valid names (syscalls, invocations, invoked objects, rows of the coverage matrix):\n  ${validFocus.join(" ")}`)
  }
  const str = (k: string) => (typeof values[k] === "string" ? (values[k] as string) : undefined)
  const time = str("time")
  const runs = str("runs")
  if (time !== undefined && runs !== undefined) throw new UsageError(`--time and --runs exclude each other\n${fuzzUsage}`)
  const shard = str("shard")
  let shardIx = { index: 0, count: 1 }
  if (shard !== undefined) {
    const [i, n] = decodeString("shard", Shard, shard).split("/").map(Number) as [number, number]
    if (n < 1 || i < 1 || i > n) throw new UsageError(`--shard: ${JSON.stringify(shard)} is not valid (expected I/N with 1 <= I <= N)`)
    shardIx = { index: i - 1, count: n }
  }
  const mutant = str("mutant")
  if (mutant !== undefined && !mutants.includes(mutant)) throw new UsageError(`--mutant: unknown mutant ${JSON.stringify(mutant)}; one of: ${mutants.join(", ")}`)
  const seed = str("seed")
  const workers = str("workers")
  const minCover = str("min-cover")
  const depth = str("depth")
  const timeMs = time === undefined ? (runs === undefined ? 60_000 : null) : durationMs(decodeString("time", Duration, time))
  if (timeMs !== null && timeMs < 1) throw new UsageError(`--time: ${JSON.stringify(time)} is not valid (expected a positive duration)`)
  return {
    timeMs,
    runs: runs === undefined ? null : decodeFlag("runs", Count, runs),
    focus: [...new Set(names)],
    workers: workers === undefined ? defaultWorkers() : decodeFlag("workers", Workers, workers),
    shard: shardIx,
    seed: seed === undefined ? undefined : decodeFlag("seed", Seed, seed),
    json: str("json"),
    stats: str("stats"),
    minCover: minCover === undefined ? undefined : decodeFlag("min-cover", Count, minCover),
    emitTest: values["emit-test"] === true,
    mutant,
    depth: depth === undefined ? 150 : decodeFlag("depth", PositiveInt, depth),
  }
}

const defaultWorkers = (): number => Math.max(1, Math.min(64, availableParallelism()))
