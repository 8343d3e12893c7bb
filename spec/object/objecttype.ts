/**
 * Generic operations on capabilities: regions, identity, rights masking, cap data updates,
 * derivation and revocability, finalisation (`finaliseCap`), object creation (`createObject`) and
 * the dispatch of an invocation to its object's decoder (`decodeInvocation`, seL4
 * `decodeInvocation`) (seL4 src/object/objecttype.c, A/CSpace_A, A/Retype_A, A/Decode_A; ARM arch
 * parts from src/arch/arm/32/object/objecttype.c).
 * @category objects
 */
import { match } from "ts-pattern"
import type { Cap, ObjectType, PPtr, Rights, SlotPtr } from "../../model/index.ts"
import {
  NullCap, ObjectType as OT, RightG, RightGR, RightR, RightW, asidPoolBits, badgeFromWord, bit, endpointBits, getObjectSize, hasRight,
  newTcbFields, notificationBits, pageDirBits, pageTableBits, slotBits, tcbBits, tcbCNodeEntries, tcbCTable, wordBits, zombieTypeTCB,
} from "../../model/index.ts"
import type { SyscallError } from "../../model/index.ts"
import type { Result } from "../result.ts"
import { err, ok } from "../result.ts"
import type { KObject, KernelState } from "../state.ts"
import { mapFrom, slotOf } from "../state.ts"
import type { Preemptible } from "../model/preemption.ts"
import { setThreadState, suspend } from "../kernel/thread.ts"
import {
  copyGlobalMappings, decodeARMMMUInvocation, deleteASID, deleteASIDPool, maskVMRights, performARMMMUInvocation, unmapPage,
  unmapPageTable,
} from "../kernel/vspace.ts"
import { doReplyTransfer } from "../kernel/ipcTransfer.ts"
import type { InvocationArgs } from "./cnode.ts"
import { decodeCNodeInvocation, invokeCNode } from "./cnode.ts"
import { decodeDomainInvocation, invokeDomain } from "./domain.ts"
import { cancelAllIPC, sendIPC } from "./endpoint.ts"
import { decodeIRQControlInvocation, decodeIRQHandlerInvocation, deletedIRQHandler, deletingIRQHandler, invokeIRQ } from "./interrupt.ts"
import { cancelAllSignals, sendSignal, unbindMaybeNotification, unbindNotification } from "./notification.ts"
import { decodeTCBInvocation, invokeTCB } from "./tcb.ts"
import { decodeUntypedInvocation, invokeUntypedRetype } from "./untyped.ts"

/**
 * The physical region a cap names, for caps that name memory (seL4 `cap_get_capIsPhysical`,
 * `cap_get_capPtr`, `cap_get_capSizeBits`); `null` for caps that do not (reply, domain, IRQ).
 */
export const capRegion = (c: Cap): { readonly base: PPtr; readonly sizeBits: number } | null => {
  // A plain switch, not ts-pattern: this runs for every cap on each isFinalCapability scan.
  switch (c.tag) {
    // An untyped covers its whole block.
    case "UntypedCap": return { base: c.ptr, sizeBits: c.sizeBits }
    // Kernel objects cover their own size.
    case "EndpointCap": return { base: c.ptr, sizeBits: endpointBits }
    case "NotificationCap": return { base: c.ptr, sizeBits: notificationBits }
    case "CNodeCap": return { base: c.ptr, sizeBits: c.radix + slotBits }
    case "ThreadCap": return { base: c.ptr, sizeBits: tcbBits }
    case "FrameCap": return { base: c.ptr, sizeBits: c.sizeBits }
    case "PageTableCap": return { base: c.ptr, sizeBits: pageTableBits }
    case "PageDirectoryCap": return { base: c.ptr, sizeBits: pageDirBits }
    case "ASIDPoolCap": return { base: c.ptr, sizeBits: asidPoolBits }
    // A Zombie covers the table it is emptying: a TCB, or a CNode.
    case "ZombieCap": return { base: c.ptr, sizeBits: c.zombieType === zombieTypeTCB ? tcbBits : c.zombieType + slotBits }
    // Caps that name no memory.
    case "NullCap": case "ReplyCap": case "DomainCap": case "IRQControlCap": case "IRQHandlerCap": case "ASIDControlCap": return null
  }
}

