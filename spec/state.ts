/**
 * The abstract kernel state (l4v A/Structures_A `abstract_state` with the deterministic
 * extension's `cdt_list`) and its accessors. States are immutable: every update returns a new
 * state and shares what it did not change.
 * @category objects
 */
import type { Cap, EndpointState, IRQState, NotificationState, PDE, PPtr, PTE, SlotPtr, TcbFields, UserContext } from "../model/index.ts"
import { numPriorities, slotBits } from "../model/index.ts"
import { PMap, PSet } from "./persistent.ts"

/** Kernel objects in the heap (l4v `kernel_object`). Untyped memory is not an object: it exists only as caps. */
export type KObject =
  | ({ readonly tag: "TCB" } & TcbFields)
  | { readonly tag: "Endpoint"; readonly state: EndpointState }
  | { readonly tag: "Notification"; readonly state: NotificationState; readonly boundTCB: PPtr | null }
  | { readonly tag: "CNode"; readonly radix: number }
  /** A frame's memory: word index -> word, only the words that are not 0 (see machine/memory.ts). */
  | { readonly tag: "Frame"; readonly sizeBits: number; readonly isDevice: boolean; readonly words: ReadonlyMap<number, number> }
  /** 256 entries by index; an index not in the map holds InvalidPTE (l4v `PageTable`). */
  | { readonly tag: "PageTable"; readonly ptes: ReadonlyMap<number, PTE> }
  /**
   * 4096 entries (l4v `PageDirectory`), in two maps by index, an index in neither holding
   * InvalidPDE: `pdes` below the kernel window (0..0xdff), the user's; `kernelPDEs` from it up
   * (0xe00..0xfff), copied from the global page directory when the directory is made, and
   * shared with it as long as they are equal (they always are: `equal_kernel_mappings`).
   */
  | { readonly tag: "PageDirectory"; readonly pdes: ReadonlyMap<number, PDE>; readonly kernelPDEs: ReadonlyMap<number, PDE> }
  /** 1024 page directories by the low 10 bits of their ASID; absent: free (l4v `ASIDPool`). */
  | { readonly tag: "ASIDPool"; readonly pool: ReadonlyMap<number, PPtr> }
export type KObjectTag = KObject["tag"]
export type Tcb = Extract<KObject, { tag: "TCB" }>

/** seL4's scheduler action: keep the current thread, switch to a chosen one, or choose anew. */
export type SchedulerAction =
  | { readonly tag: "ResumeCurrentThread" }
  | { readonly tag: "SwitchToThread"; readonly target: PPtr }
  | { readonly tag: "ChooseNewThread" }

/**
 * One entry of the domain schedule: run `domain` for `duration` ticks (l4v `domain × domain_duration`,
 * C `dschedule_t`). `(0, 0)` is an end marker: the schedule starts over from its start index.
 */
export interface DomainScheduleItem {
  readonly domain: number
  /** Ticks, 0 to 2^56 - 1 (a 64-bit count in seL4, so a bigint here). */
  readonly duration: bigint
}

