/**
 * A scope of `kspec prove`: a small boot configuration, a set-up the root task runs (the objects
 * it makes, the threads it spawns with the caps it gives them, the interrupt lines it hands to
 * notifications), a prelude of kernel entries after the root task has suspended itself, and the
 * options of the event alphabet. The search starts from the state the set-up and the prelude
 * leave, so it starts from an interesting state rather than bare boot, and its depth counts only
 * the events after it.
 *
 * A scope is plain data (`ScopeSpec`), so a scope file is the same thing as JSON, decoded with
 * Effect Schema and checked by building it: a slot outside a thread's CNode, an unknown object
 * name or a set-up step the kernel refuses is one line naming the place. The named scopes are
 * `scopes` below.
 * @category prove
 */
import { Schema } from "effect"
import type { BootConfig, Event, PPtr } from "../../model/index.ts"
import { BootConfigSchema, EventSchema, InitialSlot, ObjectType, decodeBootConfig, showSyscallError, wordBits } from "../../model/index.ts"
import type { KernelState } from "../../spec/index.ts"
import { getCap, observe, slotOf } from "../../spec/index.ts"
import { rootCNode } from "../gen/resolveUtil.ts"
import { tcbAt } from "../gen/stateView.ts"
import { InputFileError, parseJsonText, readInputFile, schemaProblem } from "../files.ts"
import {
  seL4_ARM_ASIDPool_Assign, seL4_ARM_Default_VMAttributes, seL4_ARM_ExecuteNever, seL4_ARM_PageTable_Map, seL4_ARM_Page_Map, seL4_CNode_Copy, seL4_CNode_Mint,
  seL4_CNode_Delete, seL4_CNode_Move, seL4_CNode_Revoke, seL4_IRQControl_Get, seL4_IRQHandler_Ack, seL4_IRQHandler_SetNotification, seL4_ReadWrite,
  seL4_Recv, seL4_TCB_Resume, seL4_TCB_Suspend, seL4_Untyped_Retype, timerTick,
} from "../builders.ts"
import { decodeReply } from "../reply.ts"
import type { SpawnedThread } from "../setup.ts"
import { SetupError, SystemBuilder, cnodeCapData } from "../setup.ts"

// ---- the data ---------------------------------------------------------------------------------------

/** Kinds of kernel entry the alphabet draws from (see alphabet.ts for each one's events). */
export const families = [
  "ipc", "transfer", "notification", "cnode", "untyped", "tcb", "irq", "domain", "faults", "tick", "yield", "hostile", "other", "memory", "preemption", "vm",
] as const
export type Family = (typeof families)[number]

/** Where the vm family maps page tables and frames: 4 MiB, a 1 MiB region no scope uses otherwise (IPC buffers are at 16 MiB). */
export const vmBase = 0x0040_0000

/** Object types a scope's untyped may be retyped into, by name. */
export const retypeTypes = { Endpoint: ObjectType.Endpoint, Notification: ObjectType.Notification, CNode: ObjectType.CNode, Untyped: ObjectType.Untyped, TCB: ObjectType.TCB } as const
export type RetypeTypeName = keyof typeof retypeTypes

/** The finite domains the alphabet draws argument words from. */
export interface AlphabetSpec {
  readonly families: readonly Family[]
  /** Message lengths of Send, NBSend and Call on endpoints (the words are 1, 2, ...). */
  readonly messageLengths: readonly number[]
  /** Badges of Mint and Mutate. */
  readonly badges: readonly number[]
  /** Rights masks of Copy (Mint uses the first). */
  readonly rights: readonly number[]
  /** Priorities of SetPriority, SetMCPriority and SetSchedParams. */
  readonly priorities: readonly number[]
  /** Destination slots of CNode copies, moves and retypes: the first empty slot, or every slot. */
  readonly destinations: "first-empty" | "every-slot"
  /** What Untyped_Retype makes (one object, into a destination slot). */
  readonly retype: readonly { readonly type: RetypeTypeName; readonly sizeBits: number }[]
}

/**
 * An object the root task makes; `sizeBits` is the untyped's size, the CNode's radix or the
 * frame's size (12: 4 KiB, 16: 64 KiB). A page table or page directory is made unmapped (and a
 * directory without an ASID): give it to a thread as its original (`original: true`), as seL4
 * derives no copy of either until it is mapped.
 */
export interface ScopeObject {
  readonly name: string
  readonly type: "Endpoint" | "Notification" | "Untyped" | "CNode" | "Frame" | "PageTable" | "PageDirectory"
  readonly sizeBits?: number
}

/**
 * A cap the root task puts in slot `slot` of a thread's CNode. `object` names a scope object,
 * `cnode:T` or `tcb:T` for thread T's CNode (usable as a CSpace root: guard set so a cap
 * pointer i names slot i) or TCB, `vspace:T`, `pagetable:T` or `ipcbuffer:T` for thread T's page
 * directory, the page table its IPC buffer is mapped through, or its IPC buffer's frame,
 * `irq:N` for the handler of a scope IRQ, or `irqcontrol`, `asidcontrol`, `asidpool` (the root
 * task's ASID pool) or `domain`.
 * A minted copy (with `rights` and `badge`) unless `original`: then the root task's own cap is
 * moved there, so the thread holds the CDT parent of every copy (one original per object).
 */