/**
 * Does `b` name the same region as `a`, or a part of it? Decides CDT parenthood together with
 * originality. An untyped covers every physical cap inside it; IRQ control covers IRQ handlers.
 * Mirrors seL4 `sameRegionAs` / `Arch_sameRegionAs`.
 */
export const sameRegionAs = (a: Cap, b: Cap): boolean => {
  switch (a.tag) {
    // An untyped covers every region inside its block.
    case "UntypedCap": {
      const r = capRegion(b)
      if (r === null) return false
      const aTop = a.ptr + bit(a.sizeBits) - 1
      const bTop = r.base + bit(r.sizeBits) - 1
      return a.ptr <= r.base && bTop <= aTop
    }
    // Object caps: the same kind of cap to the same object.
    case "EndpointCap": return b.tag === "EndpointCap" && b.ptr === a.ptr
    case "NotificationCap": return b.tag === "NotificationCap" && b.ptr === a.ptr
    case "CNodeCap": return b.tag === "CNodeCap" && b.ptr === a.ptr && b.radix === a.radix
    case "ThreadCap": return b.tag === "ThreadCap" && b.ptr === a.ptr
    // Reply caps: to the same thread.
    case "ReplyCap": return b.tag === "ReplyCap" && b.tcb === a.tcb
    case "DomainCap": return b.tag === "DomainCap"
    // IRQ control covers every IRQ handler.
    case "IRQControlCap": return b.tag === "IRQControlCap" || b.tag === "IRQHandlerCap"
    case "IRQHandlerCap": return b.tag === "IRQHandlerCap" && b.irq === a.irq
    // A frame covers frames inside it.
    case "FrameCap": {
      if (b.tag !== "FrameCap") return false
      const aTop = a.ptr + bit(a.sizeBits) - 1
      const bTop = b.ptr + bit(b.sizeBits) - 1
      return a.ptr <= b.ptr && aTop >= bTop
    }
    case "PageTableCap": return b.tag === "PageTableCap" && b.ptr === a.ptr
    case "PageDirectoryCap": return b.tag === "PageDirectoryCap" && b.ptr === a.ptr
    // ASID control covers only itself; an ASID pool cap, caps to the same pool.
    case "ASIDControlCap": return b.tag === "ASIDControlCap"
    case "ASIDPoolCap": return b.tag === "ASIDPoolCap" && b.ptr === a.ptr
    // NullCap names nothing; a Zombie is no cap to derive from.
    case "NullCap": case "ZombieCap": return false
  }
}

/**
 * Do `a` and `b` name the same object (so that deleting one of them is not the last reference)?
 * Untyped and IRQ control caps never do. Mirrors seL4 `sameObjectAs` / `Arch_sameObjectAs`.
 */
export const sameObjectAs = (a: Cap, b: Cap): boolean => {
  if (a.tag === "UntypedCap" || a.tag === "IRQControlCap") return false
  if (a.tag === "FrameCap") {
    return b.tag === "FrameCap" && a.ptr === b.ptr && a.sizeBits === b.sizeBits && a.isDevice === b.isDevice
  }
  return sameRegionAs(a, b)
}

/**
 * Intersect a cap's rights with `r`; caps without rights are unchanged. Asking for more rights
 * than the cap has silently gives fewer. Mirrors seL4 `maskCapRights`.
 */
