/**
 * kspec as a library: what a kernel engineer needs to write their own properties in their own
 * vitest suite in a few lines. `import { ... } from "kspec"` (package.json `exports`).
 *
 * - model: boot configurations, events and their words (message info, labels, object types,
 *   errors, register numbers), and the Effect Schemas that decode them from outside data
 * - spec: `boot`, `step`, `stepWithOutcome` (what an entry did), `observe` (a thread's registers)
 * - impl: `Kernel` (boot it, `step` it; `fastpath: false` sends IPC down the slow path)
 * - invariants: the registry (`invariants`, each named with its statement), l4v's layers
 *   (`invs`, `validState`, ...), `checkAll`, `holds`, `defineInvariant` for your own
 * - builders: one per syscall and invocation, by its libsel4 name (`seL4_CNode_Copy(...)`), plus
 *   `timerTick`, `interrupt`, `vmFault`, `unknownSyscall`, `userException`, `raw`, and user
 *   memory accesses `readWord`, `writeWord`, `execute`
 * - replies: `decodeReply` (Ok, or the seL4 error with its fields), `decodeMessage`, `decodeFaultMessage`
 * - lockstep: `lockstep(config)` steps spec and impl side by side and checks refinement and every
 *   invariant after each step; `runEvents` / `runChoices` / `runLockstep` run whole traces
 * - queries: a getter per object kind, ready queues, the CDT, the current thread, cap lookups,
 *   a thread's view of its memory (`userWord`)
 * - set-ups: `SystemBuilder` (spawn threads, mint caps, make a thread current), `clientServer`,
 *   `domainsBootConfig` (three domains under a static schedule)
 * - generators: `traceArb`, `traceArbFor(names)`, `choiceArbFor(names)`, `resolveChoice`
 * - trace files: `loadTraceFile` / `saveTraceFile` (validated, written atomically)
 * - bounded exhaustive checking: `prove({ scope, depth, properties })` visits every state of a
 *   small scope to a depth (the engine of `kspec prove`); `scopes` are the named scopes
 * - security (l4v's access control and information flow, as property checks): labelled systems
 *   (`loadSystem`, `buildSystem`, `randomSystemArb`), policies (`Policy`, `policyWellformed`,
 *   `subjectReads`, `subjectAffects`), authority extraction (`stateAuthority`), the three checks
 *   (`checkConfinement`, `checkIntegrity`, nonleakage by unwinding in `runSecurityTrace`) and their
 *   campaign (`runSecurityCampaign`)
 * @category library
 */
export * from "./model/index.ts"
export { abi, abiEntry, abiEntryForLabel, capDispatch } from "./model/abi.ts"
export type { AbiEntry, AbiError } from "./model/abi.ts"
export * from "./spec/index.ts"
export {
  invariants, checkAll, holds, defineInvariant, invs, validState, validSched, validPspace, validObjs, validMdb, validIrq,
} from "./spec/invariants/index.ts"
export type { Invariant, InvariantDef, Layer, Violation } from "./spec/invariants/index.ts"
export { Kernel } from "./impl/index.ts"
export type { ImplState, KernelOptions } from "./impl/index.ts"

export * from "./harness/builders.ts"
export * from "./harness/reply.ts"
export * from "./harness/query.ts"
export * from "./harness/setup.ts"
export { Ops, choiceArb, defaultWeights, resolveChoice, traceArb, weightsFor } from "./harness/gen/choices.ts"
export { domainsBootConfig } from "./harness/configs.ts"
export type { Choice, Op } from "./harness/gen/choices.ts"
export { choiceArbFor, focusNames, traceArbFor } from "./harness/gen/focus.ts"
export { Lockstep, describeFailure, lockstep, runChoices, runEvents, runLockstep } from "./harness/lockstep/runner.ts"
export type { Failure, ImplUnderTest, RunOptions, RunResult, StepResult } from "./harness/lockstep/runner.ts"
export { realImpl } from "./harness/lockstep/impls.ts"
export { stateDiff } from "./harness/lockstep/diff.ts"
export { absState } from "./harness/relation/abstract.ts"
export { ConfigFileError, TraceFileError, loadBootConfigFile, loadTraceFile, parseBootConfigFile, parseTraceFile, saveTraceFile } from "./harness/trace.ts"
export type { TraceContents } from "./harness/trace.ts"
export { InputFileError, OutputPathError, writeFileAtomic } from "./harness/files.ts"
export { PingPongSlots, clientCall, pingPongRound, pingPongSetup, serverReplyRecv } from "./harness/scenarios/pingpong.ts"
export {
  prove, scopes, scopeNames, buildScope, resolveScope, parseScopeFile, ScopeFileError, ScopeError, alphabet, describeAlphabet,
  canonicalRenaming, applyRenaming, specHash, implHash, FingerprintTable, collisionProbability, cloneKernel,
} from "./harness/prove/index.ts"
export type {
  ProveOptions, ProveResult, ProveFailure, UserProperties, StateProperty, EdgeProperty, SearchStats, SearchStatus,
  ScopeSpec, Scope, AlphabetSpec, Family,
} from "./harness/prove/index.ts"
export { Policy, auths, canAffect, policyWellformed, reflexiveEdges, showEdge, subjectAffects, subjectReads, wellformedClosure } from "./harness/security/policy.ts"
export type { Auth, Edge, Label } from "./harness/security/policy.ts"
export { Labelling } from "./harness/security/labels.ts"
export { capAuthority, stateAuthority } from "./harness/security/extract.ts"
export type { AuthorityEdge } from "./harness/security/extract.ts"
export { checkConfinement, checkConfinementStep } from "./harness/security/confinement.ts"
export type { ConfinementViolation } from "./harness/security/confinement.ts"
export { checkIntegrity } from "./harness/security/integrity.ts"
export type { IntegrityViolation } from "./harness/security/integrity.ts"
export { applyEdits, checkNonleakageStep, editChoicesArb, resolveEdits, viewDiff } from "./harness/security/nonleakage.ts"
export type { Edit, EditChoice, LeakReport } from "./harness/security/nonleakage.ts"
export { SystemFileError, buildSystem, builtinSystems, loadSystem, loadSystemFile, parseSystem, subjectOf } from "./harness/security/system.ts"
export type { LabelledSystem, SystemFile } from "./harness/security/system.ts"
export { randomSystemArb } from "./harness/security/random.ts"
export { describeSecurityFailure, runSecurityCampaign, runSecurityTrace, securityChecks, securityWeights } from "./harness/security/campaign.ts"
export type { SecurityCheck, SecurityFailure, SecurityReport } from "./harness/security/campaign.ts"
