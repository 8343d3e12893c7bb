/**
 * Event generation by choice sequences: a trace is drawn as a list of state-blind `Choice`s
 * (an operation and some selector words), and each choice is resolved against the current
 * spec state into a concrete event. Selectors index into the live caps and free slots of the
 * state, so nearly every event does real work, nothing is drawn only to be skipped, and
 * fast-check shrinks the choice list (fewer steps, smaller selectors) while every shrunk trace
 * still resolves to valid events. A share of choices is made hostile: stale or out-of-range
 * pointers, bad depths, random labels and lengths, raw words.
 */
import fc from "fast-check"
import type { Cap, Event, SyscallEvent, SyscallKind } from "../../model/index.ts"
import {
  InitialSlot, InvocationLabel as L, ObjectType, SyscallKinds, messageInfo, wordBits,
} from "../../model/index.ts"
import type { KernelState } from "../../spec/index.ts"
import type { Address, AddressBook } from "./addressBook.ts"
import { addressBook } from "./addressBook.ts"

export const Ops = [
  "Retype", "Copy", "Mint", "Move", "Mutate", "Rotate", "Delete", "Revoke", "SaveCaller", "CancelBadgedSends",
  "InvokeOther", "Raw",
] as const
export type Op = (typeof Ops)[number]

/** Default weights: capability-heavy work with retype to grow the state and delete/revoke to shrink it. */
export const defaultWeights: Readonly<Record<Op, number>> = {
  Retype: 14, Copy: 14, Mint: 12, Move: 7, Mutate: 6, Rotate: 5, Delete: 9, Revoke: 6, SaveCaller: 2,
  CancelBadgedSends: 3, InvokeOther: 4, Raw: 3,
}

/** One state-blind choice: an operation and selector words resolved against the state. */
export interface Choice {
  readonly op: Op
  /** Selector words; each is reduced modulo the size of whatever it selects. */
  readonly w: readonly number[]
  /** 0..99: below `hostilePercent`, one argument is replaced by a hostile word. */
  readonly hostile: number
}

export const hostilePercent = 12

const sel = fc.nat({ max: 0xffff })
/** A choice with ops weighted by `weights`. */
export const choiceArb = (weights: Readonly<Record<Op, number>> = defaultWeights): fc.Arbitrary<Choice> =>
  fc.record({
    op: fc.oneof(...Ops.filter((o) => weights[o] > 0).map((o) => ({ arbitrary: fc.constant(o), weight: weights[o] }))),
    w: fc.array(sel, { minLength: 8, maxLength: 8 }),
    hostile: fc.nat({ max: 99 }),
  })

/** A trace of choices, up to `maxSteps` long. */
export const traceArb = (maxSteps: number, weights?: Readonly<Record<Op, number>>): fc.Arbitrary<Choice[]> =>
  fc.array(choiceArb(weights), { minLength: 1, maxLength: maxSteps, size: "max" })

const pick = <T>(xs: readonly T[], w: number): T | undefined => (xs.length === 0 ? undefined : xs[w % xs.length])

/** Hostile words: edges of the word, stale-looking addresses, off-by-one depths. */
const hostileWords = [0, 1, 31, 32, 33, 64, 255, 256, 0x7fff_ffff, 0x8000_0000, 0xffff_fffe, 0xffff_ffff, 0x1000_0000, 0x2000_0010]

const syscallOf = (w: number): SyscallKind => (w % 10 < 6 ? "Call" : w % 10 < 9 ? "Send" : "NBSend")

const ev = (syscall: SyscallKind, cptr: number, label: number, mrs: readonly number[], extraCaps: readonly number[]): Event =>
  ({ tag: "Syscall", syscall, cptr, msgInfo: messageInfo(label, mrs.length, extraCaps.length), mrs, extraCaps })

/**
 * Addresses of live caps a generator may touch. Caps whose loss kills the root thread (its TCB,
 * its CSpace root, its IPC buffer) are left out except for one choice in 32, so most traces keep
 * a running thread while the kill paths stay covered.
 */