export interface KernelState {
  /** Objects by base address (l4v `kheap`). */
  readonly kheap: ReadonlyMap<PPtr, KObject>
  /** Non-null caps by slot address (l4v `caps_of_state`); a missing slot holds NullCap. */
  readonly caps: ReadonlyMap<SlotPtr, Cap>
  /** Capability derivation tree: child slot -> parent slot (l4v `cdt`). */
  readonly cdt: ReadonlyMap<SlotPtr, SlotPtr>
  /** Ordered children of each slot that has any (l4v `cdt_list`); fixes the revoke order. */
  readonly cdtList: ReadonlyMap<SlotPtr, readonly SlotPtr[]>
  /** Slots holding original caps (l4v `is_original_cap`; C `mdbRevocable`). */
  readonly isOriginal: ReadonlySet<SlotPtr>
  readonly curThread: PPtr
  readonly idleThread: PPtr
  readonly schedulerAction: SchedulerAction
  /** Ready queues keyed by `readyQueueIndex(domain, priority)`; only non-empty queues are present. */
  readonly readyQueues: ReadonlyMap<number, readonly PPtr[]>
  /** The domain whose threads run now (l4v `cur_domain`, C `ksCurDomain`). */
  readonly curDomain: number
  /**
   * The domain schedule (l4v `domain_list`, C `ksDomSchedule`): `numDomainSchedules` entries,
   * the last always an end marker.
   */
  readonly domainList: readonly DomainScheduleItem[]
  /** The schedule entry now running (l4v `domain_index`, C `ksDomScheduleIdx`). */
  readonly domainIndex: number
  /** Where the schedule starts over at an end marker (l4v `domain_start_index`, C `ksDomScheduleStart`). */
  readonly domainStartIndex: number
  /** Ticks left to the current domain (l4v `domain_time`, C `ksDomainTime`, a 64-bit count). */
  readonly domainTime: bigint
  /** What each interrupt line does (l4v `interrupt_states`), indexed by IRQ. */
  readonly irqStates: readonly IRQState[]
  /** The interrupt controller's mask bits (l4v `irq_masks`): a masked line is not delivered. */
  readonly irqMasks: readonly boolean[]
  /**
   * The IRQ node (l4v `interrupt_irq_node`): a kernel-owned CNode whose slot `irq` holds the
   * notification cap IRQ `irq` signals. No user cap ever names it.
   */
  readonly irqNode: PPtr
  /** Static boot parameters the kernel consults (number of IRQs and domains). */
  readonly numIRQs: number
  readonly numDomains: number
  /** The ASID table (l4v `arm_asid_table`, seL4 `armKSASIDTable`): ASID pool by the high 7 bits of an ASID. */
  readonly armASIDTable: ReadonlyMap<number, PPtr>
  /**
   * The kernel's global page directory (l4v `arm_global_pd`, seL4 `armKSGlobalPD`): the kernel
   * window's entries, which every page directory copies, and nothing below `kernelBase`.
   */
  readonly armGlobalPD: PPtr
  /** The kernel's page table for the last MiB of the kernel window (l4v `arm_global_pts`, seL4 `armKSGlobalPT`). */
  readonly armGlobalPT: PPtr
  /**
   * Preemption points passed since the kernel last looked at the interrupt controller (l4v
   * `work_units_completed`, C `ksWorkUnitsCompleted`).
   */
  readonly workUnitsCompleted: number
  /** How many preemption points pass between two looks (C `CONFIG_MAX_NUM_WORK_UNITS_PER_PREEMPTION`): a boot parameter. */
  readonly workUnitsLimit: number
  /** log2 of the bytes an untyped reset clears per preemption point (C `CONFIG_RESET_CHUNK_BITS`): a boot parameter. */
  readonly resetChunkBits: number
  /**
   * The interrupt line the controller holds pending during the current kernel entry (the
   * machine's, as C's `isIRQPending` and `getActiveIRQ` read it; l4v's `getActiveIRQ` oracle):
   * the entry's `pendingIRQ`, null between entries.
   */
  readonly irqPending: number | null
}

// ---- addresses ----------------------------------------------------------------------------------

/** Address of slot `index` of the cap table at `obj` (a CNode or a TCB's own slots). */
const slotSize = 2 ** slotBits
export const slotOf = (obj: PPtr, index: number): SlotPtr => obj + index * slotSize

/** Key of the ready queue for (domain, priority). */
export const readyQueueIndex = (domain: number, prio: number): number => domain * numPriorities + prio

// ---- immutable map helpers ----------------------------------------------------------------------
// The only write path for the state's maps and sets. They return persistent maps (persistent.ts)
// that share structure with their input, so an update costs O(log n), not a copy. A native Map
// or Set (a hand-built or abstracted state) is converted on its first update, keeping its order.

export const mapSet = <K extends number, V>(m: ReadonlyMap<K, V>, k: K, v: V): ReadonlyMap<K, V> => PMap.from(m).with(k, v)
export const mapDelete = <K extends number, V>(m: ReadonlyMap<K, V>, k: K): ReadonlyMap<K, V> =>
  m.has(k) ? PMap.from(m).without(k) : m
export const setAdd = <K extends number>(s: ReadonlySet<K>, k: K): ReadonlySet<K> => (s.has(k) ? s : PSet.from(s).with(k))
export const setDelete = <K extends number>(s: ReadonlySet<K>, k: K): ReadonlySet<K> => (s.has(k) ? PSet.from(s).without(k) : s)
/**
 * Rewrite every entry in its place (a renaming of keys and values); equal to rebuilding the map
 * from the rewritten entries, but shares what did not change. `f` returns the value itself when
 * it does not change it.
 */
export const mapRemap = <K extends number, V>(m: ReadonlyMap<K, V>, f: (k: K, v: V) => readonly [K, V]): ReadonlyMap<K, V> =>
  PMap.from(m).remap(f)
/** Rename every member in its place. */
export const setRemap = <K extends number>(s: ReadonlySet<K>, f: (k: K) => K): ReadonlySet<K> => PSet.from(s).remap(f)
/**
 * `ws` with `count` words of `src` written from index `at` (each through `f`, if given):
 * copy-on-write, so `ws` itself when every word already held its value. Message registers are
 * 120 words and a message usually rewrites a few with what they held.
 */
