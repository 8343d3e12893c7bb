/**
 * The depth list of mutants.test.ts and mutants2.test.ts (each runs half, so the two halves run
 * in parallel). Every planted mutant is caught by `kspec prove`, at a depth listed here: the
 * shortest trace in the named scope that shows the bug (breadth-first, so no shorter trace of the
 * scope's alphabet does). The counterexample replays: the mutant fails at its last event, the impl runs it clean.
 * Depth 0 means the bug already shows in the scope's set-up (its retypes, mints and mappings).
 * Impl mutants run the mutant's impl against the spec; spec mutants (named spec-...) the impl
 * against the mutant's spec. The looping mutants are caught by the search's watchdog (a kernel
 * entry that does not finish in `deadlineMs` is a nontermination counterexample). A mutant no
 * small scope reaches is listed in `outOfScope` with the reason and the suite that catches it.
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
  "retype-ignores-alignment": { scope: "server", depth: 0 },
  "mint-rebadges": { scope: "server", depth: 1 },
  "lookup-ignores-guard": { scope: "server", depth: 1 },
  "copy-keeps-rights": { scope: "server", depth: 0 },
  "delete-leaves-stale-link": { scope: "server", depth: 0 },
  "final-ignores-next": { scope: "server", depth: 1 },
  "copy-skips-delete-first": { scope: "server", depth: 1 },
  "reset-keeps-free-index": { scope: "server", depth: 1 },
  "badge-not-delivered": { scope: "server", depth: 1 },
  "call-leaves-no-reply-cap": { scope: "server", depth: 1 },
  "signal-overwrites": { scope: "tiny", depth: 3 },
  "equal-priority-preempts": { scope: "tiny", depth: 2 },
  "fastpath-skips-grant-check": { scope: "server", depth: 1 },
  "cancel-forgets-last": { scope: "server", depth: 2 },
  "tick-does-not-rotate": { scope: "ipc", depth: 1 },
  "fault-layout-off-by-one": { scope: "server", depth: 1 },
  "unwrap-any-endpoint": { scope: "server", depth: 1 },
  "transfer-ignores-grant": { scope: "server", depth: 1 },
  "tls-base-wrong-register": { scope: "default", depth: 1 },
  "tls-base-off-by-one-length": { scope: "default", depth: 1 },
  // Domains (the domains scope: two domains of two ticks).
  "domain-never-ends": { scope: "domains", depth: 1 },
  "next-domain-ignores-start": { scope: "domains", depth: 1 },
  "choose-thread-domain-zero": { scope: "domains", depth: 1 },
  "set-start-keeps-time": { scope: "domains", depth: 1 },
  "spec-domain-never-ends": { scope: "domains", depth: 1 },
  "spec-next-domain-skips-entry": { scope: "domains", depth: 2 },
  // Address spaces (the vm scope; the set-up of any scope maps IPC buffers and assigns ASIDs).
  "page-map-ignores-alignment": { scope: "vm", depth: 1 },
  "page-map-keeps-cap-rights": { scope: "vm", depth: 1 },
  "large-page-unmap-clears-one": { scope: "vm", depth: 1 },
  "pt-map-over-used-entry": { scope: "vm", depth: 1 },
  "asid-zero-assigned": { scope: "domains", depth: 0 },
  "make-pool-ignores-children": { scope: "vm", depth: 1 },
  "pt-map-records-unaligned-vaddr": { scope: "domains", depth: 0 },
  "pt-unmap-keeps-entries": { scope: "vm", depth: 1 },
  "pd-delete-keeps-asid": { scope: "preempt", depth: 0 },
  "derive-unmapped-page-table": { scope: "vm", depth: 1 },
  "frame-delete-unmaps-only-final": { scope: "vm", depth: 1 },
  "spec-pd-without-kernel-window": { scope: "domains", depth: 0 },
  "spec-pt-unmap-keeps-pde": { scope: "vm", depth: 1 },
  "spec-assign-leaves-cap": { scope: "domains", depth: 0 },
  // Preemption (the preempt scope), and the loops the watchdog stops.
  "revoke-never-advances": { scope: "preempt", depth: 0 },
  "spec-revoke-never-advances": { scope: "preempt", depth: 0 },
  "work-counter-never-preempts": { scope: "preempt", depth: 0 },
  "zombie-misses-last-slot": { scope: "preempt", depth: 1 },
  "reset-restarts-from-top": { scope: "server", depth: 1 },
  "preempted-entry-drops-interrupt": { scope: "preempt", depth: 1 },
  "preempted-syscall-completes": { scope: "preempt", depth: 1 },
  "unexposed-delete-recurses": { scope: "preempt", depth: 1 },
  "spec-revoke-never-preempts": { scope: "preempt", depth: 1 },
  "spec-preempted-reset-forgets-progress": { scope: "preempt", depth: 1 },
  // User memory.
  "data-abort-without-wnr": { scope: "vm", depth: 1 },
  "long-message-shifted": { scope: "server", depth: 1 },
  "extra-cap-wrong-word": { scope: "server", depth: 0 },
  "spec-execute-ignores-xn": { scope: "vm", depth: 1 },
  // From an independent bug hunt.
  "rotate-pivot-may-be-destination": { scope: "server", depth: 2 },
  // Queues of two: a third thread signals or sends while two wait.
  "signal-wakes-last-waiter": { scope: "queues", depth: 3 },
  // Same-badge siblings and a copy in the derivation tree, made by the scope's prelude.
  "same-badge-mint-is-child": { scope: "badges", depth: 1 },
  "delete-keeps-first-badged": { scope: "badges", depth: 1 },
}

/** Mutants outside every named scope, with the reason; the mutant self-test's random campaigns (proofs-tests/mutants) catch each. */
export const outOfScope: Readonly<Record<string, string>> = {
  "large-page-xn-read-as-small": "a fetch from a large page mapped without execute-never: vm's large page is mapped execute-never (the misread bit says the same), and remapping it executable is not in vm's alphabet, which maps frames only at its base address (no trace of depth 2 shows it; depth 3 had not finished in 5 minutes); the random campaign's accesses go through big mappings one choice in twelve when the thread has one",
  "saved-reply-ignores-grant": "a Call received through a cap without Grant, the reply cap saved with CNode_SaveCaller, then a send with caps through the saved cap: four events from any named scope's set-up (in server only the client holds such a cap, and its server is blocked), past the depths searched in minutes; the random campaign's receives take a cap without Grant one time in six, and one Reply in four defers through a saved cap",
  "spec-super-section-one-entry": "a 16 MiB frame (a super section) needs 16 MiB of aligned RAM: the named scopes have at most 256 KiB (the random suite boots the default configuration's 16 MiB region and maps one)",
}

