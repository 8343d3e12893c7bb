/**
 * The slots a thread can name, and how: for each slot reachable from the root thread's CSpace
 * through CNode caps, the cptr of the CNode cap to invoke (a slot of the root CNode) and the
 * index/depth that reach the slot from it. Generators draw from this book so that most events
 * name live caps and free slots.
 */
import type { Cap, PPtr, SlotPtr } from "../../model/index.ts"
import { InitialSlot, slotBits, tcbCTable, wordBits } from "../../model/index.ts"
import type { KernelState } from "../../spec/index.ts"
import { getCap, slotOf } from "../../spec/index.ts"
import { PMap } from "../../spec/persistent.ts"

export interface Address {
  readonly slot: SlotPtr
  /** cptr (in the thread's CSpace) of the CNode cap the address starts from. */
  readonly via: number
  readonly index: number
  readonly depth: number
  /** Index of the slot within its own CNode, and how many CNodes below `via` it lies (0 or 1). */
  readonly offset: number
  readonly level: number
  readonly cap: Cap
}

export interface AddressBook {
  readonly all: readonly Address[]
  readonly live: readonly Address[]
  readonly free: readonly Address[]
  /** Free slots of the thread's root CNode itself (nameable directly by a cptr). */
  readonly rootFree: readonly Address[]
  /** cptrs of the root-CNode slots holding CNode caps, usable as CNode roots. */
  readonly cnodeRoots: readonly { readonly cptr: number; readonly cap: Extract<Cap, { tag: "CNodeCap" }> }[]
  /** The cptr (root guard and slot number) of every non-null cap in the thread's root CNode. */
  readonly direct: readonly { readonly cptr: number; readonly cap: Cap; readonly slot: SlotPtr }[]
}

const isCNode = (c: Cap): c is Extract<Cap, { tag: "CNodeCap" }> => c.tag === "CNodeCap"

/**
 * The address book of thread `t`, equal to `buildAddressBook(s, t).book` but mostly not rebuilt:
 * the last book built for `t` is reused while no slot it walked changed (found through the caps
 * map's shared structure), and patched when the slots that changed neither held nor now hold a
 * CNode cap (the walk is the same; only those entries' caps, and the live/free/direct lists,
 * change). Walking the CSpace was the generator's largest cost.
 */
export const addressBook = (s: KernelState, t: PPtr): AddressBook => {
  const last = lastBooks.get(t)
  if (last !== undefined && last.caps === s.caps) return last.book
  const rootSlot = slotOf(t, tcbCTable)
  if (last !== undefined && last.caps instanceof PMap && s.caps instanceof PMap && s.caps.get(rootSlot) === last.caps.get(rootSlot)) {
    const changed = s.caps.changedKeys(last.caps)
    if (changed.length <= 64) {
      const walked = changed.filter((sl) => last.ranges.some(([lo, hi]) => sl >= lo && sl < hi))
      const same = walked.length === 0
      if (same || walked.every((sl) => !isCNode(getCap(s, sl)) && (last.caps.get(sl)?.tag ?? "NullCap") !== "CNodeCap")) {
        const book = same ? last.book : patchBook(last.book, s, new Set(walked), last.root)
        lastBooks.set(t, { ...last, caps: s.caps, book })
        return book
      }
    }
  }
  const { book, ranges, root } = buildAddressBook(s, t)
  if (lastBooks.size > 16) lastBooks.clear()
  lastBooks.set(t, { caps: s.caps, book, ranges, root })
  return book
}

/** The root CNode a book was built from: its address, slot count and the cptr of its slot 0. */
interface RootInfo { readonly ptr: PPtr; readonly n: number; readonly base: number }

/** The last book built per thread, with the caps map it was built from and the slot ranges it walked. */
const lastBooks = new Map<PPtr, {
  caps: KernelState["caps"]; book: AddressBook; ranges: readonly (readonly [number, number])[]; root: RootInfo | null
}>()

