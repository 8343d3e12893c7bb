/**
 * The machinery behind kspec's command table (cli/commands.ts): a command is declared once, as
 * data (name, summary, description, flags with their value types, positionals, examples, exit
 * codes) plus its run function, and the parser, the usage line and the `--help` text are all
 * derived from that declaration.
 *
 * Flag values are decoded with Effect Schema (cli/values.ts). Bad usage is a `UsageError`: one
 * line naming the flag or argument and what was expected; `main` prints it with the command's
 * usage line and exits 2.
 */
import { Result, Schema } from "effect"

/** Bad command-line usage, in one line (the caller adds the usage line). */
export class UsageError extends Error {
  override readonly name = "UsageError"
}

/** How the values of a flag (or a positional) are written and decoded. */
export interface ValueType<A> {
  /** The placeholder in usage lines: `N`, `FILE`, `DURATION`. */
  readonly metavar: string
  /** What a valid value is, completing "expected ...": `a whole number from 1 to 1000000000`. */
  readonly expected: string
  /** Decodes the text of the value. */
  readonly schema: Schema.Codec<A, string>
  /** The valid values, when they are names from a fixed list: a bad one is an "unknown name". */
  readonly choices?: readonly string[]
  /** A few choices for `--help` to show when there are too many to list. */
  readonly examples?: readonly string[]
}

/** What a valid value is: every choice in an error message; in `--help`, the examples if there are any. */
export const expectedText = (t: ValueType<unknown>, forHelp = false): string => {
  if (t.choices === undefined) return t.expected
  if (forHelp && t.examples !== undefined) return `${t.expected}, e.g. ${t.examples.join(", ")} (an unknown name gets the whole list)`
  return `${t.expected}: ${t.choices.join(", ")}`
}

interface FlagBase {
  /** One line of help. */
  readonly doc: string
  /** Flags this one cannot be given with. */
  readonly excludes?: readonly string[]
  /** The value names a file kspec writes: checked for writability before the command runs. */
  readonly output?: boolean
}

/** A flag without a value (`--quick`): true when given. */
export interface SwitchFlag extends FlagBase { readonly kind: "switch" }

/** A flag with one value (`--runs N`); `default` when absent. */
export interface ValueFlag<A> extends FlagBase {
  readonly kind: "value"
  readonly type: ValueType<A>
  readonly default?: A
  /** How `--help` states the default, when not the value itself ("a fresh seed, printed"). */
  readonly defaultDoc?: string
}

/**
 * A flag with a list of values: repeated (`--focus A --focus B`), comma-separated
 * (`--focus A,B`), or followed by more values (`--focus A B`, up to the next flag).
 */
export interface ListFlag<A> extends FlagBase {
  readonly kind: "list"
  readonly type: ValueType<A>
}

export type Flag = SwitchFlag | ValueFlag<any> | ListFlag<any>

/** The decoded value of a flag: a list, a boolean, a value or (no default) undefined. */
export type FlagValue<F> =
  F extends ListFlag<infer A> ? readonly A[]
  : F extends SwitchFlag ? boolean
  : F extends ValueFlag<infer A> ? (F extends { readonly default: A } ? A : A | undefined)
  : never

export type Flags = Readonly<Record<string, Flag>>
export type FlagValues<F extends Flags> = { readonly [K in keyof F]: FlagValue<F[K]> }

/** Constructors that keep each flag's value type. */
export const flag = {
  switch: (doc: string, more: Omit<SwitchFlag, "kind" | "doc"> = {}): SwitchFlag => ({ kind: "switch", doc, ...more }),
  value: <A, const M extends Omit<ValueFlag<A>, "kind" | "type" | "doc"> = {}>(type: ValueType<A>, doc: string, more?: M): ValueFlag<A> & M =>
    ({ kind: "value", type, doc, ...(more ?? {}) }) as ValueFlag<A> & M,
  list: <A>(type: ValueType<A>, doc: string, more: Omit<ListFlag<A>, "kind" | "type" | "doc"> = {}): ListFlag<A> => ({ kind: "list", type, doc, ...more }),
}

/** A positional argument; all are required. */
export interface Positional {
  readonly name: string
  readonly doc: string
}

/** Where a command writes its output. */
export interface CommandIO {
  readonly log: (line: string) => void
  /** The live progress line's stream, or null for none. */
  readonly progress: { readonly write: (s: string) => unknown; readonly isTTY: boolean } | null
}

/** A file or directory a command writes: checked for writability before the command runs. */
export interface OutputTarget {
  readonly path: string
  readonly kind: "file" | "dir"
  /** What is written there (`counterexamples (proofs-tests/regressions)`), or the flag that named it (`--json`). */
  readonly what: string
}

/** What a command's run function is given. */
export interface CommandInput<F extends Flags> {
  readonly flags: FlagValues<F>
  readonly args: readonly string[]
}

