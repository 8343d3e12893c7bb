/**
 * The ABI table: one entry per syscall and per invocation kspec models, as data. Each entry
 * gives the name the outcome table counts it under, its label, its arguments (message words and
 * extra caps, in libsel4 order), the rights it needs, every error with its exact condition in
 * the order the decoder checks them, and the seL4 function it mirrors.
 *
 * The spec's decoders (spec/object/*.ts, spec/api/syscall.ts) are the source of truth; this table
 * describes them. `kspec docs` renders docs/syscalls.md from it, `kspec replay` names arguments
 * with it, and `proofs-tests/abi/abi.test.ts` ties it to the code: every label has an entry (or
 * is listed in `notModelled`), every error tag is a SyscallError, and a lockstep campaign
 * observes no (invocation, error) pair the table does not list.
 * @category decoding
 */
import type { CapTag } from "./caps.ts"
import type { SyscallError } from "./errors.ts"
import type { InvocationLabelName } from "./labels.ts"
import type { SyscallKind } from "./events.ts"

/** How a message word is best shown to a reader (in traces and docs). */
export type ArgShow = "dec" | "hex" | "rights" | "objectType" | "flags"

/** A message word (MR i), in libsel4's argument order. */
export interface AbiArg {
  readonly name: string
  readonly doc: string
  readonly show?: ArgShow
}

/** An extra cap (`caps_or_badges[i]`), in libsel4's argument order. */
export interface AbiCap {
  readonly name: string
  readonly doc: string
}

/** One error the decoder can return, and exactly when. */
export interface AbiError {
  readonly error: SyscallError["tag"]
  readonly condition: string
  /**
   * Set when the decoder makes the check (as seL4's does) but kspec's generators cannot reach it:
   * why (no state the invariants allow has it, or it takes more steps than a trace has).
   */
  readonly unreachable?: string
}

/** A fault a syscall raises instead of returning an error. */
export interface AbiFault {
  readonly fault: "CapFault"
  readonly condition: string
}

export interface AbiEntry {
  /** The name the outcome table counts it under: `Call`, `CNode_Copy`, `EndpointCap`. */
  readonly name: string
  readonly kind: "syscall" | "invocation"
  /** The libsel4 function a user calls. */
  readonly libsel4: string
  /** The syscall kind (syscalls only). */
  readonly syscall?: SyscallKind
  /** The invocation label (object methods only). */
  readonly label?: InvocationLabelName
  /** The cap type invoked (invocations only). */
  readonly cap?: CapTag
  readonly summary: string
  /** Message words, in order. A word past the message's length reads as missing. */
  readonly args: readonly AbiArg[]
  /** Extra caps, in order. */
  readonly caps: readonly AbiCap[]
  readonly rights: string
  /** Errors in the order the decoder checks them. */
  readonly errors: readonly AbiError[]
  readonly faults?: readonly AbiFault[]
  /** The seL4 C function (and l4v abstract function) it mirrors. */
  readonly mirrors: string
  /** Where kspec departs from seL4 for this entry. */
  readonly departure?: string
}

/**
 * How invoking each cap type is dispatched (seL4 `decodeInvocation`): caps with methods pick one
 * by label and answer any other label with `otherLabels`; the rest are invoked as a whole.
 */
export interface CapDispatch {
  readonly cap: CapTag
  /** The outcome-table prefix of its methods (`CNode` -> `CNode_Copy`); absent for caps invoked as a whole. */
  readonly methods?: string
  readonly summary: string
  /** The error for a label that is none of its methods (outcome name `<methods>_BadLabel`). */
  readonly otherLabels?: AbiError
  /** Errors of a cap invoked as a whole and not in `abi` (its outcome name is the cap tag). */
  readonly errors?: readonly AbiError[]
}

// ---- shared conditions -----------------------------------------------------------------------------

const cnodeOpLookup = (what: string, rootName: string, index: string, depth: string, isSource: boolean): readonly AbiError[] => [
  { error: "FailedLookup", condition: `${rootName} is not a CNode cap: FailedLookup(${isSource ? "source" : "dest"}, InvalidRoot) (${what})` },
  { error: "RangeError", condition: `${depth} outside 1..32: RangeError(1, 32) (${what})` },
  {
    error: "FailedLookup",
    condition: `resolving the top ${depth} bits of ${index} from ${rootName} fails (guard mismatch, a level deeper than the bits left) or stops at a non-CNode cap with bits left: FailedLookup(${isSource ? "source" : "dest"}, GuardMismatch | DepthMismatch) (${what})`,
  },
]
const destLookup = cnodeOpLookup("destination slot", "the invoked CNode cap", "index", "depth", false)

const priorityCaps: readonly AbiCap[] = [{ name: "authority", doc: "a thread cap whose MCP bounds the new value" }]
const authorityErrors = (words: string, n: number): readonly AbiError[] => [
  { error: "TruncatedMessage", condition: `fewer than ${n} message word${n > 1 ? "s" : ""} (${words}) or no extra cap` },
  { error: "InvalidCapability", condition: "the authority cap is not a thread cap: InvalidCapability(1)" },
]
const derive = (what: string): AbiError[] => [
  { error: "RevokeFirst", condition: `${what} is an untyped cap with CDT children (deriveCap)` },
  { error: "IllegalOperation", condition: `${what} is an unmapped page-table cap or a page-directory cap without an ASID (deriveCap)` },
]

// ---- the table ------------------------------------------------------------------------------------

