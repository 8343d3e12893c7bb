/**
 * An ASID given out twice: a second thread runs in a page directory whose ASID pool is deleted and
 * made again, and whose ASID then goes to another directory. The thread's VTable cap still names
 * its old directory with that ASID (seL4 leaves caps to a directory alone when its pool goes), so
 * the cap is stale: `setVMRoot` finds another directory for the ASID and loads the global one
 * instead, and every user access of the thread faults. Used by the refinement check that the impl
 * keeps a stale VTable cap out of translation, as the spec does (spec/machine/mmu.ts `userVSpaceRoot`).
 */
import type { Event } from "../../model/index.ts"
import { InitialSlot, ObjectType, asidPoolBits, pageBits } from "../../model/index.ts"
import {
  seL4_ARM_ASIDControl_MakePool, seL4_ARM_ASIDPool_Assign, seL4_ARM_Default_VMAttributes, seL4_ARM_PageTable_Map, seL4_ARM_Page_Map,
  seL4_CNode_Delete, seL4_ReadWrite, seL4_TCB_Configure, seL4_TCB_Resume, seL4_TCB_SetPriority,
} from "../builders.ts"
import { retypeOne } from "./retype.ts"

/** Root CNode slots the scenario fills (all free after boot). */
export const AsidReuseSlots = { poolUntyped: 130, pool: 131, oldPD: 132, newPD: 133, thread: 134, pt: 135, page: 136 } as const
/** Where the thread's page (also its IPC buffer) is mapped in its old directory. */
export const asidReuseVAddr = 0x0090_0000

const { InitThreadCNode: root, InitThreadTCB: rootTcb } = InitialSlot

/**
 * Boot to the reused ASID: a pool made from a 4 KiB untyped; the thread's directory gets the pool's
 * first ASID, a page table and a page (its IPC buffer) at `asidReuseVAddr`; the thread (priority
 * 255, the root's CSpace) is resumed; the pool's only cap is deleted (the pool goes, the ASID with
 * it), the pool made again from the same untyped (the same ASID range) and its first ASID given to
 * another directory. The root thread runs; the other thread is ready, its VTable cap stale.
 */
export const asidReuseSetup = (): Event[] => {
  const S = AsidReuseSlots
  const makePool = seL4_ARM_ASIDControl_MakePool(InitialSlot.ASIDControl, S.poolUntyped, root, S.pool, 32)
  return [
    retypeOne(ObjectType.Untyped, asidPoolBits, S.poolUntyped),
    makePool,
    retypeOne(ObjectType.PageDirectory, 0, S.oldPD),
    retypeOne(ObjectType.PageDirectory, 0, S.newPD),
    retypeOne(ObjectType.TCB, 0, S.thread),
    retypeOne(ObjectType.PageTable, 0, S.pt),
    retypeOne(ObjectType.SmallPage, pageBits, S.page),
    seL4_ARM_ASIDPool_Assign(S.pool, S.oldPD),
    seL4_ARM_PageTable_Map(S.pt, S.oldPD, asidReuseVAddr, seL4_ARM_Default_VMAttributes),
    seL4_ARM_Page_Map(S.page, S.oldPD, asidReuseVAddr, seL4_ReadWrite, seL4_ARM_Default_VMAttributes),
    seL4_TCB_Configure(S.thread, 0, root, 0, S.oldPD, 0, asidReuseVAddr, S.page),
    seL4_TCB_SetPriority(S.thread, rootTcb, 255),
    seL4_TCB_Resume(S.thread),
    seL4_CNode_Delete(root, S.pool, 32),
    makePool,
    seL4_ARM_ASIDPool_Assign(S.pool, S.newPD),
  ]
}