export interface ScopeCap {
  readonly slot: number
  readonly object: string
  readonly rights?: number
  readonly badge?: number
  readonly original?: boolean
}

export interface ScopeThread {
  readonly name: string
  readonly priority: number
  readonly mcp?: number
  /** Radix of the thread's own CNode (its CSpace root): 2^cnodeBits slots, cap pointer i is slot i. */
  readonly cnodeBits: number
  /** Cap pointer of its fault handler in its CSpace (0: none). */
  readonly faultHandler?: number
  /** An IPC buffer (a 4 KiB frame at its own address); default true. Without one, messages are at most 4 words and carry no caps. */
  readonly ipcBuffer?: boolean
  /** Its VSpace root: its own page directory (default), or one page directory all "shared" threads use. */
  readonly vspace?: "own" | "shared"
  /** Its scheduling domain (default 0). */
  readonly domain?: number
  readonly caps: readonly ScopeCap[]
}

/** An interrupt line the root task issues a handler for, bound to a notification and unmasked. */
export interface ScopeIrq {
  readonly irq: number
  readonly notification: string
}

export interface ScopeSpec {
  readonly name: string
  readonly description: string
  readonly boot: BootConfig
  readonly objects: readonly ScopeObject[]
  readonly threads: readonly ScopeThread[]
  readonly irqs: readonly ScopeIrq[]
  /**
   * After the set-up the root task deletes its boot untyped caps and every cap it made but its
   * frame and page-table caps (deleting those would unmap the threads' IPC buffers), so that the threads hold the only caps to their other objects (the
   * originals among them become CDT roots) and the root CNode names none of them. Default false.
   */
  readonly handOver?: boolean
  /** Kernel entries after the root task suspends itself, made by whichever thread is current. */
  readonly prelude: readonly Event[]
  readonly alphabet: AlphabetSpec
  /** The depth `kspec prove` searches to by default. */
  readonly depth: number
}

// ---- the schema of a scope file ----------------------------------------------------------------------

const Int = (min: number, max: number) => Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: min, maximum: max })))
const Name = Schema.String.pipe(Schema.check(Schema.isPattern(/^[A-Za-z][A-Za-z0-9_-]{0,31}$/)))

export const AlphabetSpecSchema = Schema.Struct({
  families: Schema.Array(Schema.Literals(families)),
  messageLengths: Schema.Array(Int(0, 8)).pipe(Schema.check(Schema.isMaxLength(4))),
  badges: Schema.Array(Int(0, 2 ** 28 - 1)).pipe(Schema.check(Schema.isMaxLength(4))),
  rights: Schema.Array(Int(0, 15)).pipe(Schema.check(Schema.isMaxLength(4))),
  priorities: Schema.Array(Int(0, 255)).pipe(Schema.check(Schema.isMaxLength(4))),
  destinations: Schema.Literals(["first-empty", "every-slot"]),
  retype: Schema.Array(Schema.Struct({ type: Schema.Literals(Object.keys(retypeTypes) as RetypeTypeName[]), sizeBits: Int(0, 12) })).pipe(Schema.check(Schema.isMaxLength(6))),
})

export const ScopeSpecSchema = Schema.Struct({
  kspec: Schema.optionalKey(Schema.Literal("scope")),
  name: Name,
  description: Schema.String,
  boot: BootConfigSchema,
  objects: Schema.Array(Schema.Struct({
    name: Name,
    type: Schema.Literals(["Endpoint", "Notification", "Untyped", "CNode", "Frame", "PageTable", "PageDirectory"]),
    sizeBits: Schema.optionalKey(Int(0, 12)),
  })).pipe(Schema.check(Schema.isMaxLength(16))),
  threads: Schema.Array(Schema.Struct({
    name: Name,
    priority: Int(0, 255),
    mcp: Schema.optionalKey(Int(0, 255)),
    cnodeBits: Int(1, 4),
    faultHandler: Schema.optionalKey(Int(0, 15)),
    ipcBuffer: Schema.optionalKey(Schema.Boolean),
    vspace: Schema.optionalKey(Schema.Literals(["own", "shared"])),
    domain: Schema.optionalKey(Int(0, 15)),
    caps: Schema.Array(Schema.Struct({
      slot: Int(0, 15),
      object: Schema.String,
      rights: Schema.optionalKey(Int(0, 15)),
      badge: Schema.optionalKey(Int(0, 2 ** 28 - 1)),
      original: Schema.optionalKey(Schema.Boolean),
    })),
  })).pipe(Schema.check(Schema.isMinLength(1)), Schema.check(Schema.isMaxLength(4))),
  irqs: Schema.Array(Schema.Struct({ irq: Int(1, 255), notification: Name })).pipe(Schema.check(Schema.isMaxLength(4))),
  handOver: Schema.optionalKey(Schema.Boolean),
  prelude: Schema.Array(EventSchema).pipe(Schema.check(Schema.isMaxLength(64))),
  alphabet: AlphabetSpecSchema,
  depth: Int(0, 1000),
})

