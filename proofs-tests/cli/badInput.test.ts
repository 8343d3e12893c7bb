/**
 * Bad input at the edges: every class of bad input a user can hand kspec (a missing file, a
 * directory, text that is not JSON, JSON of the wrong shape or version, numbers out of range,
 * unknown names, bad flags, an output path that cannot be written, a file that changes under a
 * run) gets one line naming the flag, value or place in the file and what was expected, exit 2,
 * no stack trace, and no file overwritten or half-written.
 *
 * A representative subset runs the real command (`node bin/kspec.js`) as a subprocess; the rest
 * calls `main` and the library in-process, which is much faster.
 */
import { execFile, spawn } from "node:child_process"
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, readSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { BootConfig, Event } from "../../model/index.ts"
import { defaultBootConfig } from "../../model/index.ts"
import { OutputPathError, jsonErrorOffset, writeFileAtomic, writeProblem } from "../../harness/files.ts"
import { ConfigFileError, TraceFileError, loadBootConfigFile, loadTraceFile, saveTraceFile } from "../../harness/trace.ts"
import type { ImplUnderTest } from "../../harness/lockstep/runner.ts"
import { realImpl } from "../../harness/lockstep/impls.ts"
import { projectRoot } from "../../harness/paths.ts"
import { command, flag, parseCommandLine } from "../../cli/command.ts"
import { commands, parseFuzzFlags } from "../../cli/commands.ts"
import { file as fileValue } from "../../cli/values.ts"
import { regressionsDir } from "../../cli/check.ts"
import { docsDir } from "../../cli/docs.ts"
import { resultsFile } from "../../cli/bench.ts"
import { runFuzz } from "../../cli/fuzz.ts"
import type { MainIO } from "../../cli/main.ts"
import { main, runCommand } from "../../cli/main.ts"
import { runReplay } from "../../cli/replay.ts"

const dir = mkdtempSync(join(tmpdir(), "kspec-bad-input-"))
afterAll(() => {
  chmodSync(dir, 0o755)
  for (const d of readdirSync(dir)) { try { chmodSync(join(dir, d), 0o755) } catch { /* a file */ } }
  rmSync(dir, { recursive: true, force: true })
})

const tour = join(regressionsDir, "cspace-tour.json")
const good = JSON.parse(readFileSync(tour, "utf8")) as { config: BootConfig; events: Record<string, unknown>[] } & Record<string, unknown>
/** Write `name` in the temporary directory; returns its path. */
const put = (name: string, content: string | object): string => {
  const f = join(dir, name)
  writeFileSync(f, typeof content === "string" ? content : JSON.stringify(content))
  return f
}
/** The good trace with `change` applied. */
const trace = (change: (t: { config: Record<string, unknown>; events: Record<string, unknown>[] } & Record<string, unknown>) => void): object => {
  const t = structuredClone(good) as never
  change(t)
  return t
}

