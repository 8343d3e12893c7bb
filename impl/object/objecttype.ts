/**
 * Per-cap-type operations (seL4 src/object/objecttype.c with ARM's
 * src/arch/arm/32/object/objecttype.c): deriveCap, finaliseCap, sameRegionAs, sameObjectAs,
 * updateCapData, maskCapRights, isCapRevocable, createObject/createNewObjects, decodeInvocation.
 * @category objects
 */
import type { Cap, ObjectType, Rights, VMRights } from "../../model/index.ts"
import {
  NullCap, ObjectType as OT, RightGR, asidPoolBits, getObjectSize, RightG, RightR, RightW, allRights, badgeFromWord, endpointBits, getField,
  notificationBits, pageDirBits, pageTableBits, slotBits, tcbBits, tcbCNodeEntries, tcbCTable, wordBits, zombieTypeTCB, bit as BIT, mask as MASK,
} from "../../model/index.ts"
import { setThreadState, suspend } from "../kernel/thread.ts"
import {
  copyGlobalMappings, decodeARMMMUInvocation, deleteASID, deleteASIDPool, maskVMRights, unmapPage, unmapPageTable,
} from "../kernel/vspace.ts"
import type { Cte, ImplState } from "../state.ts"
import {
  EXCEPTION_NONE, type Exception, ImplCNode, ImplEndpoint, ImplFrame, ImplNotification, ImplPageDirectory, ImplPageTable,
  ImplTcb, ThreadStateRestart, getASIDPoolImpl, getCNodeImpl, getEndpointImpl, getNotificationImpl, getPageDirectoryImpl,
  getPageTableImpl, getTcbImpl, syscallError, tcbSlot,
} from "../state.ts"
import { decodeCNodeInvocation, ensureNoChildren, insertNewCap } from "./cnode.ts"
import {
  cancelAllIPC, performInvocation_Endpoint, performInvocation_Notification, performInvocation_Reply,
} from "./endpoint.ts"
import { decodeIRQControlInvocation, decodeIRQHandlerInvocation, deletedIRQHandler, deletingIRQHandler } from "./interrupt.ts"
import { cancelAllSignals, unbindMaybeNotification, unbindNotification } from "./notification.ts"
import { decodeUntypedInvocation } from "./untyped.ts"
import { decodeDomainInvocation } from "./domain.ts"
import { decodeTCBInvocation } from "./tcb.ts"

/** Is this an architecture (VM) cap? C `isArchCap`. */
const isArchCap = (c: Cap): boolean =>
  c.tag === "FrameCap" || c.tag === "PageTableCap" || c.tag === "PageDirectoryCap" || c.tag === "ASIDControlCap" || c.tag === "ASIDPoolCap"

// ---- region and object identity -----------------------------------------------------------------

/** Does the cap name memory? C `cap_get_capIsPhysical` (non-MCS: reply caps are not physical). */
function capIsPhysical(c: Cap): boolean {
  switch (c.tag) {
    case "UntypedCap": case "EndpointCap": case "NotificationCap": case "CNodeCap": case "ThreadCap":
    case "FrameCap": case "PageTableCap": case "PageDirectoryCap": case "ASIDPoolCap": case "ZombieCap":
      return true
    default:
      return false
  }
}

/** Base of the memory a physical cap names. C `cap_get_capPtr`. */
function capPtr(c: Cap): number {
  switch (c.tag) {
    case "UntypedCap": case "EndpointCap": case "NotificationCap": case "CNodeCap": case "ThreadCap":
    case "FrameCap": case "PageTableCap": case "PageDirectoryCap": case "ASIDPoolCap": case "ZombieCap":
      return c.ptr
    default:
      return 0
  }
}

