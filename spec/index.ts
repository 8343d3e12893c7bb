// The kspec specification: re-exports only.
export { boot, bootInfo, bootLayout, untypedBlocks } from "./kernel/boot.ts"
export type { BootInfo, SlotRegion } from "./kernel/boot.ts"
export { step, stepWithOutcome, invocationName } from "./api/syscall.ts"
export type { InvocationName, MethodName, Outcome, OutcomeResult, OutcomeSyscall } from "./api/syscall.ts"
export type { KernelState, KObject, Tcb, SchedulerAction } from "./state.ts"
export { KernelBug, getCap, getObject, getTcb, slotOf, readyQueueIndex } from "./state.ts"
export { observe, toCanonicalJSON } from "./view.ts"