export const maskCapRights = (r: Rights, c: Cap): Cap =>
  match(c)
    .with({ tag: "EndpointCap" }, (e) => ({ ...e, rights: e.rights & r }))
    .with({ tag: "NotificationCap" }, (n) => ({ ...n, rights: n.rights & r & (RightR | RightW) }))
    .with({ tag: "ReplyCap" }, (rc) => ({ ...rc, canGrant: rc.canGrant && (r & 4) !== 0 }))
    .with({ tag: "FrameCap" }, (f) => ({ ...f, vmRights: maskVMRights(f.vmRights, r) }))
    .otherwise((x) => x)

/**
 * Apply user cap data: set the badge of an unbadged endpoint/notification cap (Mint only, not
 * when `preserve`), or set a CNode cap's guard. Anything not allowed yields NullCap, which the
 * caller turns into IllegalOperation. Mirrors seL4 `updateCapData` (32-bit seL4_CNode_CapData:
 * guardSize at bits 3..7, guard at bits 8..25).
 */
export const updateCapData = (preserve: boolean, data: number, c: Cap): Cap =>
  match(c)
    .with({ tag: "EndpointCap" }, (e) => (!preserve && e.badge === 0 ? { ...e, badge: badgeFromWord(data) } : NullCap))
    .with({ tag: "NotificationCap" }, (n) => (!preserve && n.badge === 0 ? { ...n, badge: badgeFromWord(data) } : NullCap))
    .with({ tag: "CNodeCap" }, (n) => {
      const guardSize = (data >>> 3) & 0x1f
      if (guardSize + n.radix > wordBits) return NullCap
      const guard = ((data >>> 8) & 0x3ffff) % 2 ** guardSize
      return { ...n, guard, guardSize }
    })
    .otherwise((x) => x)

/**
 * The cap a copy of `c` would hold, or why there can be none: an untyped with children must be
 * revoked first; reply and IRQ control caps cannot be copied (NullCap); frame copies are
 * unmapped; page tables that are not mapped and page directories without an ASID cannot be copied
 * (IllegalOperation). Mirrors seL4 `deriveCap` / `Arch_deriveCap`.
 */
export const deriveCap = (hasChildren: boolean, c: Cap): Result<Cap, SyscallError> =>
  match(c)
    .with({ tag: "UntypedCap" }, (u) => (hasChildren ? err({ tag: "RevokeFirst" as const }) : ok<Cap>(u)))
    .with({ tag: "ReplyCap" }, { tag: "IRQControlCap" }, { tag: "ZombieCap" }, () => ok(NullCap))
    .with({ tag: "FrameCap" }, (f) => ok<Cap>({ ...f, mapped: null }))
    .with({ tag: "PageTableCap" }, (p) => (p.mapped !== null ? ok<Cap>(p) : err({ tag: "IllegalOperation" as const })))
    .with({ tag: "PageDirectoryCap" }, (p) => (p.asid !== null ? ok<Cap>(p) : err({ tag: "IllegalOperation" as const })))
    .otherwise((x) => ok(x))

/**
 * Is a new cap `n` derived from `src` an original (revocable) cap? Newly badged endpoint and
 * notification caps, IRQ handlers made from IRQ control, and untyped caps are.
 * Mirrors seL4 `isCapRevocable`.
 */
export const isCapRevocable = (n: Cap, src: Cap): boolean => {
  switch (n.tag) {
    // A newly badged endpoint or notification cap.
    case "EndpointCap": return src.tag === "EndpointCap" && n.badge !== src.badge
    case "NotificationCap": return src.tag === "NotificationCap" && n.badge !== src.badge
    // An IRQ handler issued from IRQ control.
    case "IRQHandlerCap": return src.tag === "IRQControlCap"
    // Untyped caps always.
    case "UntypedCap": return true
    default: return false
  }
}

/**
 * Should the slot holding `src` (original or not) become the CDT parent of a new cap `n`?
 * Only an original cap parents, only caps to its own region, and a badged endpoint or
 * notification cap only parents unoriginal copies with its badge. Mirrors l4v `should_be_parent_of`.
 */