/** A scope file that cannot be used: the message names the file and the problem. */
export class ScopeFileError extends InputFileError {
  override readonly name: string = "ScopeFileError"
}

// ---- the named scopes ----------------------------------------------------------------------------------

/** A small machine: a 64-slot root CNode, 128 KiB of RAM, 4 interrupt lines, one domain; preemption every 2 work units, resets in 16-byte chunks. */
export const smallBoot: BootConfig = {
  rootCNodeBits: 6,
  memory: [{ base: 0x2000_0000, size: 0x2_0000, isDevice: false }],
  numIRQs: 4,
  numDomains: 1,
  // Preemption points look at the interrupt controller every 2 work units (as the default
  // configuration), and a reset clears 16 bytes a chunk: a 64-byte untyped's reset has 4 chunks.
  workUnitsPerPreemption: 2,
  resetChunkBits: 4,
}

const allRightsMask = 15

/** tiny's and ipc's system: two peers, an endpoint and a notification, each thread with its own badges. */
const peers = {
  boot: smallBoot,
  objects: [{ name: "ep", type: "Endpoint" }, { name: "ntfn", type: "Notification" }],
  threads: [
    { name: "a", priority: 100, cnodeBits: 2, caps: [{ slot: 1, object: "ep" }, { slot: 2, object: "ntfn", badge: 1 }, { slot: 3, object: "ntfn", badge: 2 }] },
    { name: "b", priority: 100, cnodeBits: 2, caps: [{ slot: 1, object: "ep", badge: 3 }, { slot: 2, object: "ntfn", badge: 4 }] },
  ],
  irqs: [],
  prelude: [],
} as const satisfies Partial<ScopeSpec>
const peersAlphabet: AlphabetSpec = { families: [], messageLengths: [1], badges: [], rights: [], priorities: [], destinations: "first-empty", retype: [] }

/**
 * The named scopes, smallest first. Each thread's CNode has cap pointer i at slot i; slot 0 stays
 * empty, as seL4_CapNull.
 */
