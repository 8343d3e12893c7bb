/**
 * The implementation's kernel state, laid out the way seL4's C kernel lays it out
 * (include/object/structures.h, include/model/statedata.h): a numeric object table, capability
 * slots (CTEs) linked into the MDB list, intrusive TCB queues, and a two-level ready-queue bitmap.
 *
 * Everything here is mutable and identity-based: a `Cte` or a TCB is a C pointer. This module has
 * no behaviour beyond constructors; the kernel operations live in the seL4-named modules beside it.
 * @category objects
 */
import type { Cap, Fault, IRQState, LookupFailure, PPtr, SyscallError, ThreadState } from "../model/index.ts"
import {
  NullCap, asidHighBits, asidLowBits, initialRegs, msgMaxExtraCaps, nMsgRegisters, numPriorities, pdIndexBits, ptIndexBits, slotBits,
  tcbCNodeEntries, timeSlice, wordBits,
} from "../model/index.ts"

/**
 * An impossible state: the kernel's own invariants are broken. Thrown, never returned. The message
 * texts match the spec's `KernelBug` texts so a grep pairs the two checks (seL4's "Haskell error").
 */
export class KernelBug extends Error {
  override readonly name = "KernelBug"
}

// ---- capability slots ---------------------------------------------------------------------------

/**
 * A capability table entry (seL4 `cte_t`): the cap and its MDB node. The MDB is a doubly linked list
 * through all non-empty slots in CDT prefix order; `revocable` is C `mdbRevocable` (the abstract
 * `is_original_cap`), `firstBadged` is C `mdbFirstBadged`. An empty slot holds NullCap and no links.
 */
export class Cte {
  cap: Cap = NullCap
  prev: Cte | null = null
  next: Cte | null = null
  revocable = false
  firstBadged = false
  /**
   * The object `cap` names, kept as C's cap keeps its pointer (`slotObject` fills it): good while
   * `objCap` is still the slot's cap and the object table has removed nothing since `objEpoch`.
   */
  obj: ImplObject | undefined = undefined
  objCap: Cap = NullCap
  objEpoch = -1
  /** The slot's own address: `objectBase + index * 2^slotBits` (spec `slotOf`). */
  constructor(readonly addr: number) {}
}

/** Bytes per slot. */
export const cteSize = 2 ** slotBits

// ---- kernel objects -----------------------------------------------------------------------------

export const ThreadStateRunning: ThreadState = { tag: "Running" }
export const ThreadStateRestart: ThreadState = { tag: "Restart" }
export const ThreadStateInactive: ThreadState = { tag: "Inactive" }
export const ThreadStateIdle: ThreadState = { tag: "IdleThreadState" }
export const ThreadStateBlockedOnReply: ThreadState = { tag: "BlockedOnReply" }

/**
 * A fresh array of words stored unboxed (V8's double elements), so every TCB's register arrays
 * have one element kind whatever words they later hold, and copying a template is one memcpy.
 */
function wordArray(ws: readonly number[]): number[] {
  const a = [0.5]
  a.pop()
  for (const w of ws) a.push(w)
  return a
}
const zeroMrs = wordArray(new Array<number>(nMsgRegisters).fill(0))
const initialRegsWords = wordArray(initialRegs())

/**
 * A thread control block (seL4 `tcb_t`): its five cap slots (C `tcb_cnode`: ctable, vtable, reply,
 * caller, ipc buffer frame), scheduling fields, the user context (registers: message info, badge,
 * MR0-MR3 and the others), and the intrusive queue links. The IPC buffer's words are frame memory.
 */
