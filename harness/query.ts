/**
 * Reading an abstract kernel state: one getter per object kind, the ready queues, the
 * capability derivation tree, the current thread, a thread's view of its CSpace and of its
 * memory (`userWord`, through its VSpace). Every
 * getter is total: it answers `undefined` (or an empty list) where the state holds nothing of
 * the kind asked for, so a property can ask before it asserts. The impl's state is read through
 * its abstraction (`Lockstep.abs()`, `absState`): these getters serve both layers.
 * @category library
 */
import type { Cap, IRQState, PPtr, SlotPtr, ThreadState } from "../model/index.ts"
import { wordBits } from "../model/index.ts"
import type { KObject, KernelState, Tcb } from "../spec/index.ts"
import { readyQueueIndex } from "../spec/index.ts"
import { resolveAddressBits, threadRoot } from "../spec/kernel/cspace.ts"
import { translate, userVSpaceRoot } from "../spec/machine/mmu.ts"

type Obj<T extends KObject["tag"]> = Extract<KObject, { tag: T }>

const objectOf = <T extends KObject["tag"]>(tag: T) => (s: KernelState, p: PPtr): Obj<T> | undefined => {
  const o = s.kheap.get(p)
  return o?.tag === tag ? (o as Obj<T>) : undefined
}

/** The object at `p`, of any kind. */
export const objectAt = (s: KernelState, p: PPtr): KObject | undefined => s.kheap.get(p)
/** The TCB at `p`. */
export const tcbAt: (s: KernelState, p: PPtr) => Tcb | undefined = objectOf("TCB")
/** The endpoint at `p` (its state: IdleEP, SendEP or RecvEP with the queue). */
export const endpointAt: (s: KernelState, p: PPtr) => Obj<"Endpoint"> | undefined = objectOf("Endpoint")
/** The notification at `p` (its state and bound TCB). */
export const notificationAt: (s: KernelState, p: PPtr) => Obj<"Notification"> | undefined = objectOf("Notification")
/** The CNode at `p`. */
export const cnodeAt: (s: KernelState, p: PPtr) => Obj<"CNode"> | undefined = objectOf("CNode")
/** The frame at `p`. */
export const frameAt: (s: KernelState, p: PPtr) => Obj<"Frame"> | undefined = objectOf("Frame")
/** The page table at `p`. */
export const pageTableAt: (s: KernelState, p: PPtr) => Obj<"PageTable"> | undefined = objectOf("PageTable")
/** The page directory at `p`. */
export const pageDirectoryAt: (s: KernelState, p: PPtr) => Obj<"PageDirectory"> | undefined = objectOf("PageDirectory")

/** Every object of one kind, with its address, in address order. */
export const objectsOf = <T extends KObject["tag"]>(s: KernelState, tag: T): readonly { readonly ptr: PPtr; readonly obj: Obj<T> }[] =>
  [...s.kheap].filter(([, o]) => o.tag === tag).sort((a, b) => a[0] - b[0]).map(([ptr, o]) => ({ ptr, obj: o as Obj<T> }))

/** The thread running now (the idle thread when nothing else can). */
export const currentThread = (s: KernelState): PPtr => s.curThread
/** Is the idle thread running? */
export const isIdle = (s: KernelState): boolean => s.curThread === s.idleThread
/** A thread's state (Running, BlockedOnReceive, ...). */
export const threadState = (s: KernelState, t: PPtr): ThreadState | undefined => tcbAt(s, t)?.tcbState

/** The threads queued to run at (domain, priority), head first. The current thread is not queued. */
export const readyQueue = (s: KernelState, domain: number, priority: number): readonly PPtr[] =>
  s.readyQueues.get(readyQueueIndex(domain, priority)) ?? []
