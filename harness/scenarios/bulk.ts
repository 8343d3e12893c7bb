/**
 * A big state grown the way a root task would grow it, and a fixed mix of bounded kernel entries
 * run in it: the scaling and checking benchmarks' scenario, and the tests' that show a cost stays
 * bounded as the state grows. Boot with one 512 MiB untyped and a 4096-slot root CNode, set up the
 * ping-pong pair, retype CNodes of 4096 slots and fill them with Untyped_Retype calls of 256
 * objects each (mostly endpoints, some notifications, TCBs, page tables and 4 KiB frames).
 */
import type { BootConfig, Event, SyscallEvent } from "../../model/index.ts"
import { InitialSlot, InvocationLabel as L, ObjectType, messageInfo, pageBits } from "../../model/index.ts"
import { bootInfo, rootIPCBufferVAddr } from "../../spec/kernel/boot.ts"
import { seL4_ARM_Default_VMAttributes, seL4_ARM_PageDirectory_Clean_Data, seL4_ARM_Page_Map, seL4_ARM_Page_Unmap, seL4_ReadWrite } from "../builders.ts"
import { PingPongSlots, clientCall, serverReplyRecv } from "./pingpong.ts"

/** A 4096-slot root CNode and one 512 MiB untyped (the first untyped slot of boot info). */
export const bigBootConfig: BootConfig = {
  rootCNodeBits: 12,
  memory: [{ base: 0x2000_0000, size: 0x2000_0000, isDevice: false }],
  numIRQs: 16,
  numDomains: 1,
}

/** Bulk CNodes: radix 12, caps in root slots from `firstBulkSlot`. */
const bulkRadix = 12
const bulkSlots = 2 ** bulkRadix
const firstBulkSlot = 200
/** A free root slot for the copy/delete pair. */
const scratchSlot = 150
/** The root slot of the frame the timed sequence maps and unmaps, and where it maps it (beside the root's IPC buffer, under its page table). */
const frameSlot = 151
const frameVAddr = rootIPCBufferVAddr + 2 ** pageBits

const sys = (syscall: SyscallEvent["syscall"], cptr: number, label: number, mrs: readonly number[], extraCaps: readonly number[] = []): SyscallEvent => ({
  tag: "Syscall", syscall, cptr, msgInfo: messageInfo(label, mrs.length, extraCaps.length), mrs, extraCaps,
})
const untyped = bootInfo(bigBootConfig).untyped.start

/** The type of the i-th batch of 256 objects: 1 in 16 TCBs, 1 in 16 notifications, 1 in 32 page tables, 1 in 32 small frames, the rest endpoints. */
const batchType = (i: number): number =>
  i % 16 === 5 ? ObjectType.TCB : i % 16 === 11 ? ObjectType.Notification : i % 32 === 7 ? ObjectType.PageTable : i % 32 === 23 ? ObjectType.SmallPage : ObjectType.Endpoint

/**
 * Events that carve about `objects` objects into bulk CNodes (after the ping-pong setup): retype the
 * bulk CNodes into the root CNode, then batches of 256 objects into them; and the frame the timed
 * sequence maps.
 */
export const bulkEvents = (objects: number): Event[] => {
  const batches = Math.max(1, Math.ceil(objects / 256))
  const perCNode = bulkSlots / 256
  const cnodes = Math.ceil(batches / perCNode)
  const evs: Event[] = [sys("Call", untyped, L.UntypedRetype, [ObjectType.SmallPage, 0, 0, 0, frameSlot, 1], [InitialSlot.InitThreadCNode])]
  for (let c = 0; c < cnodes; c++) {
    evs.push(sys("Call", untyped, L.UntypedRetype, [ObjectType.CNode, bulkRadix, 0, 0, firstBulkSlot + c, 1], [InitialSlot.InitThreadCNode]))
  }
  for (let b = 0; b < batches; b++) evs.push(retypeInto(batchType(b), Math.floor(b / perCNode), (b % perCNode) * 256, 256))
  return evs
}

/** Retype `count` objects of `type` into bulk CNode `cnode` (looked up in the root at depth 32) from slot `offset`. */
export const retypeInto = (type: number, cnode: number, offset: number, count: number): Event =>
  sys("Call", untyped, L.UntypedRetype, [type, 0, firstBulkSlot + cnode, 32, offset, count], [InitialSlot.InitThreadCNode])

/**
 * The fixed timed sequence (one round, 13 entries), touching the ping-pong pair, the ping-pong
 * notification, one cap in the first bulk CNode, and the root task's page directory and page table.
 */
export const mixedRound = (): Event[] => [
  clientCall(2), serverReplyRecv(2),
  // Copy an endpoint cap out of bulk CNode 0 (slot 3) into a root slot, then delete the copy.
  sys("Call", InitialSlot.InitThreadCNode, L.CNodeCopy, [scratchSlot, 32, 3, bulkRadix, 15], [firstBulkSlot]),
  sys("Call", InitialSlot.InitThreadCNode, L.CNodeDelete, [scratchSlot, 32]),
  sys("Send", PingPongSlots.ntfnBadge1, 0, []),
  sys("Send", PingPongSlots.ntfnBadge6, 0, []),
  sys("NBRecv", PingPongSlots.ntfn, 0, []),
  sys("Call", PingPongSlots.server, L.TCBReadRegisters, [0, 4]),
  clientCall(1), serverReplyRecv(1),
  // Map a frame into the root task's VSpace, flush a range of it, unmap it.
  seL4_ARM_Page_Map(frameSlot, InitialSlot.InitThreadVSpace, frameVAddr, seL4_ReadWrite, seL4_ARM_Default_VMAttributes),
  seL4_ARM_PageDirectory_Clean_Data(InitialSlot.InitThreadVSpace, frameVAddr, frameVAddr + 64),
  seL4_ARM_Page_Unmap(frameSlot),
]
