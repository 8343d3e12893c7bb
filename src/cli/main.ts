/**
 * The `kspec` command. Subcommands so far: `check` (the lockstep refinement campaign) and
 * `bench` (benchmarks).
 * Exit codes: 0 clean, 1 counterexample found, 2 bad usage.
 */
import { UsageError, parseCheckFlags } from "./args.ts"
import { runCheck } from "./check.ts"
import { runBench } from "./bench.ts"

const usage = `kspec: an executable, property-checked model of a seL4-style microkernel

commands:
  kspec check [--seed N] [--runs N] [--depth N]
      run the lockstep refinement campaign: random traces run in the spec and the impl side by
      side; after every step the impl's abstract state must equal the spec's and every invariant
      must hold. Defaults: a fresh seed (printed), 500 traces of up to 150 steps.
  kspec bench
      measure the impl against the spec in one run and print the table (also bench/results/latest.json).`

export const main = async (argv: readonly string[]): Promise<number> => {
  const log = (s: string) => process.stdout.write(`${s}\n`)
  const [cmd, ...rest] = argv
  try {
    switch (cmd) {
      case "check": return runCheck(parseCheckFlags(rest), log)
      case "bench":
        if (rest.length > 0) throw new UsageError(`kspec bench takes no arguments\n${usage}`)
        return runBench(log)
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
