/**
 * The value types of kspec's flags: how each is written (`N`, `DURATION`, `I/N`), what a valid
 * one is (the words of the error message and of `--help`), and its Effect Schema decoder from the
 * text of the command line.
 */
import { Schema, SchemaTransformation } from "effect"
import type { ValueType } from "./command.ts"

/** An integer written in decimal, from `min` to `max`. */
const intBetween = (min: number, max: number): Schema.Codec<number, string> =>
  Schema.String.pipe(
    Schema.check(Schema.isPattern(/^[+-]?\d{1,16}$/)),
    Schema.decodeTo(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: min, maximum: max }))), SchemaTransformation.transform({ decode: Number, encode: String })),
  )

/** A whole number from `min` to `max` (`N`). */
export const wholeNumber = (min: number, max: number, metavar = "N"): ValueType<number> =>
  ({ metavar, expected: `a whole number from ${min} to ${max}`, schema: intBetween(min, max) })

/** A count of traces or times: 1 to 10^9. */
export const count: ValueType<number> = wholeNumber(1, 1e9)

/** A PRNG seed: a 32-bit signed integer. */
export const seed: ValueType<number> = { metavar: "N", expected: `an integer from ${-(2 ** 31)} to ${2 ** 31 - 1}`, schema: intBetween(-(2 ** 31), 2 ** 31 - 1) }

const durationUnits = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const
const durationPattern = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/

/** A positive duration in milliseconds, written `90s`, `2m`, `1h`, `500ms` or `30` (seconds). */
export const duration: ValueType<number> = {
  metavar: "DURATION",
  expected: "a positive duration such as 90s, 2m, 1h or 500ms",
  schema: Schema.String.pipe(
    Schema.check(Schema.isPattern(durationPattern)),
    Schema.decodeTo(Schema.Number.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(1))), SchemaTransformation.transform({
      decode: (s: string) => {
        const m = durationPattern.exec(s)!
        return Math.round(Number(m[1]) * durationUnits[(m[2] ?? "s") as keyof typeof durationUnits])
      },
      encode: (ms: number) => `${ms}ms`,
    })),
  ),
}

/** Part I of N of a sharded campaign, decoded 0-based: `2/4` is `{ index: 1, count: 4 }`. */
export const shard: ValueType<{ readonly index: number; readonly count: number }> = {
  metavar: "I/N",
  expected: "part I of N, 1 <= I <= N <= 10000, e.g. 2/4",
  schema: Schema.String.pipe(
    Schema.check(Schema.isPattern(/^\d{1,5}\/\d{1,5}$/)),
    Schema.decodeTo(
      Schema.Struct({ index: Schema.Int, count: Schema.Int }).pipe(Schema.check(Schema.makeFilter((s) => s.index >= 0 && s.index < s.count && s.count <= 10_000))),
      SchemaTransformation.transform({
        decode: (s: string) => { const [i, n] = s.split("/").map(Number) as [number, number]; return { index: i - 1, count: n } },
        encode: (s: { readonly index: number; readonly count: number }) => `${s.index + 1}/${s.count}`,
      }),
    ),
  ),
}

/** A file path (any non-empty text; whether it can be read or written is checked where it is used). */
export const file: ValueType<string> = {
  metavar: "FILE",
  expected: "a file path",
  schema: Schema.String.pipe(Schema.check(Schema.isMinLength(1))),
}

/**
 * One of a fixed list of names (`--focus`, `--mutant`); `what` describes them in errors and help,
 * and `examples`, if given, stand for the whole list in `--help`.
 */
export const oneOf = (names: readonly string[], what: string, examples?: readonly string[]): ValueType<string> => ({
  metavar: "NAME",
  expected: what,
  choices: names,
  ...(examples !== undefined ? { examples } : {}),
  schema: Schema.Literals(names as readonly [string, ...string[]]) as unknown as Schema.Codec<string, string>,
})

/**
 * A scope of `kspec prove`: one of the named scopes or a scope file path. Any non-empty text is
 * accepted here; the file is read and validated when the command runs (a bad one is one line and
 * exit 2 there), and a word that is neither a named scope nor a path is an unknown name.
 */
export const scopeName = (names: readonly string[]): ValueType<string> => ({
  metavar: "NAME|FILE",
  expected: `a named scope (${names.join(", ")}) or a scope file`,
  schema: Schema.String.pipe(Schema.check(Schema.isMinLength(1))),
})
