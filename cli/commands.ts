/**
 * The command table of `kspec`: every command declared once, as data (summary, description,
 * flags with their value types and defaults, positionals, examples, exit codes) with its run
 * function. `main` dispatches from this table, and the top-level usage and each command's
 * `--help` are derived from it (cli/command.ts), so the three cannot disagree.
 */
import { availableParallelism } from "node:os"
import { relative } from "node:path"
import { defaultCampaign } from "../harness/lockstep/campaign.ts"
import { focusNames } from "../harness/gen/focus.ts"
import { mutants } from "../proofs-tests/mutants/mutants.ts"
import type { AnyCommand, FlagValues } from "./command.ts"
import { command, flag, parseCommandLine } from "./command.ts"
import { count, duration, file, oneOf, seed, shard, wholeNumber } from "./values.ts"
import { regressionsDir, runCheck } from "./check.ts"
import { runHostileCommand } from "./hostile.ts"
import type { FuzzFlags } from "./fuzz.ts"
import { runFuzz } from "./fuzz.ts"
import { runReplay } from "./replay.ts"
import { docsDir, runDocs } from "./docs.ts"
import { resultsFile, runBench } from "./bench.ts"
import { runDemo } from "./demo.ts"

const usageExit = { code: 2, meaning: "bad usage or bad input (a flag, a value, an input file, an output path): one line says which" }
const here = (p: string): string => relative(process.cwd(), p) || "."
/** Where `check` and `fuzz` save counterexamples. */
const counterexamples = { path: regressionsDir, kind: "dir", what: `counterexamples (${here(regressionsDir)})` } as const

/** Flags `check` and `fuzz` share. */
const campaignFlags = {
  seed: flag.value(seed, "The PRNG seed", { defaultDoc: "a fresh seed, printed" }),
  depth: flag.value(count, "Steps per trace, at most", { default: defaultCampaign.depth }),
  config: flag.value(file, "The boot configuration: a JSON file holding a BootConfig ({ rootCNodeBits, memory: [{ base, size, isDevice }], numIRQs, numDomains, and optionally domainSchedule: [{ domain, length }] and numDomainSchedules }); it is saved with every counterexample, so a replay boots the same", {
    defaultDoc: "the built-in configuration (a 256-slot root CNode, a little over 1 MiB of RAM, 16 MiB of device memory, 16 IRQs, 1 domain)",
  }),
}

const check = command({
  name: "check",
  summary: "run the lockstep refinement campaign",
  description: "Random traces run in the spec and the impl side by side; after every step the impl's abstract state must equal the spec's and every invariant must hold. " +
    "Prints the steps checked and a table of invocation x outcome; a counterexample is shrunk, printed, saved in proofs-tests/regressions/ and replayable.",
  flags: {
    seed: campaignFlags.seed,
    runs: flag.value(count, "Traces to run", { default: defaultCampaign.runs }),
    depth: campaignFlags.depth,
    config: campaignFlags.config,
  },
  positionals: [],
  examples: [
    { command: "kspec check", doc: `${defaultCampaign.runs} traces of up to ${defaultCampaign.depth} steps, from a fresh seed` },
    { command: "kspec check --seed 42 --runs 2000 --config small.json", doc: "a longer, repeatable campaign on another boot configuration" },
  ],
  exitCodes: [
    { code: 0, meaning: "no counterexample: the impl refined the spec and every invariant held after every step" },
    { code: 1, meaning: "a counterexample (printed, and saved in proofs-tests/regressions/)" },
    usageExit,
  ],
  writes: () => [counterexamples],
  run: ({ flags }, io) => runCheck(flags, io.log),
})

const mutantNames = mutants.map((m) => m.name)
const defaultWorkers = Math.max(1, Math.min(64, availableParallelism()))

/** The flags of `kspec fuzz`. */
const fuzzFlagSpecs = {
  time: flag.value(duration, "Stop after this long", { excludes: ["runs"], defaultDoc: "60s, unless --runs is given" }),
  runs: flag.value(count, "Stop after this many traces (in all shards): a repeatable campaign", { excludes: ["time"] }),
  focus: flag.list(oneOf(focusNames, "a syscall, invocation, invoked object or coverage-matrix row", ["Call", "Recv", "TCB_SetPriority", "CNode_Copy", "CNode", "UserFault", "Interrupt"]), "Aim the campaign at these (repeat the flag, separate with commas, or list them after it)"),
  workers: flag.value(wholeNumber(1, 64), "Worker threads", { default: defaultWorkers, defaultDoc: `one per core (${defaultWorkers} here)` }),
  shard: flag.value(shard, "Run part I of N of one campaign (a CI matrix); the shards together run every trace once"),
  seed: campaignFlags.seed,
  json: flag.value(file, "Write the report (coverage, outcomes, counterexamples) as JSON to FILE", { output: true }),
  stats: flag.value(file, "Write statistics as JSON lines to FILE, one every 2 s and a final one", { output: true }),
  minCover: flag.value(count, "Fail (exit 1) unless every reachable cell of the covered rows was reached N times (and, with several domains, every domain's threads ran N times)"),
  emitTest: flag.switch("Also save each counterexample as a vitest test beside its trace file"),
  mutant: flag.value(oneOf(mutantNames, "a planted mutant"), "Fuzz a planted mutant instead of the impl (a self-test of the fuzzer); its counterexamples go to a temporary directory"),
  depth: campaignFlags.depth,
  config: campaignFlags.config,
  }