const syscalls: readonly AbiEntry[] = [
  {
    name: "Send", kind: "syscall", syscall: "Send", libsel4: "seL4_Send",
    summary: "Invoke the cap in the cap register and block until the invocation can proceed; no reply. Errors from the invoked cap's decoder are dropped (only a Call gets them).",
    args: [{ name: "cptr", doc: "the cap to invoke (r0)", show: "hex" }, { name: "msgInfo", doc: "label, length, extra-cap count (r1)" }, { name: "MR0..", doc: "the message words" }],
    caps: [{ name: "extraCaps[0..2]", doc: "cap pointers looked up in the caller's CSpace (only with an IPC buffer)" }],
    rights: "as the invoked cap needs (an endpoint or notification cap needs Write)",
    errors: [],
    faults: [{ fault: "CapFault", condition: "the cap register or an extra cap pointer does not resolve to a slot: a cap fault to the caller's fault handler (not in the receive phase)" }],
    mirrors: "seL4 handleInvocation(isCall=false, isBlocking=true) / l4v handle_send",
  },
  {
    name: "NBSend", kind: "syscall", syscall: "NBSend", libsel4: "seL4_NBSend",
    summary: "As Send, but never blocks: a send to an endpoint with no waiting receiver is dropped, and a failed lookup is ignored.",
    args: [{ name: "cptr", doc: "the cap to invoke (r0)", show: "hex" }, { name: "msgInfo", doc: "label, length, extra-cap count (r1)" }, { name: "MR0..", doc: "the message words" }],
    caps: [{ name: "extraCaps[0..2]", doc: "cap pointers looked up in the caller's CSpace (only with an IPC buffer)" }],
    rights: "as the invoked cap needs",
    errors: [],
    faults: [],
    mirrors: "seL4 handleInvocation(isCall=false, isBlocking=false)",
  },
  {
    name: "Call", kind: "syscall", syscall: "Call", libsel4: "seL4_Call",
    summary: "Invoke the cap in the cap register and wait for the reply: an endpoint send that leaves a reply cap with the receiver, or a kernel object invocation whose result (error or empty success) is replied at once.",
    args: [{ name: "cptr", doc: "the cap to invoke (r0)", show: "hex" }, { name: "msgInfo", doc: "label, length, extra-cap count (r1)" }, { name: "MR0..", doc: "the message words" }],
    caps: [{ name: "extraCaps[0..2]", doc: "cap pointers looked up in the caller's CSpace (only with an IPC buffer)" }],
    rights: "as the invoked cap needs",
    errors: [],
    faults: [{ fault: "CapFault", condition: "the cap register or an extra cap pointer does not resolve to a slot: a cap fault to the caller's fault handler" }],
    mirrors: "seL4 handleInvocation(isCall=true, isBlocking=true) / l4v handle_call",
  },
  {
    name: "Recv", kind: "syscall", syscall: "Recv", libsel4: "seL4_Recv",
    summary: "Receive on an endpoint (deleting the reply cap in the caller slot first) or wait on a notification; blocks until a message or signal arrives.",
    args: [{ name: "cptr", doc: "the endpoint or notification cap (r0)", show: "hex" }],
    caps: [{ name: "receive slot", doc: "receiveCNode/Index/Depth in the IPC buffer: where a transferred cap lands" }],
    rights: "Read on the endpoint or notification cap",
    errors: [],
    faults: [
      { fault: "CapFault", condition: "the cap register does not resolve to a slot: a cap fault in the receive phase with that lookup failure" },
      { fault: "CapFault", condition: "the cap is not an endpoint or notification cap, lacks Read, or is a notification bound to another thread: a cap fault MissingCapability(0) in the receive phase" },
    ],
    mirrors: "seL4 handleRecv(isBlocking=true) / l4v handle_recv",
  },
  {
    name: "NBRecv", kind: "syscall", syscall: "NBRecv", libsel4: "seL4_NBRecv",
    summary: "Poll: as Recv, but returns at once when nothing is waiting (the outcome table counts that as Empty).",
    args: [{ name: "cptr", doc: "the endpoint or notification cap (r0)", show: "hex" }],
    caps: [{ name: "receive slot", doc: "as Recv" }],
    rights: "Read on the endpoint or notification cap",
    errors: [],
    faults: [{ fault: "CapFault", condition: "as Recv (handled even though the receive does not block)" }],
    mirrors: "seL4 handleRecv(isBlocking=false)",
  },
  {
    name: "Reply", kind: "syscall", syscall: "Reply", libsel4: "seL4_Reply",
    summary: "Reply through the reply cap in the caller slot (left there by the last Call received) and run on. With none, nothing happens (outcome NoCaller).",
    args: [{ name: "msgInfo", doc: "label, length, extra-cap count (r1)" }, { name: "MR0..", doc: "the reply words" }],
    caps: [{ name: "extraCaps[0..2]", doc: "caps to transfer, if the reply cap has Grant" }],
    rights: "none",
    errors: [],
    faults: [],
    mirrors: "seL4 handleReply (non-MCS) / l4v handle_reply",
  },
  {
    name: "ReplyRecv", kind: "syscall", syscall: "ReplyRecv", libsel4: "seL4_ReplyRecv",
    summary: "Reply (as Reply), then receive (as Recv) on the cap in the cap register: a server's loop in one entry.",
    args: [{ name: "cptr", doc: "the endpoint or notification cap to receive on (r0)", show: "hex" }, { name: "msgInfo", doc: "the reply's label, length, extra-cap count (r1)" }, { name: "MR0..", doc: "the reply words" }],
    caps: [{ name: "receive slot", doc: "as Recv" }],
    rights: "Read on the endpoint or notification cap",
    errors: [],
    faults: [{ fault: "CapFault", condition: "as Recv" }],
    mirrors: "seL4 handleReply then handleRecv(isBlocking=true)",
  },
  {
    name: "Yield", kind: "syscall", syscall: "Yield", libsel4: "seL4_Yield",
    summary: "Give up the rest of the time slice: the caller moves to the end of its ready queue and the scheduler chooses again.",
    args: [], caps: [], rights: "none", errors: [], faults: [],
    mirrors: "seL4 handleYield (non-MCS) / l4v handle_yield",
  },
]

const capInvocations: readonly AbiEntry[] = [
  {
    name: "EndpointCap", kind: "invocation", cap: "EndpointCap", libsel4: "seL4_Send / seL4_NBSend / seL4_Call on an endpoint cap",
    summary: "Send the message on the endpoint: to a waiting receiver at once, else (Send, Call) block in the endpoint's send queue; NBSend drops it. The receiver gets the cap's badge; a Call through a cap with Grant or GrantReply leaves a reply cap with the receiver and waits for the reply; without either, the caller becomes Inactive. Extra caps travel only with Grant.",
    args: [{ name: "MR0..", doc: "the message words (label and length in msgInfo)" }],
    caps: [{ name: "extraCaps[0..2]", doc: "caps to transfer (only if the endpoint cap has Grant)" }],
    rights: "Write; Grant to transfer caps; Grant or GrantReply for a Call to leave a reply cap",
    errors: [{ error: "InvalidCapability", condition: "the endpoint cap lacks Write: InvalidCapability(0)" }],
    mirrors: "seL4 decodeInvocation (cap_endpoint_cap) + sendIPC / l4v perform_invocation InvokeEndpoint",
  },
  {
    name: "NotificationCap", kind: "invocation", cap: "NotificationCap", libsel4: "seL4_Signal (seL4_Send on a notification cap)",
    summary: "Signal the notification with the cap's badge: wake the first waiter (or the bound thread, if it waits on anything), else OR the badge into the pending word.",
    args: [], caps: [],
    rights: "Write",
    errors: [{ error: "InvalidCapability", condition: "the notification cap lacks Write: InvalidCapability(0)" }],
    mirrors: "seL4 decodeInvocation (cap_notification_cap) + sendSignal / l4v send_signal",
  },
  {
    name: "ReplyCap", kind: "invocation", cap: "ReplyCap", libsel4: "seL4_Send / seL4_Call on a reply cap (and seL4_Reply)",
    summary: "Reply to the thread the reply cap names (waiting in BlockedOnReply): transfer the message (and caps, if the reply cap has Grant) or, after a fault, restart it as the fault reply says. The reply cap is used up.",
    args: [{ name: "MR0..", doc: "the reply words" }],
    caps: [{ name: "extraCaps[0..2]", doc: "caps to transfer (only if the reply cap has Grant)" }],
    rights: "none (a master reply cap cannot be invoked)",
    errors: [{ error: "InvalidCapability", condition: "the cap is a thread's master reply cap: InvalidCapability(0)" }],
    mirrors: "seL4 decodeInvocation (cap_reply_cap) + doReplyTransfer / l4v do_reply_transfer",
  },
]

const cnodeCopyLike = (n: 4 | 5 | 6): readonly AbiError[] => [
  { error: "TruncatedMessage", condition: "fewer than 4 message words or no extra cap (the source root)" },
  { error: "DeleteFirst", condition: "the destination slot is not empty (checked before the source is looked up)" },
  ...cnodeOpLookup("source slot", "the source root", "src_index", "src_depth", true),
  { error: "FailedLookup", condition: "the source slot is empty: FailedLookup(source, MissingCapability(src_depth))" },
  ...(n > 4 ? [{ error: "TruncatedMessage" as const, condition: `fewer than ${n} message words` }] : []),
]