export const writeWords = (ws: readonly number[], at: number, src: readonly number[], count: number, f?: (w: number) => number): readonly number[] => {
  let out: number[] | undefined
  for (let i = 0; i < count; i++) {
    const w = f === undefined ? src[i]! : f(src[i]!)
    if (out === undefined) {
      if (ws[at + i] === w) continue
      out = ws.slice()
    }
    out[at + i] = w
  }
  return out ?? ws
}

/** Does `f` hold for some entry of `m`? Stops at the first (no iterator or tuple per entry). */
export const mapSome = <K extends number, V>(m: ReadonlyMap<K, V>, f: (v: V, k: K) => boolean): boolean => {
  if (m instanceof PMap) return m.some(f)
  for (const [k, v] of m) if (f(v, k)) return true
  return false
}

/** A persistent map of `entries` in order (for whole-map rebuilds such as a slot renaming). */
export const mapFrom = <K extends number, V>(entries: Iterable<readonly [K, V]>): ReadonlyMap<K, V> => PMap.from(entries)
/** A persistent set of `members` in order. */
export const setFrom = <K extends number>(members: Iterable<K>): ReadonlySet<K> => PSet.from(members)

// ---- objects ------------------------------------------------------------------------------------

export const getObject = (s: KernelState, p: PPtr): KObject | undefined => s.kheap.get(p)

/** The TCB at `p`. A missing TCB where one must be is a kernel bug. */
export const getTcb = (s: KernelState, p: PPtr): Tcb => {
  const o = s.kheap.get(p)
  if (o?.tag !== "TCB") throw new KernelBug(`getTcb: no TCB at 0x${p.toString(16)}`)
  return o
}
export const getEndpoint = (s: KernelState, p: PPtr): Extract<KObject, { tag: "Endpoint" }> => {
  const o = s.kheap.get(p)
  if (o?.tag !== "Endpoint") throw new KernelBug(`getEndpoint: no endpoint at 0x${p.toString(16)}`)
  return o
}
export const getNotification = (s: KernelState, p: PPtr): Extract<KObject, { tag: "Notification" }> => {
  const o = s.kheap.get(p)
  if (o?.tag !== "Notification") throw new KernelBug(`getNotification: no notification at 0x${p.toString(16)}`)
  return o
}

/**
 * `s` with the fields of `patch` replaced. Every state update goes through here (or through the
 * helpers below), which builds the state field by field rather than spreading it: all states then
 * share one V8 hidden class, and property reads stay fast (a spread site that has seen several
 * state shapes falls back to a slow generic copy, which cost several times the update itself).
 * Fields are in boot's order, so a booted state has the same shape.
 */
export const updateState = (s: KernelState, patch: Partial<KernelState>): KernelState => ({
  kheap: patch.kheap ?? s.kheap,
  caps: patch.caps ?? s.caps,
  cdt: patch.cdt ?? s.cdt,
  cdtList: patch.cdtList ?? s.cdtList,
  isOriginal: patch.isOriginal ?? s.isOriginal,
  curThread: patch.curThread ?? s.curThread,
  idleThread: patch.idleThread ?? s.idleThread,
  schedulerAction: patch.schedulerAction ?? s.schedulerAction,
  readyQueues: patch.readyQueues ?? s.readyQueues,
  curDomain: patch.curDomain ?? s.curDomain,
  domainList: patch.domainList ?? s.domainList,
  domainIndex: patch.domainIndex ?? s.domainIndex,
  domainStartIndex: patch.domainStartIndex ?? s.domainStartIndex,
  domainTime: patch.domainTime ?? s.domainTime,
  numIRQs: patch.numIRQs ?? s.numIRQs,
  numDomains: patch.numDomains ?? s.numDomains,
  irqStates: patch.irqStates ?? s.irqStates,
  irqMasks: patch.irqMasks ?? s.irqMasks,
  irqNode: patch.irqNode ?? s.irqNode,
  armASIDTable: patch.armASIDTable ?? s.armASIDTable,
  armGlobalPD: patch.armGlobalPD ?? s.armGlobalPD,
  armGlobalPT: patch.armGlobalPT ?? s.armGlobalPT,
  workUnitsCompleted: patch.workUnitsCompleted ?? s.workUnitsCompleted,
  workUnitsLimit: patch.workUnitsLimit ?? s.workUnitsLimit,
  resetChunkBits: patch.resetChunkBits ?? s.resetChunkBits,
  irqPending: patch.irqPending !== undefined ? patch.irqPending : s.irqPending,
})