/** Size bits of the memory a cap names. C `cap_get_capSizeBits`. */
function capSizeBits(c: Cap): number {
  switch (c.tag) {
    case "UntypedCap": return c.sizeBits
    case "EndpointCap": return endpointBits
    case "NotificationCap": return notificationBits
    case "CNodeCap": return c.radix + slotBits
    case "ThreadCap": return tcbBits
    case "FrameCap": return c.sizeBits
    case "PageTableCap": return pageTableBits
    case "PageDirectoryCap": return pageDirBits
    case "ASIDPoolCap": return asidPoolBits
    // A Zombie: the TCB or CNode it is emptying.
    case "ZombieCap": return c.zombieType === zombieTypeTCB ? tcbBits : c.zombieType + slotBits
    default: return 0
  }
}

/** C `Arch_sameRegionAs` (ARM 32). */
function archSameRegionAs(a: Cap, b: Cap): boolean {
  switch (a.tag) {
    // Frames: b's range lies inside a's.
    case "FrameCap":
      if (b.tag === "FrameCap") {
        const botA = a.ptr, botB = b.ptr
        const topA = botA + MASK(a.sizeBits), topB = botB + MASK(b.sizeBits)
        return botA <= botB && topA >= topB && botB <= topB
      }
      return false
    case "PageTableCap":
      return b.tag === "PageTableCap" && a.ptr === b.ptr
    case "PageDirectoryCap":
      return b.tag === "PageDirectoryCap" && a.ptr === b.ptr
    case "ASIDControlCap":
      return b.tag === "ASIDControlCap"
    case "ASIDPoolCap":
      return b.tag === "ASIDPoolCap" && a.ptr === b.ptr
    default:
      return false
  }
}

/**
 * Could `b` have been derived from `a`: does it name the same region (or one inside a's untyped)?
 * @refines spec/object/objecttype#sameRegionAs
 */
export function sameRegionAs(a: Cap, b: Cap): boolean {
  switch (a.tag) {
    // Untyped: any physical cap whose memory lies inside the untyped's range.
    case "UntypedCap":
      if (capIsPhysical(b)) {
        const aBase = a.ptr, bBase = capPtr(b)
        const aTop = aBase + MASK(a.sizeBits), bTop = bBase + MASK(capSizeBits(b))
        return aBase <= bBase && bTop <= aTop && bBase <= bTop
      }
      return false
    case "EndpointCap":
      return b.tag === "EndpointCap" && a.ptr === b.ptr
    case "NotificationCap":
      return b.tag === "NotificationCap" && a.ptr === b.ptr
    // CNodes: same table and same size.
    case "CNodeCap":
      return b.tag === "CNodeCap" && a.ptr === b.ptr && a.radix === b.radix
    case "ThreadCap":
      return b.tag === "ThreadCap" && a.ptr === b.ptr
    case "ReplyCap":
      return b.tag === "ReplyCap" && a.tcb === b.tcb
    case "DomainCap":
      return b.tag === "DomainCap"
    // IRQ control covers every IRQ handler cap.
    case "IRQControlCap":
      return b.tag === "IRQControlCap" || b.tag === "IRQHandlerCap"
    case "IRQHandlerCap":
      return b.tag === "IRQHandlerCap" && a.irq === b.irq
    case "NullCap":
      return false
    default:
      return isArchCap(a) && isArchCap(b) && archSameRegionAs(a, b)
  }
}

/** C `Arch_sameObjectAs` (ARM 32: small and large frames are different cap types). */
function archSameObjectAs(a: Cap, b: Cap): boolean {
  if (a.tag === "FrameCap") {
    if (b.tag === "FrameCap") return a.ptr === b.ptr && a.sizeBits === b.sizeBits && a.isDevice === b.isDevice
  }
  return archSameRegionAs(a, b)
}

/**
 * Do the two caps name the same object (so that neither is final while the other exists)?
 * @refines spec/object/objecttype#sameObjectAs
 */