const cnode: readonly AbiEntry[] = [
  {
    name: "CNode_Revoke", kind: "invocation", label: "CNodeRevoke", cap: "CNodeCap", libsel4: "seL4_CNode_Revoke",
    summary: "Delete every CDT descendant of the cap in the slot (first child first, depth first), keeping the cap itself. An empty slot or a cap with no children is a no-op. Preemptible: a pending interrupt may stop it after any descendant (the caller stays Restart and runs it again, unless a deleted cap was the last to the caller's own TCB, which suspended it).",
    args: [{ name: "index", doc: "slot in the CSpace rooted at the invoked CNode", show: "hex" }, { name: "depth", doc: "bits of index to resolve" }],
    caps: [], rights: "none", errors: [{ error: "TruncatedMessage", condition: "fewer than 2 message words" }, ...destLookup],
    mirrors: "seL4 decodeCNodeInvocation + invokeCNodeRevoke / l4v cap_revoke",
    departure: "atomic: no preemption points",
  },
  {
    name: "CNode_Delete", kind: "invocation", label: "CNodeDelete", cap: "CNodeCap", libsel4: "seL4_CNode_Delete",
    summary: "Delete the cap in the slot; if it was the last cap to its object, finalise the object (restart its waiters, unbind, suspend, delete its slots). An empty slot is a no-op. Preemptible: the last cap to a CNode or TCB becomes a Zombie whose slots are deleted one by one; a pending interrupt may stop it after any (the caller stays Restart and runs it again, unless the TCB was its own, which is suspended; the Zombie stays in the slot meanwhile).",
    args: [{ name: "index", doc: "slot to delete", show: "hex" }, { name: "depth", doc: "bits of index to resolve" }],
    caps: [], rights: "none", errors: [{ error: "TruncatedMessage", condition: "fewer than 2 message words" }, ...destLookup],
    mirrors: "seL4 decodeCNodeInvocation + invokeCNodeDelete / l4v cap_delete",
    departure: "atomic: no zombies, no preemption",
  },
  {
    name: "CNode_CancelBadgedSends", kind: "invocation", label: "CNodeCancelBadgedSends", cap: "CNodeCap", libsel4: "seL4_CNode_CancelBadgedSends",
    summary: "Restart every thread queued to send on the endpoint with the badge of the endpoint cap in the slot. A badge of 0 is a no-op.",
    args: [{ name: "index", doc: "slot of the badged endpoint cap", show: "hex" }, { name: "depth", doc: "bits of index to resolve" }],
    caps: [], rights: "all rights (RWGg) on the endpoint cap in the slot",
    errors: [
      { error: "TruncatedMessage", condition: "fewer than 2 message words" }, ...destLookup,
      { error: "IllegalOperation", condition: "the slot does not hold an endpoint cap with all four rights" },
    ],
    mirrors: "seL4 decodeCNodeInvocation + invokeCNodeCancelBadgedSends / l4v cancel_badged_sends",
  },
  {
    name: "CNode_Copy", kind: "invocation", label: "CNodeCopy", cap: "CNodeCap", libsel4: "seL4_CNode_Copy",
    summary: "Copy a cap into an empty slot, with its rights masked: a derived copy, a CDT child of the source (or its sibling when the source does not parent it).",
    args: [
      { name: "dest_index", doc: "destination slot", show: "hex" }, { name: "dest_depth", doc: "bits of dest_index to resolve" },
      { name: "src_index", doc: "source slot, in the CSpace of src_root", show: "hex" }, { name: "src_depth", doc: "bits of src_index to resolve" },
      { name: "rights", doc: "rights mask (bit 0 Write, 1 Read, 2 Grant, 3 GrantReply)", show: "rights" },
    ],
    caps: [{ name: "src_root", doc: "CNode cap the source is looked up from" }],
    rights: "none; the copy has at most the source's rights",
    errors: [
      { error: "TruncatedMessage", condition: "fewer than 2 message words" }, ...destLookup,
      ...cnodeCopyLike(5),
      ...derive("the source cap"),
      { error: "IllegalOperation", condition: "the copy would be a null cap (reply and IRQControl caps cannot be copied)" },
    ],
    mirrors: "seL4 decodeCNodeInvocation + invokeCNodeInsert / l4v cap_insert",
  },
  {
    name: "CNode_Mint", kind: "invocation", label: "CNodeMint", cap: "CNodeCap", libsel4: "seL4_CNode_Mint",
    summary: "As Copy, and set the new cap's data: the badge of an unbadged endpoint or notification cap, or a CNode cap's guard.",
    args: [
      { name: "dest_index", doc: "destination slot", show: "hex" }, { name: "dest_depth", doc: "bits of dest_index to resolve" },
      { name: "src_index", doc: "source slot", show: "hex" }, { name: "src_depth", doc: "bits of src_index to resolve" },
      { name: "rights", doc: "rights mask", show: "rights" }, { name: "badge", doc: "cap data: a badge (28 bits) or a CNode guard word" },
    ],
    caps: [{ name: "src_root", doc: "CNode cap the source is looked up from" }],
    rights: "none; the copy has at most the source's rights",
    errors: [
      { error: "TruncatedMessage", condition: "fewer than 2 message words" }, ...destLookup,
      ...cnodeCopyLike(6),
      ...derive("the source cap"),
      { error: "IllegalOperation", condition: "the new cap is a null cap (a badge on an already badged cap, a guard that does not fit, a reply or IRQControl cap)" },
    ],
    mirrors: "seL4 decodeCNodeInvocation + invokeCNodeInsert / l4v cap_insert",
  },
  {
    name: "CNode_Move", kind: "invocation", label: "CNodeMove", cap: "CNodeCap", libsel4: "seL4_CNode_Move",
    summary: "Move a cap to an empty slot, with its CDT position, children and originality.",
    args: [
      { name: "dest_index", doc: "destination slot", show: "hex" }, { name: "dest_depth", doc: "bits of dest_index to resolve" },
      { name: "src_index", doc: "source slot", show: "hex" }, { name: "src_depth", doc: "bits of src_index to resolve" },
    ],
    caps: [{ name: "src_root", doc: "CNode cap the source is looked up from" }],
    rights: "none",
    errors: [{ error: "TruncatedMessage", condition: "fewer than 2 message words" }, ...destLookup, ...cnodeCopyLike(4)],
    mirrors: "seL4 decodeCNodeInvocation + invokeCNodeMove / l4v cap_move",
  },
  {
    name: "CNode_Mutate", kind: "invocation", label: "CNodeMutate", cap: "CNodeCap", libsel4: "seL4_CNode_Mutate",
    summary: "Move a cap to an empty slot and set its data (a CNode cap's guard; a badge cannot change).",
    args: [
      { name: "dest_index", doc: "destination slot", show: "hex" }, { name: "dest_depth", doc: "bits of dest_index to resolve" },
      { name: "src_index", doc: "source slot", show: "hex" }, { name: "src_depth", doc: "bits of src_index to resolve" },
      { name: "badge", doc: "new cap data" },
    ],
    caps: [{ name: "src_root", doc: "CNode cap the source is looked up from" }],
    rights: "none",
    errors: [
      { error: "TruncatedMessage", condition: "fewer than 2 message words" }, ...destLookup,
      ...cnodeCopyLike(5),
      { error: "IllegalOperation", condition: "the updated cap is a null cap (a guard that does not fit)" },
    ],
    mirrors: "seL4 decodeCNodeInvocation + invokeCNodeMove / l4v cap_move",
  },
  {
    name: "CNode_Rotate", kind: "invocation", label: "CNodeRotate", cap: "CNodeCap", libsel4: "seL4_CNode_Rotate",
    summary: "Move the pivot cap to the destination and the source cap to the pivot slot, each with new data; when source and destination are the same slot, swap source and pivot.",
    args: [
      { name: "dest_index", doc: "destination slot", show: "hex" }, { name: "dest_depth", doc: "bits of dest_index to resolve" },
      { name: "pivot_badge", doc: "new data for the pivot cap" },
      { name: "pivot_index", doc: "pivot slot", show: "hex" }, { name: "pivot_depth", doc: "bits of pivot_index to resolve" },
      { name: "src_badge", doc: "new data for the source cap" },
      { name: "src_index", doc: "source slot", show: "hex" }, { name: "src_depth", doc: "bits of src_index to resolve" },
    ],
    caps: [{ name: "pivot_root", doc: "CNode cap the pivot is looked up from" }, { name: "src_root", doc: "CNode cap the source is looked up from" }],
    rights: "none",
    errors: [
      { error: "TruncatedMessage", condition: "fewer than 2 message words" }, ...destLookup,
      { error: "TruncatedMessage", condition: "fewer than 8 message words or fewer than 2 extra caps" },
      ...cnodeOpLookup("source slot", "src_root", "src_index", "src_depth", true),
      ...cnodeOpLookup("pivot slot, reported as a source", "pivot_root", "pivot_index", "pivot_depth", true),
      { error: "IllegalOperation", condition: "the pivot slot is the source or the destination slot" },
      { error: "DeleteFirst", condition: "the destination is not the source and is not empty" },
      { error: "FailedLookup", condition: "the source slot is empty: FailedLookup(source, MissingCapability(src_depth))" },
      { error: "FailedLookup", condition: "the pivot slot is empty: FailedLookup(dest, MissingCapability(pivot_depth))" },
      { error: "IllegalOperation", condition: "either cap with its new data is a null cap" },
    ],
    mirrors: "seL4 decodeCNodeInvocation + invokeCNodeRotate / l4v cap_move, cap_swap",
  },
  {
    name: "CNode_SaveCaller", kind: "invocation", label: "CNodeSaveCaller", cap: "CNodeCap", libsel4: "seL4_CNode_SaveCaller",
    summary: "Move the reply cap in the caller's caller slot to an empty slot, so the caller can receive again before replying. With nothing to save it is a no-op.",
    args: [{ name: "index", doc: "destination slot", show: "hex" }, { name: "depth", doc: "bits of index to resolve" }],
    caps: [], rights: "none",
    errors: [
      { error: "TruncatedMessage", condition: "fewer than 2 message words" }, ...destLookup,
      { error: "DeleteFirst", condition: "the destination slot is not empty" },
    ],
    mirrors: "seL4 decodeCNodeInvocation + invokeCNodeSaveCaller (non-MCS)",
  },
]