export const scopes: readonly ScopeSpec[] = [
  {
    name: "tiny",
    description: "two threads of equal priority sharing an endpoint and a notification through badged caps; IPC (Send, Call, Recv, ReplyRecv, Reply), signals, polls and yields; small enough to check every reachable state",
    ...peers,
    alphabet: { ...peersAlphabet, families: ["ipc", "notification", "yield"] },
    depth: 50,
  },
  {
    name: "ipc",
    description: "tiny with the timer, from four ticks in (the current thread's time slice has one tick left): time slices run out, and the threads take turns by round robin as well as by blocking and yielding",
    ...peers,
    prelude: [timerTick(), timerTick(), timerTick(), timerTick()],
    alphabet: { ...peersAlphabet, families: ["ipc", "notification", "yield", "tick"] },
    depth: 50,
  },
  {
    name: "queues",
    description: "three threads of equal priority sharing an endpoint and a notification through badged caps: two can wait in one queue while the third sends or signals, so the order a queue is served in (first come, first served) is checked; IPC, signals, polls and yields",
    ...peers,
    threads: [
      ...peers.threads,
      { name: "c", priority: 100, cnodeBits: 2, caps: [{ slot: 1, object: "ep", badge: 5 }, { slot: 2, object: "ntfn", badge: 6 }] },
    ],
    alphabet: { ...peersAlphabet, families: ["ipc", "notification", "yield"] },
    depth: 6,
  },
  {
    name: "badges",
    description: "the derivation tree of badged caps: a thread holding an endpoint's original cap, two caps minted from it apart with one badge (siblings, not parent and child) and a copy of the first, and a second thread with a third cap of that badge, which can send; CNode operations (delete, revoke, copy, mint, move, rotate, CancelBadgedSends) and IPC",
    boot: smallBoot,
    objects: [{ name: "ep", type: "Endpoint" }],
    // b first: a, resumed last, heads the ready queue and runs the prelude.
    threads: [
      { name: "b", priority: 100, cnodeBits: 2, caps: [{ slot: 1, object: "ep", badge: 5 }] },
      { name: "a", priority: 100, cnodeBits: 3, caps: [{ slot: 1, object: "cnode:a" }, { slot: 2, object: "ep", original: true }] },
    ],
    irqs: [],
    prelude: [
      // Slot 3: badge 5 minted from the original; slot 4: a copy of it (its child); slot 5: badge 5 minted again (a sibling of slot 3).
      seL4_CNode_Mint(1, 3, wordBits, 1, 2, wordBits, allRightsMask, 5),
      seL4_CNode_Copy(1, 4, wordBits, 1, 3, wordBits, allRightsMask),
      seL4_CNode_Mint(1, 5, wordBits, 1, 2, wordBits, allRightsMask, 5),
    ],
    alphabet: {
      families: ["cnode", "ipc"],
      messageLengths: [0], badges: [5], rights: [allRightsMask], priorities: [], destinations: "first-empty", retype: [],
    },
    depth: 2,
  },
  {
    name: "mirror",
    description: "two identical threads in one address space (no IPC buffers), each with its own badged caps to one endpoint and one notification and the only caps to its own TCB and CNode: a set-up symmetric under swapping the threads, for symmetry reduction",
    boot: smallBoot,
    objects: [{ name: "ep", type: "Endpoint" }, { name: "ntfn", type: "Notification" }],
    threads: [
      {
        name: "a", priority: 100, cnodeBits: 2, ipcBuffer: false, vspace: "shared",
        caps: [{ slot: 1, object: "ep", badge: 1 }, { slot: 2, object: "ntfn", badge: 2 }, { slot: 3, object: "tcb:a" }],
      },
      {
        name: "b", priority: 100, cnodeBits: 2, ipcBuffer: false, vspace: "shared",
        caps: [{ slot: 1, object: "ep", badge: 1 }, { slot: 2, object: "ntfn", badge: 2 }, { slot: 3, object: "tcb:b" }],
      },
    ],
    irqs: [],
    handOver: true,
    prelude: [],
    alphabet: { families: ["ipc", "notification", "yield", "tick"], messageLengths: [1], badges: [], rights: [], priorities: [], destinations: "first-empty", retype: [] },
    depth: 50,
  },
  {
    name: "server",
    description: "a server blocked in Recv on an endpoint that is also its client's fault handler, and the client: the endpoint's original cap, a badged copy and one without Grant, a second endpoint, a notification and an untyped whose last object was deleted; cap transfer, faults, CNode operations, retype",
    boot: smallBoot,
    objects: [{ name: "ep", type: "Endpoint" }, { name: "ep2", type: "Endpoint" }, { name: "ntfn", type: "Notification" }, { name: "ut", type: "Untyped", sizeBits: 6 }],
    threads: [
      { name: "server", priority: 101, cnodeBits: 3, caps: [{ slot: 1, object: "cnode:server" }, { slot: 2, object: "ep" }, { slot: 3, object: "ntfn", badge: 1 }] },
      {
        name: "client", priority: 100, cnodeBits: 3, faultHandler: 2,
        caps: [
          { slot: 1, object: "cnode:client" }, { slot: 2, object: "ep", original: true }, { slot: 3, object: "ep", badge: 5 }, { slot: 4, object: "ep", rights: 3 },
          { slot: 5, object: "ep2" }, { slot: 6, object: "ntfn", badge: 2 }, { slot: 7, object: "ut" },
        ],
      },
    ],
    irqs: [],
    prelude: [
      // The server (the higher priority runs first) waits for a message, ready to take a cap into its slot 4.
      seL4_Recv(2, { root: 1, index: 4, depth: wordBits }),
      // The client retypes an endpoint into its empty slot 0 and deletes it: the untyped has no
      // children left, so the next retype starts again from its base.
      seL4_Untyped_Retype(7, ObjectType.Endpoint, 0, 1, 0, 0, 0, 1),
      seL4_CNode_Delete(1, 0, wordBits),
    ],
    alphabet: {
      families: ["ipc", "transfer", "notification", "cnode", "untyped", "faults", "yield", "hostile"],
      messageLengths: [2, 5], badges: [6], rights: [allRightsMask], priorities: [], destinations: "first-empty", retype: [{ type: "Endpoint", sizeBits: 0 }],
    },
    depth: 2,
  },
  {
    name: "default",
    description: "two threads of equal priority, one holding the endpoint's original cap, a notification bound to an interrupt line, a 64-byte untyped, a 2-slot CNode and its own TCB cap, the other badged copies and its TCB cap (8-slot CSpaces); every family of events",
    boot: smallBoot,
    objects: [
      { name: "ep", type: "Endpoint" }, { name: "ntfn", type: "Notification" }, { name: "ut", type: "Untyped", sizeBits: 6 },
      { name: "cn", type: "CNode", sizeBits: 1 },
    ],
    threads: [
      {
        name: "a", priority: 100, cnodeBits: 3,
        caps: [
          { slot: 1, object: "cnode:a" }, { slot: 2, object: "ep", original: true }, { slot: 3, object: "ntfn" }, { slot: 4, object: "ut" },
          { slot: 5, object: "cn" }, { slot: 6, object: "tcb:a" },
        ],
      },
      { name: "b", priority: 100, cnodeBits: 3, caps: [{ slot: 1, object: "cnode:b" }, { slot: 2, object: "ep", badge: 1 }, { slot: 3, object: "ntfn", badge: 2 }, { slot: 4, object: "tcb:b" }] },
    ],
    irqs: [{ irq: 1, notification: "ntfn" }],
    prelude: [],
    alphabet: {
      families: [...families],
      messageLengths: [0, 2], badges: [3, 4], rights: [allRightsMask, 2], priorities: [100, 200], destinations: "first-empty",
      retype: [{ type: "Endpoint", sizeBits: 0 }, { type: "Notification", sizeBits: 0 }, { type: "CNode", sizeBits: 1 }],
    },
    depth: 2,
  },
  {
    name: "vm",
    description: "one thread and its address space: its page directory, the page table and frame of its IPC buffer, a 4 KiB frame and a 64 KiB one mapped through a page table at 4 MiB (the large one execute-never), a second page table and a second page directory (assigned an ASID), the ASID pool and ASID control, a fault-handler endpoint, and an untyped with a child; maps, unmaps, ASIDs, user loads, stores and fetches, copies and deletes",
    boot: { ...smallBoot, memory: [{ base: 0x2000_0000, size: 0x4_0000, isDevice: false }] },
    objects: [
      { name: "f", type: "Frame", sizeBits: 12 }, { name: "big", type: "Frame", sizeBits: 16 }, { name: "pt", type: "PageTable" }, { name: "pt2", type: "PageTable" },
      { name: "pd2", type: "PageDirectory" }, { name: "ut", type: "Untyped", sizeBits: 12 }, { name: "ep", type: "Endpoint" },
    ],
    threads: [{
      name: "a", priority: 100, cnodeBits: 4, faultHandler: 14,
      caps: [
        { slot: 1, object: "cnode:a" }, { slot: 2, object: "vspace:a" }, { slot: 3, object: "f" }, { slot: 4, object: "big" }, { slot: 5, object: "pt", original: true },
        { slot: 6, object: "pd2", original: true }, { slot: 7, object: "asidpool" }, { slot: 8, object: "asidcontrol" }, { slot: 9, object: "ut" },
        { slot: 10, object: "pagetable:a" }, { slot: 11, object: "ipcbuffer:a" }, { slot: 12, object: "pt2", original: true }, { slot: 14, object: "ep" },
      ],
    }],
    irqs: [],
    prelude: [
      // A page table at 4 MiB, the 4 KiB frame there and the 64 KiB one 64 KiB above it (execute-never); the second directory gets an ASID; the untyped a child.
      seL4_ARM_PageTable_Map(5, 2, vmBase, seL4_ARM_Default_VMAttributes),
      seL4_ARM_Page_Map(3, 2, vmBase, seL4_ReadWrite, seL4_ARM_Default_VMAttributes),
      seL4_ARM_Page_Map(4, 2, vmBase + 0x1_0000, seL4_ReadWrite, seL4_ARM_Default_VMAttributes | seL4_ARM_ExecuteNever),
      seL4_ARM_ASIDPool_Assign(7, 6),
      seL4_Untyped_Retype(9, ObjectType.Endpoint, 0, 1, 0, 0, 13, 1),
    ],
    alphabet: { families: ["vm", "memory", "cnode"], messageLengths: [], badges: [], rights: [allRightsMask], priorities: [], destinations: "first-empty", retype: [] },
    depth: 1,
  },
  {
    name: "preempt",
    description: "long operations and their preemption: a thread holding the only caps to an endpoint (its original and a badged copy, and two more in a 4-slot CNode), to that CNode, to its own and a second thread's TCB and to an untyped whose four objects were revoked (its reset takes four chunks); an interrupt line bound to a notification; deletes, revokes and retypes with and without the interrupt pending",
    boot: smallBoot,
    objects: [{ name: "ep", type: "Endpoint" }, { name: "ntfn", type: "Notification" }, { name: "ut", type: "Untyped", sizeBits: 6 }, { name: "cn", type: "CNode", sizeBits: 2 }],
    threads: [
      {
        name: "a", priority: 100, cnodeBits: 3,
        caps: [
          { slot: 1, object: "cnode:a" }, { slot: 2, object: "ep", original: true }, { slot: 3, object: "ep", badge: 1 }, { slot: 4, object: "tcb:a" },
          { slot: 5, object: "cn", original: true }, { slot: 6, object: "ut", original: true }, { slot: 7, object: "tcb:b" },
        ],
      },
      // b holds the interrupt's handler cap (the hand-over deletes the root task's: the last one would mask the line).
      { name: "b", priority: 99, cnodeBits: 2, caps: [{ slot: 1, object: "ntfn", badge: 3 }, { slot: 2, object: "irq:1" }] },
    ],
    irqs: [{ irq: 1, notification: "ntfn" }],
    handOver: true,
    prelude: [
      // Four endpoints from the untyped into the CNode, revoked: the untyped has no children and 64 bytes to reset.
      seL4_Untyped_Retype(6, ObjectType.Endpoint, 0, 1, 5, wordBits, 0, 4),
      seL4_CNode_Revoke(1, 6, wordBits),
      // Two more copies of the endpoint, in the CNode.
      seL4_CNode_Copy(5, 0, 2, 1, 3, wordBits, allRightsMask),
      seL4_CNode_Copy(5, 1, 2, 1, 3, wordBits, allRightsMask),
    ],
    alphabet: {
      families: ["cnode", "untyped", "preemption"],
      messageLengths: [], badges: [], rights: [allRightsMask], priorities: [], destinations: "first-empty", retype: [{ type: "Endpoint", sizeBits: 0 }],
    },
    depth: 1,
  },
  {
    name: "domains",
    description: "two domains of two ticks each and a thread in each, the first holding the domain cap and both TCB caps; ticks, yields, DomainSet_Set and a schedule restarted from its second entry",
    boot: { ...smallBoot, numDomains: 2, domainSchedule: [{ domain: 0, length: 2 }, { domain: 1, length: 2 }], numDomainSchedules: 3 },
    objects: [],
    threads: [
      { name: "a", priority: 100, cnodeBits: 2, domain: 0, caps: [{ slot: 1, object: "domain" }, { slot: 2, object: "tcb:a" }, { slot: 3, object: "tcb:b" }] },
      { name: "b", priority: 100, cnodeBits: 1, domain: 1, caps: [] },
    ],
    irqs: [],
    prelude: [],
    alphabet: { families: ["domain", "tick", "yield"], messageLengths: [], badges: [], rights: [], priorities: [], destinations: "first-empty", retype: [] },
    depth: 6,
  },
]

