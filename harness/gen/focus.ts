/**
 * What the generator ops aim at, and what each kernel entry can end in: the two tables behind
 * `kspec fuzz --focus` and its coverage report.
 *
 * A step's coverage *row* names what was exercised: an object method by its invocation name
 * (`CNode_Copy`, `TCB_SetPriority`, whichever of Call/Send/NBSend carried it), anything else by
 * syscall and invoked object (`Call/EndpointCap`, `Recv/NotificationCap`, `Send/lookup` for a
 * cap pointer that did not resolve, `Interrupt/IRQSignal`, `UserFault/VMFault`), and `Reply`,
 * `Yield` and `TimerTick` by themselves. Its *outcome* is the spec's `Outcome.result`, except
 * that a syscall a preemption had stopped, run again and now completed, counts as `Restarted`
 * (`coverageResult`): a long operation's row shows both its `Preempted` and its `Restarted` runs.
 *
 * `reachableOutcomes` lists, per row, every outcome seL4's semantics allow (the decode errors in
 * seL4's order, Success, and for IPC the blocking and fault outcomes), so a cell the campaign
 * never reached is a gap in testing, not an impossibility. `opTargets` lists, per generator op,
 * the rows it is built to produce; focusing on a name raises the weights of the ops that
 * produce it and keeps the others lower to build the states they need.
 */
import type fc from "fast-check"
import type { Outcome } from "../../spec/index.ts"
import type { Choice, Op } from "./choices.ts"
import { Ops, choiceArb, defaultWeights, traceArb } from "./choices.ts"

/** Object-method invocations are counted under their own name, whatever syscall carried them. */
const methodPrefixes = [
  "CNode", "Untyped", "TCB", "IRQControl", "IRQHandler", "Domain",
  "ARM_PageDirectory", "ARM_PageTable", "ARM_Page", "ARM_ASIDControl", "ARM_ASIDPool",
] as const
const isMethod = (invocation: string): boolean => methodPrefixes.some((p) => invocation.startsWith(`${p}_`))

const receiveObjects = new Set(["EndpointCap", "NotificationCap", "lookup"])

/** The coverage row of a step's outcome. */
export const rowOf = (o: Outcome): string => {
  if (isMethod(o.invocation)) return o.invocation
  // A syscall whose IPC-buffer stores faulted.
  if (o.invocation === "VMFault") return `${o.syscall}/VMFault`
  switch (o.syscall) {
    case "Reply": case "Yield": case "TimerTick": return o.syscall
    case "Recv": case "NBRecv": case "ReplyRecv":
      // Receiving on any cap but an endpoint or notification is the same cap fault.
      return `${o.syscall}/${receiveObjects.has(o.invocation) ? o.invocation : "OtherCap"}`
    default: return o.invocation === "none" ? o.syscall : `${o.syscall}/${o.invocation}`
  }
}

/**
 * The coverage outcome of a step: the spec's result, or `Restarted` for a successful run of a
 * syscall that a preemption had stopped (the runner's `RestartInfo.restarted`).
 */
export const coverageResult = (o: Outcome, restart?: { readonly restarted: boolean }): string =>
  restart?.restarted === true && o.result === "Success" ? "Restarted" : o.result

// ---- reachable outcomes ------------------------------------------------------------------------

type Outcomes = readonly string[]
const S = "Success"
const CF = "CapFault"
/** Every invocation looks up its extra caps before decoding: a bad extra-cap pointer is a cap fault. */
const method = (...errors: string[]): Outcomes => [S, ...errors, CF]
const badLabel: Outcomes = ["IllegalOperation", CF]
/** A long operation: stopped at a preemption point, and completed when run again. */
const preemptible = ["Preempted", "Restarted"]
/** CNode target lookup: too few words, a bad depth, a failed lookup. */
const target = ["TruncatedMessage", "RangeError", "FailedLookup"]
const setSpace = ["TruncatedMessage", "IllegalOperation", "RevokeFirst"]

