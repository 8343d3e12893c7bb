/**
 * Event generation by choice sequences: a trace is drawn as a list of state-blind `Choice`s
 * (an operation and some selector words), and each choice is resolved against the current
 * spec state into a concrete event. Selectors index into the live caps and free slots of the
 * state, so nearly every event does real work, nothing is drawn only to be skipped, and
 * fast-check shrinks the choice list (fewer steps, smaller selectors) while every shrunk trace
 * still resolves to valid events. A share of choices is made hostile: stale or out-of-range
 * pointers, bad depths, random labels and lengths, raw words.
 *
 * Traces stay live: while the idle thread runs, a choice resolves to an interrupt that can wake
 * a thread (or a timer tick); and an event that would leave no thread able to run (every thread
 * blocked or stopped, no interrupt that could wake one) is replaced by its non-blocking variant
 * or by a Yield, except for one choice in `deadlockOdds`, so blocking and deadlock stay reachable.
 */
import fc from "fast-check"
import type { BootConfig, Cap, Event, PPtr, SlotPtr, SyscallEvent, SyscallKind } from "../../model/index.ts"
import {
  InitialSlot, InvocationLabel as L, ObjectType, RightR, RightW, SyscallKinds, asidPoolBits, getObjectSize, isFrameType, largePageBits, nMsgRegisters,
  sectionBits, superSectionBits, tcbCTable, timerIRQ, wordBits,
} from "../../model/index.ts"
import { isFinalCapability } from "../../spec/object/cnode.ts"
import type { KernelState } from "../../spec/index.ts"
import type { Outcome } from "../../spec/index.ts"
import { readyQueueIndex, slotOf, stepWithOutcome } from "../../spec/index.ts"
import { translate, userVSpaceRoot } from "../../spec/machine/mmu.ts"
import type { Address, AddressBook } from "./addressBook.ts"
import { boundaryEvent } from "./boundaries.ts"
import { addressBook } from "./addressBook.ts"
import { holdsReply, joinQueue, mintBadged, receiveCaller, recv, reply, replyThroughSaved, send, signal, userFault, waitNtfn, yieldEvent } from "./ipcOps.ts"
import type { Ctx } from "./resolveUtil.ts"
import { directOf, hostileWords, inRoot, invokeSyscall, pick, prefer, rare, selectorCount, selfCNodeCptr, sys, target } from "./resolveUtil.ts"
import { epState, faultHandlerEp, hasQueue, isLive, ntfnObj, otherActors, tcbAt } from "./stateView.ts"
import {
  bindNotification, domainSchedule, domainSet, idleEvent, interrupt, irqControlGet, irqHandler, nextActorStep, registers, resume, selfFaultHandlerStep,
  setPriority, setTLSBase, setupThread, suspend, unbindNotification,
} from "./threadOps.ts"
import { asidPoolOp, bigPageAccess, frameOtherOp, hasPoolUntyped, isMakePool, isPageTableUnmap, memoryOp, nextAddressSpaceStep, sharedMappedFrames, mapFrameOp, pageTableOp, pdFlushOp, unmapFrameOp } from "./vspaceOps.ts"

/**
 * Every operation with its default weight, in one table. CSpace work (retype to grow the state,
 * delete/revoke to shrink it) stays a third of the mass; the rest sets threads up and drives
 * IPC, notifications, interrupts and faults.
 */
export const defaultWeights = {
  // CSpace and untyped
  Retype: 9, Copy: 6, Mint: 6, Move: 4, Mutate: 3, Rotate: 3, Delete: 5, Revoke: 3, SaveCaller: 2, CancelBadgedSends: 2,
  InvokeOther: 2, Raw: 2,
  // threads
  SetupThread: 6, SetPriority: 5, Resume: 4, Suspend: 1, Registers: 3, BindNotification: 3, UnbindNotification: 1,
  SetTLSBase: 1,
  // endpoint IPC
  MintBadged: 5, Send: 9, Call: 8, Recv: 8, NBRecv: 2, Reply: 3, ReplyRecv: 4, Yield: 4,
  // notifications
  Signal: 4, Wait: 4, Poll: 2,
  // interrupts, faults, domains
  IRQControl: 2, IRQHandler: 5, Interrupt: 3, TimerTick: 7, UserFault: 3, DomainSet: 1, DomainSchedule: 1,
  // virtual memory: ASIDs, page tables, frames, flushes
  ASIDPool: 4, PageTable: 5, MapFrame: 7, UnmapFrame: 3, FrameOther: 2, PDFlush: 2,
  // user memory: reads, writes and jumps through the thread's VSpace
  Memory: 5,
} as const satisfies Record<string, number>

export type Op = keyof typeof defaultWeights
export const Ops: readonly Op[] = Object.keys(defaultWeights) as Op[]

/**
 * The default weights for a boot configuration. With several domains, threads move between
 * domains, the schedule is reconfigured and timer ticks come more often, so every domain's time
 * runs out within a trace and every domain's threads run.
 */
export const weightsFor = (config: BootConfig): Readonly<Record<Op, number>> =>
  config.numDomains > 1 ? { ...defaultWeights, DomainSet: 9, DomainSchedule: 3, TimerTick: 18 } : defaultWeights

/** The CSpace/untyped slice alone, as weighted before the IPC slice (for focused campaigns). */
export const cspaceWeights: Readonly<Record<Op, number>> = {
  ...(Object.fromEntries(Ops.map((o) => [o, 0])) as Record<Op, number>),
  Retype: 14, Copy: 14, Mint: 12, Move: 7, Mutate: 6, Rotate: 5, Delete: 9, Revoke: 6, SaveCaller: 2, CancelBadgedSends: 3,
  InvokeOther: 4, Raw: 3,
}

/** One state-blind choice: an operation and selector words resolved against the state. */
export interface Choice {
  readonly op: Op
  /** Selector words; each is reduced modulo the size of whatever it selects. */
  readonly w: readonly number[]
  /** 0..99: at `100 - hostilePercent` or above, one argument is replaced by a hostile word (shrinking towards 0 makes a choice benign). */
  readonly hostile: number
}

