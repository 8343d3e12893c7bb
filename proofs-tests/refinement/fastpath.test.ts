/**
 * The IPC fastpath is an optimisation, not a semantics: wherever it applies, an impl that takes
 * it and one forced down the slow path end every step in the same abstract state. Checked on
 * ping-pong traces (where the fastpath mostly applies, and its preconditions are knocked out
 * one by one: long messages, extra caps, caps without Grant or Write, other priorities, ticks) and on
 * the general lockstep traces. The fastpath must also have been taken, or the property says nothing.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { BootConfig, Event } from "../../model/index.ts"
import { domainsBootConfig } from "../../harness/configs.ts"
import { InitialSlot, ObjectType, RightW, defaultBootConfig, faultLabel, messageInfoFromWord, tcbVTable } from "../../model/index.ts"
import { bootInfo, rootIPCBufferVAddr } from "../../spec/kernel/boot.ts"
import {
  seL4_CNode_Copy, seL4_Call, seL4_CNode_Mint, seL4_CNode_Revoke, seL4_DomainSet_Set, seL4_Signal, seL4_TCB_BindNotification, seL4_ReplyRecv, seL4_TCB_Configure, seL4_TCB_Resume, seL4_TCB_SetPriority, seL4_TCB_SetSpace, seL4_Untyped_Retype, unknownSyscall,
} from "../../harness/builders.ts"
import { Kernel } from "../../impl/index.ts"
import { boot, getTcb, stepWithOutcome } from "../../spec/index.ts"
import { absState } from "../../harness/relation/abstract.ts"
import { stateDiff, statesEqual } from "../../harness/lockstep/diff.ts"
import { resolveChoice, traceArb } from "../../harness/gen/choices.ts"
import { PingPongSlots as S, clientCall, pingPongRound, pingPongSetup, serverReplyRecv } from "../../harness/scenarios/pingpong.ts"
import { suiteBudget } from "./budget.ts"
import { describeFailure, runEvents } from "../../harness/lockstep/runner.ts"
import { realImpl } from "../../harness/lockstep/impls.ts"
import { expectLockstep, objectOf, specRun } from "./scenario.ts"
import { threadState } from "../../harness/query.ts"
import { slotOf } from "../../spec/state.ts"

interface Compared { readonly diff: string[] | null; readonly hits: number; readonly callHits: number; readonly replyRecvHits: number }

/** Run the events on a fastpath impl and a slow-path impl; the first step where they differ (or null), and the fastpath's hits by path. */
const compare = (setup: readonly Event[], events: readonly Event[], config: BootConfig = defaultBootConfig): Compared => {
  const fast = Kernel.boot(config, { fastpath: true })
  const slow = Kernel.boot(config, { fastpath: false })
  for (const e of setup) { fast.step(e); slow.step(e) }
  let callHits = 0
  let replyRecvHits = 0
  const result = (diff: string[] | null): Compared => ({ diff, hits: callHits + replyRecvHits, callHits, replyRecvHits })
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!
    const before = fast.fastpathHits
    fast.step(e)
    slow.step(e)
    if (fast.fastpathHits > before && e.tag === "Syscall") { if (e.syscall === "Call") callHits++; else replyRecvHits++ }
    const a = absState(fast)
    const b = absState(slow)
    if (!statesEqual(a, b)) return result([`step ${i}:`, ...stateDiff(b, a)])
  }
  return result(null)
}

/** Events that make a thread in root slot `slot` (the root's CSpace, VSpace and IPC buffer) at priority `prio` and resume it. */
const readyThread = (slot: number, prio: number): Event[] => [
  seL4_Untyped_Retype(bootInfo(defaultBootConfig).untyped.start, ObjectType.TCB, 0, InitialSlot.InitThreadCNode, 0, 0, slot, 1),
  seL4_TCB_Configure(slot, 0, InitialSlot.InitThreadCNode, 0, InitialSlot.InitThreadVSpace, 0, rootIPCBufferVAddr, InitialSlot.InitThreadIPCBuffer),
  seL4_TCB_SetPriority(slot, InitialSlot.InitThreadTCB, prio),
  seL4_TCB_Resume(slot),
]