const touchable = (book: AddressBook, w: number): readonly Address[] => {
  if (w % 32 === 0) return book.live
  const vital = new Set<number>([InitialSlot.InitThreadTCB, InitialSlot.InitThreadCNode, InitialSlot.InitThreadIPCBuffer])
  return book.live.filter((a) => !(a.via === InitialSlot.InitThreadCNode && vital.has(a.index)))
}

/** A free slot address, preferring slots of the root CNode. */
const freeSlot = (book: AddressBook, w: number): Address | undefined => pick(book.free, w)

/** The (invoked cptr, index, depth) triple of an address; `null` gives a raw slot number in the root CNode. */
const target = (a: Address | undefined, w: number): [number, number, number] =>
  a === undefined ? [InitialSlot.InitThreadCNode, w % 256, wordBits] : [a.via, a.index, a.depth]

/** Object type, with kernel objects more likely than big frames. */
const retypeType = (w: number): number => {
  const table = [
    ObjectType.Endpoint, ObjectType.Endpoint, ObjectType.Notification, ObjectType.Notification, ObjectType.CNode,
    ObjectType.CNode, ObjectType.TCB, ObjectType.Untyped, ObjectType.Untyped, ObjectType.SmallPage, ObjectType.PageTable,
    ObjectType.PageDirectory, ObjectType.LargePage,
  ]
  return table[w % table.length]!
}

const userSizeFor = (type: number, ut: Cap | undefined, w: number): number => {
  if (type === ObjectType.CNode) return 1 + (w % 4)
  if (type === ObjectType.Untyped) {
    const max = ut?.tag === "UntypedCap" ? ut.sizeBits : 12
    return 4 + (w % Math.max(1, max - 3))
  }
  return w % 3 === 0 ? w % 40 : 0
}

/**
 * Resolve a choice against the state into one event made by the current thread. Every choice
 * resolves; with no suitable cap or slot the event still goes out and exercises an error path.
 */
