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
import { mutantLayer } from "../proofs-tests/mutants/build.ts"
import type { AnyCommand, FlagValues } from "./command.ts"
import { command, flag, parseCommandLine } from "./command.ts"
import { count, duration, file, oneOf, scopeName, seed, shard, wholeNumber } from "./values.ts"
import { regressionsDir, runCheck } from "./check.ts"
import { runHostileCommand } from "./hostile.ts"
import type { FuzzFlags } from "./fuzz.ts"
import { runFuzz } from "./fuzz.ts"
import { runReplay } from "./replay.ts"
import { docsDir, runDocs } from "./docs.ts"
import { resultsFile, runBench } from "./bench.ts"
import type { ProveFlags } from "./prove.ts"
import { runProve } from "./prove.ts"
import { scopeNames } from "../harness/prove/scope.ts"
import { runSecurityCommand, securityMutantNames } from "./security.ts"
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
    "On the built-in configuration a clean campaign is followed by two phases of one trace per five: ping-pong traces aimed at the IPC fastpath, and the campaign on three scheduling domains. " +
    "Prints the steps checked and a table of invocation x outcome; a counterexample is shrunk, printed, saved in proofs-tests/regressions/ (with its configuration) and replayable.",
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
/** The mutants that patch one layer (prove loads that layer): the lockstep mutants, not the security ones made in both. */
const oneLayerMutantNames = mutants.filter((m) => mutantLayer(m) !== "both").map((m) => m.name)
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
  security: flag.switch("Run the security campaign instead (kspec security --time): l4v's pas_refined, integrity and nonleakage on the built-in and fresh random labelled systems, spec and impl; --runs is then traces per system, in one round", {
    excludes: ["focus", "workers", "shard", "json", "stats", "minCover", "emitTest", "config"],
  }),
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
    { command: "kspec fuzz --security --time 10m", doc: "ten minutes of the security campaign (see kspec security)" },
  ],
  exitCodes: [
    { code: 0, meaning: "no counterexample (and --min-cover met)" },
    { code: 1, meaning: "a counterexample, a crashed worker, or --min-cover not met" },
    usageExit,
  ],
  writes: ({ flags }) => flags.mutant !== undefined ? [] : [counterexamples],
  run: async ({ flags }, io) => flags.security
    ? runSecurityCommand({ seed: flags.seed, runs: flags.runs ?? 40, depth: flags.depth, random: 4, system: undefined, html: undefined, mutant: flags.mutant, time: flags.runs === undefined ? flags.time ?? 60_000 : undefined }, io)
    : (await runFuzz(fuzzFlags(flags), io)).exitCode,
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

/** The flags of `kspec prove`. */
const proveFlagSpecs = {
  config: flag.value(scopeName(scopeNames), "The scope: a named configuration or a scope file (JSON: boot configuration, set-up, alphabet), validated before the search", {
    default: "default", defaultDoc: `default (the named scopes: ${scopeNames.join(", ")})`,
  }),
  depth: flag.value(wholeNumber(0, 1000), "Events after the initial state, at most", { defaultDoc: "the scope's own depth" }),
  maxStates: flag.value(count, "Stop after this many distinct states (the run is then not a proof)"),
  workers: flag.value(wholeNumber(1, 64), "Worker threads (1: the search runs in the main thread)", { default: defaultWorkers, defaultDoc: `one per core (${defaultWorkers} here)` }),
  shard: flag.value(shard, "Search part I of N (a CI matrix): the N shards together check every state; states reachable from two shards' parts are checked by both"),
  symmetry: flag.switch("Symmetry reduction: merge states that differ by a permutation of interchangeable objects (same type and size in the same untyped region)"),
  implState: flag.switch("Key states by (spec state, impl state) rather than by spec state: also explore impl states that differ only in what the spec does not see (MDB link order, stale words)"),
  mutant: flag.value(oneOf(oneLayerMutantNames, "a planted mutant"), "Prove a planted mutant instead of the impl (a self-test: it must fail); its counterexample goes to a temporary directory"),
  json: flag.value(file, "Write the report (statistics, statement, counterexample) as JSON to FILE", { output: true }),
}

const prove = command({
  name: "prove",
  summary: "bounded exhaustive checking: every state of a small scope, to a depth",
  description: "Breadth-first search over every state reachable from a scope's initial state in at most --depth events of its finite alphabet. " +
    "Every edge runs the spec and the impl in lockstep and checks the relation and the frame condition; every state is checked against every invariant, once (states are deduplicated by a 64-bit canonical fingerprint). " +
    "Prints states generated, distinct states, depth, queue and rate as it goes, then the statement of what was proved. " +
    "A counterexample is the shortest one (breadth first): printed in seL4 terms and saved as a trace file kspec replay runs. " +
    "Kernel entries run under the watchdog (KSPEC_DEADLINE_MS, default 10 s): one that does not return is a counterexample too. Ctrl-C stops the search and prints what was checked.",
  flags: proveFlagSpecs,
  positionals: [],
  examples: [
    { command: "kspec prove", doc: "the default scope to its default depth, on every core" },
    { command: "kspec prove --config tiny --depth 5", doc: "a smaller scope, deeper" },
    { command: "kspec prove --config my-scope.json --shard 2/4 --json r.json", doc: "the second quarter of a search over a scope file, for a CI matrix" },
    { command: "kspec prove --config tiny --mutant signal-overwrites", doc: "a planted bug: exit 1 with the shortest counterexample (depth 3)" },
    { command: "kspec prove --config vm", doc: "address spaces: maps, unmaps, ASIDs and user memory accesses, to depth 1" },
  ],
  exitCodes: [
    { code: 0, meaning: "proved: every state and edge of the scope to the depth passed" },
    { code: 1, meaning: "a counterexample (printed and saved), or not proved: stopped by --max-states or Ctrl-C, or a worker crashed" },
    usageExit,
  ],
  writes: ({ flags }) => flags.mutant !== undefined ? [] : [counterexamples],
  run: ({ flags }, io) => runProve(proveFlags(flags), io),
})