const sendKinds = ["Send", "NBSend", "Call"] as const
const pdFlushOps = ["Clean_Data", "Invalidate_Data", "CleanInvalidate_Data", "Unify_Instruction"] as const
const recvKinds = ["Recv", "NBRecv", "ReplyRecv"] as const
const memoryKinds = ["Read", "Write", "Execute"] as const
/** The syscalls whose events store into the IPC buffer (message words past MR3, extra caps, the receive slot): any, with raw words. */
const bufferSyscalls = ["Send", "NBSend", "Call", "Recv", "NBRecv", "ReplyRecv", "Reply", "Yield"] as const

/** What a send-side syscall on an endpoint can end in. */
const sendOnEndpoint = (k: (typeof sendKinds)[number]): Outcomes =>
  k === "Send" ? [S, "Blocked", "InvalidCapability", CF]
    // Call: blocked on send or on the reply; Inactive after a rendezvous through a cap without Grant or GrantReply.
    : k === "Call" ? ["Blocked", "Inactive", "InvalidCapability", CF]
      : [S, "InvalidCapability", CF]
/** What a receive can end in; ReplyRecv with no caller to reply to is `NoCaller+` its receive outcome. */
const receive = (k: (typeof recvKinds)[number]): Outcomes =>
  k === "Recv" ? [S, "Blocked", CF]
    : k === "NBRecv" ? [S, "Empty", CF]
      : [S, "Blocked", "NoCaller+Success", "NoCaller+Blocked", CF]

/**
 * Per coverage row, the outcomes seL4 allows (see each decoder in spec/object/ and
 * spec/api/syscall.ts). Rows not listed (a syscall while the idle thread runs, which the
 * generator never makes) are shown when seen but never count as unreached.
 */
