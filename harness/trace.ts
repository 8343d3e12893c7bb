/**
 * Trace files and boot-configuration files: loading with one clear message per problem, saving
 * atomically. A trace file is what `kspec check` and `kspec fuzz` save for a counterexample and
 * `kspec replay` reads (`{ "kspec": "trace", "version": 2, "config": …, "events": […] }`); a
 * boot-configuration file is a `BootConfig` as JSON (`kspec check --config FILE`).
 *
 * `loadTraceFile` and `loadBootConfigFile` read the file once and return the decoded value, or
 * throw a `TraceFileError` / `ConfigFileError` whose message is one line naming the file and the
 * problem, with the place in the JSON: `t.json: events[3].mrs[2]: expected a 32-bit word, got -1`.
 * The model's decoders (`decodeTraceFile`, `decodeBootConfig`) stay the authority on what is
 * valid; this module adds the reading, the words and the JSON paths.
 * @category decoding
 */
import type { BootConfig, TraceFile } from "../model/index.ts"
import { BootConfigSchema, EventTags, MemoryAccessKinds, SyscallKinds, TraceFileSchema, UserFaultKinds, decodeBootConfig, decodeTraceFile, traceFormatVersion } from "../model/index.ts"
import { InputFileError, parseJsonText, readInputFile, schemaProblem, showJson, writeFileAtomic } from "./files.ts"

/** A trace file that cannot be replayed; the message names the file and the problem. */
export class TraceFileError extends InputFileError {
  override readonly name: string = "TraceFileError"
}

/** A boot-configuration file that cannot be used; the message names the file and the problem. */
export class ConfigFileError extends InputFileError {
  override readonly name: string = "ConfigFileError"
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

/**
 * The first event with an unknown tag, syscall or fault kind, in words a user can act on (the
 * schema's own message for a union lists every member's shape).
 */
const unknownEventProblem = (events: unknown): string | null => {
  if (!Array.isArray(events)) return null
  for (let i = 0; i < events.length; i++) {
    const e: unknown = events[i]
    if (!isObject(e)) return `events[${i}]: expected an event object, got ${showJson(e)}`
    if (!(EventTags as readonly unknown[]).includes(e.tag)) return `events[${i}].tag: unknown event ${showJson(e.tag)} (expected one of ${EventTags.join(", ")})`
    if (e.tag === "Syscall" && !(SyscallKinds as readonly unknown[]).includes(e.syscall)) {
      return `events[${i}].syscall: unknown syscall ${showJson(e.syscall)} (kspec models ${SyscallKinds.join(", ")})`
    }
    if (e.tag === "UserFault" && !(UserFaultKinds as readonly unknown[]).includes(e.kind)) {
      return `events[${i}].kind: unknown fault kind ${showJson(e.kind)} (expected one of ${UserFaultKinds.join(", ")})`
    }
    if (e.tag === "MemoryAccess" && !(MemoryAccessKinds as readonly unknown[]).includes(e.kind)) {
      return `events[${i}].kind: unknown access kind ${showJson(e.kind)} (expected one of ${MemoryAccessKinds.join(", ")})`
    }
  }
  return null
}

/** Decode the text of a trace file named `file` (for messages), or throw a TraceFileError. */
export const parseTraceFile = (file: string, text: string): TraceFile => {
  const fail = (problem: string): never => { throw new TraceFileError(file, problem) }
  const json = parseJsonText(file, text, TraceFileError)
  if (!isObject(json) || json.kspec !== "trace") return fail(`not a trace file: it has no "kspec": "trace" field`)
  if (json.version !== traceFormatVersion) {
    return fail(`written by an incompatible kspec model: trace format version ${showJson(json.version)}, this kspec reads version ${traceFormatVersion}`)
  }
  const problem = unknownEventProblem(json.events) ?? schemaProblem(TraceFileSchema, json)
  if (problem !== null) return fail(problem)
  const d = decodeTraceFile(text)
  if (!d.ok) return fail(`config.${configProblemAt(d.message)}`)
  return d.value
}

/**
 * Read and decode a trace file, or throw a TraceFileError naming the problem. The file is read
 * once: the value returned is that snapshot, whatever happens to the file afterwards.
 */
export const loadTraceFile = (file: string): TraceFile => parseTraceFile(file, readInputFile(file, TraceFileError))

/** Decode a boot configuration from the JSON text of `file`, or throw a ConfigFileError. */
export const parseBootConfigFile = (file: string, text: string): BootConfig => {
  const json = parseJsonText(file, text, ConfigFileError)
  if (isObject(json) && json.kspec === "trace") throw new ConfigFileError(file, "a trace file, not a boot configuration (replay it with kspec replay)")
  const d = decodeBootConfig(json)
  if (d.ok) {
    // The model accepts fields it does not know; a misspelt field in a file a user wrote is a mistake.
    const extra = schemaProblem(BootConfigSchema, json)
    if (extra !== null) throw new ConfigFileError(file, extra)
    return d.value
  }
  throw new ConfigFileError(file, schemaProblem(BootConfigSchema, json) ?? configProblemAt(d.message))
}

/** The first of a config's cross-field problems, with its place: memory problems say which regions, domain-schedule ones name their field. */
const configProblemAt = (message: string): string => {
  const first = message.split("\n")[0]!
  return first.startsWith("domainSchedule") ? first : `memory: ${first}`
}

/** Read and decode a boot-configuration file (a `BootConfig` as JSON), or throw a ConfigFileError. */
export const loadBootConfigFile = (file: string): BootConfig => parseBootConfigFile(file, readInputFile(file, ConfigFileError))

/** What a trace file holds besides its format tag and version. */
export type TraceContents = Omit<TraceFile, "kspec" | "version">

/** The text of a trace file. */
export const traceFileText = (t: TraceContents): string =>
  `${JSON.stringify({ kspec: "trace", version: traceFormatVersion, config: t.config, events: t.events, seed: t.seed, note: t.note }, null, 1)}\n`

/**
 * Save a trace file atomically (a temporary file beside it, then a rename): an existing file is
 * replaced whole or left as it was. Throws an OutputPathError if it cannot be written.
 */
export const saveTraceFile = (file: string, t: TraceContents): void => writeFileAtomic(file, traceFileText(t))
