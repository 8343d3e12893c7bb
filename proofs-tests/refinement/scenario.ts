/**
 * What the scenario suites share: a scene run on the spec from boot (every state and outcome kept,
 * so a test can assert what seL4 does at any step), the same events run in lockstep against the
 * impl with every invariant, and random traces from the end of a scene.
 */
import fc from "fast-check"
import { expect } from "vitest"
import type { BootConfig, Cap, CapTag, Event, SyscallEvent } from "../../model/index.ts"
import { InitialSlot, defaultBootConfig, timerIRQ } from "../../model/index.ts"
import type { KernelState } from "../../spec/index.ts"
import { boot, getCap, slotOf, stepWithOutcome } from "../../spec/index.ts"
import { bootInfo } from "../../spec/kernel/boot.ts"
import { objectNamedBy } from "../../harness/query.ts"
import { resolveChoice, traceArb } from "../../harness/gen/choices.ts"
import { describeFailure, runEvents } from "../../harness/lockstep/runner.ts"
import { realImpl } from "../../harness/lockstep/impls.ts"

/** The root thread's slot holding its cap of each kind at boot (defaultBootConfig). */
export const rootCap: Partial<Record<CapTag, number>> = {
  CNodeCap: InitialSlot.InitThreadCNode, ThreadCap: InitialSlot.InitThreadTCB, UntypedCap: bootInfo(defaultBootConfig).untyped.start,
  IRQControlCap: InitialSlot.IRQControl, DomainCap: InitialSlot.Domain, ASIDControlCap: InitialSlot.ASIDControl,
  ASIDPoolCap: InitialSlot.InitThreadASIDPool, PageDirectoryCap: InitialSlot.InitThreadVSpace, FrameCap: InitialSlot.InitThreadIPCBuffer,
}

/** Slot `i` of the current thread's root CNode. */
export const rootSlot = (s: KernelState, i: number): number => slotOf((getCap(s, slotOf(s.curThread, 0)) as Extract<Cap, { tag: "CNodeCap" }>).ptr, i)

/** `e` with interrupt line `irq` (the timer's by default) pending while the kernel runs it: a long operation stops at its next preemption point. */
export const withIRQ = (e: SyscallEvent, irq: number = timerIRQ): SyscallEvent => ({ ...e, pendingIRQ: irq })

/** The spec's run of `events` from boot: the state after each (`states[0]` is boot), each outcome's result, the last state. */
export const specRun = (events: readonly Event[], config: BootConfig = defaultBootConfig) => {
  const states: KernelState[] = [boot(config)]
  const results: string[] = []
  for (const e of events) {
    const r = stepWithOutcome(states.at(-1)!, e)
    states.push(r.state)
    results.push(r.outcome.result)
  }
  return { states, results, state: states.at(-1)! }
}

/**
 * The impl refines the spec on `events` from boot, every invariant holding, checked in full at
 * every step, or with `fullEvery` > 0 incrementally as campaigns check (a full check every
 * `fullEvery` steps and at the end).
 */
export const expectLockstep = (events: readonly Event[], config: BootConfig = defaultBootConfig, fullEvery = 0): void => {
  const r = runEvents(realImpl, config, events, { fullEvery })
  expect(r.failure === null ? "" : describeFailure(r.failure)).toBe("")
}

/** The object the current thread's cap at `cptr` names (the scene's own caps; throws if none). */
export const objectOf = (s: KernelState, cptr: number): number => {
  const p = objectNamedBy(s, s.curThread, cptr)
  if (p === undefined) throw new Error(`no object cap at ${cptr}`)
  return p
}

/** `numRuns` random traces of up to `depth` choices after the scene `setup`, each run in lockstep. */
export const lockstepFrom = (setup: readonly Event[], seed: number, numRuns: number, depth = 60, config: BootConfig = defaultBootConfig): void => {
  const s0 = specRun(setup, config).state
  fc.assert(
    fc.property(traceArb(depth), (choices) => {
      let s = s0
      const events: Event[] = [...setup]
      for (const c of choices) {
        const e = resolveChoice(s, c)
        s = stepWithOutcome(s, e).state
        events.push(e)
      }
      const r = runEvents(realImpl, config, events)
      if (r.failure) throw new Error(describeFailure(r.failure))
    }),
    { seed, numRuns },
  )
}
