/**
 * The `kspec` command. Subcommands so far: `check` (the lockstep refinement campaign) and
 * `bench` (benchmarks).
 * Exit codes: 0 clean, 1 counterexample found, 2 bad usage.
 */
import { UsageError, parseCheckFlags } from "./args.ts"
import { runCheck } from "./check.ts"
import { runBench } from "./bench.ts"
import { fuzzUsage, parseFuzzFlags } from "./args.ts"
import { runFuzz } from "./fuzz.ts"
import { focusNames } from "../harness/gen/focus.ts"
import { mutants } from "../proofs-tests/mutants/mutants.ts"
import { parseDocsFlags, parseReplayArgs } from "./args.ts"
import { runReplay } from "./replay.ts"
import { runDocs } from "./docs.ts"

const usage = `kspec: an executable, property-checked model of a seL4-style microkernel

commands:
  kspec check [--seed N] [--runs N] [--depth N]
      run the lockstep refinement campaign: random traces run in the spec and the impl side by
      side; after every step the impl's abstract state must equal the spec's and every invariant
      must hold. Defaults: a fresh seed (printed), 500 traces of up to 150 steps.
  ${fuzzUsage.replace("usage: ", "")}
      a time- or run-boxed lockstep campaign on worker threads (default: 60 s on every core), aimed
      at --focus names (Call, Recv, TCB_SetPriority, CNode_Copy, UserFault, Interrupt, ...) and
      guided toward the outcomes not reached yet; prints live progress, then a coverage matrix
      (row x outcome) and the reachable cells never reached. Counterexamples are shrunk, saved in
      proofs-tests/regressions/ (with --emit-test also as a vitest test) and printed with
      their replay command. --shard I/N runs part I of N of one campaign; --json and --stats
      write the report and JSON-lines statistics; --min-cover N fails unless every reachable cell
      was reached N times. Ctrl-C stops cleanly and prints the report so far.
  kspec bench [--quick]
      measure in one run and print the table (also bench/results/latest.json): IPC round trip, the
      mixed workload (impl vs spec), scaling with live objects, lockstep checking throughput, fuzz
      scaling with 1 and 2 workers. --quick is a fast smoke run (it writes no JSON).
  kspec replay FILE
      re-run a saved trace (proofs-tests/regressions/*.json) in the spec and the impl, printing
      each event in seL4 terms and its result; at the first divergence or broken invariant print
      the state diff and the violations (exit 1). A file that is not a valid trace exits 2.
  kspec docs [--check]
      regenerate docs/invariants.md and docs/syscalls.md from the invariant registry and the ABI
      table (src/model/abi.ts); with --check, write nothing and exit 1 if they are stale.`

export const main = async (argv: readonly string[]): Promise<number> => {
  const log = (s: string) => process.stdout.write(`${s}\n`)
  const [cmd, ...rest] = argv
  try {
    switch (cmd) {
      case "check": return runCheck(parseCheckFlags(rest), log)
      case "fuzz": {
        if (rest.includes("--help") || rest.includes("-h")) { log(fuzzUsage); return 0 }
        const flags = parseFuzzFlags(rest, focusNames, mutants.map((m) => m.name))
        return (await runFuzz(flags, { log, progress: process.stderr })).exitCode
      }
      case "replay": return runReplay(parseReplayArgs(rest).file, log)
      case "docs": return runDocs(parseDocsFlags(rest), log)
      case "bench":
        if (rest.some((a) => a !== "--quick")) throw new UsageError(`kspec bench takes only --quick\n${usage}`)
        return await runBench(log, { quick: rest.includes("--quick") })
      case undefined: case "help": case "--help": case "-h": log(usage); return cmd === undefined ? 2 : 0
      default: throw new UsageError(`unknown command ${JSON.stringify(cmd)}\n${usage}`)
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`kspec: ${e.message}\n`)
      return 2
    }
    throw e
  }
}