const untyped: readonly AbiEntry[] = [
  {
    name: "Untyped_Retype", kind: "invocation", label: "UntypedRetype", cap: "UntypedCap", libsel4: "seL4_Untyped_Retype",
    summary: "Carve num_objects new objects of one type from the untyped's free memory, each aligned to its size, and put an original cap to each, a CDT child of the untyped, in consecutive empty slots. An untyped with no children is reset first (its memory reused from the start), chunk by chunk: a pending interrupt may stop the reset between chunks (the caller stays Restart and runs the retype again, which goes on from there).",
    args: [
      { name: "type", doc: "seL4 object type (0 Untyped, 1 TCB, 2 Endpoint, 3 Notification, 4 CNode, 5 PageDirectory, 6..9 frames, 10 PageTable)", show: "objectType" },
      { name: "size_bits", doc: "size of Untyped and CNode objects (for a CNode: its radix)" },
      { name: "node_index", doc: "destination CNode, in the CSpace of root", show: "hex" },
      { name: "node_depth", doc: "bits of node_index to resolve; 0 means root itself" },
      { name: "node_offset", doc: "first destination slot in that CNode" },
      { name: "num_objects", doc: "how many objects (1..256)" },
    ],
    caps: [{ name: "root", doc: "CNode cap the destination CNode is looked up from" }],
    rights: "none (untyped caps carry none)",
    errors: [
      { error: "TruncatedMessage", condition: "fewer than 6 message words or no extra cap (root)" },
      { error: "InvalidArgument", condition: "type >= 11 (not an object type): InvalidArgument(0)" },
      { error: "RangeError", condition: "size_bits >= 32, or the object would be larger than 2^29 bytes: RangeError(0, 29)" },
      { error: "InvalidArgument", condition: "a CNode of size_bits 0, or an Untyped of size_bits below 4: InvalidArgument(1)" },
      ...cnodeOpLookup("destination CNode, when node_depth is not 0", "root", "node_index", "node_depth", false),
      { error: "FailedLookup", condition: "the destination is not a CNode cap: FailedLookup(dest, MissingCapability(node_depth))" },
      { error: "RangeError", condition: "node_offset beyond the CNode: RangeError(0, 2^radix - 1)" },
      { error: "RangeError", condition: "num_objects outside 1..256: RangeError(1, 256)" },
      { error: "RangeError", condition: "the window runs past the CNode's end: RangeError(1, 2^radix - node_offset)" },
      { error: "DeleteFirst", condition: "a slot in the window is not empty" },
      { error: "NotEnoughMemory", condition: "fewer than num_objects aligned objects fit in the free memory: NotEnoughMemory(free bytes)" },
      { error: "InvalidArgument", condition: "a device untyped asked for anything but frames or untypeds: InvalidArgument(1)" },
    ],
    mirrors: "seL4 decodeUntypedInvocation + invokeUntyped_Retype / l4v decode_untyped_invocation, invoke_untyped",
    departure: "atomic (no preemption while clearing memory)",
  },
]

const setSpaceErrors = (offset: string): readonly AbiError[] => [
  { error: "IllegalOperation", condition: "the thread's current CSpace or VSpace root is the last cap to a CNode or TCB (its deletion would be long-running)" },
  ...derive(`the new CSpace root${offset}`),
  { error: "IllegalOperation", condition: "the new CSpace root (with its guard updated when cspace_root_data is not 0) is not a CNode cap" },
  ...derive(`the new VSpace root${offset}`),
  { error: "IllegalOperation", condition: "the new VSpace root is not a page-directory cap with an ASID (isValidVTableRoot)" },
]
const ipcBufferErrors: readonly AbiError[] = [
  ...derive("the buffer frame cap (only when the address is not 0)"),
  { error: "IllegalOperation", condition: "the address is not 0 and the cap is not a frame cap, or is a device frame" },
  { error: "AlignmentError", condition: "the address is not 0 and not aligned to 512 bytes (seL4_IPCBufferSizeBits)" },
]

