import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { decodeTraceFile } from "../../model/index.ts"
import { regressionsDir } from "../../cli/check.ts"
import { realImpl } from "../../harness/lockstep/impls.ts"
import { describeFailure, runEvents } from "../../harness/lockstep/runner.ts"

describe("regression replay: every saved trace in proofs-tests/regressions/ passes", () => {
  const files = readdirSync(regressionsDir).filter((f) => f.endsWith(".json")).sort()
  it("there is at least one saved trace", () => expect(files.length).toBeGreaterThan(0))
  for (const f of files) {
    it(`replays ${f}`, () => {
      const d = decodeTraceFile(readFileSync(join(regressionsDir, f), "utf8"))
      if (!d.ok) throw new Error(`${f}: ${d.message}`)
      const r = runEvents(realImpl, d.value.config, d.value.events)
      expect(r.failure === null ? "ok" : describeFailure(r.failure)).toBe("ok")
      expect(r.events.length).toBe(d.value.events.length)
    })
  }
})