export const shouldBeParentOf = (src: Cap, srcOriginal: boolean, n: Cap, nOriginal: boolean): boolean => {
  if (!srcOriginal || !sameRegionAs(src, n)) return false
  if ((src.tag === "EndpointCap" || src.tag === "NotificationCap") && src.badge !== 0) {
    return (n.tag === "EndpointCap" || n.tag === "NotificationCap") && n.badge === src.badge && !nOriginal
  }
  return true
}

// ---- finalisation ------------------------------------------------------------------------------

/**
 * What deleting a virtual-memory cap undoes: the last cap to an ASID pool takes the pool out of
 * the ASID table, the last cap to a page directory with an ASID frees the ASID, the last cap to a
 * mapped page table unmaps it, and any cap to a mapped frame (final or not: copies are never
 * mapped) unmaps it. Mirrors seL4 `Arch_finaliseCap` / l4v `arch_finalise_cap`.
 */
export const archFinaliseCap = (s: KernelState, cap: Cap, final: boolean): KernelState => {
  switch (cap.tag) {
    case "ASIDPoolCap": return final ? deleteASIDPool(s, cap.asidBase, cap.ptr) : s
    case "PageDirectoryCap": return final && cap.asid !== null ? deleteASID(s, cap.asid, cap.ptr) : s
    case "PageTableCap": return final && cap.mapped !== null ? unmapPageTable(s, cap.mapped.asid, cap.mapped.vaddr, cap.ptr) : s
    case "FrameCap": return cap.mapped !== null ? unmapPage(s, cap.sizeBits, cap.mapped.asid, cap.mapped.vaddr, cap.ptr) : s
    default: return s
  }
}

/** What `finaliseCap` leaves: the state, the cap to put back in the slot (NullCap, or a Zombie), and what to do once the slot is empty. */
export interface FinaliseCapRet {
  readonly state: KernelState
  /** NullCap, or the Zombie of a CNode or TCB whose slots are still to be deleted. */
  readonly remainder: Cap
  /** An IRQ handler cap whose line goes inactive once the slot is empty (C `cleanupInfo`), else NullCap. */
  readonly cleanupInfo: Cap
}

const finalised = (state: KernelState, remainder: Cap = NullCap, cleanupInfo: Cap = NullCap): FinaliseCapRet => ({ state, remainder, cleanupInfo })

/**
 * Release what the last cap to an object held (`final`): endpoints and notifications restart
 * their waiters (and notifications unbind); the last cap to a CNode becomes a Zombie of all its
 * slots, and to a TCB one of its five slots once the thread is unbound and suspended (the slots
 * are then deleted one by one, preemptibly, by `finaliseSlot`); a Zombie stays itself; an IRQ
 * line loses its handler; virtual-memory caps as `archFinaliseCap` says (a mapped frame is
 * unmapped even when other caps to it remain). Other objects need nothing.
 * Mirrors seL4 `finaliseCap` / l4v `finalise_cap`.
 */
export const finaliseCap = (s: KernelState, cap: Cap, final: boolean): FinaliseCapRet => {
  switch (cap.tag) {
    // Virtual memory.
    case "FrameCap": case "PageTableCap": case "PageDirectoryCap": case "ASIDControlCap": case "ASIDPoolCap":
      return finalised(archFinaliseCap(s, cap, final))
    // Endpoint: every queued thread restarts.
    case "EndpointCap": return finalised(final ? cancelAllIPC(s, cap.ptr) : s)
    // Notification: unbind its TCB, restart its waiters.
    case "NotificationCap": return finalised(final ? cancelAllSignals(unbindMaybeNotification(s, cap.ptr), cap.ptr) : s)
    // Nothing to release.
    case "NullCap": case "UntypedCap": case "ReplyCap": case "DomainCap": case "IRQControlCap": return finalised(s)
    // CNode: a Zombie of all its slots.
    case "CNodeCap":
      return finalised(s, final ? { tag: "ZombieCap", ptr: cap.ptr, zombieType: cap.radix, number: 2 ** cap.radix } : NullCap)
    // Thread: unbind and suspend it, then a Zombie of its own slots.
    case "ThreadCap":
      return final
        ? finalised(suspend(unbindNotification(s, cap.ptr), cap.ptr), { tag: "ZombieCap", ptr: slotOf(cap.ptr, tcbCTable), zombieType: zombieTypeTCB, number: tcbCNodeEntries })
        : finalised(s)
    // A Zombie is always final, and stays what it is.
    case "ZombieCap": return finalised(s, cap)
    // IRQ handler: empty the line's node slot; the line goes inactive once this slot is empty.
    case "IRQHandlerCap": return final ? finalised(deletingIRQHandler(s, cap.irq), NullCap, cap) : finalised(s)
  }
}

