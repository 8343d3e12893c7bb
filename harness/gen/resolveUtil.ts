/**
 * Shared pieces of choice resolution: the resolution context, selection helpers, message
 * building, and event constructors. Conventions: a selector word `w` picks `xs[w % xs.length]`;
 * a rare branch fires on `w % n === n - 1`, so selectors shrunk to 0 take the common path.
 */
import type { Cap, Event, PPtr, SlotPtr, SyscallEvent, SyscallKind } from "../../model/index.ts"
import { InitialSlot, messageInfo, msgMaxExtraCaps, msgMaxLength, nMsgRegisters, slotBits, tcbCTable, wordBits } from "../../model/index.ts"
import type { KernelState } from "../../spec/index.ts"
import { getCap, slotOf } from "../../spec/index.ts"
import type { Address, AddressBook } from "./addressBook.ts"

/** Number of selector words in a choice. */
export const selectorCount = 12

/** What a resolver sees: the state, the current thread, its address book and the choice's words. */
export interface Ctx {
  readonly s: KernelState
  readonly t: PPtr
  readonly book: AddressBook
  /** Selector words (exactly `selectorCount`). */
  readonly w: readonly number[]
}

export type Direct = AddressBook["direct"][number]

export const pick = <T>(xs: readonly T[], w: number): T | undefined => (xs.length === 0 ? undefined : xs[w % xs.length])

/** `w % n === n - 1`: a 1-in-n branch that selectors shrunk to 0 do not take. */
export const rare = (w: number, n: number): boolean => w % n === n - 1

/** Pick from `preferred` unless it is empty or the rare-ish branch (`1 - num/den`) says otherwise. */
export const prefer = <T>(preferred: readonly T[], all: readonly T[], w: number, num = 3, den = 4): T | undefined =>
  preferred.length > 0 && (w >>> 3) % den < num ? pick(preferred, w) : pick(all, w)

/** Direct (cptr-named) caps of the current thread with tag `tag`. */
export const directOf = <K extends Cap["tag"]>(book: AddressBook, tag: K): readonly (Direct & { readonly cap: Extract<Cap, { tag: K }> })[] =>
  book.direct.filter((d): d is Direct & { readonly cap: Extract<Cap, { tag: K }> } => d.cap.tag === tag)

/** The current thread's CSpace root CNode, when it has a usable one. */
export const rootCNode = (s: KernelState, t: PPtr): Extract<Cap, { tag: "CNodeCap" }> | undefined => {
  const c = getCap(s, slotOf(t, tcbCTable))
  return c.tag === "CNodeCap" && c.guardSize + c.radix === wordBits ? c : undefined
}

/** The cptr of a CNode cap naming the thread's own root CNode (the root task's is slot 2). */
export const selfCNodeCptr = (x: Ctx): number => {
  const r = rootCNode(x.s, x.t)
  return x.book.cnodeRoots.find((c) => r !== undefined && c.cap.ptr === r.ptr)?.cptr ?? InitialSlot.InitThreadCNode
}

/** Is the slot inside the thread's root CNode (so a cptr names it directly)? */
export const inRoot = (s: KernelState, t: PPtr, slot: SlotPtr): boolean => {
  const r = rootCNode(s, t)
  return r !== undefined && slot >= r.ptr && slot < r.ptr + 2 ** (r.radix + slotBits)
}

/** A free slot, preferring (3 in 4) one the thread can name directly with a cptr. */
export const freeSlotPreferRoot = (x: Ctx, w: number): Address | undefined => prefer(x.book.rootFree, x.book.free, w)

/**
 * The (CNode cptr, index, depth) triple naming an address; with no address, a raw slot number
 * in the root CNode.
 */
export const target = (a: Address | undefined, w: number): [number, number, number] =>
  a === undefined ? [InitialSlot.InitThreadCNode, w % 256, wordBits] : [a.via, a.index, a.depth]

/**
 * A message length: half the time 0..4 (it fits in registers: the IPC fastpath's case), else
 * 5..10, sometimes up to 24, rarely up to 120.
 */
export const msgLength = (w: number): number => {
  const r = w % 16
  return r < 8 ? r % 5 : r < 12 ? 5 + ((w >>> 4) % 6) : r < 15 ? 4 + ((w >>> 4) % 21) : (w >>> 4) % 121
}

/**
 * The message lengths at the edges the kernel checks: the last that fits in the message registers
 * and the first that needs the IPC buffer; seL4_MsgMaxLength and its neighbours, and the lengths
 * past it that the 7-bit field still holds (the kernel clamps them, C `messageInfoFromWord`).
 */
export const messageLengthEdges: readonly number[] = [nMsgRegisters, nMsgRegisters + 1, msgMaxLength - 1, msgMaxLength, msgMaxLength + 1, 0x7f]

/**
 * A message of `length` words (one of `messageLengthEdges`, say): the thread writes at most
 * seL4_MsgMaxLength of them, drawn as `msgWords` draws them, and the length field says `length`.
 */
export const withMessageLength = (e: SyscallEvent, w: readonly number[], length: number): SyscallEvent => {
  const mrs = msgWords(w, Math.min(length, msgMaxLength))
  return { ...e, mrs, msgInfo: ((e.msgInfo & ~0x7f) | length) >>> 0 }
}

/** Message words drawn from the selectors: small values, with every third word spread over the whole word. */
export const msgWords = (w: readonly number[], n: number): number[] =>
  Array.from({ length: n }, (_, i) => {
    const v = w[(i + 5) % w.length]! + i
    return i % 3 === 2 ? (v * 2_654_435_761) >>> 0 : v
  })

/** How many extra caps: 0 mostly, then 1, 2, 3. */
export const extraCapCount = (w: number): number => {
  const k = w % 16
  return k < 7 ? 0 : k < 12 ? 1 : k < 15 ? 2 : msgMaxExtraCaps
}

/** An invocation or IPC syscall event. */
export const sys = (
  syscall: SyscallKind, cptr: number, label: number, mrs: readonly number[], extraCaps: readonly number[], recvSlot?: readonly number[],
): Event => ({
  tag: "Syscall", syscall, cptr, msgInfo: messageInfo(label, mrs.length, extraCaps.length), mrs, extraCaps,
  ...(recvSlot !== undefined ? { recvSlot } : {}),
})

/** The invoking syscall of an invocation: Call mostly (the result comes back), then Send, then NBSend. */
export const invokeSyscall = (w: number): SyscallKind => (w % 10 < 6 ? "Call" : w % 10 < 9 ? "Send" : "NBSend")

/** Hostile words: edges of the word, stale-looking addresses, off-by-one depths. */
export const hostileWords = [0, 1, 31, 32, 33, 64, 255, 256, 0x7fff_ffff, 0x8000_0000, 0xffff_fffe, 0xffff_ffff, 0x1000_0000, 0x2000_0010]