export const scopeNames: readonly string[] = scopes.map((s) => s.name)

// ---- building a scope ---------------------------------------------------------------------------------

/** A thread of a built scope. */
export interface ScopeThreadInfo {
  readonly name: string
  readonly ptr: PPtr
  readonly cnodeBits: number
}

/** A scope, built: the boot configuration, the events that lead to the initial state, and that state. */
export interface Scope {
  readonly spec: ScopeSpec
  readonly config: BootConfig
  /** The set-up and the prelude: replay them from boot to reach `initial` (in any harness). */
  readonly setup: readonly Event[]
  /** The spec state the search starts from. */
  readonly initial: KernelState
  readonly threads: readonly ScopeThreadInfo[]
}

/** A scope that cannot be built: the message says which part and why. */
export class ScopeError extends Error {
  override readonly name = "ScopeError"
}

const fail = (where: string, problem: string): never => { throw new ScopeError(`${where}: ${problem}`) }

/** Caps of a thread's own objects, as `KIND:THREAD`. */
const threadCaps = ["cnode", "tcb", "vspace", "pagetable", "ipcbuffer"]
/** Caps of the root task's boot objects, by name. */
const globalCaps = ["irqcontrol", "asidcontrol", "asidpool", "domain"]
const globalSlot: Readonly<Record<string, number>> = {
  irqcontrol: InitialSlot.IRQControl, asidcontrol: InitialSlot.ASIDControl, asidpool: InitialSlot.InitThreadASIDPool, domain: InitialSlot.Domain,
}