/**
 * What to do once a slot is empty: the last IRQ handler cap's line goes inactive. Mirrors seL4
 * `postCapDeletion` (ARM's `Arch_postCapDeletion` does nothing kspec models).
 */
export const postCapDeletion = (s: KernelState, cleanupInfo: Cap): KernelState =>
  cleanupInfo.tag === "IRQHandlerCap" ? deletedIRQHandler(s, cleanupInfo.irq) : s

// ---- object creation ---------------------------------------------------------------------------

/** A fresh object of type `t` and the cap that names it. Mirrors seL4 `createObject`. */
export const createObject = (s: KernelState, t: ObjectType, p: PPtr, userSize: number, isDevice: boolean): { obj: KObject | null; cap: Cap } =>
  match(t)
    .with(OT.Untyped, () => ({ obj: null, cap: { tag: "UntypedCap", isDevice, ptr: p, sizeBits: userSize, freeIndex: 0 } as Cap }))
    .with(OT.TCB, () => ({ obj: { tag: "TCB", ...newTcbFields(s.curDomain) } as KObject, cap: { tag: "ThreadCap", ptr: p } as Cap }))
    .with(OT.Endpoint, () => ({ obj: { tag: "Endpoint", state: { tag: "IdleEP" } } as KObject, cap: { tag: "EndpointCap", ptr: p, badge: 0, rights: 15 } as Cap }))
    .with(OT.Notification, () => ({
      obj: { tag: "Notification", state: { tag: "IdleNtfn" }, boundTCB: null } as KObject,
      cap: { tag: "NotificationCap", ptr: p, badge: 0, rights: 3 } as Cap,
    }))
    .with(OT.CNode, () => ({ obj: { tag: "CNode", radix: userSize } as KObject, cap: { tag: "CNodeCap", ptr: p, radix: userSize, guardSize: 0, guard: 0 } as Cap }))
    .with(OT.SmallPage, OT.LargePage, OT.Section, OT.SuperSection, (ft) => {
      const sizeBits = getObjectSize(ft, 0)
      return { obj: { tag: "Frame", sizeBits, isDevice, words: mapFrom([]) } as KObject, cap: { tag: "FrameCap", ptr: p, sizeBits, vmRights: "ReadWrite", isDevice, mapped: null } as Cap }
    })
    .with(OT.PageTable, () => ({ obj: { tag: "PageTable", ptes: mapFrom([]) } as KObject, cap: { tag: "PageTableCap", ptr: p, mapped: null } as Cap }))
    // A new page directory holds the kernel window, copied from the global page directory.
    .with(OT.PageDirectory, () => ({
      obj: { tag: "PageDirectory", pdes: mapFrom([]), kernelPDEs: copyGlobalMappings(s) } as KObject, cap: { tag: "PageDirectoryCap", ptr: p, asid: null } as Cap,
    }))
    .exhaustive()

// ---- dispatch ----------------------------------------------------------------------------------

/**
 * Why an invocation did not finish: a syscall error, or a preemption point that stopped it (seL4
 * `EXCEPTION_PREEMPTED`) in the state it left, the caller still `Restart`.
 */
export type InvocationStop = SyscallError | { readonly tag: "Preempted"; readonly state: KernelState }

