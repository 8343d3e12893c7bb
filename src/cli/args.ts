/**
 * Command-line flags: parsed with node:util parseArgs (strict: unknown flags are errors) and
 * their values decoded with Effect Schema, so bad input gets one clear message and exit 2.
 */
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