export const hostilePercent = 12
export const isHostile = (c: Choice): boolean => c.hostile >= 100 - hostilePercent
/** The share of choices (just below the hostile ones) whose invocation gets a boundary argument (boundaries.ts); KSPEC_BOUNDARY overrides it (0 turns the technique off, for measuring what it adds). */
export const boundaryPercent = Math.max(0, Math.min(100 - hostilePercent, Number(process.env.KSPEC_BOUNDARY ?? 8) || 0))
export const isBoundary = (c: Choice): boolean => !isHostile(c) && c.hostile >= 100 - hostilePercent - boundaryPercent
/** One choice in this many may leave every thread blocked or stopped (deadlock, idle for good). */
export const deadlockOdds = 64

const sel = fc.nat({ max: 0xffff })
/** A choice with ops weighted by `weights` (ops missing from `weights` get weight 0). */
export const choiceArb = (weights: Readonly<Partial<Record<Op, number>>> = defaultWeights): fc.Arbitrary<Choice> =>
  fc.record({
    op: fc.oneof(...Ops.filter((o) => (weights[o] ?? 0) > 0).map((o) => ({ arbitrary: fc.constant(o), weight: weights[o]! }))),
    // Selector words do not shrink: a trace shrinks by losing steps, and shrinking twelve words
    // of every step first would cost thousands of runs for counterexamples of the same length.
    w: fc.noShrink(fc.array(sel, { minLength: selectorCount, maxLength: selectorCount })),
    hostile: fc.nat({ max: 99 }),
  })

/** How traces are drawn. */
export interface TraceOptions {
  /**
   * Swarm testing (Groce et al., ISSTA 2012): each trace leaves out a random subset of the ops
   * (each with probability 1/2), and a choice of a left-out op is redrawn among the kept ones
   * by their weights. A fixed mix spreads every trace over all ops, so it rarely piles up one
   * kind of work (many queued senders, many signals, deep CNode trees); a trace that lacks
   * most ops does, and reaches states the mix never builds. Off by default (`traceArb`'s
   * traces are the fixed mix); campaigns turn it on for a share of their traces.
   */
  readonly swarm?: boolean
}

/** Which ops a swarm trace leaves out: true = left out. Not shrunk (a trace shrinks by its steps). */
const swarmArb = fc.noShrink(fc.array(fc.boolean(), { minLength: Ops.length, maxLength: Ops.length }))

/** `choices` with each left-out op redrawn among the kept ones, by weight, from the choice's own last word. */
export const applySwarm = (leftOut: readonly boolean[], weights: Readonly<Partial<Record<Op, number>>>, choices: readonly Choice[]): Choice[] => {
  const kept = Ops.filter((o, i) => !leftOut[i] && (weights[o] ?? 0) > 0)
  if (kept.length === 0 || kept.length === Ops.filter((o) => (weights[o] ?? 0) > 0).length) return [...choices]
  const total = kept.reduce((a, o) => a + weights[o]!, 0)
  const isKept = new Set(kept)
  return choices.map((c) => {
    if (isKept.has(c.op)) return c
    // A hash of the last selector word (the others steer the op's own arguments).
    let r = (Math.imul(c.w[selectorCount - 1] ?? 0, 0x9e3779b1) >>> 0) % total
    for (const o of kept) { r -= weights[o]!; if (r < 0) return { ...c, op: o } }
    return c
  })
}

/**
 * A trace of choices, up to `maxSteps` long. The array is drawn last step first: fast-check
 * shrinks an array's length by dropping its first items, and a trace must lose its last steps
 * (its failing prefix still fails) rather than its first (every later choice would resolve anew).
 */
export const traceArb = (maxSteps: number, weights?: Readonly<Partial<Record<Op, number>>>, opts: TraceOptions = {}): fc.Arbitrary<Choice[]> => {
  const choices = fc.array(choiceArb(weights), { minLength: 1, maxLength: maxSteps, size: "max" }).map((a) => a.slice().reverse())
  return opts.swarm !== true ? choices
    : fc.tuple(swarmArb, choices).map(([leftOut, cs]) => applySwarm(leftOut, weights ?? defaultWeights, cs))
}

const ev = (syscall: SyscallKind, cptr: number, label: number, mrs: readonly number[], extraCaps: readonly number[]): Event =>
  sys(syscall, cptr, label, mrs, extraCaps)

/**
 * Addresses of live caps a generator may touch. Caps whose loss kills the root thread (its TCB,
 * its CSpace root, its IPC buffer) are left out except for one choice in 32, so most traces keep
 * a running thread while the kill paths stay covered.
 */
const touchable = (book: AddressBook, w: number): readonly Address[] => {
  if (w % 32 === 0) return book.live
  // The root task's own address space (its directory, ASID pool and page table) is spared 7 times in 8.
  const vital = new Set<number>([InitialSlot.InitThreadTCB, InitialSlot.InitThreadCNode, InitialSlot.InitThreadIPCBuffer,
    ...((w >>> 5) % 8 !== 0 ? [InitialSlot.InitThreadVSpace, InitialSlot.InitThreadASIDPool, rootPagingSlot] : [])])
  return book.live.filter((a) => !(a.via === InitialSlot.InitThreadCNode && vital.has(a.index)))
}

/** The root task's page table cap (boot info's userImagePaging: one table, the same slot for every configuration). */
const rootPagingSlot = InitialSlot.NumInitialCaps

/**
 * Would deleting the cap at `a` be long-running: a Zombie, or the last cap to a CNode or TCB
 * (seL4 `slotCapLongRunningDelete`)? With `queued`, only the last cap to a TCB in an IPC queue.
 */
const longDeletion = (s: KernelState, a: Address, queued = false): boolean => {
  const c = a.cap
  if (queued) {
    const st = c.tag === "ThreadCap" ? tcbAt(s, c.ptr)?.tcbState.tag : undefined
    return (st === "BlockedOnSend" || st === "BlockedOnReceive" || st === "BlockedOnNotification") && isFinalCapability(s, a.slot)
  }
  return c.tag === "ZombieCap" || ((c.tag === "CNodeCap" || c.tag === "ThreadCap") && isFinalCapability(s, a.slot))
}

/** Does the cap name a live part of an address space (or, for Revoke, an untyped that may back one)? */
const liveVSpaceCap = (c: Cap, revoke: boolean): boolean =>
  (c.tag === "PageDirectoryCap" && c.asid !== null) || (c.tag === "PageTableCap" && c.mapped !== null) ||
  (c.tag === "FrameCap" && c.mapped !== null) || c.tag === "ASIDPoolCap" || (revoke && c.tag === "UntypedCap" && !c.isDevice)