export const resolveChoice = (s: KernelState, c: Choice): Event => {
  const book = addressBook(s, s.curThread)
  const [w0, w1, w2, w3, w4, w5, w6, w7] = c.w as [number, number, number, number, number, number, number, number]
  const sys = syscallOf(w6)
  const live = touchable(book, w7)
  const root = InitialSlot.InitThreadCNode
  let e: Event
  switch (c.op) {
    case "Retype": {
      const uts = book.direct.filter((d) => d.cap.tag === "UntypedCap")
      const ut = pick(uts, w0)
      const type = retypeType(w1)
      const size = userSizeFor(type, ut?.cap, w2)
      const dest = pick((w5 % 8 === 0 ? book.all : book.free).filter((a) => a.level === 0), w3)
      const count = 1 + (w4 % 3)
      // The window is (destination CNode, offset): node depth 0 names the root CNode itself,
      // depth 32 a CNode cap in one of its slots.
      const args = dest === undefined || dest.via === root
        ? [type, size, 0, 0, dest?.offset ?? w3 % 256, count]
        : [type, size, dest.via, wordBits, dest.offset, count]
      e = ev(sys, ut?.cptr ?? w0 % 256, L.UntypedRetype, args, [root])
      break
    }
    case "Copy": case "Mint": case "Move": case "Mutate": {
      const src = pick(live, w0)
      // One in eight names an occupied destination (DeleteFirst).
      const dest = w5 % 8 === 0 ? pick(book.live, w1) : freeSlot(book, w1)
      const [dv, di, dd] = target(dest, w1)
      const [sv, si, sd] = target(src, w0)
      const rights = w2 % 4 === 0 ? 15 : w2 % 16
      const data = w3 % 3 === 0 ? 0 : w3 % 2 === 0 ? (w3 % 200) : ((w3 % 4) << 8) | ((w4 % 8) << 3)
      const label = { Copy: L.CNodeCopy, Mint: L.CNodeMint, Move: L.CNodeMove, Mutate: L.CNodeMutate }[c.op]
      const base = [di, dd, si, sd]
      const args = c.op === "Copy" ? [...base, rights] : c.op === "Mint" ? [...base, rights, data] : c.op === "Mutate" ? [...base, data] : base
      // Source and destination must be named from the same CNode cap for the invocation; when
      // they differ the source root is passed as the extra cap.
      e = ev(sys, dv, label, args, [sv])
      break
    }
    case "Rotate": {
      const src = pick(live, w0)
      const pivot = pick(live, w1)
      const dest = w5 % 4 === 0 ? src : freeSlot(book, w2)
      const [dv, di, dd] = target(dest, w2)
      const [sv, si, sd] = target(src, w0)
      const [pv, pi, pd] = target(pivot, w1)
      e = ev(sys, dv, L.CNodeRotate, [di, dd, 0, pi, pd, 0, si, sd], [pv, sv])
      break
    }
    case "Delete": case "Revoke": {
      const a = pick(live, w0)
      const [v, i, d] = target(a, w0)
      e = ev(sys, v, c.op === "Delete" ? L.CNodeDelete : L.CNodeRevoke, [i, d], [])
      break
    }
    case "SaveCaller": case "CancelBadgedSends": {
      const a = c.op === "SaveCaller" ? (w5 % 4 === 0 ? pick(book.live, w0) : freeSlot(book, w0)) : pick(book.live.filter((x) => x.cap.tag === "EndpointCap"), w0)
      const [v, i, d] = target(a, w0)
      e = ev(sys, v, c.op === "SaveCaller" ? L.CNodeSaveCaller : L.CNodeCancelBadgedSends, [i, d], [])
      break
    }
    case "InvokeOther": {
      const a = pick(book.direct, w0)
      e = ev(sys, a?.cptr ?? w0, w1 % 34, [w2, w3, w4], [root])
      break
    }
    case "Raw": {
      // Mostly NBSend: a bad cap pointer on Send or Call faults, and with no fault handler the
      // thread stops, ending the interesting part of the trace.
      const kind: SyscallKind = w6 % 16 === 0 ? SyscallKinds[w5 % SyscallKinds.length]! : "NBSend"
      const cptr = w0 % 2 === 0 ? w0 % 300 : (w0 * 65_537 + w1) >>> 0
      const mrs = Array.from({ length: w2 % 9 }, (_, i) => (c.w[i % 8]! * 2_654_435_761) >>> 0)
      const msgInfo = ((w3 % 40) << 12 | (w4 % 4) << 7 | (w5 % 128)) >>> 0
      e = { tag: "Syscall", syscall: kind, cptr, msgInfo, mrs, extraCaps: [w7 % 300, w1 % 300, w2 % 300] }
      break
    }
  }
  return c.hostile < hostilePercent && e.tag === "Syscall" ? makeHostile(e, c) : e
}

/** Replace one word of the event by a hostile one: the cap pointer, a message word, an extra cap or the label/length. */
const makeHostile = (e0: SyscallEvent, c: Choice): SyscallEvent => {
  const w = c.w[7]! ^ c.w[5]!
  // As for raw events: a hostile pointer mostly goes out as NBSend so the thread survives it.
  const e: SyscallEvent = w % 4 !== 3 && c.w[6]! % 16 !== 0 ? { ...e0, syscall: "NBSend" } : e0
  const bad = w % 5 === 0 ? (c.w[4]! * 2_654_435_761) >>> 0 : hostileWords[w % hostileWords.length]!
  switch (w % 4) {
    case 0: return { ...e, cptr: bad }
    case 1: {
      if (e.mrs.length === 0) return { ...e, cptr: bad }
      const mrs = e.mrs.slice()
      mrs[c.w[6]! % mrs.length] = bad
      return { ...e, mrs }
    }
    case 2: {
      const extraCaps = e.extraCaps.length === 0 ? [bad] : e.extraCaps.map((x, i) => (i === 0 ? bad : x))
      return { ...e, extraCaps, msgInfo: (e.msgInfo & ~(3 << 7)) | (extraCaps.length << 7) }
    }
    default: {
      // Shorten the message or change its label.
      const mi = e.msgInfo
      return c.w[3]! % 2 === 0 ? { ...e, msgInfo: (mi & ~0x7f) | ((mi & 0x7f) >> 1) } : { ...e, msgInfo: ((mi & 0xfff) | ((bad % 40) << 12)) >>> 0 }
    }
  }
}