/** `n` ping-pong rounds: the client's Call of i % 4 words, the server's ReplyRecv of i % 3. */
const rounds = (n: number): Event[] => Array.from({ length: n }, (_, i) => [clientCall(i % 4), serverReplyRecv(i % 3)]).flat()

/**
 * A fastpath impl and a slow-path one agree on `events` after `setup`, the fastpath taken exactly
 * as often as `hits` says on each path it names, and the impl refines the spec on the whole run.
 */
const expectFastpath = (setup: readonly Event[], events: readonly Event[], hits: { readonly calls?: number; readonly replyRecvs?: number }, config: BootConfig = defaultBootConfig): void => {
  const r = compare(setup, events, config)
  expect(r.diff).toBeNull()
  if (hits.calls !== undefined) expect(r.callHits).toBe(hits.calls)
  if (hits.replyRecvs !== undefined) expect(r.replyRecvHits).toBe(hits.replyRecvs)
  expectLockstep([...setup, ...events], config)
}

/** A CNode of radix 8 in root slot `slot`, holding in its slot 5 the root CNode (radix 8) minted with a `guardBits`-bit zero guard. */
const twoLevelCSpace = (slot: number, guardBits: number): Event[] => [
  seL4_Untyped_Retype(bootInfo(defaultBootConfig).untyped.start, ObjectType.CNode, 8, InitialSlot.InitThreadCNode, 0, 0, slot, 1),
  seL4_CNode_Mint(slot, 5, 8, InitialSlot.InitThreadCNode, InitialSlot.InitThreadCNode, 32, 15, guardBits << 3),
]

/**
 * The ping-pong scene with the server's CSpace a guardless CNode of radix 8 (root slot 111) whose
 * slot 7 holds a copy of the root's cap in `source`. seL4's lookup_fp, like the slow lookup, stops
 * at the first cap that is not a CNode cap, with bits left over: the server names it `short`.
 */
const shortLookupSetup = (source: number): Event[] => [
  ...pingPongSetup(),
  seL4_Untyped_Retype(bootInfo(defaultBootConfig).untyped.start, ObjectType.CNode, 8, InitialSlot.InitThreadCNode, 0, 0, 111, 1),
  seL4_CNode_Copy(111, 7, 8, InitialSlot.InitThreadCNode, source, 32, 15),
  seL4_TCB_SetSpace(S.server, 0, 111, 0, S.serverPD, 0),
]
/** The cptr to `shortLookupSetup`'s slot 7: 8 bits, then anything. */
const short = ((7 << 24) | 0x00ab_cdef) >>> 0

