/**
 * Address-space states the random campaign reaches seldom, each the start of a family of traces:
 * a thread whose VTable cap went stale when its ASID was given to another directory (the pool
 * deleted and made again). Its accesses must go through the global directory, and fault; the impl
 * must agree step by step, on the scenario and on random traces from it.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { Event } from "../../model/index.ts"
import { defaultBootConfig, tcbVTable } from "../../model/index.ts"
import { boot, stepWithOutcome } from "../../spec/index.ts"
import type { KernelState } from "../../spec/index.ts"
import { getCap, slotOf } from "../../spec/state.ts"
import { findPDForASID } from "../../spec/kernel/vspace.ts"
import { loadWord } from "../../spec/machine/memory.ts"
import { userVSpaceRoot } from "../../spec/machine/mmu.ts"
import { capAt } from "../../harness/query.ts"
import { seL4_Yield } from "../../harness/builders.ts"
import { resolveChoice, traceArb } from "../../harness/gen/choices.ts"
import { describeFailure, runEvents } from "../../harness/lockstep/runner.ts"
import { realImpl } from "../../harness/lockstep/impls.ts"
import { AsidReuseSlots as S, asidReuseSetup, asidReuseVAddr } from "../../harness/scenarios/asidReuse.ts"
import { suiteBudget } from "./budget.ts"

const run = (events: readonly Event[]): KernelState => events.reduce((s, e) => stepWithOutcome(s, e).state, boot(defaultBootConfig))
const ptrOf = (s: KernelState, cptr: number): number => {
  const c = capAt(s, s.curThread, cptr)
  if (c === undefined || !("ptr" in c)) throw new Error(`no object cap at ${cptr}`)
  return c.ptr
}

describe("a VTable cap whose ASID was given to another directory", () => {
  it("the setup leaves the thread's directory cap stale: its ASID finds the other directory, so the thread runs in the global one", () => {
    const s = run(asidReuseSetup())
    const thread = ptrOf(s, S.thread)
    const vt = getCap(s, slotOf(thread, tcbVTable))
    expect(vt.tag).toBe("PageDirectoryCap")
    if (vt.tag !== "PageDirectoryCap" || vt.asid === null) throw new Error("the thread's VTable cap has no ASID")
    expect(vt.ptr).toBe(ptrOf(s, S.oldPD))
    const found = findPDForASID(s, vt.asid)
    expect(found.ok && found.value).toBe(ptrOf(s, S.newPD))
    expect(userVSpaceRoot(s, thread)).toBe(s.armGlobalPD)
  })

  it("its store faults (translation) and writes nothing; the impl agrees at every step", () => {
    const setup = asidReuseSetup()
    const s0 = run(setup)
    const thread = ptrOf(s0, S.thread)
    const page = ptrOf(s0, S.page)
    const events: Event[] = [...setup, seL4_Yield(), { tag: "MemoryAccess", kind: "Write", vaddr: asidReuseVAddr + 8, value: 0x1234 }]
    const s = run(events)
    // The thread ran (the root yielded to its equal), faulted, and with no fault handler stopped.
    expect(s.kheap.get(thread)?.tag === "TCB" && (s.kheap.get(thread) as { tcbState: { tag: string } }).tcbState.tag).toBe("Inactive")
    expect(loadWord(s, page, 2)).toBe(0)
    const r = runEvents(realImpl, defaultBootConfig, events, { fullEvery: 0 })
    expect(r.failure === null ? "" : describeFailure(r.failure)).toBe("")
  })

  const b = suiteBudget()
  it(`and random traces from there (seed=${b.seed})`, () => {
    const setup = asidReuseSetup()
    const s0 = run(setup)
    fc.assert(
      fc.property(traceArb(60), (choices) => {
        let s = s0
        const events: Event[] = [...setup]
        for (const c of choices) {
          const e = resolveChoice(s, c)
          s = stepWithOutcome(s, e).state
          events.push(e)
        }
        const r = runEvents(realImpl, defaultBootConfig, events)
        if (r.failure) throw new Error(describeFailure(r.failure))
      }),
      { seed: b.seed, numRuns: 12 },
    )
  })
})
