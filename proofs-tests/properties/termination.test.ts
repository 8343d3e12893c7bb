// seL4 terminates on every kernel entry; a layer that loops is a counterexample like any other,
// reported at its step and shrunk, never a hung run (the watchdog stops even a synchronous loop).
import { describe, expect, it } from "vitest"
import { defaultBootConfig } from "../../model/index.ts"
import type { ImplUnderTest } from "../../harness/lockstep/runner.ts"
import { describeFailure, runEvents } from "../../harness/lockstep/runner.ts"
import { runCampaign } from "../../harness/lockstep/campaign.ts"
import { realImpl } from "../../harness/lockstep/impls.ts"
import type { Kernel } from "../../impl/index.ts"
import { seL4_Yield, timerTick } from "../../harness/builders.ts"

/** The real impl, except that its third timer tick never returns. */
const loopsOnThirdTick = (): ImplUnderTest<Kernel> => {
  let ticks = 0
  return {
    ...realImpl,
    boot: (c) => { ticks = 0; return realImpl.boot(c) },
    step: (k, ev) => {
      if (ev.tag === "TimerTick" && ++ticks === 3) for (;;) { /* a kernel entry that never ends */ }
      realImpl.step(k, ev)
    },
  }
}

describe("non-termination is a counterexample", () => {
  it("the watchdog stops a looping kernel entry and names the step and the layer", () => {
    // Without the watchdog this call would never return: that it returns is the point, so no time is asserted.
    const r = runEvents(loopsOnThirdTick(), defaultBootConfig, [timerTick(), seL4_Yield(), timerTick(), timerTick(), seL4_Yield()], { deadlineMs: 300 })
    expect(r.failure).toEqual({ kind: "nontermination", step: 4, phase: "impl", ms: 300 })
    expect(describeFailure(r.failure!)).toBe("step 4: the impl did not finish within 300 ms: a loop that does not terminate")
    expect(r.events.length).toBe(4)
  })

  it("a campaign finds the loop and shrinks the trace to the three ticks", () => {
    const r = runCampaign(loopsOnThirdTick(), { config: defaultBootConfig, seed: 3, runs: 50, depth: 40, deadlineMs: 1000 })
    expect(r.failure?.failure.kind).toBe("nontermination")
    expect(r.failure!.events.filter((e) => e.tag === "TimerTick").length).toBe(3)
    expect(r.failure!.events.at(-1)).toEqual(timerTick())
  }, 60_000)
})