/**
 * `s` with a new heap and caps map: the two commonest updates (`setObject`, `setCap`) without a
 * patch object, whose many shapes make `updateState`'s reads megamorphic.
 */
const withHeapAndCaps = (s: KernelState, kheap: KernelState["kheap"], caps: KernelState["caps"]): KernelState => ({
  kheap,
  caps,
  cdt: s.cdt,
  cdtList: s.cdtList,
  isOriginal: s.isOriginal,
  curThread: s.curThread,
  idleThread: s.idleThread,
  schedulerAction: s.schedulerAction,
  readyQueues: s.readyQueues,
  curDomain: s.curDomain,
  domainList: s.domainList,
  domainIndex: s.domainIndex,
  domainStartIndex: s.domainStartIndex,
  domainTime: s.domainTime,
  numIRQs: s.numIRQs,
  numDomains: s.numDomains,
  irqStates: s.irqStates,
  irqMasks: s.irqMasks,
  irqNode: s.irqNode,
  armASIDTable: s.armASIDTable,
  armGlobalPD: s.armGlobalPD,
  armGlobalPT: s.armGlobalPT,
  workUnitsCompleted: s.workUnitsCompleted,
  workUnitsLimit: s.workUnitsLimit,
  resetChunkBits: s.resetChunkBits,
  irqPending: s.irqPending,
})

/** The TCB `t` with the fields of `patch` replaced, built field by field (see `updateState`). */
export const tcbWith = (t: Tcb, patch: Partial<TcbFields>): Tcb => ({
  tag: "TCB",
  tcbState: patch.tcbState !== undefined ? patch.tcbState : t.tcbState,
  tcbPriority: patch.tcbPriority !== undefined ? patch.tcbPriority : t.tcbPriority,
  tcbMCP: patch.tcbMCP !== undefined ? patch.tcbMCP : t.tcbMCP,
  tcbDomain: patch.tcbDomain !== undefined ? patch.tcbDomain : t.tcbDomain,
  tcbTimeSlice: patch.tcbTimeSlice !== undefined ? patch.tcbTimeSlice : t.tcbTimeSlice,
  tcbFaultHandler: patch.tcbFaultHandler !== undefined ? patch.tcbFaultHandler : t.tcbFaultHandler,
  tcbIPCBuffer: patch.tcbIPCBuffer !== undefined ? patch.tcbIPCBuffer : t.tcbIPCBuffer,
  tcbBoundNotification: patch.tcbBoundNotification !== undefined ? patch.tcbBoundNotification : t.tcbBoundNotification,
  tcbFault: patch.tcbFault !== undefined ? patch.tcbFault : t.tcbFault,
  tcbContext: patch.tcbContext !== undefined ? patch.tcbContext : t.tcbContext,
})

/** The registers `c` with the fields of `patch` replaced, built field by field (see `updateState`). */
export const contextWith = (c: UserContext, patch: Partial<UserContext>): UserContext => ({
  msgInfo: patch.msgInfo !== undefined ? patch.msgInfo : c.msgInfo,
  badge: patch.badge !== undefined ? patch.badge : c.badge,
  mrs: patch.mrs !== undefined ? patch.mrs : c.mrs,
  regs: patch.regs !== undefined ? patch.regs : c.regs,
})

export const setObject = (s: KernelState, p: PPtr, o: KObject): KernelState => withHeapAndCaps(s, mapSet(s.kheap, p, o), s.caps)

/** Update the TCB at `p` with `f`. */
export const updateTcb = (s: KernelState, p: PPtr, f: (t: Tcb) => Tcb): KernelState => setObject(s, p, f(getTcb(s, p)))

// ---- caps ---------------------------------------------------------------------------------------

const nullCap: Cap = { tag: "NullCap" }

/** The cap in a slot (NullCap when empty). */
export const getCap = (s: KernelState, slot: SlotPtr): Cap => s.caps.get(slot) ?? nullCap

/** Write a cap into a slot; writing NullCap empties it. Touches neither the CDT nor originality. */
export const setCap = (s: KernelState, slot: SlotPtr, c: Cap): KernelState =>
  withHeapAndCaps(s, s.kheap, c.tag === "NullCap" ? mapDelete(s.caps, slot) : mapSet(s.caps, slot, c))

/**
 * An impossible state: the kernel's own invariants are broken. Thrown, never returned; the
 * message text is shared with the impl's matching check so the two can be found together.
 */
export class KernelBug extends Error {
  override readonly name = "KernelBug"
}
