import { defineConfig } from "vitest/config"

// Two cores on the CI machine: vitest 4 defaults to availableParallelism()-1 workers, so ask for both.
export default defineConfig({
  test: {
    include: ["proofs-tests/**/*.test.ts"],
    maxWorkers: 2,
    testTimeout: 120_000,
    reporters: process.env.KSPEC_JSON_REPORT ? ["default", ["json", { outputFile: process.env.KSPEC_JSON_REPORT }]] : ["default"],
  },
})