const fuzz = command({
  name: "fuzz",
  summary: "a time- or run-boxed lockstep campaign on worker threads, aimed and coverage-guided",
  description: "A lockstep campaign on worker threads, aimed at --focus names and guided toward the outcomes not reached yet. " +
    "Prints live progress, then a coverage matrix (row x outcome), the reachable cells never reached and, with several domains, how often each domain's threads ran. " +
    "Counterexamples are shrunk, saved in proofs-tests/regressions/ (with --emit-test also as a vitest test) and printed with their replay command. " +
    "Ctrl-C stops cleanly and prints the report so far.",
  flags: fuzzFlagSpecs,
  positionals: [],
  examples: [
    { command: "kspec fuzz --time 10m", doc: "ten minutes on every core" },
    { command: "kspec fuzz --focus Call Recv --runs 2000 --seed 7 --min-cover 5", doc: "a repeatable campaign aimed at Call and Recv that fails unless each of their outcomes was reached 5 times" },
    { command: "kspec fuzz --shard 2/4 --runs 8000 --seed 1 --json report.json", doc: "the second quarter of a campaign, for a CI matrix" },
    { command: "kspec fuzz --config domains.json --focus Domain --min-cover 5", doc: "a campaign on a boot configuration with several domains, aimed at the DomainSet methods" },
  ],
  exitCodes: [
    { code: 0, meaning: "no counterexample (and --min-cover met)" },
    { code: 1, meaning: "a counterexample, a crashed worker, or --min-cover not met" },
    usageExit,
  ],
  writes: ({ flags }) => flags.mutant !== undefined ? [] : [counterexamples],
  run: async ({ flags }, io) => (await runFuzz(fuzzFlags(flags), io)).exitCode,
})

/** The decoded flags of `kspec fuzz` as runFuzz takes them. */
export const fuzzFlags = (f: FlagValues<typeof fuzzFlagSpecs>): FuzzFlags => ({
  timeMs: f.time ?? (f.runs === undefined ? 60_000 : null),
  runs: f.runs ?? null,
  focus: f.focus,
  workers: f.workers,
  shard: f.shard ?? { index: 0, count: 1 },
  seed: f.seed,
  json: f.json,
  stats: f.stats,
  minCover: f.minCover,
  emitTest: f.emitTest,
  mutant: f.mutant,
  depth: f.depth,
  config: f.config,
})

const replay = command({
  name: "replay",
  summary: "re-run a saved trace, printing each event in seL4 terms and its result",
  description: "Re-runs a saved trace (proofs-tests/regressions/*.json, or one kspec check or kspec fuzz saved) in the spec and the impl from its own boot configuration. " +
    "At the first divergence or broken invariant it prints the state diff and the violations. The file is read once; it writes nothing but the --html page.",
  flags: { html: flag.value(file, "Also write the trace as a sequence diagram (threads as lifelines, kernel entries as arrows with their results, the first failure marked, the state diff beside it) to FILE, a self-contained HTML page", { output: true }) },
  positionals: [{ name: "FILE", doc: "The trace file to replay" }],
  examples: [
    { command: "kspec replay proofs-tests/regressions/cspace-tour.json", doc: "a tour of CSpace operations" },
    { command: "kspec replay counterexample.json --html counterexample.html", doc: "the trace as a picture too" },
  ],
  exitCodes: [
    { code: 0, meaning: "the impl refined the spec and every invariant held after every step" },
    { code: 1, meaning: "a divergence, a broken invariant or a throw (the state diff is printed)" },
    usageExit,
  ],
  run: ({ args, flags }, io) => runReplay(args[0]!, io.log, { html: flags.html }),
})

const docs = command({
  name: "docs",
  summary: "regenerate docs/invariants.md and docs/syscalls.md",
  description: "Regenerates docs/invariants.md from the invariant registry and docs/syscalls.md from the ABI table (model/abi.ts). Each file is replaced atomically.",
  flags: { check: flag.switch("Write nothing; exit 1 if the committed docs are stale") },
  positionals: [],
  examples: [{ command: "kspec docs --check", doc: "in CI: are the docs up to date?" }],
  exitCodes: [
    { code: 0, meaning: "written (or, with --check, up to date)" },
    { code: 1, meaning: "with --check: stale" },
    usageExit,
  ],
  writes: ({ flags }) => flags.check ? [] : [{ path: docsDir, kind: "dir", what: `the docs (${here(docsDir)})` }],
  run: ({ flags }, io) => runDocs(flags, io.log),
})