/** Check the names and slots of a scope before running anything. */
const checkNames = (spec: ScopeSpec): void => {
  const names = new Set<string>()
  spec.objects.forEach((o, i) => {
    if (names.has(o.name)) fail(`objects[${i}].name`, `${JSON.stringify(o.name)} is used twice`)
    names.add(o.name)
    if (o.type === "Untyped" && (o.sizeBits === undefined || o.sizeBits < 4)) fail(`objects[${i}].sizeBits`, "an untyped needs sizeBits of 4 or more")
    if (o.type === "CNode" && (o.sizeBits === undefined || o.sizeBits < 1)) fail(`objects[${i}].sizeBits`, "a CNode needs sizeBits (its radix) of 1 or more")
    if (o.type === "Frame" && o.sizeBits !== 12 && o.sizeBits !== 16) fail(`objects[${i}].sizeBits`, "a frame needs sizeBits 12 (4 KiB) or 16 (64 KiB)")
  })
  const threadNames = new Set(spec.threads.map((t) => t.name))
  if (threadNames.size !== spec.threads.length) fail("threads", "two threads have the same name")
  const irqs = new Set(spec.irqs.map((q) => q.irq))
  spec.irqs.forEach((q, i) => {
    if (q.irq >= spec.boot.numIRQs) fail(`irqs[${i}].irq`, `line ${q.irq} is not below boot.numIRQs (${spec.boot.numIRQs})`)
    const o = spec.objects.find((x) => x.name === q.notification)
    if (o?.type !== "Notification") fail(`irqs[${i}].notification`, `${JSON.stringify(q.notification)} is not a notification of the scope`)
  })
  const originals = new Set<string>()
  spec.threads.forEach((t, ti) => {
    const slots = new Set<number>()
    t.caps.forEach((c, ci) => {
      const at = `threads[${ti}].caps[${ci}]`
      if (c.slot >= 2 ** t.cnodeBits) fail(`${at}.slot`, `slot ${c.slot} is outside the thread's ${2 ** t.cnodeBits}-slot CNode`)
      if (slots.has(c.slot)) fail(`${at}.slot`, `slot ${c.slot} is given twice`)
      slots.add(c.slot)
      const [kind, arg] = c.object.includes(":") ? c.object.split(":", 2) as [string, string] : [c.object, ""]
      const ok = names.has(c.object) || globalCaps.includes(c.object) ||
        (threadCaps.includes(kind) && threadNames.has(arg)) || (kind === "irq" && irqs.has(Number(arg)))
      if (!ok) fail(`${at}.object`, `${JSON.stringify(c.object)} is not a scope object, ${threadCaps.map((k) => `${k}:THREAD`).join(", ")}, irq:LINE, ${globalCaps.join(", ")}`)
      if (kind === "pagetable" || kind === "ipcbuffer") {
        const th = spec.threads.find((x) => x.name === arg)
        if (th?.ipcBuffer === false) fail(`${at}.object`, `thread ${arg} has no IPC buffer`)
      }
      if (c.original === true) {
        if (!names.has(c.object)) fail(`${at}.original`, "only a scope object's original cap can be moved")
        if (originals.has(c.object)) fail(`${at}.original`, `the original cap of ${c.object} is given twice`)
        originals.add(c.object)
      }
    })
    if (t.faultHandler !== undefined && t.faultHandler >= 2 ** t.cnodeBits) fail(`threads[${ti}].faultHandler`, "outside the thread's CNode")
  })
}