/** A line of a stack trace. */
const stack = /\n\s+at .+[:(]\d+/

interface Run { readonly code: number; readonly out: string; readonly err: string }

const run = async (...argv: string[]): Promise<Run> => {
  let out = ""
  let err = ""
  const io: MainIO = { out: (s) => { out += s }, err: (s) => { err += s }, progress: null }
  const code = await main(argv, io)
  return { code, out, err }
}

/**
 * Exit 2, nothing on stdout, and on stderr one line `kspec: ...` matching `message` (plus the
 * command's usage line for bad usage), and no stack trace.
 */
const expectRejected = (r: Run, message: RegExp, usage: boolean): void => {
  expect(r.code, r.err).toBe(2)
  expect(r.out).toBe("")
  expect(r.err).not.toMatch(stack)
  const lines = r.err.trimEnd().split("\n")
  expect(lines, r.err).toHaveLength(usage ? 2 : 1)
  expect(lines[0]).toMatch(/^kspec: /)
  expect(lines[0]).toMatch(message)
  if (usage) expect(lines[1]).toMatch(/^usage: kspec /)
}

/** The directories and files the cases below use. */
const files = {
  missing: join(dir, "nope.json"),
  aDirectory: (() => { const d = join(dir, "a-directory"); mkdirSync(d); return d })(),
  regular: put("regular-file", "just text\n"),
  empty: put("empty.json", ""),
  notJson: put("not-json.json", '{ "kspec": "trace",\n  "version": }'),
  binary: put("binary.json", "\u0000\u0001\u0002garbage"),
  truncated: put("truncated.json", JSON.stringify(good).slice(0, 200)),
  notATrace: put("not-a-trace.json", { hello: 1 }),
  version1: put("v1.json", trace((t) => { t.version = 1 })),
  noVersion: put("no-version.json", trace((t) => { delete (t as Record<string, unknown>).version })),
  wordNegative: put("word-negative.json", trace((t) => { (t.events[3]!.mrs as number[])[2] = -1 })),
  wordTooBig: put("word-too-big.json", trace((t) => { t.events[3]!.cptr = 2 ** 32 })),
  wordFraction: put("word-fraction.json", trace((t) => { t.events[3]!.msgInfo = 1.5 })),
  wordString: put("word-string.json", trace((t) => { t.events[3]!.cptr = "7" })),
  irqHuge: put("irq-huge.json", trace((t) => { t.events.push({ tag: "Interrupt", irq: 2 ** 40 }) })),
  bitsInTrace: put("bits-in-trace.json", trace((t) => { t.config.rootCNodeBits = 99 })),
  missingEvents: put("missing-events.json", trace((t) => { delete (t as Record<string, unknown>).events })),
  eventsNotArray: put("events-not-array.json", trace((t) => { t.events = "none" as never })),
  unknownField: put("unknown-field.json", trace((t) => { t.evnts = [] })),
  unknownSyscall: put("unknown-syscall.json", trace((t) => { t.events[1]!.syscall = "SendRecv" })),
  unknownTag: put("unknown-tag.json", trace((t) => { t.events[2] = { tag: "Reboot" } })),
  unknownFault: put("unknown-fault.json", trace((t) => { t.events.push({ tag: "UserFault", kind: "Segfault", words: [] }) })),
  unknownAccess: put("unknown-access.json", trace((t) => { t.events.push({ tag: "MemoryAccess", kind: "Jump", vaddr: 0 }) })),
  withAccesses: put("with-accesses.json", trace((t) => { t.events.push({ tag: "MemoryAccess", kind: "Write", vaddr: 0x1000, value: 7 }, { tag: "MemoryAccess", kind: "Read", vaddr: 0x1000 }, { tag: "MemoryAccess", kind: "Execute", vaddr: 0 }) })),
  overlap: put("overlap.json", trace((t) => {
    t.config.memory = [{ base: 0x2000_0000, size: 0x2000, isDevice: false }, { base: 0x2000_1000, size: 0x1000, isDevice: false }]
  })),
  configBits: put("config-bits.json", { ...defaultBootConfig, rootCNodeBits: 99 }),
  configIrqs0: put("config-irqs0.json", { ...defaultBootConfig, numIRQs: 0 }),
  configIrqsString: put("config-irqs-string.json", { ...defaultBootConfig, numIRQs: "16" }),
  configMissing: put("config-missing.json", { rootCNodeBits: 8, memory: [], numIRQs: 16 }),
  configTypo: put("config-typo.json", { ...defaultBootConfig, numIrqs: 16 }),
  configArray: put("config-array.json", [defaultBootConfig]),
  configBase: put("config-base.json", { ...defaultBootConfig, memory: [{ base: -4096, size: 4096, isDevice: false }] }),
  configDomain: put("config-domain.json", { ...defaultBootConfig, numDomains: 2, domainSchedule: [{ domain: 0, length: 3 }, { domain: 2, length: 1 }] }),
  configLength: put("config-length.json", { ...defaultBootConfig, numDomains: 2, domainSchedule: [{ domain: 1, length: 0 }] }),
  domainInTrace: put("domain-in-trace.json", trace((t) => { t.config.numDomains = 2; t.config.numDomainSchedules = 2; t.config.domainSchedule = [{ domain: 1, length: 2 }, { domain: 0, length: 2 }] })),
}

describe("bad trace files: kspec replay FILE (in-process)", () => {
  const cases: [string, string, RegExp][] = [
    ["a missing file", files.missing, /nope\.json: no such file or directory$/],
    ["a directory instead of a file", files.aDirectory, /a-directory: it is a directory, not a file$/],
    ["an empty file", files.empty, /empty\.json: not JSON: the file is empty$/],
    ["not JSON, with the place", files.notJson, /not-json\.json: not JSON: unexpected "}" at line 2, column 14$/],
    ["binary garbage", files.binary, /binary\.json: not JSON: unexpected "\\u0000" at line 1, column 1$/],
    ["a truncated file", files.truncated, /truncated\.json: not JSON: the text ends too early \(line 1, column 201\)$/],
    ["JSON that is not a trace", files.notATrace, /not-a-trace\.json: not a trace file: it has no "kspec": "trace" field$/],
    ["another format version", files.version1, /v1\.json: written by an incompatible kspec model: trace format version 1, this kspec reads version 2$/],
    ["no version", files.noVersion, /no-version\.json: .*trace format version nothing, this kspec reads version 2$/],
    ["a negative word", files.wordNegative, /word-negative\.json: events\[3\]\.mrs\[2\]: expected a 32-bit word \(0 to 4294967295\), got -1$/],
    ["a word over 2^32-1", files.wordTooBig, /events\[3\]\.cptr: expected a 32-bit word \(0 to 4294967295\), got 4294967296$/],
    ["a fractional word", files.wordFraction, /events\[3\]\.msgInfo: expected an integer, got 1\.5$/],
    ["a word of the wrong type", files.wordString, /events\[3\]\.cptr: expected number, got "7"$/],
    ["an IRQ number out of range", files.irqHuge, /events\[13\]\.irq: expected a 32-bit word .*, got 1099511627776$/],
    ["rootCNodeBits 99 in the trace's config", files.bitsInTrace, /config\.rootCNodeBits: expected a value between 5 and 16, got 99$/],
    ["a missing field", files.missingEvents, /missing-events\.json: events: missing$/],
    ["a field of the wrong type", files.eventsNotArray, /events: expected array, got "none"$/],
    ["an unknown field", files.unknownField, /unknown-field\.json: evnts: unknown field$/],
    ["an unknown syscall", files.unknownSyscall, /events\[1\]\.syscall: unknown syscall "SendRecv" \(kspec models Send, NBSend, Call, Recv, NBRecv, Reply, ReplyRecv, Yield\)$/],
    ["an unknown event", files.unknownTag, /events\[2\]\.tag: unknown event "Reboot" \(expected one of Syscall, TimerTick, Interrupt, UserFault, MemoryAccess\)$/],
    ["an unknown memory access", files.unknownAccess, /events\[13\]\.kind: unknown access kind "Jump" \(expected one of Read, Write, Execute\)$/],
    ["an unknown fault kind", files.unknownFault, /events\[13\]\.kind: unknown fault kind "Segfault" \(expected one of /],
    ["overlapping memory", files.overlap, /config\.memory: memory regions at 0x20000000 and 0x20001000 overlap$/],
    ["a domain schedule too long for its table", files.domainInTrace, /config\.domainSchedule: 2 entries do not fit numDomainSchedules 2, which must be at least 3 \(the last entry is an end marker\)$/],
  ]
  it("a trace with memory accesses (as kspec check and fuzz save them) replays", async () => {
    const r = await run("replay", files.withAccesses)
    expect(r.err).toBe("")
    expect(r.code).toBe(0)
    expect(loadTraceFile(files.withAccesses).events.filter((e) => e.tag === "MemoryAccess")).toHaveLength(3)
  })
  for (const [what, file, message] of cases) {
    it(`${what}: one line, exit 2`, async () => {
      const before = readdirSync(dir).sort()
      expectRejected(await run("replay", file), message, false)
      // The library says the same, as a typed error.
      expect(() => loadTraceFile(file)).toThrow(TraceFileError)
      try { loadTraceFile(file) } catch (e) { expect(`kspec: ${(e as Error).message}`).toMatch(message) }
      expect(readdirSync(dir).sort()).toEqual(before)
    })
  }
})

describe("bad boot-configuration files: --config FILE (in-process)", () => {
  const cases: [string, string, RegExp][] = [
    ["a missing file", files.missing, /nope\.json: no such file or directory$/],
    ["a directory", files.aDirectory, /a-directory: it is a directory, not a file$/],
    ["not JSON", files.notJson, /not-json\.json: not JSON: unexpected "}" at line 2, column 14$/],
    ["rootCNodeBits 99", files.configBits, /config-bits\.json: rootCNodeBits: expected a value between 5 and 16, got 99$/],
    ["numIRQs 0", files.configIrqs0, /config-irqs0\.json: numIRQs: expected a value between 1 and 256, got 0$/],
    ["numIRQs of the wrong type", files.configIrqsString, /numIRQs: expected number, got "16"$/],
    ["a missing field", files.configMissing, /config-missing\.json: numDomains: missing$/],
    ["a misspelt field", files.configTypo, /config-typo\.json: numIrqs: unknown field$/],
    ["not an object", files.configArray, /config-array\.json: expected object, got \[/],
    ["a negative memory base", files.configBase, /memory\[0\]\.base: expected a 32-bit word .*, got -4096 \(and 1 more problem\)$/],
    ["a schedule naming a domain past numDomains", files.configDomain, /config-domain\.json: domainSchedule\[1\]\.domain: 2 is not below numDomains \(2\)$/],
    ["a schedule entry of length 0", files.configLength, /config-length\.json: domainSchedule\[0\]\.length: expected a tick count from 1 to 2\^53 - 1, got 0$/],
    ["a trace file instead of a configuration", tour, /cspace-tour\.json: a trace file, not a boot configuration \(replay it with kspec replay\)$/],
  ]
  for (const [what, file, message] of cases) {
    it(`kspec check: ${what}`, async () => {
      expectRejected(await run("check", "--config", file, "--runs", "1"), message, false)
      expect(() => loadBootConfigFile(file)).toThrow(ConfigFileError)
    })
  }
  it("kspec fuzz rejects it the same way, before any worker starts", async () => {
    expectRejected(await run("fuzz", "--config", files.configIrqs0, "--runs", "1", "--workers", "1"), /numIRQs: expected a value between 1 and 256, got 0$/, false)
  })
})

describe("bad command lines (in-process)", () => {
  const cases: [string, string[], RegExp][] = [
    ["an unknown command", ["frob"], /^kspec: unknown command "frob" \(expected one of check, fuzz, hostile, prove, security, demo, replay, docs, bench\)$/],
    ["a flag before any command", ["--bogus"], /^kspec: unknown flag --bogus before the command/],
    ["help for an unknown command", ["help", "frob"], /^kspec: unknown command "frob"/],
    ["an unknown flag", ["check", "--bogus"], /^kspec: unknown flag --bogus \(kspec check takes --seed, --runs, --depth, --config\)$/],
    ["an unknown short flag", ["replay", "-x", "f.json"], /^kspec: unknown flag -x \(kspec replay takes --html\)$/],
    ["a value that is not a number", ["check", "--runs", "abc"], /^kspec: --runs: "abc" is not valid \(expected a whole number from 1 to 1000000000\)$/],
    ["a count of 0", ["check", "--runs", "0"], /^kspec: --runs: "0" is not valid/],
    ["a negative count", ["check", "--depth", "-1"], /^kspec: --depth: "-1" is not valid/],
    ["a seed over 2^31-1", ["check", "--seed", "4294967296"], /^kspec: --seed: "4294967296" is not valid \(expected an integer from -2147483648 to 2147483647\)$/],
    ["a fractional number", ["fuzz", "--workers", "1.5"], /^kspec: --workers: "1.5" is not valid \(expected a whole number from 1 to 64\)$/],
    ["too many workers", ["fuzz", "--workers", "65"], /^kspec: --workers: "65" is not valid/],
    ["an empty value", ["check", "--seed="], /^kspec: --seed: "" is not valid/],
    ["a missing value", ["check", "--runs"], /^kspec: --runs needs a value: N, a whole number from 1 to 1000000000$/],
    ["a flag where a value should be", ["check", "--runs", "--depth", "5"], /^kspec: --runs needs a value/],
    ["a flag given twice", ["check", "--runs", "5", "--runs", "6"], /^kspec: --runs is given twice$/],
    ["a bad duration", ["fuzz", "--time", "5 parsecs"], /^kspec: --time: "5 parsecs" is not valid \(expected a positive duration such as 90s/],
    ["a zero duration", ["fuzz", "--time", "0s"], /^kspec: --time: "0s" is not valid/],
    ["flags that exclude each other", ["fuzz", "--time", "10s", "--runs", "5"], /^kspec: --time and --runs exclude each other$/],
    ["a bad shard", ["fuzz", "--shard", "3/2"], /^kspec: --shard: "3\/2" is not valid \(expected part I of N/],
    ["an unknown --focus name", ["fuzz", "--focus", "Call", "Cal"], /^kspec: --focus: unknown name "Cal" \(expected a syscall, invocation, invoked object or coverage-matrix row: .*\bCall\b.*\bTCB_SetPriority\b/],
    ["an unknown --mutant", ["fuzz", "--mutant", "nope"], /^kspec: --mutant: unknown name "nope" \(expected a planted mutant: revoke-stops-early, /],
    ["a value given to a switch", ["docs", "--check=yes"], /^kspec: --check takes no value \(got "yes"\)$/],
    ["an extra positional", ["replay", "a.json", "b.json"], /^kspec: unexpected argument "b.json" \(kspec replay takes FILE\)$/],
    ["a positional where none is taken", ["bench", "now"], /^kspec: unexpected argument "now" \(kspec bench takes no arguments\)$/],
    ["a missing positional", ["replay"], /^kspec: missing FILE: the trace file to replay$/],
  ]
  for (const [what, argv, message] of cases) {
    it(`${what}: one line and the usage line, exit 2`, async () => {
      const r = await run(...argv)
      expectRejected(r, message, true)
      const c = commands.find((x) => x.name === argv[0])
      expect(r.err.trimEnd().split("\n")[1]).toMatch(c === undefined ? /^usage: kspec COMMAND/ : new RegExp(`^usage: kspec ${c.name}`))
    })
  }
})

describe("help and version", () => {
  it("every command has --help and -h (exit 0), and kspec help CMD prints the same", async () => {
    for (const c of commands) {
      const h = await run(c.name, "--help")
      expect(h.code).toBe(0)
      expect(h.err).toBe("")
      expect(h.out).toMatch(new RegExp(`^kspec ${c.name}: ${c.summary.replace(/[()]/g, ".")}\\n\\nusage: kspec ${c.name}`))
      expect(h.out).toContain("exit codes:\n  0  ")
      expect(h.out).toContain("  2  bad usage or bad input")
      for (const k of Object.keys(c.flags)) expect(h.out).toContain(`--${k.replace(/[A-Z]/g, (x) => `-${x.toLowerCase()}`)}`)
      expect((await run(c.name, "-h")).out).toBe(h.out)
      expect((await run("help", c.name)).out).toBe(h.out)
      // Help wins over anything else on the line.
      expect((await run(c.name, "--bogus", "--help")).code).toBe(0)
    }
  })
  it("kspec alone prints the usage and exits 2; kspec help exits 0; --version", async () => {
    const alone = await run()
    expect(alone.code).toBe(2)
    for (const c of commands) expect(alone.out).toContain(`  ${c.name}`)
    expect((await run("help")).out).toBe(alone.out)
    expect((await run("help")).code).toBe(0)
    const v = await run("--version")
    expect(v.out).toBe(`kspec ${(JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { version: string }).version}\n`)
  })
})

describe("unwritable output paths are refused before the command runs", () => {
  const underFile = join(files.regular, "report.json")
  it("--json under a regular file", async () => {
    expectRejected(await run("fuzz", "--runs", "1", "--workers", "1", "--json", underFile), /^kspec: --json: cannot write .*regular-file\/report\.json: .*regular-file is not a directory$/, false)
  })
  it("--stats naming a directory", async () => {
    expectRejected(await run("fuzz", "--runs", "1", "--workers", "1", "--stats", files.aDirectory), /^kspec: --stats: cannot write .*a-directory: it is a directory$/, false)
  })
  it("--json into a read-only directory", async (ctx) => {
    // Permission bits do not stop root: as root, use sysfs, where even root cannot create files.
    let ro = join(dir, "read-only")
    if (process.getuid?.() === 0) ro = "/sys"
    else { mkdirSync(ro); chmodSync(ro, 0o555) }
    ctx.skip(!existsSync(ro) || writeProblem(join(ro, "r.json")) === null, "no read-only directory to try")
    expectRejected(await run("fuzz", "--runs", "1", "--workers", "1", "--json", join(ro, "r.json")), /^kspec: --json: cannot write .*r\.json: .*(permission denied|read-only)/, false)
  })
  it("a command's own outputs too, and its run function is never called", async () => {
    let ran = false
    const c = command({
      name: "probe", summary: "s", description: "d", positionals: [], examples: [], exitCodes: [],
      flags: { out: flag.value(fileValue, "Output", { output: true }) },
      writes: () => [{ path: join(underFile, "dir"), kind: "dir", what: "results" }],
      run: () => { ran = true; return 0 },
    })
    let err = ""
    const io: MainIO = { out: () => {}, err: (s) => { err += s }, progress: null }
    expect(await runCommand(c, [], io)).toBe(2)
    expect(err).toMatch(/^kspec: cannot write .*regular-file\/report\.json\/dir: .*regular-file is not a directory \(kspec probe saves results there\)\n$/)
    expect(await runCommand(c, ["--out", files.aDirectory], io)).toBe(2)
    expect(ran).toBe(false)
  })
  it("the commands declare what they write: counterexamples, docs, benchmark results", () => {
    const writes = (name: string, argv: string[]) => {
      const c = commands.find((x) => x.name === name)!
      return (c.writes?.(parseCommandLine(c, argv)) ?? []).map((w) => w.path)
    }
    expect(writes("check", [])).toEqual([regressionsDir])
    expect(writes("fuzz", [])).toEqual([regressionsDir])
    expect(writes("fuzz", ["--mutant", "mint-rebadges"])).toEqual([])
    expect(writes("docs", [])).toEqual([docsDir])
    expect(writes("docs", ["--check"])).toEqual([])
    expect(writes("bench", [])).toEqual([resultsFile])
    expect(writes("bench", ["--quick"])).toEqual([])
  })
  it("writeFileAtomic itself reports a path it cannot write as one OutputPathError", () => {
    expect(() => writeFileAtomic(underFile, "x")).toThrow(OutputPathError)
    expect(() => writeFileAtomic(files.aDirectory, "x")).toThrow(/a-directory: it is a directory$/)
    expect(readdirSync(files.aDirectory)).toEqual([])
  })
})

describe("files that change under a run, and files replaced while read", () => {
  it("replay uses the one snapshot it read, even when the file is rewritten with garbage during the replay", () => {
    const f = put("changing.json", good)
    const lines: string[] = []
    const code = runReplay(f, (s) => {
      if (lines.length === 0) writeFileSync(f, "\u0000garbage, not a trace")
      lines.push(s)
    })
    expect(code).toBe(0)
    expect(lines.join("\n")).toContain(`replayed ${good.events.length} events`)
    expect(() => loadTraceFile(f)).toThrow(/not JSON/)
  })

  it("fuzz --config reads the configuration once; the saved counterexample records it, and replays from it", async () => {
    const config: BootConfig = { rootCNodeBits: 6, memory: [{ base: 0x2000_0000, size: 0x1_0000, isDevice: false }], numIRQs: 4, numDomains: 1 }
    const cfg = put("fuzz-config.json", config)
    // A planted bug: the impl throws on a timer tick. Found at once, shrunk to one event.
    const planted: ImplUnderTest<unknown> = {
      ...(realImpl as ImplUnderTest<unknown>),
      step: (k, ev: Event) => { if (ev.tag === "TimerTick") throw new Error("planted"); (realImpl as ImplUnderTest<unknown>).step(k, ev) },
    }
    const out = join(dir, "fuzz-out")
    let first = true
    const log = () => { if (first) { first = false; writeFileSync(cfg, "{ rewritten") } }
    const flags = parseFuzzFlags(["--runs", "8", "--seed", "5", "--depth", "30", "--config", cfg, "--workers", "1"])
    const r = await runFuzz(flags, { log, progress: null }, { inProcess: true, impl: planted, regressionsDir: out })
    expect(r.exitCode).toBe(1)
    expect(r.failures.length).toBeGreaterThan(0)
    const saved = loadTraceFile(r.failures[0]!.file)
    expect(saved.config).toEqual(config)
    const lines: string[] = []
    expect(runReplay(r.failures[0]!.file, (s) => lines.push(s), { impl: planted })).toBe(1)
    expect(lines.join("\n")).toContain("boot: 64-slot root CNode, 1 memory region (65536 bytes), 4 IRQs, 1 domain")
  })

  it("an existing output is replaced by a rename, never rewritten in place: a reader of the old file still reads it whole", () => {
    const f = join(dir, "replaced.json")
    const old = { kspec: "trace", version: 1, config: defaultBootConfig, events: [], note: "old" }
    writeFileSync(f, JSON.stringify(old))
    const inode = statSync(f).ino
    const fd = openSync(f, "r")
    try {
      saveTraceFile(f, { config: defaultBootConfig, events: good.events as never, note: "new" })
      expect(statSync(f).ino).not.toBe(inode)
      expect(loadTraceFile(f).note).toBe("new")
      const buf = Buffer.alloc(1 << 16)
      const n = readSync(fd, buf, 0, buf.length, 0)
      expect(JSON.parse(buf.subarray(0, n).toString("utf8"))).toEqual(old)
    } finally { closeSync(fd) }
    // No temporary file is left beside it.
    expect(readdirSync(dir).filter((x) => x.includes(".tmp"))).toEqual([])
  })

  it("a reader polling a file that is rewritten again and again sees a whole file every time", async () => {
    const f = join(dir, "polled.json")
    const body = (n: number) => `${JSON.stringify({ n, pad: "x".repeat(400_000 + 1000 * n) })}\n`
    writeFileAtomic(f, body(0))
    // The reader is its own process, so it reads while this thread writes.
    const reader = spawn(process.execPath, ["-e", `
      const fs = require("fs"); let reads = 0, torn = 0; const end = Date.now() + 400
      while (Date.now() < end) { try { JSON.parse(fs.readFileSync(${JSON.stringify(f)}, "utf8")); reads++ } catch { torn++ } }
      process.stdout.write(JSON.stringify({ reads, torn }))`])
    let text = ""
    reader.stdout.on("data", (d: Buffer) => { text += d.toString() })
    const done = new Promise<void>((res) => reader.on("exit", () => res()))
    let writes = 0
    let exited = false
    void done.then(() => { exited = true })
    while (!exited) {
      writeFileAtomic(f, body(++writes % 50))
      await new Promise((r) => setImmediate(r))
    }
    const { reads, torn } = JSON.parse(text) as { reads: number; torn: number }
    expect(writes).toBeGreaterThan(5)
    expect(reads).toBeGreaterThan(5)
    expect(torn).toBe(0)
    expect(readdirSync(dir).filter((x) => x.includes("polled") && x !== "polled.json")).toEqual([])
  })
})

describe("JSON error positions", () => {
  it("jsonErrorOffset agrees with JSON.parse on what is JSON", () => {
    const cut = fc.tuple(fc.json(), fc.nat(), fc.string({ maxLength: 2 })).map(([s, n, c]) => s.slice(0, n % (s.length + 1)) + c + s.slice(n % (s.length + 1)))
    fc.assert(fc.property(fc.oneof(fc.json(), fc.string(), cut), (s) => {
      let ok = true
      try { JSON.parse(s) } catch { ok = false }
      return ok === (jsonErrorOffset(s) === -1)
    }), { numRuns: 3000, seed: 42 })
  })
})

describe("the real command, as a subprocess", () => {
  const bin = join(projectRoot, "bin/kspec.js")
  const exec = (args: string[]): Promise<Run> => new Promise((res) => {
    execFile(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 60_000 }, (e, out, err) => {
      res({ code: e === null ? 0 : typeof e.code === "number" ? e.code : -1, out, err })
    })
  })
  const cases: { readonly args: string[]; readonly message: RegExp; readonly usage: boolean }[] = [
    { args: ["frob"], message: /^kspec: unknown command "frob"/, usage: true },
    { args: ["check", "--runs", "-1"], message: /^kspec: --runs: "-1" is not valid \(expected a whole number from 1 to 1000000000\)$/, usage: true },
    { args: ["replay", files.wordNegative], message: /events\[3\]\.mrs\[2\]: expected a 32-bit word \(0 to 4294967295\), got -1$/, usage: false },
    { args: ["check", "--config", files.configBits], message: /rootCNodeBits: expected a value between 5 and 16, got 99$/, usage: false },
    { args: ["fuzz", "--time", "10m", "--json", join(files.regular, "r.json")], message: /^kspec: --json: cannot write .*regular-file is not a directory$/, usage: false },
  ]
  const results: Run[] = []
  // All at once (they are separate processes), with `kspec` alone last.
  beforeAll(async () => { results.push(...await Promise.all([...cases.map((c) => exec(c.args)), exec([])])) }, 60_000)
  cases.forEach((c, i) => {
    it(`kspec ${c.args.map((a) => a.replace(dir, "$TMP")).join(" ")}: exit 2, one line, no stack trace`, () => {
      expectRejected(results[i]!, c.message, c.usage)
    })
  })
  it("the 10-minute campaign with a bad --json path never started", () => {
    // It exited by itself with the usage code (a started campaign would run into exec's 60 s
    // timeout and be killed), printed nothing on stdout and no progress line: no time is asserted.
    const r = results[cases.length - 1]!
    expect(r.code).toBe(2)
    expect(r.out).toBe("")
    expect(r.err).not.toMatch(/^fuzz: /m)
  })
  it("kspec alone prints the usage and exits 2", () => {
    const alone = results[cases.length]!
    expect(alone.code).toBe(2)
    expect(alone.out).toContain("usage: kspec COMMAND")
    expect(alone.err).toBe("")
  })
})