/** Has the ASID pool at `p` given out an ASID? */
const poolInUse = (s: KernelState, p: PPtr): boolean => {
  const o = s.kheap.get(p)
  return o?.tag === "ASIDPool" && o.pool.size > 0
}

/** Does the page directory at `pd` map anything below the kernel window? */
const hasUserMappings = (s: KernelState, pd: PPtr): boolean => {
  const o = s.kheap.get(pd)
  return o?.tag === "PageDirectory" && o.pdes.size > 0
}

/** Does `c` name an untyped whose memory holds a frame or page table some cap records as mapped? */
const backsMapping = (s: KernelState, c: Cap): boolean => {
  if (c.tag !== "UntypedCap") return false
  const end = c.ptr + 2 ** c.sizeBits
  for (const m of s.caps.values()) {
    if ((m.tag === "FrameCap" || m.tag === "PageTableCap") && m.mapped !== null && m.ptr >= c.ptr && m.ptr < end) return true
  }
  return false
}

/** A frame type: mostly small pages, then large pages and sections, now and then a super section (16 MiB: device memory). */
const frameType = (w: number): number =>
  [ObjectType.SmallPage, ObjectType.SmallPage, ObjectType.SmallPage, ObjectType.LargePage, ObjectType.Section,
    ObjectType.SmallPage, ObjectType.LargePage, ObjectType.SmallPage, ObjectType.Section, ObjectType.SuperSection][w % 10]!

/** Free slots of CNodes below the thread's root CNode (named through their caps, one or two levels down). */
const innerFree = (book: AddressBook): readonly Address[] => {
  const root = new Set(book.rootFree)
  return book.free.filter((a) => !root.has(a))
}

/**
 * A free slot address: one in four (when there is one) a slot of a CNode below the root. The root
 * CNode has far more slots than the CNodes made in a trace, so a uniform pick seldom names one:
 * CNode invocations then went through an inner CNode's cap (its guard and radix) one time in
 * seventeen, and never two levels down.
 */
const freeSlot = (book: AddressBook, w: number): Address | undefined => {
  if (!rare(w >>> 13, 4)) return pick(book.free, w)
  const inner = innerFree(book)
  // Half of those two levels down, when there is room there.
  const deep = (w >>> 12) % 2 === 1 ? pick(inner.filter((a) => a.level === 1), w) : undefined
  return deep ?? pick(inner, w) ?? pick(book.free, w)
}

/** Object type, with kernel objects more likely than big frames. */
const retypeType = (w: number): number => {
  const table = [
    ObjectType.Endpoint, ObjectType.Endpoint, ObjectType.Notification, ObjectType.Notification, ObjectType.CNode,
    ObjectType.CNode, ObjectType.TCB, ObjectType.Untyped, ObjectType.Untyped, ObjectType.SmallPage, ObjectType.PageTable,
    ObjectType.PageDirectory, ObjectType.LargePage, ObjectType.TCB, ObjectType.PageDirectory,
  ]
  return table[w % table.length]!
}

const userSizeFor = (type: number, ut: Cap | undefined, w: number): number => {
  // CNodes of 2 to 16 slots; one in eight of 32 or 64 (a long deletion, slot by slot).
  if (type === ObjectType.CNode) return rare(w >>> 5, 8) ? 5 + ((w >>> 8) % 2) : 1 + (w % 4)
  if (type === ObjectType.Untyped) {
    const max = ut?.tag === "UntypedCap" ? ut.sizeBits : 12
    return 4 + (w % Math.max(1, max - 3))
  }
  return w % 3 === 0 ? w % 40 : 0
}

/**
 * Untyped_Retype(type, size, root, index, depth, offset, count) into `dest`. The window is
 * (destination CNode, offset): node depth 0 names the thread's root CNode itself, depth 32 a
 * CNode cap in one of its slots.
 */
const retype = (
  x: Ctx, sk: SyscallKind, ut: number, type: number, size: number, dest: Address | undefined, count: number, w: number,
): Event => {
  const root = selfCNodeCptr(x)
  const args = dest === undefined || inRoot(x.s, x.t, dest.slot)
    ? [type, size, 0, 0, dest?.offset ?? w % 256, count]
    : [type, size, cnodeCapOf(x, dest)?.cptr ?? dest.via, wordBits, dest.offset, count]
  return ev(sk, ut, L.UntypedRetype, args, [root])
}

/** The root-CNode slot holding a cap to the CNode `a` lies in (how a retype names its destination CNode). */
const cnodeCapOf = (x: Ctx, a: Address): AddressBook["cnodeRoots"][number] | undefined =>
  x.book.cnodeRoots.find((r) => a.slot >= r.cap.ptr && a.slot < slotOf(r.cap.ptr, 2 ** r.cap.radix))

/** CNodes other than the thread's CSpace root, named by their caps in its root CNode. */
const innerCNodes = (x: Ctx): AddressBook["cnodeRoots"] => {
  const root = x.s.caps.get(slotOf(x.t, tcbCTable))
  return x.book.cnodeRoots.filter((r) => root?.tag !== "CNodeCap" || r.cap.ptr !== root.ptr)
}

/**
 * A CNode or TCB made inside another CNode (its only cap there), for a deletion of that CNode
 * to meet (seL4 parks it as a cyclic Zombie); or, with no CNode to nest in, a CNode in the root
 * CNode first. Undefined when there is nothing to retype from or no room.
 */
const nestedObject = (x: Ctx): Event | undefined => {
  const outer = pick(innerCNodes(x), x.w[3]!)
  if (outer === undefined) return retypeObject(x, ObjectType.CNode, 2 + (x.w[2]! % 3))
  const size = 2 ** outer.cap.radix
  const free = Array.from({ length: size }, (_, j) => j).filter((j) => !x.s.caps.has(slotOf(outer.cap.ptr, j)))
  const j = pick(free, x.w[5]!)
  const uts = directOf(x.book, "UntypedCap").filter((u) => !u.cap.isDevice && 2 ** u.cap.sizeBits - u.cap.freeIndex >= 2 ** 11)
  const ut = pick(uts, x.w[0]!)
  if (j === undefined || ut === undefined) return undefined
  const tcb = x.w[1]! % 3 === 0
  const args = [tcb ? ObjectType.TCB : ObjectType.CNode, tcb ? 0 : 1 + (x.w[2]! % 3), outer.cptr, wordBits, j, 1]
  return ev(invokeSyscall(x.w[6]!), ut.cptr, L.UntypedRetype, args, [selfCNodeCptr(x)])
}