/**
 * Build a scope: run the set-up as the root task (SystemBuilder: every object from the boot
 * untypeds, every cap minted or moved into the threads' CNodes), bind the IRQ lines, suspend the
 * root task, run the prelude. Throws a ScopeError naming the step the kernel refused.
 */
export const buildScope = (spec: ScopeSpec): Scope => {
  checkNames(spec)
  const d = decodeBootConfig(spec.boot)
  if (!d.ok) fail("boot", d.message.split("\n")[0] ?? "invalid")
  const sb = new SystemBuilder(spec.boot)
  const root = InitialSlot.InitThreadCNode
  const step = (what: string, ev: Event): void => {
    sb.emit(ev)
    const r = decodeReply(observe(sb.state, sb.root))
    if (r.tag === "Error") fail(what, `the kernel replied ${showSyscallError(r.error)}`)
  }
  try {
    // Objects first, then threads (each with its TCB, CNode, VSpace and IPC buffer), then IRQs.
    const objectSlot = new Map<string, number>()
    for (const o of spec.objects) {
      const slot = o.type === "Endpoint" ? sb.endpoint()
        : o.type === "Notification" ? sb.notification()
        : o.type === "CNode" ? sb.cnode(o.sizeBits!)
        : o.type === "Frame" ? sb.retype(o.sizeBits === 16 ? ObjectType.LargePage : ObjectType.SmallPage)
        : o.type === "PageTable" ? sb.pageTable()
        : o.type === "PageDirectory" ? sb.pageDirectory()
        : sb.retype(ObjectType.Untyped, o.sizeBits!)
      objectSlot.set(o.name, slot)
    }
    const spawned = new Map<string, SpawnedThread>()
    const shared = spec.threads.some((t) => t.vspace === "shared") ? sb.addressSpace() : undefined
    for (const t of spec.threads) {
      spawned.set(t.name, sb.thread({
        priority: t.priority, mcp: t.mcp ?? t.priority, cspace: { radix: t.cnodeBits }, faultHandler: t.faultHandler ?? 0, resume: false,
        ipcBuffer: t.ipcBuffer ?? true, ...(t.vspace === "shared" ? { vspace: shared! } : {}), ...(t.domain !== undefined ? { domain: t.domain } : {}),
      }))
    }
    for (const q of spec.irqs) {
      const slot = sb.freeSlot()
      step(`irqs: IRQControl_Get(${q.irq})`, seL4_IRQControl_Get(InitialSlot.IRQControl, q.irq, root, slot, wordBits))
      step(`irqs: IRQHandler_SetNotification(${q.irq})`, seL4_IRQHandler_SetNotification(slot, objectSlot.get(q.notification)!))
      step(`irqs: IRQHandler_Ack(${q.irq})`, seL4_IRQHandler_Ack(slot))
      objectSlot.set(`irq:${q.irq}`, slot)
    }
    // Copies first, then the originals that move: a copy is minted from the root task's original.
    const grants = spec.threads.flatMap((t) => t.caps.map((c) => ({ t, c })))
    for (const { t, c } of [...grants.filter((g) => g.c.original !== true), ...grants.filter((g) => g.c.original === true)]) {
      const th = spawned.get(t.name)!
      const [kind, arg] = c.object.split(":", 2) as [string, string | undefined]
      const at = `threads ${t.name} slot ${c.slot} (${c.object})`
      let src: number
      let badge = c.badge ?? 0
      if (kind === "cnode" && arg !== undefined) {
        src = spawned.get(arg)!.cspace
        // A CNode cap that resolves a whole cap pointer in one level: guard 0 over the bits above the radix.
        const bits = spec.threads.find((x) => x.name === arg)!.cnodeBits
        badge = cnodeCapData(0, wordBits - bits)
      } else if (kind === "tcb" && arg !== undefined) src = spawned.get(arg)!.tcb
      else if (kind === "vspace" && arg !== undefined) src = spawned.get(arg)!.vspace
      else if (kind === "pagetable" && arg !== undefined) src = spawned.get(arg)!.pageTable!
      else if (kind === "ipcbuffer" && arg !== undefined) src = spawned.get(arg)!.buffer!
      else if (globalSlot[c.object] !== undefined) src = globalSlot[c.object]!
      else src = objectSlot.get(c.object)!
      if (c.original === true) {
        step(`${at}: CNode_Move`, seL4_CNode_Move(th.cspace, c.slot, th.cspaceDepth, root, src, wordBits))
      } else {
        try { sb.grant(th, c.slot, src, badge, c.rights ?? allRightsMask) } catch (e) {
          if (e instanceof SetupError) fail(at, e.message.replace(/^[^:]*: /, ""))
          throw e
        }
      }
    }
    for (const t of spec.threads) step(`threads ${t.name}: TCB_Resume`, seL4_TCB_Resume(spawned.get(t.name)!.tcb))
    if (spec.handOver === true) {
      // The boot untypeds first (their children become roots), then everything made from them.
      // Not the frame and page-table caps: deleting a mapped one unmaps it, and the threads' IPC
      // buffers are mapped through them. (A page directory's is not its last cap: each thread's
      // TCB holds one.)
      const rc = rootCNode(sb.state, sb.state.curThread)!
      for (let i: number = InitialSlot.NumInitialCaps; i < 2 ** spec.boot.rootCNodeBits; i++) {
        const c = getCap(sb.state, slotOf(rc.ptr, i))
        if (c.tag === "FrameCap" || c.tag === "PageTableCap") continue
        step(`hand-over: delete root slot ${i}`, seL4_CNode_Delete(root, i, wordBits))
      }
    }
    // The root task steps aside for good: nothing names its TCB, so it never runs again.
    sb.emit(seL4_TCB_Suspend(InitialSlot.InitThreadTCB))
    // A Call in the prelude is an invocation that must succeed (a scope whose set-up silently
    // failed would search a different system): no error reply, and the caller not left blocked.
    for (const [i, ev] of spec.prelude.entries()) {
      const caller = sb.state.curThread
      sb.emit(ev)
      if (ev.tag !== "Syscall" || ev.syscall !== "Call") continue
      const r = decodeReply(observe(sb.state, caller))
      if (r.tag === "Error") fail(`prelude[${i}]`, `the kernel replied ${showSyscallError(r.error)}`)
      if (tcbAt(sb.state, caller)?.tcbState.tag.startsWith("Blocked") === true) {
        fail(`prelude[${i}]`, "the thread that ran it blocked (its cap pointer named an endpoint?)")
      }
    }
    const threads = spec.threads.map((t) => ({ name: t.name, ptr: spawned.get(t.name)!.ptr, cnodeBits: t.cnodeBits }))
    if (threads.some((t) => t.ptr === sb.state.curThread) === false && sb.state.curThread !== sb.state.idleThread) {
      fail("prelude", "after the set-up a thread outside the scope is running")
    }
    return { spec, config: spec.boot, setup: sb.events, initial: sb.state, threads }
  } catch (e) {
    if (e instanceof SetupError) fail("set-up", e.message)
    throw e
  }
}