export function sameObjectAs(a: Cap, b: Cap): boolean {
  if (a.tag === "UntypedCap") return false
  if (a.tag === "IRQControlCap") return false
  if (isArchCap(a) && isArchCap(b)) return archSameObjectAs(a, b)
  return sameRegionAs(a, b)
}

// ---- cap transformations ------------------------------------------------------------------------

/**
 * Apply a user data word to a cap: set the badge of an unbadged EP/notification cap (not when
 * preserving), or the guard of a CNode cap; NullCap when that is not allowed.
 * @refines spec/object/objecttype#updateCapData
 */
export function updateCapData(preserve: boolean, newData: number, cap: Cap): Cap {
  switch (cap.tag) {
    // Badge: only once, and only by Mint.
    case "EndpointCap":
    case "NotificationCap":
      if (!preserve && cap.badge === 0) return { tag: cap.tag, ptr: cap.ptr, badge: badgeFromWord(newData), rights: cap.rights }
      return { tag: "NullCap" }
    // Guard: seL4_CNode_CapData = guardSize bits 3..7, guard bits 8..25.
    case "CNodeCap": {
      const guardSize = getField(newData, 3, 5)
      if (guardSize + cap.radix > wordBits) return { tag: "NullCap" }
      const guard = (getField(newData, 8, 18) & MASK(guardSize)) >>> 0
      return { tag: "CNodeCap", ptr: cap.ptr, radix: cap.radix, guardSize, guard }
    }
    default:
      return cap
  }
}

/**
 * Intersect a cap's rights with `r` (asking for more silently gives less).
 * @refines spec/object/objecttype#maskCapRights
 */
export function maskCapRights(r: Rights, cap: Cap): Cap {
  switch (cap.tag) {
    case "EndpointCap":
      return { tag: "EndpointCap", ptr: cap.ptr, badge: cap.badge, rights: cap.rights & r & allRights }
    case "NotificationCap":
      return { tag: "NotificationCap", ptr: cap.ptr, badge: cap.badge, rights: cap.rights & r & (RightR | RightW) }
    case "ReplyCap":
      return { tag: "ReplyCap", tcb: cap.tcb, isMaster: cap.isMaster, canGrant: cap.canGrant && (r & RightG) !== 0 }
    case "FrameCap":
      return {
        tag: "FrameCap", ptr: cap.ptr, sizeBits: cap.sizeBits, vmRights: maskVMRights(cap.vmRights, r), isDevice: cap.isDevice,
        mapped: cap.mapped,
      }
    default:
      return cap
  }
}

/**
 * The cap a copy out of `slot` gets, or null with the error in `k.currentSyscallError`.
 * Untyped with children: RevokeFirst. Reply, IRQControl and Zombie: NullCap. Frames: unmapped. Unmapped
 * page tables and page directories without an ASID: IllegalOperation.
 * @refines spec/object/objecttype#deriveCap
 */
export function deriveCap(k: ImplState, slot: Cte, cap: Cap): Cap | null {
  switch (cap.tag) {
    case "PageTableCap":
      if (cap.mapped !== null) return cap
      syscallError(k, { tag: "IllegalOperation" })
      return null
    case "PageDirectoryCap":
      if (cap.asid !== null) return cap
      syscallError(k, { tag: "IllegalOperation" })
      return null
    case "FrameCap":
      if (cap.mapped === null) return cap
      return { tag: "FrameCap", ptr: cap.ptr, sizeBits: cap.sizeBits, vmRights: cap.vmRights, isDevice: cap.isDevice, mapped: null }
    case "IRQControlCap": case "ZombieCap":
      return { tag: "NullCap" }
    case "UntypedCap":
      return ensureNoChildren(k, slot) === EXCEPTION_NONE ? cap : null
    case "ReplyCap":
      return { tag: "NullCap" }
    default:
      return cap
  }
}

/**
 * Is a cap derived from `srcCap` an original (MDB revocable)? Untyped always; EP/notification when
 * the badge changed; IRQ handlers made from IRQ control.
 * @refines spec/object/objecttype#isCapRevocable
 */