/** Final caps to CNodes that hold the only cap to another CNode or TCB (a deep deletion). */
const deepCNodes = (x: Ctx, live: readonly Address[]): readonly Address[] => {
  const holders = new Set<number>()
  for (const r of innerCNodes(x)) {
    if (r.cap.radix > 4) continue
    for (let j = 0; j < 2 ** r.cap.radix; j++) {
      const sl = slotOf(r.cap.ptr, j)
      const c = x.s.caps.get(sl)
      if ((c?.tag === "CNodeCap" || c?.tag === "ThreadCap" || c?.tag === "ZombieCap") && isFinalCapability(x.s, sl)) holders.add(r.cap.ptr)
    }
  }
  return live.filter((l) => l.cap.tag === "CNodeCap" && holders.has(l.cap.ptr) && isFinalCapability(x.s, l.slot))
}

/** Retype one object of `type` (of `userSize`) from an untyped with room for it into a free slot of the root CNode. */
const retypeObject = (x: Ctx, type: number, userSize = 0): Event => {
  const [w0, w1, w2] = x.w as [number, number, number]
  const bits = getObjectSize(type as ObjectType, userSize)
  const uts = directOf(x.book, "UntypedCap")
  // RAM with room to spare; a frame may come from device memory, and fill it.
  const frame = isFrameType(type)
  const roomy = uts.filter((u) => (frame || !u.cap.isDevice) && 2 ** u.cap.sizeBits - u.cap.freeIndex >= (u.cap.isDevice ? 1 : 2) * 2 ** bits)
  const ut = pick(roomy, w0) ?? pick(uts, w0)
  const dest = pick(x.book.rootFree, w1) ?? pick(x.book.free, w1)
  return retype(x, invokeSyscall(w2), ut?.cptr ?? w0 % 256, type, userSize, dest, 1, w1)
}

/**
 * What an op needs that the thread lacks, made first: an endpoint for IPC, a notification for
 * signalling, another thread to set up or resume, a page directory for a VSpace root, an IRQ
 * handler cap for IRQ handler invocations. One choice in eight goes ahead without (error paths).
 */
const prerequisite = (x: Ctx, op: Op): Event | undefined => {
  if (rare(x.w[10]!, 8)) return undefined
  const has = (tag: Cap["tag"]) => x.book.direct.some((d) => d.cap.tag === tag)
  // An endpoint or notification cap with the right the op needs (W to send, R to receive).
  const hasWith = (tag: "EndpointCap" | "NotificationCap", right: number) =>
    directOf(x.book, tag).some((d) => (d.cap.rights & right) !== 0)
  const otherThread = x.book.direct.some((d) => d.cap.tag === "ThreadCap" && d.cap.ptr !== x.t)
  const mk = (type: number) => retypeObject(x, type)
  // Blocking IPC wants a partner: unless a rendezvous is at hand, mostly build another thread
  // first (one choice in four goes without).
  const partner = (ready: boolean) => (ready || rare(x.w[10]! >>> 3, 4) ? undefined : nextActorStep(x, mk))
  const queued = (tag: "RecvEP" | "SendEP") => directOf(x.book, "EndpointCap").some((e) => epState(x.s, e.cap.ptr)?.tag === tag)
  switch (op) {
    case "Send": case "Call":
      return hasWith("EndpointCap", RightW) ? partner(queued("RecvEP")) : mk(ObjectType.Endpoint)
    case "Recv": case "ReplyRecv":
      return hasWith("EndpointCap", RightR) ? partner(queued("SendEP")) : mk(ObjectType.Endpoint)
    case "Wait":
      return hasWith("NotificationCap", RightR)
        ? partner(directOf(x.book, "NotificationCap").some((n) => ntfnObj(x.s, n.cap.ptr)?.state.tag === "ActiveNtfn"))
        : mk(ObjectType.Notification)
    case "UserFault": {
      const h = faultHandlerEp(x.s, x.t)
      return selfFaultHandlerStep(x, mk) ?? partner(h !== undefined && epState(x.s, h.ptr)?.tag === "RecvEP")
    }
    case "Yield": case "Resume": {
      // A Yield with no thread to yield to, or a Resume with none stopped nearby: bring a partner up.
      if (otherActors(x.s, x.t).length === 0 && !rare(x.w[10]! >>> 3, 4)) return nextActorStep(x, mk)
      // A Yield with an equal-priority thread ready: half the time a timer tick instead, so time
      // slices run out while a peer waits (the thread then goes to the back of its queue).
      const me = tcbAt(x.s, x.t)
      if (op === "Yield" && me !== undefined && x.w[10]! % 2 === 0 &&
        (x.s.readyQueues.get(readyQueueIndex(me.tcbDomain, me.tcbPriority))?.length ?? 0) > 0) return { tag: "TimerTick" }
      return op === "Resume" && !otherThread ? mk(ObjectType.TCB) : undefined
    }
    case "NBRecv":
      return hasWith("EndpointCap", RightR) ? undefined : mk(ObjectType.Endpoint)
    // With a caller to answer, one Reply in four first saves it into a free slot, to answer later
    // through the saved cap (a server that defers its replies). With none: a Reply answers through
    // a saved reply cap, if the thread holds one; else either op takes a waiting caller first, when
    // one waits where the thread can receive; else, half the time, becomes a caller (another
    // thread's Reply then takes it).
    case "Reply": case "SaveCaller":
      if (holdsReply(x.s, x.t)) {
        if (op === "SaveCaller" || (x.w[10]! >>> 9) % 4 !== 0) return undefined
        const [v, i, d] = target(freeSlot(x.book, x.w[0]!), x.w[0]!)
        return ev(invokeSyscall(x.w[6]!), v, L.CNodeSaveCaller, [i, d], [])
      }
      return (op === "Reply" ? replyThroughSaved(x) : undefined) ?? receiveCaller(x) ?? ((x.w[10]! >>> 7) % 2 === 0 ? send(x, true) : undefined)
    // One Delete in three first builds a deep CNode (a CNode or TCB whose only cap is in another
    // CNode) unless there is one to delete.
    case "Delete":
      return rare(x.w[10]! >>> 5, 3) && deepCNodes(x, x.book.live).length === 0 ? nestedObject(x) : undefined
    case "MintBadged":
      return has("EndpointCap") ? undefined : mk(ObjectType.Endpoint)
    case "Signal":
      return hasWith("NotificationCap", RightW) ? undefined : mk(ObjectType.Notification)
    case "Poll": case "BindNotification":
      return hasWith("NotificationCap", RightR) ? undefined : mk(ObjectType.Notification)
    case "SetupThread":
      if (!otherThread) return retypeObject(x, ObjectType.TCB)
      return has("PageDirectoryCap") ? undefined : retypeObject(x, ObjectType.PageDirectory)
    case "Suspend": case "Registers": case "SetTLSBase":
      return otherThread ? undefined : retypeObject(x, ObjectType.TCB)
    case "IRQHandler":
      return has("IRQHandlerCap") || !has("IRQControlCap") ? undefined : irqControlGet(x)
    // Virtual memory: a directory to give an ASID (or a 4 KiB untyped for a pool), a page table, a frame.
    case "ASIDPool":
      if (isMakePool(x.w[0]!)) return hasPoolUntyped(x) ? undefined : retypeObject(x, ObjectType.Untyped, asidPoolBits)
      return buildAddressSpace(x, 3, mk) ?? (directOf(x.book, "PageDirectoryCap").some((d) => d.cap.asid === null) ? undefined : mk(ObjectType.PageDirectory))
    case "PageTable":
      return buildAddressSpace(x, 1, mk) ?? (directOf(x.book, "PageTableCap").some((d) => d.cap.mapped === null) || isPageTableUnmap(x.w[0]!) ? undefined : mk(ObjectType.PageTable))
    case "MapFrame": {
      const frames = directOf(x.book, "FrameCap")
      // One time in six a super section or a section first, while the thread has neither (both come from the
      // 16 MiB device untyped: whichever comes first shuts out the other, so a trace has one or the other);
      // when the op will want a big frame (mapFrameOp), a large page first if there is no unmapped one.
      if (x.w[1]! % 6 === 5 && !frames.some((d) => d.cap.sizeBits >= sectionBits)) return mk((x.w[1]! >>> 3) % 2 === 0 ? ObjectType.SuperSection : ObjectType.Section)
      if ((x.w[1]! >>> 8) % 4 === 1 && !frames.some((d) => d.cap.sizeBits === largePageBits && d.cap.mapped === null)) return mk(ObjectType.LargePage)
      return buildAddressSpace(x, 2, mk) ?? (frames.some((d) => d.cap.mapped === null) || x.w[0]! % 4 === 0 ? undefined : mk(frameType(x.w[1]!)))
    }
    case "UnmapFrame": case "FrameOther":
      return buildAddressSpace(x, 3, mk) ?? (has("FrameCap") ? undefined : mk(ObjectType.SmallPage))
    case "PDFlush": return buildAddressSpace(x, 3, mk)
    case "Memory": return buildAddressSpace(x, 1, mk)
    default: return undefined
  }
}