const tcb: readonly AbiEntry[] = [
  {
    name: "TCB_ReadRegisters", kind: "invocation", label: "TCBReadRegisters", cap: "ThreadCap", libsel4: "seL4_TCB_ReadRegisters",
    summary: "Read the first count registers of another thread (frame registers first, then the rest) into the reply; optionally suspend it first.",
    args: [{ name: "flags", doc: "bit 0: suspend the source first", show: "flags" }, { name: "count", doc: "how many registers (1..19)" }],
    caps: [], rights: "none",
    errors: [
      { error: "TruncatedMessage", condition: "fewer than 2 message words" },
      { error: "RangeError", condition: "count outside 1..19: RangeError(1, 19)" },
      { error: "IllegalOperation", condition: "the target is the calling thread" },
    ],
    mirrors: "seL4 decodeReadRegisters + invokeTCB_ReadRegisters / l4v decode_read_registers",
  },
  {
    name: "TCB_WriteRegisters", kind: "invocation", label: "TCBWriteRegisters", cap: "ThreadCap", libsel4: "seL4_TCB_WriteRegisters",
    summary: "Write count registers of another thread (sanitised as seL4 does), restart it where its new FaultIP says, and optionally resume it.",
    args: [{ name: "flags", doc: "bit 0: resume the target", show: "flags" }, { name: "count", doc: "how many registers follow" }, { name: "regs...", doc: "the register values, in order" }],
    caps: [], rights: "none",
    errors: [
      { error: "TruncatedMessage", condition: "fewer than 2 message words, or fewer than count values after them" },
      { error: "IllegalOperation", condition: "the target is the calling thread" },
    ],
    mirrors: "seL4 decodeWriteRegisters + invokeTCB_WriteRegisters / l4v decode_write_registers",
  },
  {
    name: "TCB_CopyRegisters", kind: "invocation", label: "TCBCopyRegisters", cap: "ThreadCap", libsel4: "seL4_TCB_CopyRegisters",
    summary: "Copy registers from the source thread to the target: optionally suspend the source, resume the target, copy the frame and/or the integer registers.",
    args: [{ name: "flags", doc: "bit 0 suspend source, 1 resume target, 2 transfer frame, 3 transfer integer", show: "flags" }],
    caps: [{ name: "source", doc: "thread cap of the source thread" }],
    rights: "none",
    errors: [
      { error: "TruncatedMessage", condition: "no message word or no extra cap" },
      { error: "InvalidCapability", condition: "the source is not a thread cap: InvalidCapability(1)" },
    ],
    mirrors: "seL4 decodeCopyRegisters + invokeTCB_CopyRegisters / l4v decode_copy_registers",
  },
  {
    name: "TCB_Configure", kind: "invocation", label: "TCBConfigure", cap: "ThreadCap", libsel4: "seL4_TCB_Configure",
    summary: "Set the fault handler, the CSpace and VSpace roots and the IPC buffer in one call (SetSpace and SetIPCBuffer together).",
    args: [
      { name: "fault_ep", doc: "cap pointer of the fault handler, in the target's CSpace", show: "hex" },
      { name: "cspace_root_data", doc: "new guard word for the CSpace root (0: unchanged)" },
      { name: "vspace_root_data", doc: "new data for the VSpace root (0: unchanged)" },
      { name: "buffer", doc: "IPC buffer address (0: no buffer)", show: "hex" },
    ],
    caps: [{ name: "cspace_root", doc: "CNode cap" }, { name: "vspace_root", doc: "page-directory cap" }, { name: "bufferFrame", doc: "frame cap of the IPC buffer" }],
    rights: "none",
    errors: [
      { error: "TruncatedMessage", condition: "fewer than 4 message words or fewer than 3 extra caps" },
      ...ipcBufferErrors,
      ...setSpaceErrors(""),
    ],
    mirrors: "seL4 decodeTCBConfigure (non-MCS) + invokeTCB_ThreadControl / l4v decode_tcb_configure",
  },
  {
    name: "TCB_SetPriority", kind: "invocation", label: "TCBSetPriority", cap: "ThreadCap", libsel4: "seL4_TCB_SetPriority",
    summary: "Set the thread's priority, bounded by the authority thread's MCP; the thread is requeued and may preempt.",
    args: [{ name: "priority", doc: "new priority (0..255)" }],
    caps: priorityCaps, rights: "none on the target; the authority's MCP must be at least the priority",
    errors: [...authorityErrors("priority", 1), { error: "RangeError", condition: "priority above the authority's MCP: RangeError(0, mcp)" }],
    mirrors: "seL4 decodeSetPriority + invokeTCB_ThreadControl / l4v decode_set_priority",
  },
  {
    name: "TCB_SetMCPriority", kind: "invocation", label: "TCBSetMCPriority", cap: "ThreadCap", libsel4: "seL4_TCB_SetMCPriority",
    summary: "Set the thread's maximum controlled priority, bounded by the authority thread's MCP.",
    args: [{ name: "mcp", doc: "new MCP (0..255)" }],
    caps: priorityCaps, rights: "none on the target; the authority's MCP must be at least the new MCP",
    errors: [...authorityErrors("mcp", 1), { error: "RangeError", condition: "mcp above the authority's MCP: RangeError(0, mcp)" }],
    mirrors: "seL4 decodeSetMCPriority + invokeTCB_ThreadControl / l4v decode_set_mcpriority",
  },
  {
    name: "TCB_SetSchedParams", kind: "invocation", label: "TCBSetSchedParams", cap: "ThreadCap", libsel4: "seL4_TCB_SetSchedParams",
    summary: "Set MCP and priority together, both bounded by the authority thread's MCP.",
    args: [{ name: "mcp", doc: "new MCP" }, { name: "priority", doc: "new priority" }],
    caps: priorityCaps, rights: "none on the target; the authority's MCP bounds both values",
    errors: [
      ...authorityErrors("mcp, priority", 2),
      { error: "RangeError", condition: "mcp above the authority's MCP: RangeError(0, mcp)" },
      { error: "RangeError", condition: "priority above the authority's MCP: RangeError(0, mcp)" },
    ],
    mirrors: "seL4 decodeSetSchedParams (non-MCS) + invokeTCB_ThreadControl / l4v decode_set_sched_params",
  },
  {
    name: "TCB_SetIPCBuffer", kind: "invocation", label: "TCBSetIPCBuffer", cap: "ThreadCap", libsel4: "seL4_TCB_SetIPCBuffer",
    summary: "Set the thread's IPC buffer address and install the frame cap in its buffer slot (address 0 removes the buffer; the cap is then ignored).",
    args: [{ name: "buffer", doc: "IPC buffer address", show: "hex" }],
    caps: [{ name: "bufferFrame", doc: "frame cap of the buffer" }],
    rights: "none",
    errors: [{ error: "TruncatedMessage", condition: "no message word or no extra cap" }, ...ipcBufferErrors],
    mirrors: "seL4 decodeSetIPCBuffer + invokeTCB_ThreadControl / l4v decode_set_ipc_buffer",
  },
  {
    name: "TCB_SetSpace", kind: "invocation", label: "TCBSetSpace", cap: "ThreadCap", libsel4: "seL4_TCB_SetSpace",
    summary: "Set the thread's fault handler and its CSpace and VSpace roots (copies of the given caps, with new data).",
    args: [
      { name: "fault_ep", doc: "cap pointer of the fault handler, in the target's CSpace", show: "hex" },
      { name: "cspace_root_data", doc: "new guard word for the CSpace root (0: unchanged)" },
      { name: "vspace_root_data", doc: "new data for the VSpace root (0: unchanged)" },
    ],
    caps: [{ name: "cspace_root", doc: "CNode cap" }, { name: "vspace_root", doc: "page-directory cap" }],
    rights: "none",
    errors: [{ error: "TruncatedMessage", condition: "fewer than 3 message words or fewer than 2 extra caps" }, ...setSpaceErrors("")],
    mirrors: "seL4 decodeSetSpace (non-MCS) + invokeTCB_ThreadControl / l4v decode_set_space",
  },
  {
    name: "TCB_Suspend", kind: "invocation", label: "TCBSuspend", cap: "ThreadCap", libsel4: "seL4_TCB_Suspend",
    summary: "Stop the thread: cancel its IPC, take it off the ready queue, make it Inactive.",
    args: [], caps: [], rights: "none", errors: [],
    mirrors: "seL4 invokeTCB_Suspend / l4v suspend",
  },
  {
    name: "TCB_Resume", kind: "invocation", label: "TCBResume", cap: "ThreadCap", libsel4: "seL4_TCB_Resume",
    summary: "Wake a stopped thread: cancel its IPC, give it a master reply cap, make it Restart and queue it. A runnable thread is left alone.",
    args: [], caps: [], rights: "none", errors: [],
    mirrors: "seL4 invokeTCB_Resume / l4v restart",
  },
  {
    name: "TCB_BindNotification", kind: "invocation", label: "TCBBindNotification", cap: "ThreadCap", libsel4: "seL4_TCB_BindNotification",
    summary: "Bind a notification to the thread: signals then reach it while it waits on an endpoint.",
    args: [], caps: [{ name: "notification", doc: "notification cap with Read" }],
    rights: "Read on the notification cap",
    errors: [
      { error: "TruncatedMessage", condition: "no extra cap" },
      { error: "IllegalOperation", condition: "the thread is already bound to a notification" },
      { error: "IllegalOperation", condition: "the cap is not a notification cap" },
      { error: "IllegalOperation", condition: "the notification cap lacks Read" },
      { error: "IllegalOperation", condition: "the notification is bound to a thread or has waiters" },
    ],
    mirrors: "seL4 decodeBindNotification + invokeTCB_NotificationControl / l4v decode_bind_notification",
  },
  {
    name: "TCB_UnbindNotification", kind: "invocation", label: "TCBUnbindNotification", cap: "ThreadCap", libsel4: "seL4_TCB_UnbindNotification",
    summary: "Unbind the thread's notification.",
    args: [], caps: [], rights: "none",
    errors: [{ error: "IllegalOperation", condition: "the thread is not bound to a notification" }],
    mirrors: "seL4 decodeUnbindNotification + invokeTCB_NotificationControl / l4v decode_unbind_notification",
  },
  {
    name: "TCB_SetTLSBase", kind: "invocation", label: "TCBSetTLSBase", cap: "ThreadCap", libsel4: "seL4_TCB_SetTLSBase",
    summary: "Set the thread's TLS base register (TPIDRURW on aarch32).",
    args: [{ name: "tls_base", doc: "the TLS base address", show: "hex" }], caps: [], rights: "none",
    errors: [{ error: "TruncatedMessage", condition: "no message word" }],
    mirrors: "seL4 decodeSetTLSBase + invokeSetTLSBase",
  },
  {
    name: "TCB_SetFlags", kind: "invocation", label: "TCBSetFlags", cap: "ThreadCap", libsel4: "seL4_TCB_SetFlags",
    summary: "Not modelled yet: always IllegalOperation (seL4 clears and sets thread flags).",
    args: [{ name: "clear", doc: "flags to clear", show: "flags" }, { name: "set", doc: "flags to set", show: "flags" }], caps: [], rights: "none",
    errors: [{ error: "IllegalOperation", condition: "always (kspec does not model it yet)" }],
    mirrors: "seL4 decodeSetFlags (kspec departs: not modelled)",
    departure: "seL4 wants two words (else TruncatedMessage) and replies the new flags; kspec replies IllegalOperation",
  },
]