/** The decoded flags of `kspec prove` as runProve takes them. */
export const proveFlags = (f: FlagValues<typeof proveFlagSpecs>): ProveFlags => ({
  config: f.config, depth: f.depth, maxStates: f.maxStates, workers: f.workers, shard: f.shard, symmetry: f.symmetry, implState: f.implState, mutant: f.mutant, json: f.json,
})

/** Parse the words after `kspec prove` as the command does (throws a UsageError); for tests and scripts. */
export const parseProveFlags = (argv: readonly string[]): ProveFlags => proveFlags(parseCommandLine(prove, argv).flags)

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
  summary: "regenerate docs/invariants.md, docs/syscalls.md and the tables of docs/security.md",
  description: "Regenerates docs/invariants.md from the invariant registry, docs/syscalls.md from the ABI table (model/abi.ts), and the tables of docs/security.md (the built-in labelled systems, the security mutants) within its hand-written text. Each file is replaced atomically.",
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
  description: "Measures in one run and prints the table: IPC round trip, the mixed workload (impl vs spec), scaling with live objects, lockstep checking throughput, fuzz scaling with 1 and 2 workers, hostile input at volume (10^7 entries), kspec prove's distinct states per second with what symmetry saves and sharding loses. " +
    "A full run also saves the results (bench/results/latest.json, atomically).",
  flags: {
    quick: flag.switch("A fast smoke run (small sizes, short timings; the figures mean little); it saves nothing"),
    million: flag.switch("Also run kspec prove's search of over a million distinct states (the default scope to depth 3, two workers: minutes)"),
  },
  positionals: [],
  examples: [{ command: "kspec bench --quick", doc: "check that every benchmark runs" }],
  exitCodes: [
    { code: 0, meaning: "every section ran" },
    { code: 1, meaning: "a section failed (its error is printed; the others still run)" },
    usageExit,
  ],
  writes: ({ flags }) => flags.quick ? [] : [{ path: resultsFile, kind: "file", what: "the results" }],
  run: ({ flags }, io) => runBench(io.log, { quick: flags.quick, million: flags.million }),
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

const security = command({
  name: "security",
  summary: "check l4v's security properties (pas_refined, integrity, nonleakage) on labelled systems",
  description: "Random traces from labelled systems (partitions with labels and a policy, l4v's PAS), run in lockstep, with three checks after every step, on the spec and on the impl's abstraction: " +
    "authority confinement (l4v pas_refined: the authority extracted from the state stays within the policy), integrity (a step changes only what its label's authority allows) and " +
    "nonleakage by unwinding (two states that differ only in what a label may not read still agree on what it reads after the same step). " +
    "Runs the three built-in systems and N random ones, or one system file; prints per system the traces, steps, checks run and violations, and for a violation the shrunk counterexample and the command that reruns it. " +
    "--html writes a page with each system's policy graph and the authority graph extracted from its final state, edges outside the policy in red. See docs/security.md.",
  flags: {
    seed: campaignFlags.seed,
    runs: flag.value(count, "Traces per system (random systems get half as many)", { default: 40 }),
    depth: flag.value(count, "Steps per trace, at most", { default: 60 }),
    random: flag.value(wholeNumber(0, 100), "Random labelled systems to check besides the built-in ones", { default: 4 }),
    system: flag.value(file, "Check only this labelled system: a JSON file as harness/security/systems/*.json ({ kspec: \"security-system\", version: 1, name, summary, partitions, objects, caps, policy })", { excludes: ["random"] }),
    html: flag.value(file, "Write the page of policy and authority graphs to FILE", { output: true }),
    time: flag.value(duration, "Keep going for this long: rounds of the systems with seed, seed + 1, ... (fresh random systems each round), until the time is up or a check fails; prints each system's totals"),
    mutant: flag.value(oneOf(securityMutantNames, "a security mutant"), "Check a security mutant (a bug made in the spec and the impl alike) instead of the kernel, on the systems it is aimed at; stops at its first catch"),
  },
  positionals: [],
  examples: [
    { command: "kspec security", doc: "the built-in systems and 4 random ones, from a fresh seed" },
    { command: "kspec security --system my-system.json --runs 200 --html security.html", doc: "one system of your own, longer, with the page of graphs" },
    { command: "kspec security --time 10m", doc: "a time-boxed security campaign: ten minutes of rounds, each with fresh random systems" },
    { command: "kspec security --mutant sec-transfer-without-grant --html caught.html", doc: "watch pas_refined catch a planted bug; the page draws the stray edge in red" },
  ],
  exitCodes: [
    { code: 0, meaning: "every check held on every system (with --mutant: the mutant survived)" },
    { code: 1, meaning: "a violation (printed, shrunk, with its rerun command)" },
    usageExit,
  ],
  run: ({ flags }, io) => runSecurityCommand(flags, io),
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
export const commands: readonly AnyCommand[] = [check, fuzz, hostile, prove, security, demo, replay, docs, bench]
