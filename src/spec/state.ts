/**
 * The abstract kernel state (l4v A/Structures_A `abstract_state` with the deterministic
 * extension's `cdt_list`) and its accessors. States are immutable: every update returns a new
 * state and shares what it did not change.
 * @category objects
 */
import type { Cap, EndpointState, IRQState, NotificationState, PPtr, SlotPtr, TcbFields } from "../model/index.ts"
import { slotBits } from "../model/index.ts"

/** Kernel objects in the heap (l4v `kernel_object`). Untyped memory is not an object: it exists only as caps. */
export type KObject =
  | ({ readonly tag: "TCB" } & TcbFields)
  | { readonly tag: "Endpoint"; readonly state: EndpointState }
  | { readonly tag: "Notification"; readonly state: NotificationState; readonly boundTCB: PPtr | null }
  | { readonly tag: "CNode"; readonly radix: number }
  | { readonly tag: "Frame"; readonly sizeBits: number; readonly isDevice: boolean }
  | { readonly tag: "PageTable" }
  | { readonly tag: "PageDirectory" }
export type KObjectTag = KObject["tag"]
export type Tcb = Extract<KObject, { tag: "TCB" }>

/** seL4's scheduler action: keep the current thread, switch to a chosen one, or choose anew. */
export type SchedulerAction =
  | { readonly tag: "ResumeCurrentThread" }
  | { readonly tag: "SwitchToThread"; readonly target: PPtr }
  | { readonly tag: "ChooseNewThread" }

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
  readonly curDomain: number
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
}

// ---- addresses ----------------------------------------------------------------------------------

/** Address of slot `index` of the cap table at `obj` (a CNode or a TCB's own slots). */
export const slotOf = (obj: PPtr, index: number): SlotPtr => obj + index * 2 ** slotBits

/** Key of the ready queue for (domain, priority). */
export const readyQueueIndex = (domain: number, prio: number): number => domain * 256 + prio

// ---- immutable map helpers ----------------------------------------------------------------------

export const mapSet = <K, V>(m: ReadonlyMap<K, V>, k: K, v: V): ReadonlyMap<K, V> => new Map(m).set(k, v)
export const mapDelete = <K, V>(m: ReadonlyMap<K, V>, k: K): ReadonlyMap<K, V> => {
  if (!m.has(k)) return m
  const n = new Map(m)
  n.delete(k)
  return n
}
export const setAdd = <K>(s: ReadonlySet<K>, k: K): ReadonlySet<K> => (s.has(k) ? s : new Set(s).add(k))
export const setDelete = <K>(s: ReadonlySet<K>, k: K): ReadonlySet<K> => {
  if (!s.has(k)) return s
  const n = new Set(s)
  n.delete(k)
  return n
}

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

export const setObject = (s: KernelState, p: PPtr, o: KObject): KernelState => ({ ...s, kheap: mapSet(s.kheap, p, o) })

/** Update the TCB at `p` with `f`. */
export const updateTcb = (s: KernelState, p: PPtr, f: (t: Tcb) => Tcb): KernelState => setObject(s, p, f(getTcb(s, p)))

// ---- caps ---------------------------------------------------------------------------------------

const nullCap: Cap = { tag: "NullCap" }

/** The cap in a slot (NullCap when empty). */
export const getCap = (s: KernelState, slot: SlotPtr): Cap => s.caps.get(slot) ?? nullCap

/** Write a cap into a slot; writing NullCap empties it. Touches neither the CDT nor originality. */
export const setCap = (s: KernelState, slot: SlotPtr, c: Cap): KernelState =>
  ({ ...s, caps: c.tag === "NullCap" ? mapDelete(s.caps, slot) : mapSet(s.caps, slot, c) })

/**
 * An impossible state: the kernel's own invariants are broken. Thrown, never returned; the
 * message text is shared with the impl's matching check so the two can be found together.
 */
export class KernelBug extends Error {
  override readonly name = "KernelBug"
}