export const reachableOutcomes: Readonly<Record<string, Outcomes>> = {
  // CNode: target lookup first; Copy/Mint derive (RevokeFirst for an untyped with children,
  // IllegalOperation when nothing derives); Revoke and Delete can delete the caller's own TCB, and
  // are preemptible.
  CNode_Revoke: method(...target, "Inactive", ...preemptible),
  CNode_Delete: method(...target, "Inactive", ...preemptible),
  CNode_CancelBadgedSends: method(...target, "IllegalOperation"),
  CNode_Copy: method(...target, "DeleteFirst", "IllegalOperation", "RevokeFirst"),
  CNode_Mint: method(...target, "DeleteFirst", "IllegalOperation", "RevokeFirst"),
  CNode_Move: method(...target, "DeleteFirst"),
  CNode_Mutate: method(...target, "DeleteFirst", "IllegalOperation"),
  CNode_Rotate: method(...target, "DeleteFirst", "IllegalOperation"),
  CNode_SaveCaller: method(...target, "DeleteFirst"),
  CNode_BadLabel: badLabel,
  // A retype that resets its untyped is preemptible.
  Untyped_Retype: method("TruncatedMessage", "InvalidArgument", "RangeError", "FailedLookup", "DeleteFirst", "NotEnoughMemory", ...preemptible),
  Untyped_BadLabel: badLabel,
  TCB_ReadRegisters: method("TruncatedMessage", "RangeError", "IllegalOperation"),
  TCB_WriteRegisters: method("TruncatedMessage", "IllegalOperation"),
  // Suspending the source may suspend the caller itself.
  TCB_CopyRegisters: method("TruncatedMessage", "InvalidCapability", "Inactive"),
  TCB_Configure: method(...setSpace, "AlignmentError"),
  TCB_SetSpace: method(...setSpace),
  TCB_SetIPCBuffer: method(...setSpace, "AlignmentError"),
  TCB_SetPriority: method("TruncatedMessage", "InvalidCapability", "RangeError"),
  TCB_SetMCPriority: method("TruncatedMessage", "InvalidCapability", "RangeError"),
  TCB_SetSchedParams: method("TruncatedMessage", "InvalidCapability", "RangeError"),
  TCB_Suspend: method("Inactive"),
  TCB_Resume: method(),
  TCB_BindNotification: method("TruncatedMessage", "IllegalOperation"),
  TCB_UnbindNotification: method("IllegalOperation"),
  TCB_SetTLSBase: method("TruncatedMessage"),
  // SetFlags is not modelled yet: always IllegalOperation.
  TCB_SetFlags: badLabel,
  TCB_BadLabel: badLabel,
  IRQControl_IssueIRQHandler: method("TruncatedMessage", "RangeError", "RevokeFirst", "FailedLookup", "DeleteFirst"),
  IRQControl_BadLabel: badLabel,
  IRQHandler_AckIRQ: method(),
  IRQHandler_SetIRQHandler: method("TruncatedMessage", "InvalidCapability"),
  IRQHandler_ClearIRQHandler: method(),
  IRQHandler_BadLabel: badLabel,
  Domain_SetSet: method("TruncatedMessage", "InvalidArgument"),
  Domain_ScheduleConfigure: method("TruncatedMessage", "RangeError", "InvalidArgument"),
  Domain_ScheduleSetStart: method("TruncatedMessage", "RangeError", "InvalidArgument"),
  Domain_BadLabel: badLabel,
  // The ARM IRQ-control labels are not modelled: IllegalOperation.
  IRQControl_GetTrigger: badLabel,
  IRQControl_IssueSGISignal: badLabel,
  // Virtual memory. A directory's ASID names another directory (InvalidCapability) or no pool
  // (FailedLookup) once its pool was deleted (and, for the first, made again and reassigned).
  ...Object.fromEntries(pdFlushOps.map((op) => [`ARM_PageDirectory_${op}`,
    method("TruncatedMessage", "InvalidArgument", "IllegalOperation", "InvalidCapability", "FailedLookup", "RangeError")])),
  ARM_PageDirectory_BadLabel: badLabel,
  ARM_PageTable_Map: method("TruncatedMessage", "InvalidCapability", "InvalidArgument", "FailedLookup", "DeleteFirst"),
  ARM_PageTable_Unmap: method("RevokeFirst"),
  ARM_PageTable_BadLabel: badLabel,
  ARM_Page_Map: method("TruncatedMessage", "InvalidCapability", "InvalidArgument", "FailedLookup", "AlignmentError", "DeleteFirst"),
  ARM_Page_Unmap: method(),
  ...Object.fromEntries(pdFlushOps.map((op) => [`ARM_Page_${op}`,
    method("TruncatedMessage", "IllegalOperation", "FailedLookup", "InvalidArgument", "InvalidCapability")])),
  ARM_Page_GetAddress: method(),
  ARM_Page_BadLabel: badLabel,
  // MakePool's DeleteFirst comes from an occupied destination (128 pools in use is far off). Assign's
  // DeleteFirst needs a full pool (1024 ASIDs: 1022 Assigns into the first pool) and its FailedLookup
  // a pool cap whose pool left the ASID table, which seL4 allows but kspec's kernel never makes (the
  // table entry goes only with the pool's last cap): listed, as the ABI table lists them, but a
  // campaign of kspec's depth does not reach them.
  ARM_ASIDControl_MakePool: method("TruncatedMessage", "DeleteFirst", "InvalidCapability", "RevokeFirst", "RangeError", "FailedLookup"),
  ARM_ASIDControl_BadLabel: badLabel,
  // FailedLookup and DeleteFirst: see the ABI table's notes (no valid state has the one, a trace is too short for the other).
  ARM_ASIDPool_Assign: method("TruncatedMessage", "InvalidCapability"),
  ARM_ASIDPool_BadLabel: badLabel,
  ...Object.fromEntries(sendKinds.flatMap((k) => [
    [`${k}/EndpointCap`, sendOnEndpoint(k)],
    [`${k}/NotificationCap`, [S, "InvalidCapability", CF]],
    // Only non-master reply caps can be named (a master cap does not derive), so no InvalidCapability.
    [`${k}/ReplyCap`, [S, CF]],
    [`${k}/NullCap`, ["InvalidCapability", CF]],
    // A Zombie (a preempted deletion's remainder) cannot be invoked.
    [`${k}/ZombieCap`, ["InvalidCapability", CF]],
    [`${k}/lookup`, [CF]],
  ])),
  ...Object.fromEntries(recvKinds.flatMap((k) => [
    [`${k}/EndpointCap`, receive(k)],
    [`${k}/NotificationCap`, receive(k)],
    [`${k}/lookup`, [CF]],
    [`${k}/OtherCap`, [CF]],
  ])),
  Reply: [S, "NoCaller"],
  Yield: [S],
  TimerTick: [S],
  "Interrupt/IRQSignal": [S],
  "Interrupt/IRQTimer": [S],
  // An inactive line is masked (at boot, and when its handler goes), so it is never delivered.
  "Interrupt/Undelivered": [S],
  "UserFault/VMFault": ["Delivered", "NoHandler"],
  "UserFault/UnknownSyscall": ["Delivered", "NoHandler"],
  "UserFault/UserException": ["Delivered", "NoHandler"],
  // User memory: an access that translates needs no kernel; one that does not is a VMFault.
  ...Object.fromEntries(memoryKinds.map((k) => [`MemoryAccess/${k}`, [S, "Delivered", "NoHandler"]])),
  // A syscall's stores into its IPC buffer (long messages, extra caps, the receive slot) may fault.
  ...Object.fromEntries(bufferSyscalls.map((k) => [`${k}/VMFault`, ["Delivered", "NoHandler"]])),
}