export class ImplTcb {
  readonly tag = "TCB" as const
  /** `tcb_cnode`: slot i lives at `base + i * 16`. */
  readonly slots: readonly Cte[]
  tcbState: ThreadState = ThreadStateInactive
  tcbPriority = 0
  tcbMCP = 0
  tcbDomain: number
  tcbTimeSlice = timeSlice
  tcbFaultHandler = 0
  tcbIPCBuffer = 0
  /** Bound notification (C `tcbBoundNotification`), a pointer into the object table. */
  tcbBoundNotification: ImplNotification | null = null
  tcbFault: Fault | null = null
  // -- user context (registers)
  msgInfo = 0
  badge = 0
  /** MR0..MR3 (r2-r5). */
  readonly mrs: number[] = zeroMrs.slice()
  /** The other registers by seL4 register number (model/registers.ts); entries 0..5 unused. */
  readonly regs: number[] = initialRegsWords.slice()
  // -- intrusive links
  /** Ready-queue links (C `tcbSchedNext`/`tcbSchedPrev`); meaningful only while `tcbQueued`. */
  tcbSchedNext: ImplTcb | null = null
  tcbSchedPrev: ImplTcb | null = null
  /** Endpoint / notification queue links (C `tcbEPNext`/`tcbEPPrev`). */
  tcbEPNext: ImplTcb | null = null
  tcbEPPrev: ImplTcb | null = null
  /** In a ready queue (C `thread_state.tcbQueued`). */
  tcbQueued = false
  // -- preallocated records (C embeds `thread_state_t` and builds reply caps in place): blocking a
  //    thread or inserting a reply cap to it allocates nothing. A blocking record is overwritten the
  //    next time the thread blocks that way, so readers copy fields before changing the state.
  readonly tsBlockedOnSend: Mutable<Extract<ThreadState, { tag: "BlockedOnSend" }>> =
    { tag: "BlockedOnSend", ep: 0, badge: 0, canGrant: false, canGrantReply: false, isCall: false }
  readonly tsBlockedOnReceive: Mutable<Extract<ThreadState, { tag: "BlockedOnReceive" }>> =
    { tag: "BlockedOnReceive", ep: 0, canGrant: false }
  readonly tsBlockedOnNotification: Mutable<Extract<ThreadState, { tag: "BlockedOnNotification" }>> =
    { tag: "BlockedOnNotification", ntfn: 0 }
  /** `ReplyCap(this, master=false, canGrant)` for canGrant false / true (caps are immutable values). */
  readonly replyCapNoGrant: Cap
  readonly replyCapGrant: Cap

  constructor(readonly base: PPtr, domain: number) {
    this.tcbDomain = domain
    const s: Cte[] = []
    for (let i = 0; i < tcbCNodeEntries; i++) s.push(new Cte(base + i * cteSize))
    this.slots = s
    this.replyCapNoGrant = { tag: "ReplyCap", tcb: base, isMaster: false, canGrant: false }
    this.replyCapGrant = { tag: "ReplyCap", tcb: base, isMaster: false, canGrant: true }
  }
}

/** A writable view of a readonly record (for the TCB's in-place thread-state records). */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] }

export type EPState = "Idle" | "Send" | "Recv"
/** An endpoint (seL4 `endpoint_t`): state and the head/tail of a queue threaded through `tcbEPNext`. */
export class ImplEndpoint {
  readonly tag = "Endpoint" as const
  epState: EPState = "Idle"
  epQueueHead: ImplTcb | null = null
  epQueueTail: ImplTcb | null = null
  constructor(readonly base: PPtr) {}
}

export type NtfnState = "Idle" | "Waiting" | "Active"
/** A notification (seL4 `notification_t`): state, waiter queue, badge word and bound TCB. */
export class ImplNotification {
  readonly tag = "Notification" as const
  ntfnState: NtfnState = "Idle"
  ntfnQueueHead: ImplTcb | null = null
  ntfnQueueTail: ImplTcb | null = null
  ntfnMsgIdentifier = 0
  ntfnBoundTCB: ImplTcb | null = null
  constructor(readonly base: PPtr) {}
}

/**
 * A CNode: 2^radix slots. Slots are materialised on first touch (`cnodeSlot`), so a large CNode
 * costs nothing until used; an untouched index is an empty slot.
 */
export class ImplCNode {
  readonly tag = "CNode" as const
  readonly slots: (Cte | undefined)[]
  constructor(readonly base: PPtr, readonly radix: number) {
    this.slots = new Array<Cte | undefined>(2 ** radix)
  }
}

/** Slot `i` of a CNode (materialised on first touch; C `CTE_PTR(cnode) + i`). */
export const cnodeSlot = (cn: ImplCNode, i: number): Cte => {
  let c = cn.slots[i]
  if (c === undefined) {
    c = new Cte(cn.base + i * cteSize)
    cn.slots[i] = c
  }
  return c
}

/** The cap in slot `i` of a CNode, without materialising it. */
export const cnodeCapAt = (cn: ImplCNode, i: number): Cap => cn.slots[i]?.cap ?? NullCap