/** A command of the table: its documentation, its flags and positionals, and what it does. */
export interface Command<F extends Flags = Flags> {
  readonly name: string
  /** One line, for the list of commands. */
  readonly summary: string
  /** The paragraph `--help` prints. */
  readonly description: string
  readonly flags: F
  readonly positionals: readonly Positional[]
  readonly examples: readonly { readonly command: string; readonly doc: string }[]
  readonly exitCodes: readonly { readonly code: number; readonly meaning: string }[]
  /** Files and directories the command will write (beyond `output` flags), checked before it runs. */
  readonly writes?: (input: CommandInput<F>) => readonly OutputTarget[]
  /** Runs the command; returns its exit code. */
  readonly run: (input: CommandInput<F>, io: CommandIO) => number | Promise<number>
}

/** A command of any flags (the table's element type). */
export type AnyCommand = Command<any>

const flagsOf = (c: AnyCommand): Flags => c.flags as Flags

/** Declare a command (infers its flags' value types for `run`). */
export const command = <const F extends Flags>(c: Command<F>): Command<F> => c

/** `minCover` -> `--min-cover`. */
export const flagName = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`

const flagByName = (c: AnyCommand, name: string): string | undefined => Object.keys(flagsOf(c)).find((k) => flagName(k) === name)

/** `[--seed N]`, `[--emit-test]`, `[--focus NAME...]`; two exclusive flags share a bracket. */
export const usageLine = (c: AnyCommand): string => {
  const parts: string[] = []
  const done = new Set<string>()
  const flags = flagsOf(c)
  const one = (k: string): string => {
    const f = flags[k]!
    return f.kind === "switch" ? flagName(k) : `${flagName(k)} ${f.type.metavar}${f.kind === "list" ? "..." : ""}`
  }
  for (const k of Object.keys(flags)) {
    if (done.has(k)) continue
    const group = [k, ...(flags[k]!.excludes ?? []).filter((x) => x in flags && !done.has(x))]
    for (const g of group) done.add(g)
    parts.push(`[${group.map(one).join(" | ")}]`)
  }
  return ["usage: kspec", c.name, ...parts, ...c.positionals.map((p) => p.name)].join(" ")
}

const wrap = (text: string, width: number, indent: string): string[] => {
  const out: string[] = []
  for (const para of text.split("\n")) {
    let line = ""
    for (const w of para.split(/\s+/).filter((x) => x !== "")) {
      if (line !== "" && indent.length + line.length + 1 + w.length > width) { out.push(indent + line); line = w } else line = line === "" ? w : `${line} ${w}`
    }
    out.push(indent + line)
  }
  return out
}

const defaultText = (f: Flag): string | undefined => {
  if (f.kind !== "value") return undefined
  if (f.defaultDoc !== undefined) return f.defaultDoc
  return f.default === undefined ? undefined : String(f.default)
}

/** The text of `kspec CMD --help`, all of it from the command's declaration. */
export const helpText = (c: AnyCommand, width = 100): string => {
  const lines = [`kspec ${c.name}: ${c.summary}`, "", usageLine(c), "", ...wrap(c.description, width, "")]
  const rows: [string, string][] = [
    ...c.positionals.map((p): [string, string] => [p.name, p.doc]),
    ...Object.entries(flagsOf(c)).map(([k, f]): [string, string] => {
      const name = f.kind === "switch" ? flagName(k) : `${flagName(k)} ${f.type.metavar}${f.kind === "list" ? "..." : ""}`
      const d = defaultText(f)
      const expected = f.kind === "switch" ? "" : ` ${f.type.metavar}: ${expectedText(f.type, true)}.`
      const output = f.output === true ? " Checked before the run; replaced atomically." : ""
      return [name, `${f.doc}.${expected}${d !== undefined ? ` Default: ${d}.` : ""}${output}`]
    }),
    ["-h, --help", "Print this help."],
  ]
  const w0 = Math.min(28, Math.max(...rows.map(([n]) => n.length)) + 2)
  lines.push("", c.positionals.length > 0 ? "arguments and flags:" : "flags:")
  for (const [n, d] of rows) {
    const body = wrap(d, width, " ".repeat(w0 + 2))
    if (n.length + 2 <= w0) body[0] = `  ${n.padEnd(w0)}${body[0]!.trimStart()}`
    else body.unshift(`  ${n}`)
    lines.push(...body)
  }
  if (c.examples.length > 0) {
    lines.push("", "examples:")
    for (const e of c.examples) lines.push(`  ${e.command}`, ...wrap(e.doc, width, "      "))
  }
  lines.push("", "exit codes:", ...c.exitCodes.map((e) => `  ${e.code}  ${e.meaning}`))
  return lines.join("\n")
}

/** A raw command-line token: `--name`, `--name=value`, `-h`, or a positional. */
type Token = { readonly kind: "flag"; readonly name: string; readonly inline?: string } | { readonly kind: "arg"; readonly value: string }

const tokenize = (argv: readonly string[]): Token[] => {
  const out: Token[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === "--") { for (const r of argv.slice(i + 1)) out.push({ kind: "arg", value: r }); break }
    const eq = a.indexOf("=")
    if (a.startsWith("--") && eq > 2) out.push({ kind: "flag", name: a.slice(0, eq), inline: a.slice(eq + 1) })
    else if (a.startsWith("--") || (a.startsWith("-") && a.length > 1 && !/^-\d/.test(a))) out.push({ kind: "flag", name: a })
    else out.push({ kind: "arg", value: a })
  }
  return out
}

/** True when `argv` asks for help (`-h`/`--help` before any `--`). */
export const wantsHelp = (argv: readonly string[]): boolean => {
  const end = argv.indexOf("--")
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === "--help" || a === "-h")
}

const quote = (s: string): string => JSON.stringify(s)

/** Decode one value of flag `name`, or throw a UsageError saying what was expected. */
export const decodeValue = <A>(name: string, type: ValueType<A>, raw: string): A => {
  const r = Schema.decodeUnknownResult(type.schema)(raw)
  if (Result.isSuccess(r)) return r.success
  throw new UsageError(type.choices !== undefined
    ? `${name}: unknown name ${quote(raw)} (expected ${expectedText(type)})`
    : `${name}: ${quote(raw)} is not valid (expected ${type.expected})`)
}

const decodeList = <A>(name: string, type: ValueType<A>, raws: readonly string[]): A[] => {
  const names = raws.flatMap((r) => r.split(",")).map((r) => r.trim()).filter((r) => r !== "")
  const bad = names.filter((n) => Result.isFailure(Schema.decodeUnknownResult(type.schema)(n)))
  if (bad.length > 1 && type.choices !== undefined) {
    throw new UsageError(`${name}: unknown names ${bad.map(quote).join(", ")} (expected ${expectedText(type)})`)
  }
  return [...new Set(names.map((n) => decodeValue(name, type, n)))]
}

/**
 * Parse `argv` (the words after the command name) against the command's declaration. Unknown
 * flags, missing values, repeated single-value flags, exclusive flags together, bad values and
 * missing or extra positionals are UsageErrors.
 */
export const parseCommandLine = <F extends Flags>(c: Command<F>, argv: readonly string[]): CommandInput<F> => {
  const raw = new Map<string, string[]>()
  const args: string[] = []
  const known = Object.keys(c.flags).map(flagName)
  let list: string | null = null
  const tokens = tokenize(argv)
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    if (t.kind === "arg") {
      if (list !== null) raw.get(list)!.push(t.value)
      else args.push(t.value)
      continue
    }
    const key = flagByName(c, t.name)
    if (key === undefined) {
      throw new UsageError(`unknown flag ${t.name} (kspec ${c.name} takes ${known.length === 0 ? "no flags" : known.join(", ")})`)
    }
    const f = c.flags[key]!
    list = null
    if (f.kind === "switch") {
      if (t.inline !== undefined) throw new UsageError(`${t.name} takes no value (got ${quote(t.inline)})`)
      raw.set(key, [])
      continue
    }
    let value = t.inline
    if (value === undefined) {
      const next = tokens[i + 1]
      if (next?.kind !== "arg") throw new UsageError(`${t.name} needs a value: ${f.type.metavar}, ${expectedText(f.type, true)}`)
      value = next.value
      i++
    }
    if (f.kind === "value" && raw.has(key)) throw new UsageError(`${t.name} is given twice`)
    raw.set(key, [...(raw.get(key) ?? []), value])
    if (f.kind === "list") list = key
  }
  for (const k of raw.keys()) {
    const other = (c.flags[k]!.excludes ?? []).find((x) => raw.has(x))
    if (other !== undefined) throw new UsageError(`${flagName(k)} and ${flagName(other)} exclude each other`)
  }
  if (args.length > c.positionals.length) {
    throw new UsageError(`unexpected argument ${quote(args[c.positionals.length]!)} (kspec ${c.name} takes ${c.positionals.length === 0 ? "no arguments" : c.positionals.map((p) => p.name).join(" ")})`)
  }
  const missing = c.positionals[args.length]
  if (missing !== undefined) throw new UsageError(`missing ${missing.name}: ${missing.doc.charAt(0).toLowerCase()}${missing.doc.slice(1)}`)
  const flags: Record<string, unknown> = {}
  for (const [k, f] of Object.entries(c.flags)) {
    const given = raw.get(k)
    if (f.kind === "switch") flags[k] = given !== undefined
    else if (f.kind === "list") flags[k] = given === undefined ? [] : decodeList(flagName(k), f.type, given)
    else flags[k] = given === undefined ? f.default : decodeValue(flagName(k), f.type, given[0]!)
  }
  return { flags: flags as FlagValues<F>, args }
}

/** The output paths a command will write: its `output` flags' values and its declared `writes`. */
export const outputsOf = <F extends Flags>(c: Command<F>, input: CommandInput<F>): OutputTarget[] => [
  ...Object.entries(c.flags).flatMap(([k, f]) => {
    const v = (input.flags as Record<string, unknown>)[k]
    return f.output === true && typeof v === "string" ? [{ path: v, kind: "file" as const, what: flagName(k) }] : []
  }),
  ...(c.writes?.(input) ?? []),
]