export const coverageRows: readonly string[] = Object.keys(reachableOutcomes)

// ---- what each op produces -------------------------------------------------------------------

const rowsMatching = (re: RegExp): string[] => coverageRows.filter((r) => re.test(r))
const sendLookups = sendKinds.map((k) => `${k}/lookup`)
const recvLookups = recvKinds.map((k) => `${k}/lookup`)

/**
 * Per generator op, the rows it is built to produce: its own invocation or IPC rows, plus the
 * cap faults its hostile variants cause. `InvokeOther` (any label on any cap) and `Raw` (raw
 * words) reach the odd rows: bad labels, unmodelled invocations, null and VSpace caps.
 */
export const opTargets: Readonly<Record<Op, readonly string[]>> = {
  Retype: ["Untyped_Retype"],
  Copy: ["CNode_Copy"],
  Mint: ["CNode_Mint"],
  Move: ["CNode_Move"],
  Mutate: ["CNode_Mutate"],
  Rotate: ["CNode_Rotate"],
  Delete: ["CNode_Delete"],
  Revoke: ["CNode_Revoke"],
  SaveCaller: ["CNode_SaveCaller"],
  CancelBadgedSends: ["CNode_CancelBadgedSends"],
  InvokeOther: [
    ...rowsMatching(/_(BadLabel|SetFlags|SetTLSBase|ScheduleConfigure|ScheduleSetStart|GetTrigger|IssueSGISignal)$/),
    ...rowsMatching(/^(Send|NBSend|Call)\/(NullCap|ReplyCap|NotificationCap|EndpointCap|ZombieCap)$/),
  ],
  Raw: [...sendLookups, ...recvLookups, ...rowsMatching(/\/OtherCap$/), ...rowsMatching(/_BadLabel$/), ...rowsMatching(/\/NullCap$/), "Yield/VMFault"],
  SetupThread: ["TCB_Configure", "TCB_SetSpace", "TCB_SetIPCBuffer"],
  SetPriority: ["TCB_SetPriority", "TCB_SetMCPriority", "TCB_SetSchedParams"],
  Resume: ["TCB_Resume"],
  Suspend: ["TCB_Suspend"],
  Registers: ["TCB_ReadRegisters", "TCB_WriteRegisters", "TCB_CopyRegisters"],
  SetTLSBase: ["TCB_SetTLSBase"],
  BindNotification: ["TCB_BindNotification"],
  UnbindNotification: ["TCB_UnbindNotification"],
  MintBadged: ["CNode_Mint"],
  Send: ["Send/EndpointCap", "NBSend/EndpointCap", ...sendLookups, "Send/VMFault", "NBSend/VMFault"],
  // A hostile Call mostly goes out as NBSend; a receive that would deadlock as NBRecv (or a Reply).
  Call: ["Call/EndpointCap", "NBSend/EndpointCap", "Call/lookup", "Call/VMFault"],
  // One receive in sixteen names any cap, a notification among them.
  Recv: ["Recv/EndpointCap", "ReplyRecv/EndpointCap", "NBRecv/EndpointCap", "Recv/lookup", "Recv/OtherCap", "ReplyRecv/NotificationCap", "Recv/VMFault"],
  NBRecv: ["NBRecv/EndpointCap", "NBRecv/lookup", "NBRecv/OtherCap", "NBRecv/VMFault"],
  Reply: ["Reply", "Reply/VMFault"],
  ReplyRecv: ["ReplyRecv/EndpointCap", "ReplyRecv/NotificationCap", "Reply", "ReplyRecv/lookup", "ReplyRecv/OtherCap", "ReplyRecv/VMFault"],
  Yield: ["Yield"],
  Signal: ["Send/NotificationCap", "NBSend/NotificationCap", "Call/NotificationCap"],
  Wait: ["Recv/NotificationCap", "NBRecv/NotificationCap", "Recv/lookup", "Recv/OtherCap"],
  Poll: ["NBRecv/NotificationCap", "NBRecv/lookup", "NBRecv/OtherCap"],
  IRQControl: ["IRQControl_IssueIRQHandler"],
  IRQHandler: ["IRQHandler_AckIRQ", "IRQHandler_SetIRQHandler", "IRQHandler_ClearIRQHandler"],
  Interrupt: ["Interrupt/IRQSignal", "Interrupt/IRQTimer", "Interrupt/Undelivered"],
  TimerTick: ["TimerTick"],
  UserFault: ["UserFault/VMFault", "UserFault/UnknownSyscall", "UserFault/UserException"],
  DomainSet: ["Domain_SetSet"],
  DomainSchedule: ["Domain_ScheduleConfigure", "Domain_ScheduleSetStart"],
  ASIDPool: ["ARM_ASIDPool_Assign", "ARM_ASIDControl_MakePool"],
  // One in eight copies a page-table or page-directory cap instead (the derive rules).
  PageTable: ["ARM_PageTable_Map", "ARM_PageTable_Unmap", "CNode_Copy"],
  // One map in six copies a mapped frame's cap instead (to share the frame).
  MapFrame: ["ARM_Page_Map", "CNode_Copy"],
  UnmapFrame: ["ARM_Page_Unmap"],
  FrameOther: [...pdFlushOps.map((op) => `ARM_Page_${op}`), "ARM_Page_GetAddress"],
  PDFlush: pdFlushOps.map((op) => `ARM_PageDirectory_${op}`),
  Memory: memoryKinds.map((k) => `MemoryAccess/${k}`),
}