export class ImplFrame {
  readonly tag = "Frame" as const
  /**
   * The frame's memory, a typed array per 4 KiB page, each made the first time a word in it is
   * written (see machine/memory.ts); null until then. A page never written reads 0.
   */
  pages: (Uint32Array | undefined)[] | null = null
  /** 128-word views of IPC buffers in this frame, by 512-byte block, made once each (machine/memory.ts `bufferView`). */
  views: (Uint32Array | undefined)[] | null = null
  constructor(readonly base: PPtr, readonly sizeBits: number, readonly isDevice: boolean) {}
}
/** The buffer page tables and directories are carved from, and the words of it handed out. */
let tableWords = { buffer: new ArrayBuffer(0), used: 0 }
/**
 * `n` zeroed words for a page table or directory, carved from 1 MiB buffers (a buffer is zeroed
 * once when made): a view costs a third of a fresh 16 KiB array, which retype would otherwise
 * allocate and zero for every directory. A buffer lives while any of its tables does.
 */
const zeroedWords = (n: number): Uint32Array => {
  if (tableWords.used + n > tableWords.buffer.byteLength >>> 2) tableWords = { buffer: new ArrayBuffer(1 << 20), used: 0 }
  const a = new Uint32Array(tableWords.buffer, tableWords.used << 2, n)
  tableWords.used += n
  return a
}

/**
 * A page table (seL4 `pte_t[256]`): each entry a 32-bit hardware short descriptor (invalid, small
 * page or one of a large page's 16 entries; see impl/kernel/vspace.ts for the bit layout).
 */
export class ImplPageTable {
  readonly tag = "PageTable" as const
  readonly pt = zeroedWords(1 << ptIndexBits)
  constructor(readonly base: PPtr) {}
}
/**
 * A page directory (seL4 `pde_t[4096]`): each entry a 32-bit hardware short descriptor (invalid,
 * a page table, a section or one of a super section's 16 entries).
 */
export class ImplPageDirectory {
  readonly tag = "PageDirectory" as const
  readonly pd = zeroedWords(1 << pdIndexBits)
  constructor(readonly base: PPtr) {}
}
/** An ASID pool (seL4 `asid_pool_t`): the page directory of each of its 1024 ASIDs, or null. */
export class ImplASIDPool {
  readonly tag = "ASIDPool" as const
  readonly array: (ImplPageDirectory | null)[] = new Array<ImplPageDirectory | null>(1 << asidLowBits).fill(null)
  constructor(readonly base: PPtr) {}
}

export type ImplObject = ImplTcb | ImplEndpoint | ImplNotification | ImplCNode | ImplFrame | ImplPageTable | ImplPageDirectory | ImplASIDPool

// ---- the object table ----------------------------------------------------------------------------

/** log2 of the entries in the object table's direct-mapped index. */
const objectIndexBits = 8
/** An index key no object has (objects are 16-byte aligned). */
const noObject = -1

/**
 * The object table: objects by base address (a `Map`, the source of truth, iterated by the
 * abstraction), plus a small direct-mapped index in front of it so that `lookup`, the kernel's
 * "dereference a pointer", is usually two array reads instead of a hash-map probe. The index
 * holds only pairs that are in the map (writes and deletes go through both), so it never answers
 * differently from `get`; a miss, e.g. on a collision, reads the map and refills the entry.
 */
export class ObjectTable extends Map<PPtr, ImplObject> {
  /** Counts removals (a delete, an object replaced, a clear): a slot's cached object is good only within one epoch. */
  epoch = 0
  private readonly indexKeys = new Float64Array(1 << objectIndexBits).fill(noObject)
  private readonly indexObjects = new Array<ImplObject | undefined>(1 << objectIndexBits).fill(undefined)

  /** The index entry for `p` (Fibonacci hashing of the 16-byte granule number). */
  private static entry(p: PPtr): number {
    return Math.imul(p >>> 4, 0x9e3779b1) >>> (32 - objectIndexBits)
  }

  /** The object at `p`, if any (the same answer as `get`). */
  lookup(p: PPtr): ImplObject | undefined {
    const i = ObjectTable.entry(p)
    if (this.indexKeys[i] === p) return this.indexObjects[i]
    const o = super.get(p)
    if (o !== undefined) {
      this.indexKeys[i] = p
      this.indexObjects[i] = o
    }
    return o
  }

