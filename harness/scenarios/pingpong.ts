/**
 * A client and a server talking over one endpoint, as concrete events from boot: the setup
 * (retype an endpoint, a server TCB, a page directory given an ASID, an IPC-buffer frame mapped
 * through a page table, a second endpoint and a notification with two badged caps; the client is
 * the root thread, whose VSpace boot made; start the server, let it block in Recv), then round
 * trips of Call from the client and ReplyRecv from the server. Used by the IPC benchmark and by
 * the property that the fastpath and the slow path agree.
 */
import fc from "fast-check"
import type { Event, SyscallEvent } from "../../model/index.ts"
import { InitialSlot, InvocationLabel as L, ObjectType, defaultBootConfig, messageInfo, pageBits } from "../../model/index.ts"
import {
  raw, seL4_ARM_ASIDPool_Assign, seL4_ARM_Default_VMAttributes, seL4_ARM_PageTable_Map, seL4_ARM_Page_Map, seL4_CNode_Mint, seL4_Call,
  seL4_ReadWrite, seL4_Recv, seL4_ReplyRecv, seL4_TCB_Configure, seL4_TCB_Resume, seL4_TCB_SetPriority, seL4_Yield,
} from "../builders.ts"
import { retypeOne } from "./retype.ts"

/** Root CNode slots the scenario fills (all free after boot). */
export const PingPongSlots = { ep: 100, server: 101, serverPD: 102, serverBuffer: 103, serverPT: 104, otherEp: 105, ntfn: 106, ntfnBadge1: 107, ntfnBadge6: 108 } as const
/** The server's IPC buffer address (any 512-aligned word will do). */
export const serverBufferVAddr = 0x0090_0000
/** The server's priority: the client's (the root's), so a Call may take the fastpath. */
export const serverPriority = 255

const { InitThreadCNode: root, InitThreadTCB: rootTcb } = InitialSlot

/**
 * Boot-to-ready events: afterwards the client (the root thread) runs and the server waits in
 * Recv on the endpoint in slot `PingPongSlots.ep`.
 */
export const pingPongSetup = (): Event[] => {
  const S = PingPongSlots
  return [
    retypeOne(ObjectType.Endpoint, 0, S.ep),
    retypeOne(ObjectType.TCB, 0, S.server),
    retypeOne(ObjectType.PageDirectory, 0, S.serverPD),
    retypeOne(ObjectType.SmallPage, pageBits, S.serverBuffer),
    retypeOne(ObjectType.PageTable, 0, S.serverPT),
    retypeOne(ObjectType.Endpoint, 0, S.otherEp),
    retypeOne(ObjectType.Notification, 0, S.ntfn),
    seL4_CNode_Mint(root, S.ntfnBadge1, 32, root, S.ntfn, 32, 15, 1),
    seL4_CNode_Mint(root, S.ntfnBadge6, 32, root, S.ntfn, 32, 15, 6),
    // Server: the root's CSpace, its own VSpace (an ASID, its IPC buffer mapped) and IPC buffer, no fault handler.
    seL4_ARM_ASIDPool_Assign(InitialSlot.InitThreadASIDPool, S.serverPD),
    seL4_ARM_PageTable_Map(S.serverPT, S.serverPD, serverBufferVAddr, seL4_ARM_Default_VMAttributes),
    seL4_ARM_Page_Map(S.serverBuffer, S.serverPD, serverBufferVAddr, seL4_ReadWrite, seL4_ARM_Default_VMAttributes),
    seL4_TCB_Configure(S.server, 0, root, 0, S.serverPD, 0, serverBufferVAddr, S.serverBuffer),
    seL4_TCB_SetPriority(S.server, rootTcb, serverPriority),
    seL4_TCB_Resume(S.server),
    // The server has the client's priority: the client yields, the server runs and blocks in Recv.
    seL4_Yield(),
    seL4_Recv(S.ep),
  ]
}

const counting = (len: number, from: number): number[] => Array.from({ length: len }, (_, i) => from + i)

/** The client's Call: `len` message words on the endpoint. */
export const clientCall = (len: number, label = 7): SyscallEvent => seL4_Call(PingPongSlots.ep, { label, mrs: counting(len, 1) })

/** The server's ReplyRecv: reply `len` words, then wait on the endpoint again (optionally naming a receive slot). */
export const serverReplyRecv = (len: number, label = 0, recvSlot?: readonly number[]): SyscallEvent =>
  seL4_ReplyRecv(PingPongSlots.ep, { label, mrs: counting(len, 100) }, recvSlot === undefined ? undefined : { root: recvSlot[0]!, index: recvSlot[1]!, depth: recvSlot[2]! })

/** Root-CNode slots a receiver may name for an incoming cap. */
const receiveSlots = [120, 121, 122, 123]

/** A slot for a copy of the endpoint cap with fewer rights. */
const weakEp = 110
/**
 * Rounds of a ping-pong: mostly a Call and its ReplyRecv, with each fastpath precondition broken
 * now and then, and the odd lone event that puts client and server out of step.
 */