/**
 * Virtual-memory ops first build the thread an address space of its own with both levels
 * (`nextAddressSpaceStep`), `n` times in 5, while it has none.
 */
const buildAddressSpace = (x: Ctx, n: number, mk: (type: number) => Event): Event | undefined =>
  (x.w[10]! >>> 4) % 5 < n ? nextAddressSpaceStep(x, mk) : undefined

/**
 * Resolve a choice against the state into one event made by the current thread. Every choice
 * resolves; with no suitable cap or slot the event still goes out and exercises an error path.
 * `restart`: the syscall a preemption stopped when the current thread last entered the kernel.
 * seL4 runs it again (the thread's PC is still at the syscall); kspec has no instruction stream,
 * so the choice re-issues it, unchanged, 7 times in 8 (the 8th does what the choice says, as if
 * the thread had been redirected), with a fresh pending interrupt, so chains of restarts happen.
 */
export const resolveChoice = (s: KernelState, c: Choice, restart?: SyscallEvent): Event => {
  const t = s.curThread
  const book = addressBook(s, t)
  const x: Ctx = { s, t, book, w: c.w.length >= selectorCount ? c.w : Array.from({ length: selectorCount }, (_, i) => c.w[i % Math.max(1, c.w.length)] ?? 0) }
  // The idle thread runs no user code: only an interrupt can change anything.
  if (t === s.idleThread) return idleEvent(x)
  if (restart !== undefined && !rare(x.w[9]! >>> 8, 8)) return withPendingIRQ(x, restart, true)
  const e0 = queueStep(x) ?? (rare(x.w[11]! >>> 9, bigPageOdds) ? bigPageAccess(x) : undefined) ?? resolveOp(x, c.op)
  const e = isHostile(c) ? makeHostile(x, e0) : isBoundary(c) ? boundaryEvent(x, e0) : e0
  const e1 = rare(x.w[9]! >>> 8, 8) ? e : withinBuffer(x, e)
  return rare(x.w[11]!, deadlockOdds) ? e1 : keepLive(x, e1)
}

/** One choice in this many joins a queue that holds a thread, when there is one (`queueStep`). */
const queueOdds = 6
/** One choice in this many reads, writes or jumps through a big mapping of the thread's own, when it has one (`bigPageAccess`). */
const bigPageOdds = 12

/**
 * One choice in `queueOdds`, whatever its op, joins a queue that holds a thread already
 * (`joinQueue`), so queues grow past one; with no other thread able to run, it first brings one
 * up (the joiner would otherwise be kept from blocking by `keepLive`).
 */
const queueStep = (x: Ctx): Event | undefined => {
  if (!rare(x.w[11]! >>> 6, queueOdds)) return undefined
  const join = joinQueue(x)
  if (join === undefined || otherActors(x.s, x.t).length > 0) return join
  return nextActorStep(x, (type) => retypeObject(x, type))
}

/**
 * A thread whose IPC buffer its own stores cannot reach (no page there, or read-only) sends what
 * fits in registers: the event without its buffer words (the words past MR3, the extra-cap
 * pointers, the receive slot), so the syscall is made; the kernel then reads whatever the buffer
 * holds. One time in eight the event goes as it is, and the stores fault.
 */
const withinBuffer = (x: Ctx, e: Event): Event => {
  // A Yield's words are there only to be stored (a hostile one): it keeps them.
  if (e.tag !== "Syscall" || e.syscall === "Yield" || (e.mrs.length <= nMsgRegisters && e.extraCaps.length === 0 && (e.recvSlot?.length ?? 0) === 0)) return e
  const tcb = tcbAt(x.s, x.t)
  if (tcb === undefined || translate(x.s, userVSpaceRoot(x.s, x.t), tcb.tcbIPCBuffer, "Write").ok) return e
  const { recvSlot: _r, ...rest } = e
  return { ...rest, mrs: e.mrs.slice(0, nMsgRegisters), extraCaps: [] }
}