/** The watchdog of these searches and replays (a trace here takes milliseconds; a loop is stopped after this). */
const deadlineMs = 500

/**
 * The tests: the list covers every lockstep mutant (in the first half), and each listed mutant of part
 * `part` (0 or 1: alternate entries) is caught at its depth, its counterexample replaying.
 */
export const mutantSuite = (part: 0 | 1): void => {
  describe(`kspec prove catches every planted mutant at a small depth (part ${part + 1} of 2)`, () => {
    if (part === 0) {
      it("lists a depth, or a reason it is out of scope, for every mutant", () => {
        // The lockstep mutants; the security mutants are one bug in both layers, which refinement cannot see (proofs-tests/security).
        expect([...Object.keys(catchingDepth), ...Object.keys(outOfScope)].sort()).toEqual(mutants.filter((m) => m.securityCheck === undefined).map((m) => m.name).sort())
        expect(Object.keys(catchingDepth).filter((n) => n in outOfScope)).toEqual([])
      })
    }
    mutants.filter((m) => catchingDepth[m.name] !== undefined).forEach((m, i) => {
      if (i % 2 !== part) return
      const at = catchingDepth[m.name]!
      it(`${m.name}: in scope ${at.scope} at depth ${at.depth}`, async () => {
        // The impl-only invariants too (the search checks them on every state of any impl).
        const impl = { ...(await loadMutant(m)), implChecks: realImpl.implChecks! }
        const r = await prove({ scope: at.scope, depth: at.depth, impl, deadlineMs })
        expect(r.status, `${m.name} survived scope ${at.scope} to depth ${at.depth}`).toBe("counterexample")
        expect(r.failure!.depth).toBe(at.depth)
        // The saved trace: the mutant fails at its last event, the impl refines the spec all along.
        const events = r.counterexampleEvents!
        // The watchdog over the whole replay only for a loop (a replay with every check takes seconds on a loaded machine).
        const bad = runEvents(impl, r.scope.config, events, { deadlineMs: r.failure!.failure.kind === "nontermination" ? deadlineMs : 60_000 })
        expect(bad.failure).not.toBeNull()
        expect(bad.failure!.step).toBe(r.failure!.failure.step)
        expect(runEvents(realImpl, r.scope.config, events, { deadlineMs: 60_000 }).failure).toBeNull()
      }, 30_000)
    })
  })
}
