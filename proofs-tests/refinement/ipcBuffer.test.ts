/**
 * The IPC buffer's cap decides what the kernel may do with the buffer (seL4 lookupIPCBuffer): a
 * sender may use a buffer its cap maps read-only, a receiver needs read-write, and a cap without
 * rights gives no buffer at all. The generator's threads get read-write buffers, so this scenario
 * gives the server and the client a read-only copy (and then one without rights) of their buffer's
 * cap, while the frames stay mapped read-write for the threads' own stores, and runs long messages
 * both ways and an invocation with arguments past MR3, in lockstep.
 */
import { describe, expect, it } from "vitest"
import type { Event } from "../../model/index.ts"
import { InitialSlot, InvocationLabel as L, messageInfo, messageInfoFromWord, syscallMessage } from "../../model/index.ts"
import { rootIPCBufferVAddr } from "../../spec/kernel/boot.ts"
import type { KernelState } from "../../spec/index.ts"
import { getRegister } from "../../spec/machine/registerset.ts"
import { observe } from "../../spec/view.ts"
import {
  raw, seL4_CNode_Copy, seL4_CanRead, seL4_ReplyRecv, seL4_Call, seL4_TCB_SetIPCBuffer, seL4_TCB_SetSpace, unknownSyscall,
} from "../../harness/builders.ts"
import { PingPongSlots as S, pingPongSetup, serverBufferVAddr } from "../../harness/scenarios/pingpong.ts"
import { expectLockstep, objectOf, specRun } from "./scenario.ts"

const root = InitialSlot.InitThreadCNode
const words = (n: number, from: number) => Array.from({ length: n }, (_, i) => from + i)

describe("IPC buffers by the rights of their cap", () => {
  it.each([
    { rights: seL4_CanRead, name: "read-only: used to send, not to receive" },
    { rights: 0, name: "without rights: no buffer either way" },
  ])("$name (impl and spec agree, invariants hold)", ({ rights }) => {
    const [serverCopy, clientCopy, minted] = [120, 121, 122]
    const events: Event[] = [
      ...pingPongSetup(),
      seL4_CNode_Copy(root, serverCopy, 32, root, S.serverBuffer, 32, rights),
      seL4_TCB_SetIPCBuffer(S.server, serverBufferVAddr, serverCopy),
      // Eight words each way: the server receives (stopping at MR3), then replies from its buffer.
      seL4_Call(S.ep, { label: 3, mrs: words(8, 1) }),
      seL4_ReplyRecv(S.ep, { label: 4, mrs: words(8, 100) }),
      // The client's buffer too; it invokes with six arguments (CNode_Mint): MR4 and MR5 come from its buffer.
      seL4_CNode_Copy(root, clientCopy, 32, root, InitialSlot.InitThreadIPCBuffer, 32, rights),
      seL4_TCB_SetIPCBuffer(InitialSlot.InitThreadTCB, rootIPCBufferVAddr, clientCopy),
      raw("Call", root, messageInfo(L.CNodeMint, 6, 1), [minted, 32, S.ep, 32, 15, 9], [root]),
    ]
    const { states, results } = specRun(events)
    const at = (i: number) => states[events.length + i + 1]!
    const client = states[0]!.curThread
    const server = objectOf(at(-1), S.server)
    // What seL4 does: a receiver needs a read-write buffer, so the server got MR0-MR3 only; a
    // sender may use a read-only one, so the client got all eight words of the reply (four from a
    // buffer without rights).
    expect(messageInfoFromWord(observe(at(-5), server).msgInfo).length).toBe(4)
    const reply = observe(at(-4), client)
    expect(messageInfoFromWord(reply.msgInfo).length).toBe(rights === 0 ? 4 : 8)
    expect(reply.mrs.slice(0, rights === 0 ? 4 : 8)).toEqual(words(rights === 0 ? 4 : 8, 100))
    // The Mint reads six arguments: from a read-only buffer it succeeds; without one the message is truncated.
    expect(results.at(-1)).toBe(rights === 0 ? "TruncatedMessage" : "Success")
    expectLockstep(events)
  })

  it("a fault handler whose buffer cap has no rights answers an unknown syscall with eight words: four reach the thread's registers", () => {
    const serverCopy = 120
    const events: Event[] = [
      ...pingPongSetup(),
      seL4_CNode_Copy(root, serverCopy, 32, root, S.serverBuffer, 32, 0),
      seL4_TCB_SetIPCBuffer(S.server, serverBufferVAddr, serverCopy),
      // The server (waiting on the endpoint) becomes the client's fault handler.
      seL4_TCB_SetSpace(InitialSlot.InitThreadTCB, S.ep, root, 0, InitialSlot.InitThreadVSpace, 0),
      unknownSyscall(77),
      // Label 0: resume the thread with the registers the reply carries (as many as the syscall message lists).
      seL4_ReplyRecv(S.ep, { label: 0, mrs: words(8, 0x100) }),
    ]
    const { states } = specRun(events)
    const client = states[0]!.curThread
    // Without a buffer the reply carries MR0-MR3 only: the first four registers the syscall message
    // lists (R0-R3) take its words, the next four (R4-R7) keep what the thread had.
    const regs = (st: KernelState) => syscallMessage.slice(0, 8).map((r) => getRegister(st, client, r))
    expect(regs(states.at(-1)!)).toEqual([...words(4, 0x100), ...regs(states.at(-3)!).slice(4)])
    expectLockstep(events)
  })
})
