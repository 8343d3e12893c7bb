/**
 * The `kspec` command: dispatch, the top-level usage and every command's `--help`, all derived
 * from the command table (cli/commands.ts).
 *
 * `kspec COMMAND [FLAGS]`, `kspec help [COMMAND]`, `kspec COMMAND --help` (or -h), `kspec --version`.
 * Exit codes: 0 clean, 1 counterexample (or a failed check), 2 bad usage or bad input. Bad usage
 * is one line naming the flag or value and what was expected, then the command's usage line;
 * bad input (a trace or configuration file, an output path) is one line naming the file and the
 * problem. Neither prints a stack trace, and an unwritable output path is reported before the
 * command runs.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { InputFileError, OutputPathError, writeProblem } from "../harness/files.ts"
import { projectRoot } from "../harness/paths.ts"
import type { AnyCommand, CommandIO } from "./command.ts"
import { UsageError, helpText, outputsOf, parseCommandLine, usageLine, wantsHelp } from "./command.ts"
import { commands } from "./commands.ts"

/** Where `main` writes: standard output, standard error, and the live progress stream. */
export interface MainIO {
  readonly out: (text: string) => void
  readonly err: (text: string) => void
  readonly progress: CommandIO["progress"]
}

const processIO: MainIO = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  progress: process.stderr,
}

export const version = (): string => {
  try { return (JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { version: string }).version } catch { return "unknown" }
}

/** The top-level usage: the command list, from the table. */
export const topUsage = (): string => {
  const w = Math.max(...commands.map((c) => c.name.length)) + 2
  return [
    "kspec: an executable, property-checked model of a seL4-style microkernel",
    "",
    topUsageLine(),
    "",
    "commands:",
    ...commands.map((c) => `  ${c.name.padEnd(w)}${c.summary}`),
    "",
    "kspec help COMMAND (or kspec COMMAND --help) describes a command, its flags and its exit codes.",
    "kspec --version prints the version.",
    "exit codes: 0 clean, 1 a counterexample or a failed check, 2 bad usage or bad input",
  ].join("\n")
}

const find = (name: string): AnyCommand | undefined => commands.find((c) => c.name === name)
const names = (): string => commands.map((c) => c.name).join(", ")
const topUsageLine = (): string => `usage: kspec COMMAND [FLAGS]   (COMMAND: ${names()}, help)`

/** Run `kspec` with `argv` (the words after `kspec`); returns the exit code. */
export const main = async (argv: readonly string[], io: MainIO = processIO): Promise<number> => {
  const log = (s: string) => io.out(`${s}\n`)
  const [cmd, ...rest] = argv
  if (cmd === undefined) { log(topUsage()); return 2 }
  if (cmd === "--version") { log(`kspec ${version()}`); return 0 }
  if (cmd === "help" || cmd === "--help" || cmd === "-h") {
    if (rest.length === 0) { log(topUsage()); return 0 }
    const c = find(rest[0]!)
    if (c === undefined || rest.length > 1) {
      io.err(`kspec: ${c === undefined ? `unknown command ${JSON.stringify(rest[0])} (expected one of ${names()})` : "kspec help takes one command"}\n${topUsageLine()}\n`)
      return 2
    }
    log(helpText(c))
    return 0
  }
  const c = find(cmd)
  if (c === undefined) {
    io.err(`kspec: ${cmd.startsWith("-") ? `unknown flag ${cmd} before the command` : `unknown command ${JSON.stringify(cmd)}`} (expected one of ${names()})\n${topUsageLine()}\n`)
    return 2
  }
  return runCommand(c, rest, io)
}

/**
 * Run command `c` of the table with `argv` (the words after its name): help, or parse, check the
 * output paths, run. Returns the exit code.
 */
export const runCommand = async (c: AnyCommand, argv: readonly string[], io: MainIO = processIO): Promise<number> => {
  const log = (s: string) => io.out(`${s}\n`)
  if (wantsHelp(argv)) { log(helpText(c)); return 0 }
  try {
    const input = parseCommandLine(c, argv)
    // Output paths are checked before the command runs: a long campaign is not lost to a bad --json path.
    for (const o of outputsOf(c, input)) {
      const problem = writeProblem(o.path, o.kind)
      if (problem === null) continue
      const e = new OutputPathError(o.path, problem)
      io.err(`kspec: ${o.what.startsWith("--") ? `${o.what}: ${e.message}` : `${e.message} (kspec ${c.name} saves ${o.what} there)`}\n`)
      return 2
    }
    return await c.run(input, { log, progress: io.progress })
  } catch (e) {
    if (e instanceof UsageError) { io.err(`kspec: ${e.message}\n${usageLine(c)}\n`); return 2 }
    if (e instanceof InputFileError || e instanceof OutputPathError) { io.err(`kspec: ${e.message}\n`); return 2 }
    throw e
  }
}
