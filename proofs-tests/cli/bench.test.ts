import { execFileSync } from "node:child_process"
import { dirname, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const bin = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/kspec.js")

describe("kspec bench --quick", () => {
  // A smoke run: every section runs and prints its table. Timing values are never asserted.
  it("runs every benchmark and prints every section", () => {
    const out = execFileSync(process.execPath, [bin, "bench", "--quick"], { encoding: "utf8", timeout: 120_000 })
    for (const title of ["1. IPC round trip", "2. Mixed workload", "3. Scaling", "4. Checking throughput", "5. Fuzz scaling", "6. Hostile input at volume", "7. Bounded exhaustive checking"]) {
      expect(out).toContain(title)
    }
    expect(out).not.toContain("(failed:")
    for (const row of ["| impl, fastpath |", "| the fastpath's work in its cheapest JS", "| impl speed-up |", "| live objects |", "| objects | checking | steps | steps/s |", "| setup | steps |", "| 1 worker |", "| tiny | 3 | 1 |", "| mirror |", "with symmetry reduction", "lost to cross-shard duplicates"]) {
      expect(out).toContain(row)
    }
  }, 150_000)
})
