/**
 * Every planted mutant is caught by `kspec prove`, at a depth listed here: the shortest trace in
 * the named scope that shows the bug (breadth-first, so no shorter trace of the scope's alphabet
 * does). The counterexample replays: the mutant fails at its last event, the impl runs it clean.
 * Depth 0 means the bug already shows in the scope's set-up (its retypes and mints).
 */
import { describe, expect, it } from "vitest"
import { realImpl } from "../../harness/lockstep/impls.ts"
import { runEvents } from "../../harness/lockstep/runner.ts"
import { prove } from "../../harness/prove/index.ts"
import { loadMutant } from "../mutants/build.ts"
import { mutants } from "../mutants/mutants.ts"

/** Each mutant: the named scope and the depth of its shortest counterexample there. */
export const catchingDepth: Readonly<Record<string, { readonly scope: string; readonly depth: number }>> = {
  "revoke-stops-early": { scope: "server", depth: 1 },
  "retype-ignores-alignment": { scope: "tiny", depth: 0 },
  "mint-rebadges": { scope: "server", depth: 1 },
  "lookup-ignores-guard": { scope: "server", depth: 1 },
  "copy-keeps-rights": { scope: "default", depth: 1 },
  "delete-leaves-stale-link": { scope: "default", depth: 1 },
  "final-ignores-next": { scope: "server", depth: 1 },
  "copy-skips-delete-first": { scope: "server", depth: 1 },
  "reset-keeps-free-index": { scope: "server", depth: 1 },
  "badge-not-delivered": { scope: "server", depth: 1 },
  "call-leaves-no-reply-cap": { scope: "server", depth: 1 },
  "signal-overwrites": { scope: "tiny", depth: 3 },
  "equal-priority-preempts": { scope: "tiny", depth: 2 },
  "fastpath-skips-grant-check": { scope: "server", depth: 1 },
  "cancel-forgets-last": { scope: "server", depth: 2 },
  "tick-does-not-rotate": { scope: "ipc", depth: 5 },
  "fault-layout-off-by-one": { scope: "server", depth: 1 },
  "unwrap-any-endpoint": { scope: "server", depth: 1 },
  "transfer-ignores-grant": { scope: "server", depth: 1 },
  "tls-base-wrong-register": { scope: "default", depth: 1 },
  "tls-base-off-by-one-length": { scope: "default", depth: 1 },
}

describe("kspec prove catches every planted mutant at a small depth", () => {
  it("lists a depth for every mutant", () => {
    expect(Object.keys(catchingDepth).sort()).toEqual(mutants.map((m) => m.name).sort())
  })
  for (const m of mutants) {
    const at = catchingDepth[m.name]
    if (at === undefined) continue
    it(`${m.name}: in scope ${at.scope} at depth ${at.depth}`, async () => {
      // The impl-only invariants too (the search checks them on every state of any impl).
      const impl = { ...(await loadMutant(m)), implChecks: realImpl.implChecks! }
      const r = await prove({ scope: at.scope, depth: at.depth, impl })
      expect(r.status, `${m.name} survived scope ${at.scope} to depth ${at.depth}`).toBe("counterexample")
      expect(r.failure!.depth).toBe(at.depth)
      // The saved trace: the mutant fails at its last event, the impl refines the spec all along.
      const events = r.counterexampleEvents!
      const bad = runEvents(impl, r.scope.config, events)
      expect(bad.failure).not.toBeNull()
      expect(bad.failure!.step).toBe(r.failure!.failure.step)
      expect(runEvents(realImpl, r.scope.config, events).failure).toBeNull()
    })
  }
})