const irq: readonly AbiEntry[] = [
  {
    name: "IRQControl_IssueIRQHandler", kind: "invocation", label: "IRQIssueIRQHandler", cap: "IRQControlCap", libsel4: "seL4_IRQControl_Get",
    summary: "Create an IRQHandler cap for an unused interrupt line in an empty slot (a CDT child of IRQControl); the line becomes a signal line.",
    args: [{ name: "irq", doc: "the interrupt line" }, { name: "index", doc: "destination slot", show: "hex" }, { name: "depth", doc: "bits of index to resolve" }],
    caps: [{ name: "root", doc: "CNode cap the destination is looked up from" }],
    rights: "none",
    errors: [
      { error: "TruncatedMessage", condition: "fewer than 3 message words or no extra cap" },
      { error: "RangeError", condition: "irq past the last line: RangeError(0, numIRQs - 1)" },
      { error: "RevokeFirst", condition: "the line already has a handler (or is the timer or reserved)" },
      ...cnodeOpLookup("destination slot", "root", "index", "depth", false),
      { error: "DeleteFirst", condition: "the destination slot is not empty" },
    ],
    mirrors: "seL4 decodeIRQControlInvocation + Arch_checkIRQ (ARM) + invokeIRQControl",
  },
  {
    name: "IRQHandler_AckIRQ", kind: "invocation", label: "IRQAckIRQ", cap: "IRQHandlerCap", libsel4: "seL4_IRQHandler_Ack",
    summary: "Unmask the line, so its next interrupt is delivered.",
    args: [], caps: [], rights: "none", errors: [],
    mirrors: "seL4 decodeIRQHandlerInvocation + invokeIRQHandler_AckIRQ",
  },
  {
    name: "IRQHandler_SetIRQHandler", kind: "invocation", label: "IRQSetIRQHandler", cap: "IRQHandlerCap", libsel4: "seL4_IRQHandler_SetNotification",
    summary: "Make the line signal a notification: a copy of the cap goes into the line's IRQ-node slot (replacing what was there).",
    args: [], caps: [{ name: "notification", doc: "notification cap with Write" }],
    rights: "Write on the notification cap",
    errors: [
      { error: "TruncatedMessage", condition: "no extra cap" },
      { error: "InvalidCapability", condition: "the cap is not a notification cap with Write: InvalidCapability(0)" },
    ],
    mirrors: "seL4 decodeIRQHandlerInvocation + invokeIRQHandler_SetIRQHandler",
  },
  {
    name: "IRQHandler_ClearIRQHandler", kind: "invocation", label: "IRQClearIRQHandler", cap: "IRQHandlerCap", libsel4: "seL4_IRQHandler_Clear",
    summary: "Empty the line's IRQ-node slot: interrupts signal nothing.",
    args: [], caps: [], rights: "none", errors: [],
    mirrors: "seL4 decodeIRQHandlerInvocation + invokeIRQHandler_ClearIRQHandler",
  },
  {
    name: "IRQControl_GetTrigger", kind: "invocation", label: "ARMIRQIssueIRQHandlerTrigger", cap: "IRQControlCap", libsel4: "seL4_IRQControl_GetTrigger",
    summary: "Not modelled (kspec has no trigger modes): always IllegalOperation.",
    args: [{ name: "irq", doc: "the interrupt line" }, { name: "trigger", doc: "1 edge, 0 level" }, { name: "index", doc: "destination slot", show: "hex" }, { name: "depth", doc: "bits of index to resolve" }],
    caps: [{ name: "root", doc: "CNode cap the destination is looked up from" }], rights: "none",
    errors: [{ error: "IllegalOperation", condition: "always (trigger modes are not modelled)" }],
    mirrors: "seL4 Arch_decodeIRQControlInvocation (ARM; kspec departs: not modelled)",
    departure: "seL4 issues an IRQ handler and sets the line's trigger mode, with IRQControl_Get's checks; kspec replies IllegalOperation",
  },
  {
    name: "IRQControl_IssueSGISignal", kind: "invocation", label: "ARMIRQIssueSGISignal", cap: "IRQControlCap", libsel4: "seL4_IRQControl_IssueSGISignal",
    summary: "Not modelled (kspec has no software-generated interrupts): always IllegalOperation.",
    args: [{ name: "irq", doc: "the SGI" }, { name: "target", doc: "the target core" }, { name: "index", doc: "destination slot", show: "hex" }, { name: "depth", doc: "bits of index to resolve" }],
    caps: [{ name: "root", doc: "CNode cap the destination is looked up from" }], rights: "none",
    errors: [{ error: "IllegalOperation", condition: "always (SGIs are not modelled)" }],
    mirrors: "seL4 Arch_decodeIRQControlInvocation (ARM, non-SMP; kspec departs: not modelled)",
    departure: "seL4 issues an SGISignal cap after range and target checks; kspec replies IllegalOperation",
  },
]


const domain: readonly AbiEntry[] = [
  {
    name: "Domain_SetSet", kind: "invocation", label: "DomainSetSet", cap: "DomainCap", libsel4: "seL4_DomainSet_Set",
    summary: "Move a thread to a scheduling domain: it runs only while the domain schedule runs that domain.",
    args: [{ name: "domain", doc: "the new domain (seL4_Uint8)" }], caps: [{ name: "thread", doc: "thread cap" }],
    rights: "none",
    errors: [
      { error: "TruncatedMessage", condition: "no message word" },
      { error: "InvalidArgument", condition: "domain at or above numDomains: InvalidArgument(0)" },
      { error: "TruncatedMessage", condition: "no extra cap" },
      { error: "InvalidArgument", condition: "the extra cap is not a thread cap: InvalidArgument(1)" },
    ],
    mirrors: "seL4 decodeDomainSetSetInvocation + invokeDomainSetSet / l4v decode_domain_set, invoke_set_domain",
  },
  {
    name: "Domain_ScheduleConfigure", kind: "invocation", label: "DomainScheduleConfigure", cap: "DomainCap", libsel4: "seL4_DomainSet_ScheduleConfigure",
    summary: "Write an entry of the domain schedule: run `domain` for `duration` ticks; (0, 0) is an end marker, where the schedule goes back to its start. A running entry changes from its next turn.",
    args: [
      { name: "index", doc: "the schedule entry" },
      { name: "domain", doc: "its domain (seL4_Uint8)" },
      { name: "duration", doc: "ticks, low word (seL4_Time: two words on 32-bit)" },
      { name: "duration_hi", doc: "ticks, high word" },
    ],
    caps: [], rights: "none",
    errors: [
      { error: "TruncatedMessage", condition: "fewer than 4 message words (2 + TIME_ARG_SIZE)" },
      { error: "RangeError", condition: "index at or past the last entry, which stays an end marker: RangeError(0, numDomainSchedules - 2)" },
      { error: "RangeError", condition: "domain at or above numDomains: RangeError(0, numDomains - 1)" },
      { error: "InvalidArgument", condition: "duration above 2^56 - 1: InvalidArgument(2)" },
      { error: "InvalidArgument", condition: "duration 0 with a domain other than 0: InvalidArgument(1)" },
      { error: "InvalidArgument", condition: "duration 0 at the start index: InvalidArgument(2)" },
    ],
    mirrors: "seL4 decodeDomainScheduleConfigure + invokeDomainScheduleConfigure (15.0 on) / l4v decode_domain_schedule_configure, domain_schedule_configure",
  },
  {
    name: "Domain_ScheduleSetStart", kind: "invocation", label: "DomainScheduleSetStart", cap: "DomainCap", libsel4: "seL4_DomainSet_ScheduleSetStart",
    summary: "Make an entry the schedule's start and switch to it at once: the current domain's time ends and the next schedule runs the new start entry's domain.",
    args: [{ name: "index", doc: "the new start entry" }], caps: [], rights: "none",
    errors: [
      { error: "TruncatedMessage", condition: "no message word" },
      { error: "RangeError", condition: "index past the table: RangeError(0, numDomainSchedules - 1)" },
      { error: "InvalidArgument", condition: "the entry at index is an end marker: InvalidArgument(0)" },
    ],
    mirrors: "seL4 decodeDomainScheduleSetStart + invokeDomainScheduleSetStart (15.0 on) / l4v decode_domain_schedule_set_start, domain_set_start",
  },
]