/**
 * A long operation's event with an interrupt pending while the kernel runs it (most often):
 * mostly the timer's line (never masked), now and then a line with a handler (pending only if
 * unmasked) or a line that does not exist (never pending). A restart gets one 3 times in 4, a
 * first run 2 times in 3, so a preemption fires wherever the work counter reaches its limit.
 */
const withPendingIRQ = (x: Ctx, e: SyscallEvent, restart: boolean): SyscallEvent => {
  const w = x.w[9]!
  const { pendingIRQ: _old, ...bare } = e
  if (restart ? w % 4 === 3 : w % 3 === 2) return bare
  const r = (w >>> 2) % 16
  const signalled = Array.from({ length: x.s.numIRQs }, (_, i) => i).filter((i) => x.s.irqStates[i] === "IRQSignal")
  const irq = r < 13 ? timerIRQ : r < 15 ? pick(signalled, w >>> 6) ?? timerIRQ : x.s.numIRQs + ((w >>> 6) % 4)
  return { ...bare, pendingIRQ: irq }
}

/**
 * A badged endpoint or notification cap: its children are the copies that kept its badge (seL4's
 * isMDBParentOf compares badges), a rule that untypeds and unbadged caps, the most common
 * parents, never test.
 */
const isBadged = (c: Cap): boolean => (c.tag === "EndpointCap" || c.tag === "NotificationCap") && c.badge !== 0