  override set(p: PPtr, o: ImplObject): this {
    const old = super.get(p)
    if (old !== undefined && old !== o) this.epoch++
    super.set(p, o)
    // The constructor of Map runs before the index exists (it adds nothing).
    if (this.indexKeys !== undefined) {
      const i = ObjectTable.entry(p)
      this.indexKeys[i] = p
      this.indexObjects[i] = o
    }
    return this
  }

  override delete(p: PPtr): boolean {
    this.epoch++
    const i = ObjectTable.entry(p)
    if (this.indexKeys[i] === p) {
      this.indexKeys[i] = noObject
      this.indexObjects[i] = undefined
    }
    return super.delete(p)
  }

  override clear(): void {
    this.epoch++
    this.indexKeys.fill(noObject)
    this.indexObjects.fill(undefined)
    super.clear()
  }
}

// ---- kernel-global state --------------------------------------------------------------------------

/** C `SchedulerAction_ResumeCurrentThread` / `SchedulerAction_ChooseNewThread`; otherwise a TCB to switch to. */
export const ResumeCurrentThread = "ResumeCurrentThread" as const
export const ChooseNewThread = "ChooseNewThread" as const
export type SchedulerAction = typeof ResumeCurrentThread | typeof ChooseNewThread | ImplTcb

/** seL4 `exception_t`. */
export const EXCEPTION_NONE = 0
export const EXCEPTION_LOOKUP_FAULT = 1
export const EXCEPTION_SYSCALL_ERROR = 2
/** A long operation stopped at a preemption point (C `EXCEPTION_PREEMPTED`). */
export const EXCEPTION_PREEMPTED = 3
export type Exception = typeof EXCEPTION_NONE | typeof EXCEPTION_LOOKUP_FAULT | typeof EXCEPTION_SYSCALL_ERROR | typeof EXCEPTION_PREEMPTED

/**
 * Report the syscall error `e`: it becomes `k.currentSyscallError` and the caller returns
 * EXCEPTION_SYSCALL_ERROR (C `current_syscall_error.type = ...; return EXCEPTION_SYSCALL_ERROR;`).
 */
export function syscallError(k: ImplState, e: SyscallError): typeof EXCEPTION_SYSCALL_ERROR {
  k.currentSyscallError = e
  return EXCEPTION_SYSCALL_ERROR
}

/** Words in one level-2 bitmap row: one bit per priority (8 for 256). C `L2_BITMAP_SIZE`. */
export const l2BitmapSize = Math.floor((numPriorities + wordBits - 1) / wordBits)
/** Priorities per domain, the model's `numPriorities`. C `CONFIG_NUM_PRIORITIES`. */
export const numPrioritiesImpl = numPriorities

/**
 * All mutable kernel state (C `model/statedata.c` globals, one instance per kernel), plus the
 * C kernel's per-entry "return registers": `current_lookup_fault`, `current_syscall_error`,
 * `current_fault`, `current_extra_caps`, and the result slots of `resolveAddressBits`.
 */
