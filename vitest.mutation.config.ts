import { defineConfig } from "vitest/config"

// The focused suite Stryker runs against each mutant of spec/ and impl/ (`npm run mutation`): the
// checks that judge kernel behaviour (lockstep refinement, the fastpath traces, invariants and
// their negative cases, totality, purity, regressions, reachability, the ABI table, the reply
// decoder's round trip, the corruption corpus, the generated docs), without the CLI, bench, bundle and planted-mutant self-tests, which
// judge the tooling rather than the kernel and take most of the suite's time.
export default defineConfig({
  test: {
    include: [
      "proofs-tests/refinement/**/*.test.ts",
      "proofs-tests/invariants/**/*.test.ts",
      "proofs-tests/properties/{totality,purity,regressions,persistent,words,schema,view,stateBuilders}.test.ts",
      "proofs-tests/relation/{boot.corres,implInvariants,lockstep.smoke}.test.ts",
      "proofs-tests/gen/reach.test.ts",
      "proofs-tests/abi/abi.test.ts",
      "proofs-tests/library/{reply,setup,builders}.test.ts",
      // The committed docs are generated from the spec's own tables (invariant descriptions, the
      // operations that threaten each, the ABI): a mutant there changes what a reader is told.
      "proofs-tests/cli/docs.test.ts",
    ],
    maxWorkers: 1,
    testTimeout: 120_000,
  },
})