/** The event an op resolves to for the current (non-idle) thread. */
const resolveOp = (x: Ctx, op: Op): Event => {
  const { book } = x
  const [w0, w1, w2, w3, w4, w5, w6, w7] = x.w as [number, number, number, number, number, number, number, number]
  const sk = invokeSyscall(w6)
  const live = touchable(book, w7)
  const root = selfCNodeCptr(x)
  const first = prerequisite(x, op)
  if (first !== undefined) return first
  let e: Event
  switch (op) {
    case "Retype": {
      const uts = book.direct.filter((d) => d.cap.tag === "UntypedCap")
      // One in four: an untyped that has been used and has no children left, so the retype first
      // resets it (seL4's resetUntypedCap) and carves the new objects, mostly of another type,
      // over the old ones' memory.
      const spent = uts.filter((d) => d.cap.tag === "UntypedCap" && d.cap.freeIndex > 0 && !x.s.cdtList.has(d.slot))
      const ut = (w6 >>> 4) % 4 === 0 ? pick(spent, w0) ?? pick(uts, w0) : pick(uts, w0)
      const type = retypeType(w1)
      const size = userSizeFor(type, ut?.cap, w2)
      // Mostly into the root CNode; one in four (when there is one) into a CNode one level down, so
      // that CNode holds the only cap to what is made there (deleting it then parks a nested CNode
      // or TCB as a cyclic Zombie, as seL4 does, rather than recurse).
      const slots = w5 % 8 === 0 ? book.all : book.free
      // A CNode, one in two (when there is room), goes into another CNode below the root, so
      // CSpaces two levels deep are there for the other ops to name.
      const nest = type === ObjectType.CNode && rare(w5 >>> 5, 2) ? pick(innerFree(book).filter((a) => a.level === 0), w3) : undefined
      const dest = nest ?? ((w5 >>> 3) % 4 === 3 ? pick(slots.filter((a) => a.level === 1), w3) : undefined) ?? pick(slots.filter((a) => a.level === 0), w3)
      // Mostly 1 to 3 objects; one in eight a batch of up to 16 (an untyped with many children to revoke).
      const count = rare(w4 >>> 4, 8) ? 4 + ((w4 >>> 7) % 13) : 1 + (w4 % 3)
      e = withPendingIRQ(x, retype(x, sk, ut?.cptr ?? w0 % 256, type, size, dest, count, w3) as SyscallEvent, false)
      break
    }
    case "Copy": case "Mint": case "Move": case "Mutate": {
      // One in six (when there is one) a badged endpoint or notification cap: a copy keeps its badge and is its child.
      const src = ((w5 >>> 3) % 6 === 0 ? pick(live.filter((l) => isBadged(l.cap)), w0) : undefined) ?? pick(live, w0)
      // One in eight names an occupied destination (DeleteFirst).
      const dest = w5 % 8 === 0 ? pick(book.live, w1) : freeSlot(book, w1)
      const [dv, di, dd] = target(dest, w1)
      const [sv, si, sd] = target(src, w0)
      const rights = w2 % 4 === 0 ? 15 : w2 % 16
      const data = w3 % 3 === 0 ? 0 : w3 % 2 === 0 ? (w3 % 200) : ((w3 % 4) << 8) | ((w4 % 8) << 3)
      const label = { Copy: L.CNodeCopy, Mint: L.CNodeMint, Move: L.CNodeMove, Mutate: L.CNodeMutate }[op]
      const base = [di, dd, si, sd]
      const args = op === "Copy" ? [...base, rights] : op === "Mint" ? [...base, rights, data] : op === "Mutate" ? [...base, data] : base
      // Source and destination must be named from the same CNode cap for the invocation; when
      // they differ the source root is passed as the extra cap.
      e = ev(sk, dv, label, args, [sv])
      break
    }
    case "Rotate": {
      const src = pick(live, w0)
      // Mostly a free destination; a quarter the source itself (a swap); rarely another occupied
      // slot (DeleteFirst).
      const dest = w5 % 4 === 0 ? src : w5 % 16 === 1 ? pick(live, w2 >>> 3) : freeSlot(book, w2)
      // Mostly any live slot; one time in eight the destination, one in eight the source: seL4
      // refuses a pivot that is either (IllegalOperation), which a random pick reaches only by
      // chance, and for the destination almost never (a free slot, or a rare occupied one).
      const alias = (w5 >>> 4) % 8
      const pivot = alias === 0 && dest !== undefined ? dest : alias === 1 ? src : pick(live, w1)
      const [dv, di, dd] = target(dest, w2)
      const [sv, si, sd] = target(src, w0)
      const [pv, pi, pd] = target(pivot, w1)
      e = ev(sk, dv, L.CNodeRotate, [di, dd, 0, pi, pd, 0, si, sd], [pv, sv])
      break
    }
    case "Delete": case "Revoke": {
      // One in three deletes a cap to an endpoint or notification with threads queued on it
      // (its last cap: every queued thread restarts); one in four a cap to a live part of an
      // address space (a directory with an ASID, a mapped table or frame, a pool), or revokes an
      // untyped whose memory backs one; one in four (when there is one) a mapped frame cap with
      // another cap to its frame (deleting it unmaps the frame all the same).
      // One in four otherwise (Delete) a long deletion: the last cap to a CNode or a TCB, or a
      // Zombie a preempted deletion left; for Revoke, a cap with children.
      const vspace = live.filter((l) => liveVSpaceCap(l.cap, op === "Revoke"))
      const long = () => (op !== "Delete" ? live.filter((l) => x.s.cdtList.has(l.slot))
        : (w4 >>> 3) % 2 === 0 ? live.filter((l) => longDeletion(x.s, l, true))
        : live.filter((l) => longDeletion(x.s, l)))
      // One Delete in two a deep CNode (one holding the only cap to another CNode or TCB), if any.
      const deep = op === "Delete" && (w4 >>> 5) % 2 === 0 ? pick(deepCNodes(x, live), w0) : undefined
      // Half the revokes pick an untyped whose memory backs a mapped frame or page table, if there
      // is one; a delete, one time in four, a directory with an ASID and mappings in it, one time
      // in eight an ASID pool in use.
      const backing = op === "Revoke" ? ((w4 >>> 7) % 2 === 0 ? vspace.filter((l) => backsMapping(x.s, l.cap)) : [])
        : (w4 >>> 7) % 4 === 0 ? vspace.filter((l) => l.cap.tag === "PageDirectoryCap" && hasUserMappings(x.s, l.cap.ptr))
        // Or a pool with ASIDs given out: its directories' caps keep ASIDs that name nothing.
        : (w4 >>> 7) % 8 === 1 ? vspace.filter((l) => l.cap.tag === "ASIDPoolCap" && poolInUse(x.s, l.cap.ptr)) : []
      // One in four (when there is one) a badged endpoint or notification cap with children: a
      // revoke must spare its same-badge siblings, a delete hands its children to its parent
      // (seL4's emptySlot passes the first-badged mark on to the next cap).
      const badgedParent = (w4 >>> 11) % 4 === 0 ? pick(live.filter((l) => isBadged(l.cap) && x.s.cdtList.has(l.slot)), w0) : undefined
      const a = deep !== undefined ? deep
        : badgedParent !== undefined ? badgedParent
        : backing.length > 0 ? pick(backing, w0)
        : rare(w4, 3) ? pick(live.filter((l) => hasQueue(x.s, l.cap)), w0) ?? pick(live, w0)
        : w4 % 4 === 1 ? pick(vspace, w0) ?? pick(live, w0)
        : w4 % 4 === 2 ? pick(sharedMappedFrames(x, vspace), w0) ?? pick(live, w0)
        : (w4 >>> 2) % 2 === 0 ? pick(long(), w0) ?? pick(live, w0) : pick(live, w0)
      const [v, i, d] = target(a, w0)
      e = withPendingIRQ(x, ev(sk, v, op === "Delete" ? L.CNodeDelete : L.CNodeRevoke, [i, d], []) as SyscallEvent, false)
      break
    }
    case "SaveCaller": {
      const a = w5 % 4 === 0 ? pick(book.live, w0) : freeSlot(book, w0)
      const [v, i, d] = target(a, w0)
      e = ev(sk, v, L.CNodeSaveCaller, [i, d], [])
      break
    }
    case "CancelBadgedSends": {
      // Half the time a badged all-rights cap to an endpoint with senders queued (the others are no-ops or refused).
      const eps = book.live.filter((l) => l.cap.tag === "EndpointCap")
      const useful = eps.filter((l) => l.cap.tag === "EndpointCap" && l.cap.badge !== 0 && l.cap.rights === 15 && epState(x.s, l.cap.ptr)?.tag === "SendEP")
      const a = prefer(useful, eps, w0, 1, 2)
      const [v, i, d] = target(a, w0)
      e = ev(sk, v, L.CNodeCancelBadgedSends, [i, d], [])
      break
    }
    case "InvokeOther": {
      const a = pick(book.direct, w0)
      e = ev(sk, a?.cptr ?? w0, w1 % 52, [w2, w3, w4], [root])
      break
    }
    case "Raw": {
      // Mostly NBSend: a bad cap pointer on Send or Call faults, and with no fault handler the
      // thread stops, ending the interesting part of the trace.
      const kind: SyscallKind = w6 % 16 === 0 ? SyscallKinds[w5 % SyscallKinds.length]! : "NBSend"
      const cptr = w0 % 2 === 0 ? w0 % 300 : (w0 * 65_537 + w1) >>> 0
      const mrs = Array.from({ length: w2 % 9 }, (_, i) => (x.w[i % 8]! * 2_654_435_761) >>> 0)
      const msgInfo = ((w3 % 40) << 12 | (w4 % 4) << 7 | (w5 % 128)) >>> 0
      e = { tag: "Syscall", syscall: kind, cptr, msgInfo, mrs, extraCaps: [w7 % 300, w1 % 300, w2 % 300] }
      break
    }
    case "MintBadged": return mintBadged(x)
    case "SetupThread": return setupThread(x)
    case "SetPriority": return setPriority(x)
    case "Resume": return resume(x)
    case "Suspend": return suspend(x)
    case "Registers": return registers(x)
    case "SetTLSBase": return setTLSBase(x)
    case "BindNotification": return bindNotification(x)
    case "UnbindNotification": return unbindNotification(x)
    case "Send": return send(x, false)
    case "Call": return send(x, true)
    case "Recv": return recv(x, "Recv")
    case "NBRecv": return recv(x, "NBRecv")
    case "ReplyRecv": return recv(x, "ReplyRecv")
    case "Reply": return reply(x)
    case "Yield": return yieldEvent()
    case "Signal": return signal(x)
    case "Wait": return waitNtfn(x, false)
    case "Poll": return waitNtfn(x, true)
    case "IRQControl": return irqControlGet(x)
    case "IRQHandler": return irqHandler(x)
    case "Interrupt": return interrupt(x, w0)
    case "TimerTick": return { tag: "TimerTick" }
    case "UserFault": return userFault(x)
    case "DomainSet": return domainSet(x)
    case "DomainSchedule": return domainSchedule(x)
    case "ASIDPool": return asidPoolOp(x)
    case "PageTable": return pageTableOp(x)
    case "MapFrame": return mapFrameOp(x)
    case "UnmapFrame": return unmapFrameOp(x)
    case "FrameOther": return frameOtherOp(x)
    case "PDFlush": return pdFlushOp(x)
    case "Memory": return memoryOp(x)
  }
  return e
}