// ---- virtual memory (aarch32) ----------------------------------------------------------------------

type FlushOp = "Clean_Data" | "Invalidate_Data" | "CleanInvalidate_Data" | "Unify_Instruction"

const pdFlush = (op: FlushOp, what: string): AbiEntry => ({
  name: `ARM_PageDirectory_${op}`, kind: "invocation", label: `ARMPD${op}`, cap: "PageDirectoryCap", libsel4: `seL4_ARM_PageDirectory_${op}`,
  summary: `${what} the caches for [start, end) of the address space (kspec keeps no caches: once checked, nothing changes). A range with nothing mapped at start succeeds and does nothing.`,
  args: [{ name: "start", doc: "first virtual address", show: "hex" }, { name: "end", doc: "end of the range (exclusive)", show: "hex" }],
  caps: [], rights: "none",
  errors: [
    { error: "TruncatedMessage", condition: "fewer than 2 message words" },
    { error: "InvalidArgument", condition: "end <= start: InvalidArgument(1)" },
    { error: "IllegalOperation", condition: "start or end reaches the kernel window (start >= 0xe0000000 or end > 0xe0000000)" },
    { error: "InvalidCapability", condition: "the page directory has no ASID: InvalidCapability(0)" },
    { error: "FailedLookup", condition: "its ASID names no page directory: FailedLookup(dest, InvalidRoot)" },
    { error: "InvalidCapability", condition: "its ASID names another page directory: InvalidCapability(0)" },
    { error: "RangeError", condition: "the range leaves the frame mapped at start: RangeError(start, that frame's last address)" },
  ],
  mirrors: "seL4 decodeARMPageDirectoryInvocation + performPDFlush / l4v arch_decode_invocation (PageDirectoryCap)",
})

const pageFlush = (op: FlushOp, what: string): AbiEntry => ({
  name: `ARM_Page_${op}`, kind: "invocation", label: `ARMPage${op}`, cap: "FrameCap", libsel4: `seL4_ARM_Page_${op}`,
  summary: `${what} the caches for [start_offset, end_offset) of the mapped frame (kspec keeps no caches: once checked, nothing changes).`,
  args: [{ name: "start_offset", doc: "first byte, as an offset in the frame", show: "hex" }, { name: "end_offset", doc: "end offset (exclusive)", show: "hex" }],
  caps: [], rights: "none",
  errors: [
    { error: "TruncatedMessage", condition: "fewer than 2 message words" },
    { error: "IllegalOperation", condition: "the frame cap records no mapping" },
    { error: "FailedLookup", condition: "its mapping's ASID names no page directory: FailedLookup(dest, InvalidRoot)" },
    { error: "InvalidArgument", condition: "end_offset <= start_offset: InvalidArgument(1)" },
    { error: "InvalidCapability", condition: "the mapping is stale (the directory no longer maps this frame, with this size, there): InvalidCapability(0)" },
    { error: "InvalidArgument", condition: "start_offset or end_offset past the frame: InvalidArgument(0)" },
  ],
  mirrors: "seL4 decodeARMFrameInvocation (flush labels) + performPageFlush / l4v arch_decode_invocation (PageCap)",
})

const vspace: readonly AbiEntry[] = [
  pdFlush("Clean_Data", "Clean"), pdFlush("Invalidate_Data", "Invalidate"), pdFlush("CleanInvalidate_Data", "Clean and invalidate"),
  pdFlush("Unify_Instruction", "Unify the instruction and data"),
  {
    name: "ARM_PageTable_Map", kind: "invocation", label: "ARMPageTableMap", cap: "PageTableCap", libsel4: "seL4_ARM_PageTable_Map",
    summary: "Install the page table in a page directory at the 1 MiB region holding vaddr; the cap records (ASID, region).",
    args: [{ name: "vaddr", doc: "a virtual address in the region", show: "hex" }, { name: "attr", doc: "VM attributes (bit 1 ParityEnabled counts here)", show: "hex" }],
    caps: [{ name: "vspace", doc: "page-directory cap with an ASID" }],
    rights: "none",
    errors: [
      { error: "TruncatedMessage", condition: "fewer than 2 message words or no extra cap" },
      { error: "InvalidCapability", condition: "the page table is already mapped: InvalidCapability(0)" },
      { error: "InvalidCapability", condition: "vspace is not a page-directory cap with an ASID: InvalidCapability(1)" },
      { error: "InvalidArgument", condition: "vaddr in the kernel window (>= 0xe0000000): InvalidArgument(0)" },
      { error: "FailedLookup", condition: "the ASID names no page directory: FailedLookup(dest, InvalidRoot)" },
      { error: "InvalidCapability", condition: "the ASID names another page directory: InvalidCapability(1)" },
      { error: "DeleteFirst", condition: "the directory entry for vaddr is in use (a page table, section or super section)" },
    ],
    mirrors: "seL4 decodeARMPageTableInvocation + performPageTableInvocationMap / l4v arch_decode_invocation (PageTableCap)",
  },
  {
    name: "ARM_PageTable_Unmap", kind: "invocation", label: "ARMPageTableUnmap", cap: "PageTableCap", libsel4: "seL4_ARM_PageTable_Unmap",
    summary: "Take the page table out of its page directory (if still there) and clear every entry; the cap records no mapping.",
    args: [], caps: [], rights: "none",
    errors: [{ error: "RevokeFirst", condition: "another cap to the page table exists (this one is not final)" }],
    mirrors: "seL4 decodeARMPageTableInvocation + performPageTableInvocationUnmap",
  },
  {
    name: "ARM_Page_Map", kind: "invocation", label: "ARMPageMap", cap: "FrameCap", libsel4: "seL4_ARM_Page_Map",
    summary: "Map the frame at vaddr with the cap's rights cut by the mask (a page table must map small and large pages; large pages and super sections fill 16 entries). A mapped frame may be mapped again only at the same place (new rights or attributes).",
    args: [
      { name: "vaddr", doc: "virtual address, aligned to the frame size", show: "hex" }, { name: "rights", doc: "rights mask (Read needed for any user access)", show: "rights" },
      { name: "attr", doc: "VM attributes: bit 0 PageCacheable, bit 1 ParityEnabled, bit 2 ExecuteNever", show: "hex" },
    ],
    caps: [{ name: "vspace", doc: "page-directory cap with an ASID" }],
    rights: "the mapping gets the frame cap's rights masked by rights (write without read maps kernel-only)",
    errors: [
      { error: "TruncatedMessage", condition: "fewer than 3 message words or no extra cap" },
      { error: "InvalidCapability", condition: "vspace is not a page-directory cap with an ASID: InvalidCapability(1)" },
      { error: "InvalidCapability", condition: "the frame is mapped under another ASID: InvalidCapability(1)" },
      { error: "InvalidArgument", condition: "the frame is mapped at another address: InvalidArgument(0)" },
      { error: "InvalidArgument", condition: "an unmapped frame at vaddr would reach the kernel window: InvalidArgument(0)" },
      { error: "FailedLookup", condition: "the ASID names no page directory: FailedLookup(dest, InvalidRoot)" },
      { error: "InvalidCapability", condition: "the ASID names another page directory: InvalidCapability(1)" },
      { error: "AlignmentError", condition: "vaddr is not aligned to the frame size" },
      { error: "FailedLookup", condition: "a small or large page with no page table at vaddr: FailedLookup(dest, MissingCapability(20))" },
      { error: "DeleteFirst", condition: "an entry in the way has another size (a large page over small pages, a small page inside a large one, a section over a page table or super section, a super section over anything but super sections)" },
    ],
    mirrors: "seL4 decodeARMFrameInvocation + createSafeMappingEntries_PTE/_PDE + performPageInvocationMapPTE/PDE / l4v arch_decode_invocation (PageCap), ensure_safe_mapping",
  },
  {
    name: "ARM_Page_Unmap", kind: "invocation", label: "ARMPageUnmap", cap: "FrameCap", libsel4: "seL4_ARM_Page_Unmap",
    summary: "Remove the frame's mapping if the entries there still map it; the cap records no mapping. Never fails.",
    args: [], caps: [], rights: "none", errors: [],
    mirrors: "seL4 decodeARMFrameInvocation + performPageInvocationUnmap / unmapPage",
  },
  pageFlush("Clean_Data", "Clean"), pageFlush("Invalidate_Data", "Invalidate"), pageFlush("CleanInvalidate_Data", "Clean and invalidate"),
  pageFlush("Unify_Instruction", "Unify the instruction and data"),
  {
    name: "ARM_Page_GetAddress", kind: "invocation", label: "ARMPageGetAddress", cap: "FrameCap", libsel4: "seL4_ARM_Page_GetAddress",
    summary: "Reply the frame's physical address in MR0 (kspec's object pointers are physical addresses). Never fails.",
    args: [], caps: [], rights: "none", errors: [],
    mirrors: "seL4 decodeARMFrameInvocation + performPageGetAddress",
  },
  {
    name: "ARM_ASIDControl_MakePool", kind: "invocation", label: "ARMASIDControlMakePool", cap: "ASIDControlCap", libsel4: "seL4_ARM_ASIDControl_MakePool",
    summary: "Turn a 4 KiB RAM untyped with no children into the first free ASID pool (1024 ASIDs): its memory is used up, the pool cap lands in the destination as the untyped's child.",
    args: [{ name: "index", doc: "destination slot, in the CSpace of root", show: "hex" }, { name: "depth", doc: "bits of index to resolve" }],
    caps: [{ name: "untyped", doc: "untyped cap of exactly 4 KiB, not device memory" }, { name: "root", doc: "CNode cap the destination is looked up from" }],
    rights: "none",
    errors: [
      { error: "TruncatedMessage", condition: "fewer than 2 message words or 2 extra caps" },
      { error: "DeleteFirst", condition: "all 128 ASID pools exist" },
      { error: "InvalidCapability", condition: "untyped is not a RAM untyped cap of 4 KiB: InvalidCapability(1)" },
      { error: "RevokeFirst", condition: "the untyped has CDT children" },
      ...cnodeOpLookup("destination slot", "root", "index", "depth", false),
      { error: "DeleteFirst", condition: "the destination slot is not empty" },
    ],
    mirrors: "seL4 decodeARMMMUInvocation (asid_control_cap) + performASIDControlInvocation / l4v arch_decode_invocation (ASIDControlCap)",
  },
  {
    name: "ARM_ASIDPool_Assign", kind: "invocation", label: "ARMASIDPoolAssign", cap: "ASIDPoolCap", libsel4: "seL4_ARM_ASIDPool_Assign",
    summary: "Give the page directory the pool's first free ASID (never ASID 0): the pool names it, its cap records the ASID, and it can be a VSpace root.",
    args: [], caps: [{ name: "vspace", doc: "page-directory cap without an ASID" }],
    rights: "none",
    errors: [
      { error: "TruncatedMessage", condition: "no extra cap" },
      { error: "InvalidCapability", condition: "vspace is not a page-directory cap without an ASID: InvalidCapability(1)" },
      {
        error: "FailedLookup", condition: "the ASID table has no pool for this pool's ASIDs: FailedLookup(dest, InvalidRoot)",
        unreachable: "a pool leaves the ASID table only when its last cap is deleted (valid_asid_table, valid_arch_caps)",
      },
      {
        error: "InvalidCapability", condition: "the ASID table names another pool: InvalidCapability(0)",
        unreachable: "the table's entry for a live pool cap's ASIDs is that pool",
      },
      { error: "DeleteFirst", condition: "every ASID of the pool is in use", unreachable: "filling a pool takes 1023 or 1024 Assigns, more than a trace has" },
    ],
    mirrors: "seL4 decodeARMMMUInvocation (asid_pool_cap) + performASIDPoolInvocation / l4v arch_decode_invocation (ASIDPoolCap)",
  },
]

