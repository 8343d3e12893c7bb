/**
 * Invocation labels as libsel4 numbers them for kspec's configuration (aarch32, non-MCS, one
 * core, no hypervisor, no SMMU, no debug API), generated in seL4 by tools/invocation_header_gen.py:
 * the generic labels of object-api.xml, then the aarch32 labels of object-api-sel4-arch.xml from
 * `nInvocationLabels`, then the ARM labels of object-api-arch.xml from `nSeL4ArchInvocationLabels`,
 * each list leaving out the methods whose `<condition>` the configuration does not meet (the
 * I/O page-table and MapIO methods need CONFIG_TK1_SMMU, the VCPU methods the hypervisor,
 * GetTriggerCore SMP, the SID/CB methods CONFIG_ARM_SMMU; IssueSGISignal needs SMP to be off).
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
  // aarch32 (sel4_arch) labels, from nInvocationLabels = 33.
  ARMPDClean_Data: 33,
  ARMPDInvalidate_Data: 34,
  ARMPDCleanInvalidate_Data: 35,
  ARMPDUnify_Instruction: 36,
  // ARM (arch) labels, from nSeL4ArchInvocationLabels = 37.
  ARMPageTableMap: 37,
  ARMPageTableUnmap: 38,
  ARMPageMap: 39,
  ARMPageUnmap: 40,
  ARMPageClean_Data: 41,
  ARMPageInvalidate_Data: 42,
  ARMPageCleanInvalidate_Data: 43,
  ARMPageUnify_Instruction: 44,
  ARMPageGetAddress: 45,
  ARMASIDControlMakePool: 46,
  ARMASIDPoolAssign: 47,
  ARMIRQIssueIRQHandlerTrigger: 48,
  ARMIRQIssueSGISignal: 49,
} as const
export type InvocationLabelName = keyof typeof InvocationLabel

const byNumber = new Map<number, InvocationLabelName>(
  Object.entries(InvocationLabel).map(([k, v]) => [v, k as InvocationLabelName]),
)
/** Name of a label word, or `label#N` for a word no invocation uses. */
export const labelName = (label: number): string => byNumber.get(label) ?? `label#${label}`