/** The named scope, or undefined. */
export const namedScope = (name: string): ScopeSpec | undefined => scopes.find((s) => s.name === name)

/** Decode a scope from the JSON text of `file`, or throw a ScopeFileError naming the problem. */
export const parseScopeFile = (file: string, text: string): ScopeSpec => {
  const json = parseJsonText(file, text, ScopeFileError)
  const problem = schemaProblem(ScopeSpecSchema, json)
  if (problem !== null) throw new ScopeFileError(file, problem)
  const { kspec: _k, ...spec } = json as ScopeSpec & { kspec?: string }
  try { buildScope(spec) } catch (e) {
    if (e instanceof ScopeError) throw new ScopeFileError(file, e.message)
    throw e
  }
  return spec
}

/**
 * The scope `nameOrFile` names: a named scope, or a scope file (JSON, a `ScopeSpec`). Throws a
 * ScopeFileError (an InputFileError: one line, exit 2 in the CLI) for an unknown name or a bad file.
 */
export const resolveScope = (nameOrFile: string): ScopeSpec => {
  const named = namedScope(nameOrFile)
  if (named !== undefined) return named
  if (!nameOrFile.includes("/") && !nameOrFile.includes(".")) {
    throw new ScopeFileError(nameOrFile, `not a named scope (expected one of ${scopeNames.join(", ")}, or a scope file)`)
  }
  return parseScopeFile(nameOrFile, readInputFile(nameOrFile, ScopeFileError))
}
