/**
 * The files kspec exchanges with the outside world, read and written safely.
 *
 * - Input is read once, as one snapshot: a file rewritten while a run uses it does not reach
 *   the run. A problem (missing, a directory, not JSON, a field of the wrong shape) is one line
 *   naming the file and, for JSON, the place inside it: `events[3].mrs[2]: expected a 32-bit
 *   word, got -1`.
 * - Output goes to a temporary file in the target's directory, which is then renamed over the
 *   target: a reader, or a crash, sees the old file or the new one, never half of one.
 * - An output path can be checked before a long run (`checkWritable`), so a campaign is not lost
 *   to a typo in `--json` at its end.
 * @category decoding
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from "node:fs"
import type { Stats } from "node:fs"
import { basename, dirname, join, resolve } from "node:path"
import { threadId } from "node:worker_threads"
import { Result, Schema, SchemaIssue } from "effect"

/** A file kspec was asked to read and cannot use: `file` and the `problem`, in one line. */
export class InputFileError extends Error {
  override readonly name: string = "InputFileError"
  constructor(readonly file: string, readonly problem: string) {
    super(`${file}: ${problem}`)
  }
}

/** A path kspec was asked to write and cannot: `file` and the `problem`, in one line. */
export class OutputPathError extends Error {
  override readonly name = "OutputPathError"
  constructor(readonly file: string, readonly problem: string) {
    super(`cannot write ${file}: ${problem}`)
  }
}

/** A file-system error in words (the errno code kept for the curious). */
const fsProblem = (e: unknown): string => {
  const code = (e as NodeJS.ErrnoException).code
  switch (code) {
    case "ENOENT": return "no such file or directory"
    case "EISDIR": return "it is a directory, not a file"
    case "ENOTDIR": return "a part of the path is not a directory"
    case "EACCES": case "EPERM": return `permission denied (${code})`
    case "EROFS": return "read-only file system (EROFS)"
    case "ENOSPC": return "no space left on the device (ENOSPC)"
    default: return code !== undefined ? `${(e as Error).message.split("\n")[0]}` : String(e)
  }
}

type InputErrorClass = new (file: string, problem: string) => InputFileError

/**
 * The text of `file`, read once. A missing file, a directory or an unreadable file throws
 * `error` (an InputFileError class) with the problem.
 */
export const readInputFile = (file: string, error: InputErrorClass = InputFileError): string => {
  try {
    if (statSync(file).isDirectory()) throw new error(file, "it is a directory, not a file")
    return readFileSync(file, "utf8")
  } catch (e) {
    if (e instanceof InputFileError) throw e
    throw new error(file, fsProblem(e))
  }
}

/** Line and column (1-based) of offset `at` in `text`. */
const lineColumn = (text: string, at: number): string => {
  const before = text.slice(0, at).split("\n")
  return `line ${before.length}, column ${before[before.length - 1]!.length + 1}`
}

/**
 * Where JSON `text` stops being JSON: the offset of the first character a JSON parser cannot
 * accept (text.length if it ends too early), or -1 if it parses. JSON.parse's own messages in
 * Node 20 often give no position.
 */
export const jsonErrorOffset = (text: string): number => {
  let i = 0
  const ws = () => { while (i < text.length && " \t\n\r".includes(text[i]!)) i++ }
  const lit = (w: string) => { if (text.startsWith(w, i)) { i += w.length; return true } return false }
  const str = (): boolean => {
    i++
    while (i < text.length) {
      const c = text.charCodeAt(i)
      if (c === 0x22) { i++; return true }
      if (c < 0x20) return false
      if (c === 0x5c) {
        const e = text[i + 1]
        if (e === "u") { if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) { i += 2; return false } i += 6 } else if (e !== undefined && "\"\\/bfnrt".includes(e)) i += 2
        else { i++; return false }
      } else i++
    }
    return false
  }
  const num = (): boolean => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400))
    if (m === null) return false
    i += m[0].length
    return true
  }
  const value = (): boolean => {
    ws()
    const c = text[i]
    if (c === "{") {
      i++; ws()
      if (text[i] === "}") { i++; return true }
      for (;;) {
        ws()
        if (text[i] !== "\"" || !str()) return false
        ws()
        if (text[i] !== ":") return false
        i++
        if (!value()) return false
        ws()
        if (text[i] === ",") { i++; continue }
        if (text[i] === "}") { i++; return true }
        return false
      }
    }
    if (c === "[") {
      i++; ws()
      if (text[i] === "]") { i++; return true }
      for (;;) {
        if (!value()) return false
        ws()
        if (text[i] === ",") { i++; continue }
        if (text[i] === "]") { i++; return true }
        return false
      }
    }
    if (c === "\"") return str()
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return num()
    return lit("true") || lit("false") || lit("null")
  }
  if (!value()) return i
  ws()
  return i < text.length ? i : -1
}

/** Parse JSON text, or throw `error` saying where the text stops being JSON. */
export const parseJsonText = (file: string, text: string, error: InputErrorClass = InputFileError): unknown => {
  if (text.trim() === "") throw new error(file, "not JSON: the file is empty")
  try {
    return JSON.parse(text)
  } catch {
    const at = jsonErrorOffset(text)
    const where = at < 0 ? "" : at >= text.length ? `the text ends too early (${lineColumn(text, at)})` : `unexpected ${JSON.stringify(text[at])} at ${lineColumn(text, at)}`
    throw new error(file, `not JSON: ${where || "not valid JSON"}`)
  }
}