export function isCapRevocable(derivedCap: Cap, srcCap: Cap): boolean {
  switch (derivedCap.tag) {
    case "EndpointCap":
      return srcCap.tag === "EndpointCap" ? derivedCap.badge !== srcCap.badge : derivedCap.badge !== 0
    case "NotificationCap":
      return srcCap.tag === "NotificationCap" ? derivedCap.badge !== srcCap.badge : derivedCap.badge !== 0
    case "IRQHandlerCap":
      return srcCap.tag === "IRQControlCap"
    case "UntypedCap":
      return true
    default:
      return false
  }
}

/**
 * Does an endpoint cap carry all four rights (needed to cancel badged sends)?
 * @refines spec/object/cnode#decodeCNodeInvocation
 */
export function hasCancelSendRights(cap: Cap): boolean {
  return cap.tag === "EndpointCap" && (cap.rights & (RightW | RightR | RightG | RightGR)) === allRights
}

// ---- finalisation -------------------------------------------------------------------------------

/**
 * What deleting a virtual-memory cap undoes: the last cap to an ASID pool takes it out of the ASID
 * table, the last cap to a page directory with an ASID frees the ASID, the last cap to a mapped
 * page table unmaps it, and any cap to a mapped frame unmaps it (final or not).
 * @refines spec/object/objecttype#archFinaliseCap
 */
function Arch_finaliseCap(k: ImplState, cap: Cap, final: boolean): void {
  switch (cap.tag) {
    case "ASIDPoolCap":
      if (final) deleteASIDPool(k, cap.asidBase, getASIDPoolImpl(k, cap.ptr))
      break
    case "PageDirectoryCap":
      if (final && cap.asid !== null) deleteASID(k, cap.asid, getPageDirectoryImpl(k, cap.ptr))
      break
    case "PageTableCap":
      if (final && cap.mapped !== null) unmapPageTable(k, cap.mapped.asid, cap.mapped.vaddr, getPageTableImpl(k, cap.ptr))
      break
    case "FrameCap":
      if (cap.mapped !== null) unmapPage(k, cap.sizeBits, cap.mapped.asid, cap.mapped.vaddr, cap.ptr)
      break
    default:
      break
  }
}

/** C `finaliseCap_ret_t`: the cap left in the slot (NullCap or a Zombie) and what to clean up once it is empty. */
export interface FinaliseCapRet {
  readonly remainder: Cap
  readonly cleanupInfo: Cap
}
/** The common answer, shared (nothing left, nothing to clean up). */
const finaliseNothing: FinaliseCapRet = { remainder: NullCap, cleanupInfo: NullCap }

/**
 * Clean up after a cap goes. Virtual-memory caps as `Arch_finaliseCap` says; for the others only
 * the last cap to an object (`final`) does anything: cancel IPC on endpoints, unbind and cancel
 * notifications; a CNode or TCB (unbound and suspended) becomes a Zombie of its slots, which
 * finaliseSlot then deletes; an IRQ handler empties its node slot and asks for the line to go
 * inactive once its own slot is empty.
 * @refines spec/object/objecttype#finaliseCap
 */
