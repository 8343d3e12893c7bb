/**
 * The security suite's budget, pinned so CI is deterministic; KSPEC_SEED and KSPEC_SECURITY_RUNS
 * override it to replay or to search harder.
 */
export const securityBudget = () => ({
  seed: Number(process.env.KSPEC_SEED ?? 20261126),
  /** Traces per built-in system. */
  runs: Number(process.env.KSPEC_SECURITY_RUNS ?? 16),
  depth: 60,
  /** Random systems, and traces on each. */
  randomSystems: 4,
  randomRuns: 5,
})
