/**
 * Invocation labels as libsel4 numbers them for kspec's configuration (non-MCS, one core, no
 * debug API), generated in seL4 from object-api.xml.
 * @category decoding
 */
export const InvocationLabel = {
  InvalidInvocation: 0,
  UntypedRetype: 1,
  TCBReadRegisters: 2,
  TCBWriteRegisters: 3,
  TCBCopyRegisters: 4,
  TCBConfigure: 5,
  TCBSetPriority: 6,
  TCBSetMCPriority: 7,
  TCBSetSchedParams: 8,
  TCBSetIPCBuffer: 9,
  TCBSetSpace: 10,
  TCBSuspend: 11,
  TCBResume: 12,
  TCBBindNotification: 13,
  TCBUnbindNotification: 14,
  TCBSetTLSBase: 15,
  TCBSetFlags: 16,
  CNodeRevoke: 17,
  CNodeDelete: 18,
  CNodeCancelBadgedSends: 19,
  CNodeCopy: 20,
  CNodeMint: 21,
  CNodeMove: 22,
  CNodeMutate: 23,
  CNodeRotate: 24,
  CNodeSaveCaller: 25,
  IRQIssueIRQHandler: 26,
  IRQAckIRQ: 27,
  IRQSetIRQHandler: 28,
  IRQClearIRQHandler: 29,
  DomainSetSet: 30,
  DomainScheduleConfigure: 31,
  DomainScheduleSetStart: 32,
} as const
export type InvocationLabelName = keyof typeof InvocationLabel

const byNumber = new Map<number, InvocationLabelName>(
  Object.entries(InvocationLabel).map(([k, v]) => [v, k as InvocationLabelName]),
)
/** Name of a label word, or `label#N` for a word no invocation uses. */
export const labelName = (label: number): string => byNumber.get(label) ?? `label#${label}`
