// The public API keeps every name it had: the names lib.ts exported before the library issue
// (values checked at run time, types by compiling this file), and the new library's entry points.
import { expect, it } from "vitest"
import * as kspec from "kspec"
import type {
  Choice, Failure, ImplUnderTest, Invariant, KernelOptions, KernelState, Op, Outcome, RunResult, StepResult, Violation,
} from "kspec"

type _KeptTypes = [Choice, Failure, ImplUnderTest<unknown>, Invariant, KernelOptions, KernelState, Op, Outcome, RunResult, StepResult, Violation]

const before = [
  "boot", "bootLayout", "step", "stepWithOutcome", "observe", "toCanonicalJSON", "getTcb", "getCap", "slotOf", "invariants", "checkAll",
  "Kernel", "Ops", "choiceArb", "defaultWeights", "resolveChoice", "traceArb", "describeFailure", "runChoices", "runEvents", "runLockstep",
  "realImpl", "absState", "PingPongSlots", "clientCall", "pingPongRound", "pingPongSetup", "serverReplyRecv",
  // model/index.ts, re-exported whole then and now (a sample of each file)
  "defaultBootConfig", "messageInfo", "InvocationLabel", "ObjectType", "InitialSlot", "errorCode", "decodeTraceFile", "Reg",
]
const added = [
  "getObject", "readyQueueIndex", "lockstep", "Lockstep", "decodeReply", "decodeMessage", "decodeFaultMessage", "SystemBuilder", "clientServer",
  "choiceArbFor", "traceArbFor", "seL4_CNode_Copy", "seL4_Call", "timerTick", "interrupt", "vmFault", "readyQueue", "cdtChildren",
  "endpointAt", "notificationAt", "currentThread", "abi", "invs", "defineInvariant", "holds", "loadTraceFile", "saveTraceFile", "loadBootConfigFile",
  "domainsBootConfig", "weightsFor", "seL4_DomainSet_ScheduleConfigure", "seL4_DomainSet_ScheduleSetStart",
  // security (issue 16)
  "loadSystem", "buildSystem", "randomSystemArb", "Policy", "policyWellformed", "subjectReads", "subjectAffects", "stateAuthority",
  "checkConfinement", "checkIntegrity", "runSecurityTrace", "runSecurityCampaign",
]

it("exports every name lib.ts exported, and the library's new entry points", () => {
  const missing = [...before, ...added].filter((n) => !(n in kspec))
  expect(missing).toEqual([])
})