export class ImplState {
  /** Objects by base address. */
  readonly objects = new ObjectTable()
  curThread!: ImplTcb
  idleThread!: ImplTcb
  schedulerAction: SchedulerAction = ResumeCurrentThread
  /** C `ksCurDomain`. */
  curDomain = 0
  /**
   * C `ksDomSchedule`: `CONFIG_NUM_DOMAIN_SCHEDULES` entries packed as C packs `dschedule_t`, the
   * domain in the top 8 bits and the duration in the low 56 (`dscheduleMake`); 0 is an end marker.
   */
  readonly domSchedule: BigUint64Array
  /** C `ksDomScheduleIdx`: the entry now running. */
  domScheduleIdx = 0
  /** C `ksDomScheduleStart`: where the schedule starts over at an end marker. */
  domScheduleStart = 0
  /** C `ksDomainTime`: ticks left to the current domain (`ticks_t`, 64 bits). */
  domainTime = 0n
  readonly numIRQs: number
  readonly numDomains: number
  /** C `intStateIRQTable`. */
  readonly irqStates: IRQState[]
  /** The interrupt controller's mask bits. */
  readonly irqMasks: boolean[]
  /** C `intStateIRQNode`: a kernel CNode, slot i for IRQ i. */
  irqNode!: ImplCNode
  /** C `armKSASIDTable`: the ASID pool of each of the 128 high ASID values, or null. */
  readonly armKSASIDTable: (ImplASIDPool | null)[] = new Array<ImplASIDPool | null>(1 << asidHighBits).fill(null)
  /** C `armKSGlobalPD`: the kernel window every page directory copies. */
  armKSGlobalPD!: ImplPageDirectory
  /** C `armKSGlobalPT`: the page table of the kernel window's last MiB. */
  armKSGlobalPT!: ImplPageTable
  /** Ready queues, indexed `domain * numPriorities + priority` (C `ksReadyQueues`). */
  readonly readyQueueHead: (ImplTcb | null)[]
  readonly readyQueueEnd: (ImplTcb | null)[]
  /** C `ksReadyQueuesL1Bitmap[dom]`: bit i set iff L2 word (l2BitmapSize - 1 - i) is non-zero. */
  readonly readyQueuesL1Bitmap: Uint32Array
  /** C `ksReadyQueuesL2Bitmap[dom][i]`, flattened to `dom * l2BitmapSize + i` (i is the inverted L1 index). */
  readonly readyQueuesL2Bitmap: Uint32Array

  // -- per-entry globals (C `current_*`)
  currentLookupFault: LookupFailure = { tag: "InvalidRoot" }
  currentSyscallError: SyscallError = { tag: "IllegalOperation" }
  currentFault: Fault | null = null
  /** C `current_extra_caps.excaprefs`: slots of the looked-up extra caps, null-terminated. */
  readonly currentExtraCaps: (Cte | null)[] = [null, null, null]
  /**
   * The invoking thread's IPC buffer during a decode (C passes `word_t *buffer` down the decoders;
   * here `getSyscallArg` reads it from the kernel state): a 128-word view, or null.
   */
  currentIPCBuffer: Uint32Array | null = null
  /** `resolveAddressBits` / `lookupSlot` results (C return struct fields), valid after EXCEPTION_NONE. */
  lookupSlotResult: Cte | null = null
  lookupBitsRemaining = 0
  /** C `ksWorkUnitsCompleted`: preemption points passed since the kernel last looked at the interrupt controller. */
  ksWorkUnitsCompleted = 0
  /** C `CONFIG_MAX_NUM_WORK_UNITS_PER_PREEMPTION` (a boot parameter). */
  maxWorkUnitsPerPreemption = 100
  /** C `CONFIG_RESET_CHUNK_BITS` (a boot parameter). */
  resetChunkBits = 8
  /** The interrupt line the controller holds pending during this entry (what C's `isIRQPending` reads), null between entries. */
  pendingIRQ: number | null = null
  /** C `finaliseSlot_ret_t`'s fields, valid after finaliseSlot returns EXCEPTION_NONE. */
  finaliseSlotSuccess = false
  finaliseSlotCleanupInfo: Cap = NullCap
  /** Take the IPC fastpath for Call and ReplyRecv when its preconditions hold (C `CONFIG_FASTPATH`). */
  fastpathEnabled = true
  /** Kernel entries the fastpath completed (a statistic for tests and benchmarks; no semantics). */
  fastpathHits = 0

  constructor(numIRQs: number, numDomains: number, numDomainSchedules: number) {
    this.numIRQs = numIRQs
    this.numDomains = numDomains
    this.domSchedule = new BigUint64Array(numDomainSchedules)
    this.irqStates = new Array<IRQState>(numIRQs).fill("IRQInactive")
    this.irqMasks = new Array<boolean>(numIRQs).fill(true)
    const n = numDomains * numPrioritiesImpl
    this.readyQueueHead = new Array<ImplTcb | null>(n).fill(null)
    this.readyQueueEnd = new Array<ImplTcb | null>(n).fill(null)
    this.readyQueuesL1Bitmap = new Uint32Array(numDomains)
    this.readyQueuesL2Bitmap = new Uint32Array(numDomains * l2BitmapSize)
  }
}

/** Bits of a schedule entry's domain (C `DSCHED_DOMAIN_SHIFT` = 64 - `DSCHED_DOMAIN_BITS`). */
const dscheduleDomainShift = 56n
/** C `DSCHED_DURATION_MASK`: the low 56 bits. */
const dscheduleDurationMask = (1n << dscheduleDomainShift) - 1n