describe("the IPC fastpath agrees with the slow path wherever it applies", () => {
  const b = suiteBudget()
  it(`on ping-pong traces with broken preconditions (seed=${b.seed})`, () => {
    let calls = 0, replyRecvs = 0, plainCalls = 0, plainReplyRecvs = 0
    fc.assert(
      fc.property(fc.array(pingPongRound, { minLength: 1, maxLength: 40 }).map((rs) => rs.flat()), (events) => {
        const r = compare(pingPongSetup(), events)
        calls += r.callHits
        replyRecvs += r.replyRecvHits
        const plain = (k: string) => events.filter((e) => e.tag === "Syscall" && e.syscall === k && e.cptr === S.ep && (e.msgInfo & 0x1ff) <= 4).length
        plainCalls += plain("Call")
        plainReplyRecvs += plain("ReplyRecv")
        if (r.diff !== null) throw new Error(r.diff.join("\n"))
      }),
      { seed: b.seed, numRuns: b.runs * 2 },
    )
    // The property is only worth something if the fastpath ran: a good share of the short Calls,
    // and of the short ReplyRecvs, on the endpoint take it (others find the wrong thread current or
    // a broken precondition). Each path on its own: a check that always sends one path slow shows.
    expect(calls).toBeGreaterThan(plainCalls / 4)
    expect(replyRecvs).toBeGreaterThan(plainReplyRecvs / 4)
    if (process.env.KSPEC_VERBOSE) console.log(`fastpath taken by ${calls} of ${plainCalls} short Calls, ${replyRecvs} of ${plainReplyRecvs} short ReplyRecvs`)
  })

  it(`and under three domains with a static schedule, where the fastpath must check the domain (seed=${b.seed})`, () => {
    let calls = 0, replyRecvs = 0
    fc.assert(
      fc.property(fc.array(pingPongRound, { minLength: 1, maxLength: 40 }).map((rs) => rs.flat()), (events) => {
        const r = compare(pingPongSetup(), events, domainsBootConfig)
        calls += r.callHits
        replyRecvs += r.replyRecvHits
        if (r.diff !== null) throw new Error(r.diff.join("\n"))
      }),
      { seed: b.seed, numRuns: b.runs },
    )
    expect(calls).toBeGreaterThan(0)
    expect(replyRecvs).toBeGreaterThan(0)
  })

  it("with the server's endpoint two CNodes deep, the first with no guard: its ReplyRecv takes the fastpath and agrees", () => {
    // A CNode of radix 8 (no guard) in root slot 111; in its slot 5, the root CNode minted with a
    // 16-bit zero guard; the server's CSpace becomes the new CNode. The endpoint (root slot 100)
    // is then (5 << 24) | 100 to the server: 8 bits, then a 16-bit guard and 8 bits.
    const cnodeA = 111
    const deep = ((5 << 24) | S.ep) >>> 0
    const setup = [
      ...pingPongSetup(),
      ...twoLevelCSpace(cnodeA, 16),
      seL4_TCB_SetSpace(S.server, 0, cnodeA, 0, S.serverPD, 0),
    ]
    const deepRounds = Array.from({ length: 12 }, (_, i) => [clientCall(i % 5), seL4_ReplyRecv(deep, { mrs: [1, 2, 3].slice(0, i % 4) })]).flat()
    // Every ReplyRecv answers a Call (the server waits in Recv after the setup), so each takes the fastpath.
    expectFastpath(setup, deepRounds, { replyRecvs: 12 })
  })

  it("with the server's endpoint cap found after 8 bits (a CNode of radix 8, no guard): the lookup stops at it and its ReplyRecv takes the fastpath", () => {
    const setup = shortLookupSetup(S.ep)
    const shortRounds = Array.from({ length: 12 }, (_, i) => [clientCall(i % 5), seL4_ReplyRecv(short, { mrs: [1, 2, 3].slice(0, i % 4) })]).flat()
    expectFastpath(setup, shortRounds, { replyRecvs: 12 })
  })

  it("with the server's ReplyRecv through a notification cap (it may read): the fastpath declines, and the slow path replies and then waits on the notification", () => {
    // The same short lookup as above, through a copy of the notification cap with every right:
    // the fastpath's receive is on an endpoint only; seL4's slow path receives a signal.
    const setup = shortLookupSetup(S.ntfn)
    const round = [clientCall(2), seL4_ReplyRecv(short, { mrs: [1, 2] })]
    expectFastpath(setup, round, { calls: 1, replyRecvs: 0 })
    const server = objectOf(specRun(setup).state, S.server)
    expect(threadState(specRun([...setup, ...round]).state, server)?.tag).toBe("BlockedOnNotification")
  })

  // With the server at the client's priority the domain matters to ReplyRecv's priority check; with
  // the server below it, to Call's too (it looks at the ready queues only for a receiver of lower priority).
  it.each([
    { serverPrio: 200, checks: "ReplyRecv's" },
    { serverPrio: 150, checks: "Call's and ReplyRecv's" },
  ])("with client and server in domain 1 and a higher-priority thread ready in domain 0: $checks priority check reads the current domain's queues", ({ serverPrio }) => {
    // Client (the root thread) drops to priority 200, the server to `serverPrio`; a third thread of
    // priority 255 (sharing the root's IPC buffer) starts in domain 0 and, running, moves the other
    // two to domain 1; ticks then bring domain 1 round.
    const other = 112
    const setup: Event[] = [
      ...pingPongSetup(),
      seL4_TCB_SetPriority(S.server, InitialSlot.InitThreadTCB, serverPrio),
      seL4_TCB_SetPriority(InitialSlot.InitThreadTCB, InitialSlot.InitThreadTCB, 200),
      seL4_Untyped_Retype(bootInfo(domainsBootConfig).untyped.start, ObjectType.TCB, 0, InitialSlot.InitThreadCNode, 0, 0, other, 1),
      seL4_TCB_Configure(other, 0, InitialSlot.InitThreadCNode, 0, InitialSlot.InitThreadVSpace, 0, rootIPCBufferVAddr, InitialSlot.InitThreadIPCBuffer),
      seL4_TCB_SetPriority(other, InitialSlot.InitThreadTCB, 255),
      seL4_TCB_Resume(other),
      seL4_DomainSet_Set(InitialSlot.Domain, 1, InitialSlot.InitThreadTCB),
      seL4_DomainSet_Set(InitialSlot.Domain, 1, S.server),
    ]
    let st = setup.reduce((x, e) => stepWithOutcome(x, e).state, boot(domainsBootConfig))
    for (let i = 0; i < 20 && st.curDomain !== 1; i++) { setup.push({ tag: "TimerTick" }); st = stepWithOutcome(st, { tag: "TimerTick" }).state }
    // The scene as meant: domain 1 runs the client; the third thread waits, ready, in domain 0.
    const ready = [...st.kheap.values()].filter((o) => o.tag === "TCB" && o.tcbDomain === 0 && o.tcbPriority === 255 && o.tcbState.tag === "Running")
    expect(st.curDomain).toBe(1)
    expect(ready.length).toBe(1)
    expectFastpath(setup, rounds(8), { calls: 8, replyRecvs: 8 }, domainsBootConfig)
  })

  // Ties in priority: seL4's fastpath switches directly when the thread it switches to is of at
  // least the highest ready priority (`isHighestPrio`: >=), so a third thread ready at the same
  // priority must not send it down the slow path. At the server's priority it tests Call's check
  // (the server below the client); at the client's, ReplyRecv's.
  it.each([
    { at: "the server's priority (below the client's): Call's check", serverPrio: 200, otherPrio: 200 },
    { at: "the client's and server's priority: ReplyRecv's check", serverPrio: 255, otherPrio: 255 },
  ])("with a third thread ready at $at, the fastpath is taken on the tie and agrees", ({ serverPrio, otherPrio }) => {
    const other = 112
    const setup: Event[] = [
      ...pingPongSetup(),
      seL4_TCB_SetPriority(S.server, InitialSlot.InitThreadTCB, serverPrio),
      ...readyThread(other, otherPrio),
    ]
    // The scene as meant: the client runs, the server waits in Recv, the third thread is ready.
    const st = specRun(setup).state
    const ready = [...st.readyQueues.values()].flat()
    expect(st.curThread).toBe(boot(defaultBootConfig).curThread)
    expect(ready.length).toBe(1)
    expect(st.kheap.get(ready[0]!)).toMatchObject({ tag: "TCB", tcbPriority: otherPrio })
    expectFastpath(setup, rounds(8), { calls: 8, replyRecvs: 8 })
  })

  // The receiver below the caller with a thread ready in between: seL4 must schedule that thread, so
  // the fastpath, which would switch to the receiver, has to leave the Call to the slow path.
  it("with a third thread ready between the server's priority and the client's, the Call goes the slow path and the third thread runs", () => {
    const other = 112
    const setup: Event[] = [
      ...pingPongSetup(),
      seL4_TCB_SetPriority(S.server, InitialSlot.InitThreadTCB, 150),
      ...readyThread(other, 200),
    ]
    const call = [clientCall(2)]
    expectFastpath(setup, call, { calls: 0 })
    // The client runs after the setup, so its CSpace names the third thread.
    const third = objectOf(specRun(setup).state, other)
    expect(specRun([...setup, ...call]).state.curThread).toBe(third)
  })

  // A ReplyRecv through a cap that may send but not receive: seL4 replies, then the receive faults
  // (no Read right: a missing-capability lookup fault), so the fastpath must not block the server.
  it("with the server's ReplyRecv through a cap without Read, the reply goes the slow path and the receive faults", () => {
    const writeOnly = 113
    const setup: Event[] = [
      ...pingPongSetup(),
      seL4_CNode_Mint(InitialSlot.InitThreadCNode, writeOnly, 32, InitialSlot.InitThreadCNode, S.ep, 32, RightW, 0),
    ]
    const round = [clientCall(1), seL4_ReplyRecv(writeOnly, { mrs: [7] })]
    expectFastpath(setup, round, { calls: 1, replyRecvs: 0 })
    const server = objectOf(specRun(setup).state, S.server)
    expect(threadState(specRun([...setup, ...round]).state, server)?.tag).toBe("Inactive")
  })

  // seL4's fastpath switches address space itself, so it runs only to a thread whose VTable slot holds
  // a page directory with an ASID (isValidVTableRoot_fp); kspec models no MMU context, so the two paths
  // agree either way, and only the hit count shows which ran.
  it("with the server's VTable cap revoked, Calls to it go the slow path and agree; its ReplyRecvs to the client still take the fastpath", () => {
    const setup: Event[] = [...pingPongSetup(), seL4_CNode_Revoke(InitialSlot.InitThreadCNode, S.serverPD, 32)]
    const server = objectOf(specRun(setup).state, S.server)
    expect(specRun(setup).state.caps.get(slotOf(server, tcbVTable))).toBeUndefined()
    expectFastpath(setup, rounds(6), { calls: 0, replyRecvs: 6 })
  })

  it("with the client's VTable cap revoked, its Calls take the fastpath and the server's ReplyRecvs to it go the slow path, and agree", () => {
    const setup: Event[] = [...pingPongSetup(), seL4_CNode_Revoke(InitialSlot.InitThreadCNode, InitialSlot.InitThreadVSpace, 32)]
    const client = specRun(setup).state.curThread
    expect(specRun(setup).state.caps.get(slotOf(client, tcbVTable))).toBeUndefined()
    expectFastpath(setup, rounds(6), { calls: 6, replyRecvs: 0 })
  })

  // lookup_fp walks the CSpace without checking depth at each level, so a lookup that resolves
  // more than 32 bits must be refused at the end: the slow path reports a depth mismatch there.
  it("with a Call through a cptr that resolves 33 bits, the fastpath refuses it and the slow path faults", () => {
    // A CNode of radix 8 in root slot 111; in its slot 5, the root CNode (radix 8) minted with a
    // 17-bit zero guard: 8 + 17 + 8 bits. Read without the final check, (5 << 24) | 50 would reach
    // root slot 100, the endpoint.
    const cnodeA = 111
    const setup = [
      ...pingPongSetup(),
      ...twoLevelCSpace(cnodeA, 17),
      seL4_TCB_SetSpace(InitialSlot.InitThreadTCB, 0, cnodeA, 0, InitialSlot.InitThreadVSpace, 0),
    ]
    const call = [seL4_Call(((5 << 24) | 50) >>> 0, { mrs: [1] })]
    expectFastpath(setup, call, { calls: 0 })
    expect(specRun([...setup, ...call]).results.at(-1)).toBe("CapFault")
  })

  // A signal pending on the server's bound notification: seL4's receive takes it at once, so the
  // fastpath, which would block the server on the endpoint, must leave the ReplyRecv to the slow path.
  it("with a signal pending on the server's bound notification, its ReplyRecv goes the slow path and it takes the signal", () => {
    const setup = [...pingPongSetup(), seL4_TCB_BindNotification(S.server, S.ntfn)]
    const round = [clientCall(1), seL4_Signal(S.ntfnBadge1), serverReplyRecv(1)]
    expectFastpath(setup, round, { calls: 1, replyRecvs: 0 })
    const server = objectOf(specRun(setup).state, S.server)
    expect(specRun([...setup, ...round]).state.curThread).toBe(server)
  })

  // seL4 keeps a thread's fault while its fault message waits to be received (cancelIPC clears it
  // only for BlockedOnReply), so a thread resumed from there runs with the fault still saved; its
  // next Call sends that fault (doIPCTransfer's fault transfer), not its message, so the fastpath,
  // which copies the message, must leave it to the slow path.
  it("with the client resumed while its fault message waited for a handler, its Call and the reply to it go the slow path, carrying the saved fault", () => {
    const helper = 115
    const setup: Event[] = [
      ...pingPongSetup(),
      // The client's fault handler: the second endpoint, where no one receives.
      seL4_TCB_SetSpace(InitialSlot.InitThreadTCB, S.otherEp, InitialSlot.InitThreadCNode, 0, InitialSlot.InitThreadVSpace, 0),
      ...readyThread(helper, 100),
      unknownSyscall(99),
      // The helper runs and resumes the client, whose fault is still saved.
      seL4_TCB_Resume(InitialSlot.InitThreadTCB),
    ]
    const s = specRun(setup).state
    const client = s.curThread
    expect(client).toBe(objectOf(s, InitialSlot.InitThreadTCB))
    expect(getTcb(s, client).tcbFault?.tag).toBe("UnknownSyscall")
    const call = [clientCall(2)]
    expectFastpath(setup, call, { calls: 0 })
    // The server's reply answers the fault (handleFaultReply), so it too goes the slow path.
    expectFastpath(setup, [...call, serverReplyRecv(1)], { calls: 0, replyRecvs: 0 })
    // The server got the fault message (the fault's label; the 12 syscall registers and the
    // syscall number), not the client's label 7 and two words.
    const after = specRun([...setup, ...call]).state
    const server = objectOf(after, S.server)
    expect(after.curThread).toBe(server)
    expect(messageInfoFromWord(getTcb(after, server).tcbContext.msgInfo)).toMatchObject({ label: faultLabel.UnknownSyscall, length: 13 })
  })

  it("with the server resumed while its fault message waited, its ReplyRecv goes the slow path and the client's reply is the server's fault", () => {
    const helper = 115
    const setup: Event[] = [
      ...pingPongSetup(),
      seL4_TCB_SetSpace(S.server, S.otherEp, InitialSlot.InitThreadCNode, 0, S.serverPD, 0),
      ...readyThread(helper, 100),
      // The client calls; the server, holding the reply cap, faults to the endpoint where no one receives.
      clientCall(2),
      unknownSyscall(99),
      // The helper runs (the client waits for its reply) and resumes the server.
      seL4_TCB_Resume(S.server),
    ]
    const s = specRun(setup).state
    const server = objectOf(s, S.server)
    expect(s.curThread).toBe(server)
    const round = [serverReplyRecv(1)]
    expectFastpath(setup, round, { replyRecvs: 0 })
    const after = specRun([...setup, ...round]).state
    const client = objectOf(after, InitialSlot.InitThreadTCB)
    expect(messageInfoFromWord(getTcb(after, client).tcbContext.msgInfo)).toMatchObject({ label: faultLabel.UnknownSyscall, length: 13 })
  })

  it("is on by default: a kernel booted without options takes it on the ping-pong round", () => {
    const k = Kernel.boot(defaultBootConfig)
    for (const e of pingPongSetup()) k.step(e)
    const before = k.fastpathHits
    for (const e of [clientCall(1), serverReplyRecv(1)]) k.step(e)
    expect(k.fastpathHits - before).toBe(2)
  })

  it(`and the fastpath impl refines the spec on the same traces, invariants included (seed=${b.seed})`, () => {
    fc.assert(
      fc.property(fc.array(pingPongRound, { minLength: 1, maxLength: 40 }).map((rs) => rs.flat()), (events) => {
        const r = runEvents(realImpl, defaultBootConfig, [...pingPongSetup(), ...events])
        if (r.failure) throw new Error(describeFailure(r.failure))
      }),
      { seed: b.seed, numRuns: b.runs },
    )
  })

  it(`on the general lockstep traces (seed=${b.seed})`, () => {
    fc.assert(
      fc.property(traceArb(b.depth), (choices) => {
        let s = boot(defaultBootConfig)
        const events: Event[] = []
        for (const c of choices) {
          const e = resolveChoice(s, c)
          s = stepWithOutcome(s, e).state
          events.push(e)
        }
        const r = compare([], events)
        if (r.diff !== null) throw new Error(r.diff.join("\n"))
      }),
      { seed: b.seed, numRuns: b.runs },
    )
  })
})