export function finaliseCap(k: ImplState, cap: Cap, final: boolean): FinaliseCapRet {
  if (isArchCap(cap)) {
    Arch_finaliseCap(k, cap, final)
    return finaliseNothing
  }
  switch (cap.tag) {
    // Endpoint: every queued thread restarts.
    case "EndpointCap":
      if (final) cancelAllIPC(k, getEndpointImpl(k, cap.ptr))
      return finaliseNothing
    // Notification: unbind its TCB, restart its waiters.
    case "NotificationCap":
      if (final) {
        const ntfn = getNotificationImpl(k, cap.ptr)
        unbindMaybeNotification(ntfn)
        cancelAllSignals(k, ntfn)
      }
      return finaliseNothing
    case "ReplyCap": case "NullCap": case "DomainCap":
      return finaliseNothing
    // CNode: a Zombie of every slot.
    case "CNodeCap":
      if (final) return { remainder: { tag: "ZombieCap", ptr: cap.ptr, zombieType: cap.radix, number: BIT(cap.radix) }, cleanupInfo: NullCap }
      return finaliseNothing
    // Thread: unbind, suspend, then a Zombie of its own slots (from its CTable slot).
    case "ThreadCap":
      if (final) {
        const tcb = getTcbImpl(k, cap.ptr)
        unbindNotification(tcb)
        suspend(k, tcb)
        return { remainder: { tag: "ZombieCap", ptr: tcbSlot(tcb, tcbCTable).addr, zombieType: zombieTypeTCB, number: tcbCNodeEntries }, cleanupInfo: NullCap }
      }
      return finaliseNothing
    // A Zombie stays itself.
    case "ZombieCap":
      return { remainder: cap, cleanupInfo: NullCap }
    // IRQ handler: empty the line's IRQ-node slot; the line goes Inactive once this slot is empty.
    case "IRQHandlerCap":
      if (final) {
        deletingIRQHandler(k, cap.irq)
        return { remainder: NullCap, cleanupInfo: cap }
      }
      return finaliseNothing
    // Untyped and IRQ control need nothing.
    default:
      return finaliseNothing
  }
}

/**
 * Once a slot is empty: the last IRQ handler cap's line goes inactive (ARM's
 * Arch_postCapDeletion has nothing to do here).
 * @refines spec/object/objecttype#postCapDeletion
 */
export function postCapDeletion(k: ImplState, cleanupInfo: Cap): void {
  if (cleanupInfo.tag === "IRQHandlerCap") deletedIRQHandler(k, cleanupInfo.irq)
}

// ---- object creation ----------------------------------------------------------------------------

/**
 * Create one object of type `t` at `base` in the object table and return the cap to it.
 * @refines spec/object/objecttype#createObject
 */
export function createObject(k: ImplState, t: ObjectType, base: number, userSize: number, deviceMemory: boolean): Cap {
  switch (t) {
    // TCB: Inactive, priority and MCP 0, the creator's current domain, a full time slice.
    case OT.TCB:
      k.objects.set(base, new ImplTcb(base, k.curDomain))
      return { tag: "ThreadCap", ptr: base }
    case OT.Endpoint:
      k.objects.set(base, new ImplEndpoint(base))
      return { tag: "EndpointCap", ptr: base, badge: 0, rights: allRights }
    case OT.Notification:
      k.objects.set(base, new ImplNotification(base))
      return { tag: "NotificationCap", ptr: base, badge: 0, rights: RightR | RightW }
    case OT.CNode:
      k.objects.set(base, new ImplCNode(base, userSize))
      return { tag: "CNodeCap", ptr: base, radix: userSize, guardSize: 0, guard: 0 }
    // Untyped: no object, just the cap.
    case OT.Untyped:
      return { tag: "UntypedCap", isDevice: deviceMemory, ptr: base, sizeBits: userSize, freeIndex: 0 }
    case OT.SmallPage: case OT.LargePage: case OT.Section: case OT.SuperSection: {
      const sizeBits = getObjectSize(t, userSize)
      k.objects.set(base, new ImplFrame(base, sizeBits, deviceMemory))
      return { tag: "FrameCap", ptr: base, sizeBits, vmRights: "ReadWrite", isDevice: deviceMemory, mapped: null }
    }
    case OT.PageTable:
      k.objects.set(base, new ImplPageTable(base))
      return { tag: "PageTableCap", ptr: base, mapped: null }
    // A page directory starts with the kernel window, copied from the global page directory.
    case OT.PageDirectory: {
      const pd = new ImplPageDirectory(base)
      copyGlobalMappings(k, pd)
      k.objects.set(base, pd)
      return { tag: "PageDirectoryCap", ptr: base, asid: null }
    }
  }
}