/** The threads blocked on an endpoint, head first, and whether they send or receive. */
export const endpointQueue = (s: KernelState, ep: PPtr): { readonly kind: "send" | "receive" | "idle"; readonly queue: readonly PPtr[] } | undefined => {
  const e = endpointAt(s, ep)
  if (e === undefined) return undefined
  switch (e.state.tag) {
    case "IdleEP": return { kind: "idle", queue: [] }
    case "SendEP": return { kind: "send", queue: e.state.queue }
    case "RecvEP": return { kind: "receive", queue: e.state.queue }
  }
}

/** The cap in a slot (undefined when empty). */
export const capIn = (s: KernelState, slot: SlotPtr): Cap | undefined => s.caps.get(slot)
/** The slot a cap in `slot` was derived from (its CDT parent). */
export const cdtParent = (s: KernelState, slot: SlotPtr): SlotPtr | undefined => s.cdt.get(slot)
/** The slots derived directly from `slot`, in revoke order. */
export const cdtChildren = (s: KernelState, slot: SlotPtr): readonly SlotPtr[] => s.cdtList.get(slot) ?? []
/** Every slot derived from `slot`, transitively, depth first in revoke order: what revoking it deletes. */
export const cdtDescendants = (s: KernelState, slot: SlotPtr): readonly SlotPtr[] => {
  const out: SlotPtr[] = []
  const walk = (p: SlotPtr) => { for (const c of cdtChildren(s, p)) { out.push(c); walk(c) } }
  walk(slot)
  return out
}
/** Does the slot hold an original cap (one not derived from another: seL4's revocable bit)? */
export const isOriginalCap = (s: KernelState, slot: SlotPtr): boolean => s.isOriginal.has(slot)

/**
 * The slot a thread names with a full 32-bit cap pointer, resolved in its own CSpace as seL4's
 * `lookupSlot` does (undefined when the lookup fails).
 */
export const slotAt = (s: KernelState, thread: PPtr, cptr: number): SlotPtr | undefined => {
  if (tcbAt(s, thread) === undefined) return undefined
  const r = resolveAddressBits(s, threadRoot(s, thread), cptr, wordBits)
  return r.ok ? r.value.slot : undefined
}
/** The cap a thread names with `cptr` (undefined when the lookup fails or the slot is empty). */
export const capAt = (s: KernelState, thread: PPtr, cptr: number): Cap | undefined => {
  const slot = slotAt(s, thread, cptr)
  return slot === undefined ? undefined : s.caps.get(slot)
}
/** The object a thread's cap at `cptr` points to (for caps that name one object). */
export const objectNamedBy = (s: KernelState, thread: PPtr, cptr: number): PPtr | undefined => {
  const c = capAt(s, thread, cptr)
  if (c === undefined) return undefined
  switch (c.tag) {
    case "EndpointCap": case "NotificationCap": case "CNodeCap": case "ThreadCap": case "FrameCap": case "PageTableCap": case "PageDirectoryCap":
    case "UntypedCap":
      return c.ptr
    case "ReplyCap": return c.tcb
    case "NullCap": case "DomainCap": case "IRQControlCap": case "IRQHandlerCap": return undefined
  }
}

/** What interrupt line `irq` does now, and whether it is masked. */
export const irqLine = (s: KernelState, irq: number): { readonly state: IRQState; readonly masked: boolean } | undefined => {
  const state = s.irqStates[irq]
  return state === undefined ? undefined : { state, masked: s.irqMasks[irq] ?? true }
}

/**
 * The word thread `thread` would load at `vaddr` (rounded down to a word) through its VSpace, or
 * undefined when that read would fault (no mapping, or a kernel-only one).
 */
export const userWord = (s: KernelState, thread: PPtr, vaddr: number): number | undefined => {
  if (tcbAt(s, thread) === undefined) return undefined
  const tr = translate(s, userVSpaceRoot(s, thread), vaddr >>> 0, "Read")
  return tr.ok ? frameAt(s, tr.frame)?.words.get(tr.word) ?? 0 : undefined
}