// ---- focus names -------------------------------------------------------------------------------

/** The syscall part of a row (`Call` of `Call/EndpointCap`), or undefined for method rows. */
const rowSyscall = (row: string): string | undefined => (isMethod(row) ? undefined : row.split("/")[0])
/** The invocation part of a row (`EndpointCap` of `Call/EndpointCap`, `CNode_Copy`). */
const rowInvocation = (row: string): string | undefined => (isMethod(row) ? row : row.split("/")[1])

/**
 * Every name `--focus` accepts: each row, each syscall or event kind (`Call`, `Interrupt`,
 * `UserFault`), each invocation or invoked object (`TCB_SetPriority`, `EndpointCap`, `VMFault`)
 * and each object prefix (`CNode`, `TCB`), as the outcome table spells them.
 */
export const focusNames: readonly string[] = [...new Set([
  ...coverageRows,
  ...coverageRows.flatMap((r) => [rowSyscall(r), rowInvocation(r)]).filter((n): n is string => n !== undefined),
  ...methodPrefixes,
])].sort()

/** The rows a focus name selects. */
export const rowsOfFocus = (name: string): readonly string[] =>
  coverageRows.filter((r) => r === name || rowSyscall(r) === name || rowInvocation(r) === name || (isMethod(r) && r.startsWith(`${name}_`)))

/** The rows a list of focus names selects (all rows for an empty list). */
export const focusRows = (names: readonly string[]): readonly string[] =>
  names.length === 0 ? coverageRows : coverageRows.filter((r) => names.some((n) => rowsOfFocus(n).includes(r)))

/** Names that are no focus name. */
export const unknownFocusNames = (names: readonly string[]): readonly string[] => names.filter((n) => !focusNames.includes(n))

// ---- weights -------------------------------------------------------------------------------------

/** Share of the weight mass the focused ops get (the rest sets the scene). */
export const focusShare = 2 / 3

/**
 * Weights aimed at `rows`: the ops that produce one of them are scaled up together until they
 * hold `focusShare` of the mass (never scaled down); every other op keeps its default weight,
 * so retypes, thread setup and IPC still build the deep states the focused ops need.
 */