const bench = command({
  name: "bench",
  summary: "run the benchmarks and print the table",
  description: "Measures in one run and prints the table: IPC round trip, the mixed workload (impl vs spec), scaling with live objects, lockstep checking throughput, fuzz scaling with 1 and 2 workers, hostile input at volume (10^7 entries). " +
    "A full run also saves the results (bench/results/latest.json, atomically).",
  flags: { quick: flag.switch("A fast smoke run (small sizes, short timings; the figures mean little); it saves nothing") },
  positionals: [],
  examples: [{ command: "kspec bench --quick", doc: "check that every benchmark runs" }],
  exitCodes: [
    { code: 0, meaning: "every section ran" },
    { code: 1, meaning: "a section failed (its error is printed; the others still run)" },
    usageExit,
  ],
  writes: ({ flags }) => flags.quick ? [] : [{ path: resultsFile, kind: "file", what: "the results" }],
  run: ({ flags }, io) => runBench(io.log, { quick: flags.quick }),
})

const hostile = command({
  name: "hostile",
  summary: "drive both layers with kernel entries of random words, checking everything",
  description: "Kernel entries made of random words (any syscall, cap pointer, message info and words, extra caps, receive slot; interrupts on any line; user faults), " +
    "in traces from a fresh boot, run in the spec and the impl side by side with refinement and every invariant checked, under the watchdog. " +
    "seL4 handles every such entry: a throw, a loop, a divergence or a broken invariant is a counterexample, saved in proofs-tests/regressions/ for kspec replay. " +
    "The same seed and count draw the same events.",
  flags: {
    events: flag.value(count, "Kernel entries in all", { default: 1_000_000 }),
    seed: campaignFlags.seed,
    traceLength: flag.value(wholeNumber(1, 100_000), "Entries per trace (each from a fresh boot)", { default: 200 }),
    config: campaignFlags.config,
    json: flag.value(file, "Write the counts and rate as JSON to FILE", { output: true }),
  },
  positionals: [],
  examples: [
    { command: "kspec hostile --events 10000000", doc: "ten million hostile entries (a few minutes on one core)" },
    { command: "kspec hostile --seed 7 --events 50000 --trace-length 1000", doc: "a repeatable run of longer traces" },
  ],
  exitCodes: [
    { code: 0, meaning: "no exception, no loop, no divergence, no broken invariant" },
    { code: 1, meaning: "a counterexample (saved and printed with its replay command)" },
    usageExit,
  ],
  writes: () => [counterexamples],
  run: ({ flags }, io) => runHostileCommand(flags, io),
})

const demo = command({
  name: "demo",
  summary: "run user-level servers on the kernel, inject faults into them, and show that the rest keeps running",
  description: "Boots the kernel (the impl; one run in --lockstep-every in lockstep with the spec, every step checked), lets a root task build a system of user-level processes from the boot caps " +
    "(a supervisor, an sDDF-style timer driver and virtualiser, a name server, a file server, clients), and injects faults into the servers (wild memory accesses, bad caps, unknown syscalls, crashes, " +
    "junk syscalls, corrupted replies, endless loops, crashes in the middle of a request or holding an interrupt). The supervisor restarts each crashed or hung server. " +
    "Prints progress and the campaign's table (faults, restarts, recovery, client requests answered, failed, lost, duplicated, memory-integrity and kernel checks) and writes a self-contained HTML page: " +
    "the system as a diagram, a timeline, and a sequence diagram of a fault and its recovery.",
  flags: {
    faults: flag.value(count, "Faults to inject in all", { default: 10_000 }),
    seed: campaignFlags.seed,
    clients: flag.value(wholeNumber(1, 8), "Client processes", { default: 3 }),
    html: flag.value(file, "Write the page to FILE", { default: "kspec-demo.html", output: true }),
    lockstepEvery: flag.value(wholeNumber(0, 1_000_000), "Run 1 in N runs (the first among them) in lockstep with the spec, 40 faults each; 0: none", { default: 50 }),
    workers: flag.value(wholeNumber(1, 64), "Threads running the campaign's runs", { default: defaultWorkers, defaultDoc: `one per core (${defaultWorkers} here)` }),
    policy: flag.value(oneOf(["default", "fresh", "kept"], "a restart policy"), "Restart servers with fresh state, with the state in their memory kept, or by default (drivers fresh, name and file servers kept)", { default: "default" }),
  },
  positionals: [],
  examples: [
    { command: "kspec demo", doc: "10,000 faults (7 to 30 s here), the page in kspec-demo.html" },
    { command: "kspec demo --faults 1000000 --seed 7 --html run.html", doc: "a million faults, repeatable (about 100 s of CPU, spread over the workers)" },
  ],
  exitCodes: [
    { code: 0, meaning: "isolation held: no request lost or answered twice, no private word changed behind its owner, no kernel failure" },
    { code: 1, meaning: "isolation failed (the table says where)" },
    usageExit,
  ],
  run: ({ flags }, io) => runDemo(flags, io),
})

/** Parse the words after `kspec fuzz` as the command does (throws a UsageError); for tests and scripts. */
export const parseFuzzFlags = (argv: readonly string[]): FuzzFlags => fuzzFlags(parseCommandLine(fuzz, argv).flags)

/** Every kspec command, in the order the usage lists them. */
export const commands: readonly AnyCommand[] = [check, fuzz, hostile, replay, docs, bench, demo]
