import { defineConfig } from "vitest/config"

// The lockstep campaign alone (the suite's copy of `kspec check`'s default, on the default and the
// three-domain configurations): the suite `npm run mutation -- --sample K --suite campaign` runs
// against each mutant to measure what each search technique adds (KSPEC_SWARM=0, KSPEC_BOUNDARY=0
// turn swarm traces and boundary arguments off), with no other test to kill the mutant first.
export default defineConfig({
  test: {
    include: ["proofs-tests/refinement/lockstep.corres.test.ts"],
    maxWorkers: 1,
    testTimeout: 300_000,
  },
})