export const focusWeights = (rows: readonly string[], base: Readonly<Record<Op, number>> = defaultWeights): Record<Op, number> => {
  const want = new Set(rows)
  const focused = Ops.filter((o) => opTargets[o].some((r) => want.has(r)))
  const total = Ops.reduce((a, o) => a + base[o], 0)
  const mass = focused.reduce((a, o) => a + base[o], 0)
  const k = mass === 0 || mass === total ? 1 : Math.max(1, (focusShare * (total - mass)) / ((1 - focusShare) * mass))
  // fast-check wants integer weights.
  return Object.fromEntries(Ops.map((o) => [o, focused.includes(o) ? Math.round(base[o] * k) : base[o]])) as Record<Op, number>
}

/** Counts per row and outcome. */
export type CoverageCounts = ReadonlyMap<string, ReadonlyMap<string, number>>

/** How much of a row's reachable outcomes are still below `goal` hits (0 = done, 1 = none reached). */
export const rowNeed = (counts: CoverageCounts, row: string, goal: number): number => {
  const reach = reachableOutcomes[row] ?? []
  if (reach.length === 0) return 0
  const seen = counts.get(row)
  return reach.filter((o) => (seen?.get(o) ?? 0) < goal).length / reach.length
}

/** How many times more weight an op gets when every row it targets is still wholly unreached. */
export const guidanceBoost = 3

/**
 * Coverage-guided weights: each op's weight is multiplied by 1 + `guidanceBoost` x the mean need
 * of the (focused) rows it targets, so ops whose cells are still unreached are drawn more often
 * and ops whose rows are done fall back to their base weight. Deterministic in its inputs.
 */
export const guidedWeights = (
  base: Readonly<Record<Op, number>>, counts: CoverageCounts, rows: readonly string[], goal = 1,
): Record<Op, number> => {
  const want = new Set(rows)
  return Object.fromEntries(Ops.map((o) => {
    const ts = opTargets[o].filter((r) => want.has(r))
    const need = ts.length === 0 ? 0 : ts.reduce((a, r) => a + rowNeed(counts, r, goal), 0) / ts.length
    // Ten times finer than the base weights, in integers (as fast-check wants them).
    return [o, base[o] === 0 ? 0 : Math.max(1, Math.round(10 * base[o] * (1 + guidanceBoost * need)))]
  })) as Record<Op, number>
}

// ---- arbitraries aimed at names ------------------------------------------------------------------

const checkedRows = (names: readonly string[]): readonly string[] => {
  const unknown = unknownFocusNames(names)
  if (unknown.length > 0) throw new Error(`unknown name${unknown.length > 1 ? "s" : ""} ${unknown.map((n) => JSON.stringify(n)).join(", ")}: use a syscall, invocation or object name of the outcome table (focusNames lists them)`)
  return focusRows(names)
}

/**
 * A choice aimed at `names` alone (`"TCB_SetTLSBase"`, `"Call/EndpointCap"`, `"CNode"`): only the
 * generator ops that produce them, each weighted by the share of its rows that are aimed at (so
 * `InvokeOther`, which makes any label on any cap, rarely stands in for a real TCB_SetTLSBase).
 * Resolved against a state it is an event that exercises one of them (now and then a hostile
 * one), unless the state lacks what the invocation needs (a second thread, an IRQ handler): then
 * it is the step that builds that, so draw a few in a row (`fc.array(choiceArbFor(name), {
 * minLength: 1, maxLength: 4 })`). Throws on a name that is no focus name.
 */
export const choiceArbFor = (...names: readonly string[]): fc.Arbitrary<Choice> => {
  const want = new Set(checkedRows(names))
  const share = (o: Op) => opTargets[o].filter((r) => want.has(r)).length / opTargets[o].length
  return choiceArb(Object.fromEntries(Ops.filter((o) => share(o) > 0).map((o) => [o, Math.max(1, Math.round(100 * defaultWeights[o] * share(o)))])))
}

/**
 * A trace aimed at `names`: the ops that produce them get two thirds of the weight, the others
 * keep theirs and build the states those ops need (`kspec fuzz --focus`'s mix).
 */
export const traceArbFor = (maxSteps: number, ...names: readonly string[]): fc.Arbitrary<Choice[]> =>
  traceArb(maxSteps, focusWeights(checkedRows(names)))
