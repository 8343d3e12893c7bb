/**
 * kspec as a library: what a kernel engineer needs to write their own properties in their own
 * vitest suite in a few lines. `import { ... } from "kspec"` (package.json `exports`).
 *
 * - model: boot configurations, events and their words (message info, labels, object types, slots)
 * - spec: `boot`, `step`, `stepWithOutcome` (what an entry did), `observe` (a thread's registers)
 * - impl: `Kernel` (boot it, `step` it; `fastpath: false` sends IPC down the slow path)
 * - invariants: the registry (`invariants`, each named with its statement) and `checkAll`
 * - generators: `traceArb` (state-blind choices), `resolveChoice` (a choice against a spec state)
 * - lockstep: `runEvents` / `runChoices` (spec and impl side by side, every invariant after every
 *   step), `realImpl`, `describeFailure`; `absState` (the impl's abstract state)
 * - scenarios: a ready-made client/server ping-pong over an endpoint
 * @category library
 */
export * from "./model/index.ts"
export { boot, bootLayout, step, stepWithOutcome, observe, toCanonicalJSON, getTcb, getCap, slotOf } from "./spec/index.ts"
export type { KernelState, Outcome } from "./spec/index.ts"
export { invariants, checkAll } from "./spec/invariants/index.ts"
export type { Invariant, Violation } from "./spec/invariants/index.ts"
export { Kernel } from "./impl/index.ts"
export type { KernelOptions } from "./impl/kernel.ts"
export { Ops, choiceArb, defaultWeights, resolveChoice, traceArb } from "./harness/gen/choices.ts"
export type { Choice, Op } from "./harness/gen/choices.ts"
export { describeFailure, runChoices, runEvents, runLockstep } from "./harness/lockstep/runner.ts"
export type { Failure, ImplUnderTest, RunResult } from "./harness/lockstep/runner.ts"
export { realImpl } from "./harness/lockstep/impls.ts"
export { absState } from "./harness/relation/abstract.ts"
export { PingPongSlots, clientCall, pingPongRound, pingPongSetup, serverReplyRecv } from "./harness/scenarios/pingpong.ts"