/** Every syscall and every invocation kspec models, syscalls first, then by object. */
export const abi: readonly AbiEntry[] = [...syscalls, ...capInvocations, ...cnode, ...untyped, ...tcb, ...irq, ...domain, ...vspace]

/** Labels with no entry, and why. */
export const notModelled: Readonly<Partial<Record<InvocationLabelName, string>>> = {
  InvalidInvocation: "label 0 is no method of any object: every cap with methods answers it IllegalOperation",
}

/** How each cap type is invoked (seL4 `decodeInvocation`), in seL4's switch order. */
export const capDispatch: readonly CapDispatch[] = [
  { cap: "NullCap", summary: "an empty slot: nothing to invoke", errors: [{ error: "InvalidCapability", condition: "always: InvalidCapability(0)" }] },
  { cap: "EndpointCap", summary: "send on the endpoint (entry EndpointCap)" },
  { cap: "NotificationCap", summary: "signal the notification (entry NotificationCap)" },
  { cap: "ReplyCap", summary: "reply to the waiting caller (entry ReplyCap)" },
  { cap: "ThreadCap", methods: "TCB", summary: "the TCB methods", otherLabels: { error: "IllegalOperation", condition: "a label that is no TCB method" } },
  { cap: "DomainCap", methods: "Domain", summary: "the DomainSet methods", otherLabels: { error: "IllegalOperation", condition: "a label that is no DomainSet method" } },
  { cap: "CNodeCap", methods: "CNode", summary: "the CNode methods", otherLabels: { error: "IllegalOperation", condition: "a label outside CNodeRevoke..CNodeSaveCaller" } },
  { cap: "UntypedCap", methods: "Untyped", summary: "Untyped_Retype", otherLabels: { error: "IllegalOperation", condition: "any label but UntypedRetype" } },
  { cap: "IRQControlCap", methods: "IRQControl", summary: "IRQControl_Get", otherLabels: { error: "IllegalOperation", condition: "any label but IRQIssueIRQHandler" } },
  { cap: "IRQHandlerCap", methods: "IRQHandler", summary: "the IRQHandler methods", otherLabels: { error: "IllegalOperation", condition: "a label that is no IRQHandler method" } },
  { cap: "PageDirectoryCap", methods: "ARM_PageDirectory", summary: "the page-directory cache flushes (seL4 decodeARMMMUInvocation)", otherLabels: { error: "IllegalOperation", condition: "a label that is no page-directory method" } },
  { cap: "PageTableCap", methods: "ARM_PageTable", summary: "ARM_PageTable_Map and _Unmap", otherLabels: { error: "IllegalOperation", condition: "a label that is neither ARMPageTableUnmap nor ARMPageTableMap" } },
  { cap: "FrameCap", methods: "ARM_Page", summary: "the frame methods", otherLabels: { error: "IllegalOperation", condition: "a label that is no frame method" } },
  { cap: "ASIDControlCap", methods: "ARM_ASIDControl", summary: "ARM_ASIDControl_MakePool", otherLabels: { error: "IllegalOperation", condition: "any label but ARMASIDControlMakePool" } },
  { cap: "ASIDPoolCap", methods: "ARM_ASIDPool", summary: "ARM_ASIDPool_Assign", otherLabels: { error: "IllegalOperation", condition: "any label but ARMASIDPoolAssign" } },
]

const byName = new Map(abi.map((e) => [e.name, e]))
/** The entry the outcome table counts under `name`, if any. */
export const abiEntry = (name: string): AbiEntry | undefined => byName.get(name)
const byLabel = new Map(abi.filter((e) => e.label !== undefined).map((e) => [e.label!, e]))
/** The entry of an invocation label. */
export const abiEntryForLabel = (label: InvocationLabelName): AbiEntry | undefined => byLabel.get(label)

/**
 * May the outcome `(invocation, error)` occur, by the table? `invocation` is an outcome-table
 * name: an entry, `<methods>_BadLabel`, or a cap tag invoked as a whole.
 */
export const abiAllows = (invocation: string, error: string): boolean => {
  const e = byName.get(invocation)
  if (e !== undefined) return e.errors.some((x) => x.error === error)
  const d = capDispatch.find((c) => c.cap === invocation || (c.methods !== undefined && `${c.methods}_BadLabel` === invocation))
  if (d === undefined) return false
  if (invocation === d.cap) return (d.errors ?? []).some((x) => x.error === error)
  return d.otherLabels?.error === error
}