/** `book` with the caps of the walked slots `changed` (none a CNode cap, before or after) read from `s`. */
const patchBook = (book: AddressBook, s: KernelState, changed: ReadonlySet<SlotPtr>, root: RootInfo | null): AddressBook => {
  if (root === null) return book
  const all = book.all.map((a) => (changed.has(a.slot) ? { ...a, cap: getCap(s, a.slot) } : a))
  const direct = book.direct.filter((d) => !changed.has(d.slot))
  const rootEnd = slotOf(root.ptr, root.n)
  for (const slot of changed) {
    const cap = getCap(s, slot)
    if (slot >= root.ptr && slot < rootEnd && cap.tag !== "NullCap") {
      direct.push({ cptr: (root.base + (slot - root.ptr) / 2 ** slotBits) >>> 0, cap, slot })
    }
  }
  direct.sort((a, b) => a.slot - b.slot)
  return { all, direct, cnodeRoots: book.cnodeRoots, ...partition(all, root) }
}

/** The live, free and root-free addresses of a book, in its order. */
const partition = (all: readonly Address[], root: RootInfo): Pick<AddressBook, "live" | "free" | "rootFree"> => {
  const live: Address[] = []
  const free: Address[] = []
  const rootFree: Address[] = []
  const rootEnd = slotOf(root.ptr, root.n)
  for (const a of all) {
    if (a.cap.tag !== "NullCap") live.push(a)
    else {
      free.push(a)
      if (a.slot >= root.ptr && a.slot < rootEnd) rootFree.push(a)
    }
  }
  return { live, free, rootFree }
}

/** Build the address book of thread `t` (two levels deep below each root CNode slot), and the slot ranges it read. */
export const buildAddressBook = (s: KernelState, t: PPtr): { book: AddressBook; ranges: (readonly [number, number])[]; root: RootInfo | null } => {
  const ranges: (readonly [number, number])[] = []
  const all: Address[] = []
  const direct: { cptr: number; cap: Cap; slot: SlotPtr }[] = []
  const cnodeRoots: { cptr: number; cap: Extract<Cap, { tag: "CNodeCap" }> }[] = []
  const root = getCap(s, slotOf(t, tcbCTable))
  if (!isCNode(root) || root.guardSize + root.radix !== wordBits) {
    return { book: { all, live: [], free: [], rootFree: [], cnodeRoots, direct }, ranges, root: null }
  }
  const n = 2 ** root.radix
  ranges.push([slotOf(root.ptr, 0), slotOf(root.ptr, n)])
  // A full-word cptr names root slot i as the root's guard followed by i.
  const base = root.guard * n
  for (let i = 0; i < n; i++) {
    const slot = slotOf(root.ptr, i)
    const cap = getCap(s, slot)
    if (cap.tag !== "NullCap") direct.push({ cptr: (base + i) >>> 0, cap, slot })
    if (isCNode(cap)) cnodeRoots.push({ cptr: (base + i) >>> 0, cap })
  }
  const seen = new Set<SlotPtr>()
  // A CNode already walked at this level or above adds no slot not seen: skip it (copies of the
  // root CNode cap would otherwise multiply the walk).
  const walkedAt = new Map<PPtr, number>()
  const walk = (via: number, node: Extract<Cap, { tag: "CNodeCap" }>, prefix: number, used: number, level: number) => {
    const bits = node.guardSize + node.radix
    if (used + bits > wordBits) return
    const before = walkedAt.get(node.ptr)
    if (before !== undefined && before <= level) return
    walkedAt.set(node.ptr, level)
    const size = 2 ** node.radix
    ranges.push([slotOf(node.ptr, 0), slotOf(node.ptr, size)])
    for (let j = 0; j < size; j++) {
      const index = (prefix * 2 ** bits + node.guard * 2 ** node.radix + j) >>> 0
      const slot = slotOf(node.ptr, j)
      const cap = getCap(s, slot)
      if (!seen.has(slot)) {
        seen.add(slot)
        all.push({ slot, via, index, depth: used + bits, offset: j, level, cap })
      }
      if (level < 1 && isCNode(cap)) walk(via, cap, index, used + bits, level + 1)
    }
  }
  for (const r of cnodeRoots) walk(r.cptr, r.cap, 0, 0, 0)
  const info: RootInfo = { ptr: root.ptr, n, base }
  return { book: { all, direct, cnodeRoots, ...partition(all, info) }, ranges, root: info }
}

/** The cptr of the root CNode's own cap. */
export const rootCNodeCptr = InitialSlot.InitThreadCNode
