/**
 * A client and a server talking over one endpoint, as concrete events from boot: the setup
 * (retype an endpoint, a server TCB, two page directories and an IPC-buffer frame; give both
 * threads a VSpace root; start the server, let it block in Recv), then round trips of Call from
 * the client and ReplyRecv from the server. Used by the IPC benchmark and by the property that
 * the fastpath and the slow path agree.
 */
import type { Event, SyscallEvent, SyscallKind } from "../../model/index.ts"
import { InitialSlot, InvocationLabel as L, ObjectType, messageInfo, pageBits } from "../../model/index.ts"

/** Root CNode slots the scenario fills (all free after boot). */
export const PingPongSlots = { ep: 100, server: 101, serverPD: 102, serverBuffer: 103, clientPD: 104 } as const
/** The server's IPC buffer address (any 512-aligned word will do). */
export const serverBufferVAddr = 0x0090_0000
/** The server's priority: the client's (the root's), so a Call may take the fastpath. */
export const serverPriority = 255

const sys = (syscall: SyscallKind, cptr: number, label: number, mrs: readonly number[], extraCaps: readonly number[] = []): SyscallEvent => ({
  tag: "Syscall", syscall, cptr, msgInfo: messageInfo(label, mrs.length, extraCaps.length), mrs, extraCaps,
})

const retype = (type: number, sizeBits: number, destSlot: number): Event =>
  sys("Call", InitialSlot.NumInitialCaps, L.UntypedRetype, [type, sizeBits, 0, 0, destSlot, 1], [InitialSlot.InitThreadCNode])

/**
 * Boot-to-ready events: afterwards the client (the root thread) runs and the server waits in
 * Recv on the endpoint in slot `PingPongSlots.ep`.
 */
export const pingPongSetup = (): Event[] => {
  const S = PingPongSlots
  return [
    retype(ObjectType.Endpoint, 0, S.ep),
    retype(ObjectType.TCB, 0, S.server),
    retype(ObjectType.PageDirectory, 0, S.serverPD),
    retype(ObjectType.SmallPage, pageBits, S.serverBuffer),
    retype(ObjectType.PageDirectory, 0, S.clientPD),
    // Server: the root's CSpace, its own VSpace root and IPC buffer, no fault handler.
    sys("Call", S.server, L.TCBConfigure, [0, 0, 0, serverBufferVAddr], [InitialSlot.InitThreadCNode, S.serverPD, S.serverBuffer]),
    sys("Call", S.server, L.TCBSetPriority, [serverPriority], [InitialSlot.InitThreadTCB]),
    // Client (the root thread): a VSpace root, so replies to it may take the fastpath too.
    sys("Call", InitialSlot.InitThreadTCB, L.TCBSetSpace, [0, 0, 0], [InitialSlot.InitThreadCNode, S.clientPD]),
    sys("Call", S.server, L.TCBResume, []),
    // The server has the client's priority: the client yields, the server runs and blocks in Recv.
    sys("Yield", 0, 0, []),
    sys("Recv", S.ep, 0, []),
  ]
}

/** The client's Call: `len` message words on the endpoint. */
export const clientCall = (len: number, label = 7): SyscallEvent =>
  sys("Call", PingPongSlots.ep, label, Array.from({ length: len }, (_, i) => i + 1))

/** The server's ReplyRecv: reply `len` words, then wait on the endpoint again. */
export const serverReplyRecv = (len: number, label = 0): SyscallEvent =>
  sys("ReplyRecv", PingPongSlots.ep, label, Array.from({ length: len }, (_, i) => 100 + i))