export const pingPongRound: fc.Arbitrary<readonly Event[]> = fc.oneof(
  { arbitrary: fc.tuple(fc.nat({ max: 8 }), fc.nat({ max: 8 })).map(([n, m]) => [clientCall(n), serverReplyRecv(m)]), weight: 20 },
  { arbitrary: fc.nat({ max: 8 }).map((n) => [clientCall(n)]), weight: 1 },
  { arbitrary: fc.nat({ max: 8 }).map((n) => [serverReplyRecv(n)]), weight: 1 },
  // Cap transfer: the server names a receive slot; the client sends caps to this endpoint (unwrapped
  // to badges), to another endpoint and to its CNode (derived into the slot, if it is free).
  {
    arbitrary: fc.tuple(fc.nat({ max: 3 }), fc.subarray([PingPongSlots.ep, PingPongSlots.otherEp, weakEp, InitialSlot.InitThreadCNode], { minLength: 1, maxLength: 3 }), fc.constantFrom(...receiveSlots))
      .map(([n, caps, slot]) => [
        clientCall(0),
        serverReplyRecv(0, 0, [InitialSlot.InitThreadCNode, slot, 32]),
        raw("Call", PingPongSlots.ep, messageInfo(3, n, caps.length), [1, 2, 3].slice(0, n), caps),
        serverReplyRecv(1),
      ]),
    weight: 4,
  },
  { arbitrary: fc.constantFrom(...receiveSlots).map((slot) => [raw("Call", InitialSlot.InitThreadCNode, messageInfo(L.CNodeDelete, 2), [slot, 32])]), weight: 2 },
  // A copy of the endpoint cap with rights W, WR, WG, W+GrantReply, all or R, then a Call through
  // it: without Grant and GrantReply the Call may not take the fastpath (the caller stops); without
  // Grant its extra cap stays behind.
  {
    arbitrary: fc.tuple(fc.constantFrom(1, 3, 1, 3, 5, 9, 15, 2), fc.nat({ max: 4 }), fc.nat({ max: 2 }).map((e) => e >> 1)).map(([r, n, e]) => [
      raw("Call", InitialSlot.InitThreadCNode, messageInfo(L.CNodeDelete, 2), [weakEp, 32]),
      raw("Call", InitialSlot.InitThreadCNode, messageInfo(L.CNodeMint, 6, 1), [weakEp, 32, PingPongSlots.ep, 32, r, 0], [InitialSlot.InitThreadCNode]),
      // Maybe with a cap to transfer: it may travel only if the copy has Grant.
      raw("Call", weakEp, messageInfo(1, n, e), [5, 6, 7, 8].slice(0, n), [InitialSlot.InitThreadCNode].slice(0, e)),
    ]),
    weight: 3,
  },
  { arbitrary: fc.constant([raw("Call", InitialSlot.InitThreadCNode, messageInfo(L.CNodeDelete, 2), [weakEp, 32])]), weight: 2 },
  // Signals with two badges, then a poll: the badges accumulate (1 | 6 = 7).
  {
    arbitrary: fc.subarray([PingPongSlots.ntfnBadge1, PingPongSlots.ntfnBadge6, PingPongSlots.ntfnBadge1], { minLength: 1 })
      .map((caps) => [...caps.map((c) => raw("Send", c, 0)), raw("NBRecv", PingPongSlots.ntfn, 0)]),
    weight: 2,
  },
  // A plain Send wakes the server beside the client; then timer ticks: after a full time slice
  // the two threads of equal priority take turns.
  {
    arbitrary: fc.integer({ min: 1, max: 7 }).map((n) => [
      raw("Send", PingPongSlots.ep, messageInfo(0, 1), [9]), ...Array.from({ length: n }, (): Event => ({ tag: "TimerTick" })),
    ]),
    weight: 3,
  },
  ...([
  // A message info word of any shape: long messages, extra caps, odd labels.
  { arbitrary: fc.tuple(fc.constantFrom("Call", "ReplyRecv") as fc.Arbitrary<"Call" | "ReplyRecv">, fc.nat({ max: 0xffff_ffff }), fc.nat({ max: 3 })).map(([k, w, e]) => raw(k, PingPongSlots.ep, w, [1, 2, 3, 4, 5, 6], [PingPongSlots.ep, InitialSlot.InitThreadCNode, 1].slice(0, e))), weight: 3 },
  // The server's priority changes; the client yields; stray sends and polls.
  { arbitrary: fc.nat({ max: 255 }).map((p) => raw("Call", PingPongSlots.server, messageInfo(L.TCBSetPriority, 1, 1), [p], [InitialSlot.InitThreadTCB])), weight: 1 },
  { arbitrary: fc.constant<Event>({ tag: "Syscall", syscall: "Yield", cptr: 0, msgInfo: 0, mrs: [], extraCaps: [] }), weight: 1 },
  { arbitrary: fc.constant(raw("NBRecv", PingPongSlots.ep, 0)), weight: 1 },
  // The endpoint's slot number with junk in the bits above the root CNode's radix: the guard does
  // not match, so the lookup fails (a cap fault on the slow path; the fastpath must not find the endpoint).
  { arbitrary: fc.tuple(fc.constantFrom("Call", "ReplyRecv") as fc.Arbitrary<"Call" | "ReplyRecv">, fc.integer({ min: 1, max: 0xf_ffff }), fc.nat({ max: 4 }))
    .map(([k, g, n]) => raw(k, (PingPongSlots.ep + g * 2 ** defaultBootConfig.rootCNodeBits) >>> 0, messageInfo(0, n), [1, 2, 3, 4].slice(0, n))), weight: 2 },
  { arbitrary: fc.constant(raw("Send", PingPongSlots.ep, messageInfo(0, 1), [9])), weight: 1 },
  ] as { arbitrary: fc.Arbitrary<Event>; weight: number }[]).map(({ arbitrary, weight }) => ({ arbitrary: arbitrary.map((e) => [e]), weight })),
)