/** A JSON path as a reader writes it: `events[3].mrs[2]`. */
export const jsonPath = (path: readonly PropertyKey[]): string =>
  path.map((k, i) => (typeof k === "number" ? `[${k}]` : `${i === 0 ? "" : "."}${String(k)}`)).join("")

const valueAt = (json: unknown, path: readonly PropertyKey[]): { readonly found: boolean; readonly value?: unknown } => {
  let v: unknown = json
  for (const k of path) {
    if (typeof v !== "object" || v === null || !(k in v)) return { found: false }
    v = (v as Record<PropertyKey, unknown>)[k]
  }
  return { found: true, value: v }
}

/** A value as it stands in the file, shortened. */
export const showJson = (v: unknown): string => {
  const s = v === undefined ? "nothing" : JSON.stringify(v) ?? String(v)
  return s.length > 60 ? `${s.slice(0, 57)}...` : s
}

const standardIssues = SchemaIssue.makeFormatterStandardSchemaV1()

/**
 * One line for what `schema` finds wrong with `json`, naming the place:
 * `events[3].mrs[2]: expected a 32-bit word, got -1 (and 2 more problems)`; null if it decodes.
 * Fields the schema does not know are problems too (a misspelt field is not silently ignored).
 */
export const schemaProblem = (schema: Schema.Top, json: unknown): string | null => {
  const r = Schema.decodeUnknownResult(schema as never)(json, { errors: "all", onExcessProperty: "error" })
  if (Result.isSuccess(r)) return null
  const issues = standardIssues((r.failure as { issue: SchemaIssue.Issue }).issue).issues
  const first = issues[0]
  if (first === undefined) return (r.failure as Error).message.split("\n")[0] ?? "invalid"
  const path = (first.path ?? []).map((p) => (typeof p === "object" && p !== null && "key" in p ? p.key : p)) as PropertyKey[]
  const at = valueAt(json, path)
  let what: string
  if (first.message === "Missing key") what = "missing"
  else if (first.message === "Expected no excess property") what = "unknown field"
  else what = `${first.message.charAt(0).toLowerCase()}${first.message.slice(1)}${at.found ? `, got ${showJson(at.value)}` : ""}`
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? "s" : ""})` : ""
  return `${path.length === 0 ? "" : `${jsonPath(path)}: `}${what}${more}`
}

/** stat, or undefined where there is nothing (ENOENT) or a file stands in the path (ENOTDIR). */
const statOrNone = (p: string): Stats | undefined => {
  try {
    return statSync(p)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === "ENOENT" || code === "ENOTDIR") return undefined
    throw e
  }
}

/**
 * Write `text` to `file` atomically: into a temporary file in the same directory (created if
 * missing), flushed, then renamed over `file`. A failure leaves `file` as it was, removes the
 * temporary file and throws an OutputPathError.
 */
export const writeFileAtomic = (file: string, text: string): void => {
  const target = resolve(file)
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}-${threadId}-${Math.random().toString(36).slice(2, 8)}.tmp`)
  try {
    mkdirSync(dirname(target), { recursive: true })
    if (statOrNone(target)?.isDirectory() === true) throw new OutputPathError(file, "it is a directory")
    const fd = openSync(tmp, "wx")
    try {
      writeSync(fd, text)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, target)
  } catch (e) {
    try { rmSync(tmp, { force: true }) } catch { /* never created */ }
    if (e instanceof OutputPathError) throw e
    throw new OutputPathError(file, fsProblem(e))
  }
}

/**
 * Why `path` could not be written, or null if it can: for a `"file"`, it must not be a
 * directory; for a `"dir"`, not a file. Its nearest existing ancestor must be a directory in
 * which a file can be created (tried for real, with a temporary file, since permission bits do
 * not tell the whole story: a read-only mount, or root). Nothing is left behind.
 */
export const writeProblem = (path: string, kind: "file" | "dir" = "file"): string | null => {
  const abs = resolve(path)
  const st = statOrNone(abs)
  if (kind === "file" && st?.isDirectory() === true) return "it is a directory"
  if (kind === "dir" && st !== undefined && !st.isDirectory()) return "it is not a directory"
  let dir = kind === "dir" ? abs : dirname(abs)
  for (;;) {
    const d = statOrNone(dir)
    if (d !== undefined) {
      if (!d.isDirectory()) return `${dir} is not a directory`
      break
    }
    const up = dirname(dir)
    if (up === dir) return "no such directory"
    dir = up
  }
  const probe = join(dir, `.kspec-write-probe.${process.pid}-${threadId}-${Math.random().toString(36).slice(2, 8)}`)
  try {
    closeSync(openSync(probe, "wx"))
    unlinkSync(probe)
    return null
  } catch (e) {
    return `${dir}: ${fsProblem(e)}`
  }
}

/** Throw an OutputPathError unless `path` can be written (see `writeProblem`). */
export const assertWritable = (path: string, kind: "file" | "dir" = "file"): void => {
  const p = writeProblem(path, kind)
  if (p !== null) throw new OutputPathError(path, p)
}