/** Restart the caller, then perform what was decoded. The caller's state after it tells the entry what to reply. */
const perform = <I>(s: KernelState, t: PPtr, d: Result<I, SyscallError>, invoke: (s: KernelState, inv: I) => KernelState): Result<KernelState, InvocationStop> =>
  d.ok ? ok(invoke(setThreadState(s, t, { tag: "Restart" }), d.value)) : d

/** `perform` for a preemptible operation: a preemption stops the invocation with the state it left. */
const performPreemptible = <I>(s: KernelState, t: PPtr, d: Result<I, SyscallError>, invoke: (s: KernelState, inv: I) => Preemptible): Result<KernelState, InvocationStop> => {
  if (!d.ok) return d
  const r = invoke(setThreadState(s, t, { tag: "Restart" }), d.value)
  return r.preempted ? err({ tag: "Preempted", state: r.state }) : ok(r.state)
}

const invalidCap0: Result<never, InvocationStop> = err({ tag: "InvalidCapability", capability: 0 })

/**
 * Decode and perform an invocation of `cap` by thread `t`. Endpoint caps need Write and send a
 * message (blocking for Send and Call); notification caps need Write and signal; a non-master
 * reply cap replies. Null caps, endpoint or notification caps without Write and master reply
 * caps and Zombies are InvalidCapability(0). Virtual-memory caps go to `decodeARMMMUInvocation`.
 * CNode_Revoke, CNode_Delete and Untyped_Retype may be preempted.
 * Mirrors seL4 `decodeInvocation`.
 */
export const decodeInvocation = (
  s: KernelState, t: PPtr, cap: Cap, slot: SlotPtr, a: InvocationArgs, isCall: boolean, isBlocking: boolean,
): Result<KernelState, InvocationStop> => {
  const c = cap
  switch (c.tag) {
    // No cap, or a Zombie: nothing to invoke.
    case "NullCap": case "ZombieCap": return invalidCap0
    // An endpoint with Write sends a message.
    case "EndpointCap": return !hasRight(c.rights, RightW) ? invalidCap0 : ok(sendIPC(
      setThreadState(s, t, { tag: "Restart" }), isBlocking, isCall, c.badge, hasRight(c.rights, RightG), hasRight(c.rights, RightGR), t, c.ptr,
    ))
    // A notification with Write signals.
    case "NotificationCap":
      return !hasRight(c.rights, RightW) ? invalidCap0 : ok(sendSignal(setThreadState(s, t, { tag: "Restart" }), c.ptr, c.badge))
    // A non-master reply cap replies.
    case "ReplyCap":
      return c.isMaster ? invalidCap0 : ok(doReplyTransfer(setThreadState(s, t, { tag: "Restart" }), t, c.tcb, slot, c.canGrant))
    // Object invocations: decode, then perform.
    case "CNodeCap": return performPreemptible(s, t, decodeCNodeInvocation(s, c, a), (s1, inv) => invokeCNode(s1, inv, t))
    case "UntypedCap": return performPreemptible(s, t, decodeUntypedInvocation(s, slot, c, a), invokeUntypedRetype)
    case "IRQControlCap": return perform(s, t, decodeIRQControlInvocation(s, slot, a), invokeIRQ)
    case "IRQHandlerCap": return perform(s, t, decodeIRQHandlerInvocation(c.irq, a), invokeIRQ)
    case "ThreadCap": return perform(s, t, decodeTCBInvocation(s, t, c, slot, a), (s1, inv) => invokeTCB(s1, inv, t, isCall))
    case "DomainCap": return perform(s, t, decodeDomainInvocation(s, a), invokeDomain)
    // Virtual-memory caps (seL4 Arch_decodeInvocation).
    case "FrameCap": case "PageTableCap": case "PageDirectoryCap": case "ASIDControlCap": case "ASIDPoolCap":
      return perform(s, t, decodeARMMMUInvocation(s, c, slot, a), (s1, inv) => performARMMMUInvocation(s1, inv, t, isCall))
  }
}
