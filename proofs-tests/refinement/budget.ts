/**
 * The default suite budget, pinned so CI is deterministic; KSPEC_SEED and KSPEC_RUNS override it
 * to replay or to search harder.
 */
export const suiteBudget = () => ({
  seed: Number(process.env.KSPEC_SEED ?? 20261126),
  runs: Number(process.env.KSPEC_RUNS ?? 60),
  depth: Number(process.env.KSPEC_DEPTH ?? 150),
})