/**
 * Create `destLength` objects one after another from `regionBase` and insert their caps into
 * consecutive slots of `destCNode` as children of `parent` (each right after the parent, so the
 * newest comes first).
 * @refines spec/object/untyped#invokeUntypedRetype
 */
export function createNewObjects(
  k: ImplState, t: ObjectType, parent: Cte, destCNode: ImplCNode, destOffset: number, destLength: number,
  regionBase: number, userSize: number, deviceMemory: boolean, objectSize: number,
): void {
  for (let i = 0; i < destLength; i++) {
    const cap = createObject(k, t, regionBase + i * BIT(objectSize), userSize, deviceMemory)
    insertNewCap(parent, destCNode, destOffset + i, cap)
  }
}

// ---- dispatch -----------------------------------------------------------------------------------

/**
 * Decode (and, on success, perform) an invocation of `cap`. Errors land in
 * `k.currentSyscallError`. Only CNode and Untyped invocations exist so far; every other invocable
 * cap answers IllegalOperation.
 * @refines spec/object/objecttype#decodeInvocation
 */
export function decodeInvocation(
  k: ImplState, invLabel: number, length: number, _capIndex: number, slot: Cte, cap: Cap, _block: boolean, _call: boolean,
): Exception {
  switch (cap.tag) {
    // Nothing to invoke (a Zombie neither).
    case "NullCap": case "ZombieCap":
      return syscallError(k, { tag: "InvalidCapability", capability: 0 })
    // Endpoint: send (needs Write) with the cap's badge, Grant and GrantReply.
    case "EndpointCap":
      if ((cap.rights & RightW) === 0) return syscallError(k, { tag: "InvalidCapability", capability: 0 })
      setThreadState(k, k.curThread, ThreadStateRestart)
      return performInvocation_Endpoint(k, getEndpointImpl(k, cap.ptr), cap.badge, (cap.rights & RightG) !== 0,
        (cap.rights & RightGR) !== 0, _block, _call)
    // Notification: signal (needs Write) with the cap's badge.
    case "NotificationCap":
      if ((cap.rights & RightW) === 0) return syscallError(k, { tag: "InvalidCapability", capability: 0 })
      setThreadState(k, k.curThread, ThreadStateRestart)
      return performInvocation_Notification(k, getNotificationImpl(k, cap.ptr), cap.badge)
    // Reply: answer the waiting caller; a master reply cap cannot be invoked.
    case "ReplyCap":
      if (cap.isMaster) return syscallError(k, { tag: "InvalidCapability", capability: 0 })
      setThreadState(k, k.curThread, ThreadStateRestart)
      return performInvocation_Reply(k, getTcbImpl(k, cap.tcb), slot, cap.canGrant)
    case "CNodeCap":
      return decodeCNodeInvocation(k, invLabel, length, cap)
    case "UntypedCap":
      return decodeUntypedInvocation(k, invLabel, length, slot, cap)
    // Thread invocations (TCB_*).
    case "ThreadCap":
      return decodeTCBInvocation(k, invLabel, length, cap, slot, _call)
    // Domain invocations (DomainSetSet).
    case "DomainCap":
      return decodeDomainInvocation(k, invLabel, length)
    // IRQ control: issue handler caps.
    case "IRQControlCap":
      return decodeIRQControlInvocation(k, invLabel, length, slot)
    // IRQ handler: Ack, SetIRQHandler, Clear.
    case "IRQHandlerCap":
      return decodeIRQHandlerInvocation(k, invLabel, cap.irq)
    // Virtual memory (C Arch_decodeInvocation).
    case "FrameCap": case "PageTableCap": case "PageDirectoryCap": case "ASIDControlCap": case "ASIDPoolCap":
      return decodeARMMMUInvocation(k, invLabel, length, slot, cap, _call)
  }
}