/**
 * Could the current thread survive a cap fault here? With a fault handler it blocks on the
 * handler's endpoint; without, it stops. Either way `keepLive` decides later whether the trace
 * can afford it; here a fault-prone corruption is only chosen when the thread has a handler or
 * another thread could act, so hostile words mostly exercise decode paths rather than stop threads.
 */
const faultSafe = (x: Ctx): boolean => faultHandlerEp(x.s, x.t) !== undefined || otherActors(x.s, x.t).length > 0

/**
 * Replace one word of the event by a hostile one: for invocations and sends the cap pointer, a
 * message word, an extra cap or the label/length; for receives the receive-slot words or the cap
 * pointer; for interrupts the line; for user faults a fault word.
 */
const makeHostile = (x: Ctx, e0: Event): Event => {
  const w = x.w[7]! ^ x.w[5]!
  const bad = w % 5 === 0 ? (x.w[4]! * 2_654_435_761) >>> 0 : hostileWords[w % hostileWords.length]!
  switch (e0.tag) {
    case "TimerTick": return e0
    case "Interrupt": return { tag: "Interrupt", irq: bad }
    case "UserFault": {
      const words = e0.words.slice()
      words[x.w[6]! % Math.max(1, words.length)] = bad
      return { ...e0, words }
    }
    // Any address: mostly one that faults.
    case "MemoryAccess": return { ...e0, vaddr: bad }
    case "Syscall": break
  }
  const e1 = e0
  if (e1.syscall === "Recv" || e1.syscall === "NBRecv" || e1.syscall === "ReplyRecv") {
    // A bad cap pointer on a receive is a cap fault even for NBRecv.
    if (w % 4 === 3 && faultSafe(x)) return { ...e1, cptr: bad }
    const rs = (e1.recvSlot ?? [0, 0, 0]).slice()
    rs[w % 3] = bad
    return { ...e1, recvSlot: rs }
  }
  // A hostile Yield: any message info, and half the time words for the IPC buffer (a Yield reads none).
  if (e1.syscall === "Yield") return w % 2 === 0 ? { ...e1, msgInfo: bad } : { ...e1, msgInfo: bad, mrs: [0, 0, 0, 0, bad, bad] }
  // As for raw events: a hostile pointer mostly goes out as NBSend so the thread survives it.
  const blocking = e1.syscall === "Send" || e1.syscall === "Call"
  const e: SyscallEvent = blocking && (!faultSafe(x) || (w % 4 !== 3 && x.w[6]! % 16 !== 0)) ? { ...e1, syscall: "NBSend" } : e1
  switch (w % 4) {
    case 0: return e.syscall === "Reply" ? { ...e, msgInfo: bad } : { ...e, cptr: bad }
    case 1: {
      if (e.mrs.length === 0) return { ...e, cptr: bad }
      const mrs = e.mrs.slice()
      mrs[x.w[6]! % mrs.length] = bad
      return { ...e, mrs }
    }
    case 2: {
      const extraCaps = e.extraCaps.length === 0 ? [bad] : e.extraCaps.map((v, i) => (i === 0 ? bad : v))
      return { ...e, extraCaps, msgInfo: (e.msgInfo & ~(3 << 7)) | (extraCaps.length << 7) }
    }
    default: {
      // Shorten the message or change its label.
      const mi = e.msgInfo
      return x.w[3]! % 2 === 0 ? { ...e, msgInfo: (mi & ~0x7f) | ((mi & 0x7f) >> 1) } : { ...e, msgInfo: ((mi & 0xfff) | ((bad % 40) << 12)) >>> 0 }
    }
  }
}

// ---- liveness ---------------------------------------------------------------------------------

/**
 * The spec steps the liveness check simulated, kept for the runner: the spec is pure, so the step
 * the runner is about to take from the same state with the same event has this very result.
 */
let simulated: { s: KernelState; results: { e: Event; r: { state: KernelState; outcome: Outcome } }[] } | null = null

/** The result of stepping `s` with `e` if resolution already simulated it (same objects), else undefined. */
export const simulatedStep = (s: KernelState, e: Event): { state: KernelState; outcome: Outcome } | undefined => {
  if (simulated === null || simulated.s !== s) return undefined
  const hit = simulated.results.find((x) => x.e === e)
  simulated = null
  return hit?.r
}

const stepOrUndefined = (s: KernelState, e: Event): KernelState | undefined => {
  let r: { state: KernelState; outcome: Outcome }
  try { r = stepWithOutcome(s, e) } catch { return undefined }
  if (simulated === null || simulated.s !== s) simulated = { s, results: [] }
  simulated.results.push({ e, r })
  return r.state
}

/** Variants of an event that do not block: the non-blocking syscall, then a Yield. */
const nonBlocking = (e: Event): Event[] => {
  const y = yieldEvent()
  if (e.tag !== "Syscall") return [y]
  switch (e.syscall) {
    case "Send": case "Call": return [{ ...e, syscall: "NBSend" }, y]
    case "Recv": return [{ ...e, syscall: "NBRecv" }, y]
    case "ReplyRecv": return [{ ...e, syscall: "Reply" }, y]
    default: return [y]
  }
}

/**
 * Keep the trace live: if the event would take a live state to one where no thread can act and
 * no interrupt can wake one, use the first non-blocking variant that keeps it live. A spec that
 * throws is left for the runner to report.
 */
const keepLive = (x: Ctx, e: Event): Event => {
  if (e.tag !== "Syscall" && e.tag !== "UserFault" && e.tag !== "MemoryAccess") return e
  // With two other threads able to act one event rarely stops all three: skip the simulation.
  if (otherActors(x.s, x.t).length >= 2 || !isLive(x.s)) return e
  const post = stepOrUndefined(x.s, e)
  if (post === undefined || isLive(post)) return e
  for (const alt of nonBlocking(e)) {
    const p = stepOrUndefined(x.s, alt)
    if (p === undefined || isLive(p)) return alt
  }
  return yieldEvent()
}