/** C `dschedule_make`: an entry of `ksDomSchedule`. */
export const dscheduleMake = (domain: number, duration: bigint): bigint => (BigInt(domain) << dscheduleDomainShift) | duration
/** C `dschedule_domain`. */
export const dscheduleDomain = (sched: bigint): number => Number(sched >> dscheduleDomainShift)
/** C `dschedule_duration`. */
export const dscheduleDuration = (sched: bigint): bigint => sched & dscheduleDurationMask
/** C `dschedule_is_end_marker`: is entry `index` zero (domain 0, duration 0)? */
export const dscheduleIsEndMarker = (k: ImplState, index: number): boolean => k.domSchedule[index] === 0n

/** C `ready_queues_index`, kept per-domain even with one domain (the spec keys queues the same way). */
export const readyQueuesIndex = (dom: number, prio: number): number => dom * numPrioritiesImpl + prio

/** The CTE of slot `i` of a TCB (C `TCB_PTR_CTE_PTR`). */
export const tcbSlot = (t: ImplTcb, i: number): Cte => {
  const c = t.slots[i]
  if (c === undefined) throw new KernelBug(`tcbSlot: no slot ${i}`)
  return c
}

/**
 * The object named by the cap in `slot`, whose pointer is `p`: the slot's kept pointer when it is
 * still good, else the table's answer, kept if there is an object (an absence is not kept: a later
 * retype may fill the address without a removal). The same answer as `k.objects.lookup(p)`.
 */
export const slotObject = (k: ImplState, slot: Cte, p: PPtr): ImplObject | undefined => {
  const table = k.objects
  if (slot.objCap === slot.cap && slot.objEpoch === table.epoch) return slot.obj
  const o = table.lookup(p)
  if (o === undefined) return o
  slot.obj = o
  slot.objCap = slot.cap
  slot.objEpoch = table.epoch
  return o
}

/** The object at `p`, which must be a TCB. */
export const getTcbImpl = (k: ImplState, p: PPtr): ImplTcb => {
  const o = k.objects.lookup(p)
  if (!(o instanceof ImplTcb)) throw new KernelBug(`getTcb: no TCB at 0x${p.toString(16)}`)
  return o
}
export const getEndpointImpl = (k: ImplState, p: PPtr): ImplEndpoint => {
  const o = k.objects.lookup(p)
  if (!(o instanceof ImplEndpoint)) throw new KernelBug(`getEndpoint: no endpoint at 0x${p.toString(16)}`)
  return o
}
export const getNotificationImpl = (k: ImplState, p: PPtr): ImplNotification => {
  const o = k.objects.lookup(p)
  if (!(o instanceof ImplNotification)) throw new KernelBug(`getNotification: no notification at 0x${p.toString(16)}`)
  return o
}
export const getCNodeImpl = (k: ImplState, p: PPtr): ImplCNode => {
  const o = k.objects.lookup(p)
  if (!(o instanceof ImplCNode)) throw new KernelBug(`getCNode: no CNode at 0x${p.toString(16)}`)
  return o
}

export const getPageDirectoryImpl = (k: ImplState, p: PPtr): ImplPageDirectory => {
  const o = k.objects.lookup(p)
  if (!(o instanceof ImplPageDirectory)) throw new KernelBug(`getPD: no page directory at 0x${p.toString(16)}`)
  return o
}
export const getPageTableImpl = (k: ImplState, p: PPtr): ImplPageTable => {
  const o = k.objects.lookup(p)
  if (!(o instanceof ImplPageTable)) throw new KernelBug(`getPT: no page table at 0x${p.toString(16)}`)
  return o
}
export const getASIDPoolImpl = (k: ImplState, p: PPtr): ImplASIDPool => {
  const o = k.objects.lookup(p)
  if (!(o instanceof ImplASIDPool)) throw new KernelBug(`getASIDPool: no ASID pool at 0x${p.toString(16)}`)
  return o
}

/** Extra cap `i`'s slot for this invocation, or null (C `current_extra_caps.excaprefs[i]`). */
export const extraCapSlot = (k: ImplState, i: number): Cte | null => k.currentExtraCaps[i] ?? null
