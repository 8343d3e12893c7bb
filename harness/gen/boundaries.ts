/**
 * The argument-boundary table: for each invocation argument the decoder checks against a bound,
 * where the bound lies (a constant, or read off the state: the authority's MCP, the number of
 * IRQ lines or domains, the destination CNode's radix). A boundary choice takes an event the
 * generator resolved for an invocation and moves one bounded argument to just inside or just
 * outside one of its bounds, so that every range error in docs/syscalls.md is reached and its
 * neighbour succeeds: an off-by-one in a decoder's comparison shows as a divergence at once,
 * where random words would hit the exact bound about once in 2^32. The table names arguments as
 * the ABI table (model/abi.ts) does; a test checks every entry and argument exists there.
 */
import type { Cap, Event, SyscallEvent } from "../../model/index.ts"
import { kernelBase, messageInfoFromWord, msgAlignBits, retypeFanOutLimit, wordBits } from "../../model/index.ts"
import { abiEntry } from "../../model/abi.ts"
import { invocationName } from "../../spec/index.ts"
import { slotOf } from "../../spec/state.ts"
import { capAt } from "../query.ts"
import type { Ctx } from "./resolveUtil.ts"

/** Where a bound lies, given the state and the event (whose other arguments are already resolved). */
type Bound = number | ((x: Ctx, e: SyscallEvent) => number | undefined)

/** One bounded argument: the values in [min, max] pass this check; `step` is the granularity (an alignment). */
export interface ArgBound {
  /** The ABI entry (the outcome table's name). */
  readonly entry: string
  /** The argument's name in the entry. */
  readonly arg: string
  readonly min: Bound
  readonly max: Bound
}

/** An argument that must be aligned to 2^bits (0 meaning none): boundary values are an aligned address and its neighbours. */
export interface ArgAlignment {
  readonly entry: string
  readonly arg: string
  readonly alignBits: Bound
}

const depth = (entry: string, arg: string): ArgBound => ({ entry, arg, min: 1, max: wordBits })
/** The MCP of the authority thread named by the event's first extra cap. */
const authorityMCP = (x: Ctx, e: SyscallEvent): number | undefined => {
  const c = e.extraCaps[0] === undefined ? undefined : capAt(x.s, x.t, e.extraCaps[0])
  const o = c?.tag === "ThreadCap" ? x.s.kheap.get(c.ptr) : undefined
  return o?.tag === "TCB" ? o.tcbMCP : undefined
}
/** The radix of Untyped_Retype's destination CNode: the root (node_depth 0) or the CNode named by node_index. */
const retypeRadix = (x: Ctx, e: SyscallEvent): number | undefined => {
  const root: Cap | undefined = e.extraCaps[0] === undefined ? undefined : capAt(x.s, x.t, e.extraCaps[0])
  if (root?.tag !== "CNodeCap") return undefined
  if ((e.mrs[3] ?? 0) === 0) return root.radix
  const node = capAt(x.s, x.t, e.mrs[2] ?? 0)
  return node?.tag === "CNodeCap" ? node.radix : undefined
}

/** The size in bits of the frame the invoked cap names (Page_Map's alignment, the page flushes' offsets). */
const invokedFrameBits = (x: Ctx, e: SyscallEvent): number | undefined => {
  const c = capAt(x.s, x.t, e.cptr)
  return c?.tag === "FrameCap" ? c.sizeBits : undefined
}

export const argBounds: readonly ArgBound[] = [
  ...["CNode_Revoke", "CNode_Delete", "CNode_CancelBadgedSends", "CNode_SaveCaller"].map((n) => depth(n, "depth")),
  ...["CNode_Copy", "CNode_Mint", "CNode_Move", "CNode_Mutate", "CNode_Rotate"].flatMap((n) => [depth(n, "dest_depth"), depth(n, "src_depth")]),
  depth("CNode_Rotate", "pivot_depth"),
  depth("IRQControl_IssueIRQHandler", "depth"),
  { entry: "IRQControl_IssueIRQHandler", arg: "irq", min: 0, max: (x) => x.s.numIRQs - 1 },
  { entry: "Untyped_Retype", arg: "type", min: 0, max: 10 },
  { entry: "Untyped_Retype", arg: "num_objects", min: 1, max: retypeFanOutLimit },
  { entry: "Untyped_Retype", arg: "node_offset", min: 0, max: (x, e) => { const r = retypeRadix(x, e); return r === undefined ? undefined : 2 ** r - 1 } },
  { entry: "TCB_ReadRegisters", arg: "count", min: 1, max: 19 },
  { entry: "TCB_SetPriority", arg: "priority", min: 0, max: authorityMCP },
  { entry: "TCB_SetMCPriority", arg: "mcp", min: 0, max: authorityMCP },
  { entry: "TCB_SetSchedParams", arg: "mcp", min: 0, max: authorityMCP },
  { entry: "TCB_SetSchedParams", arg: "priority", min: 0, max: authorityMCP },
  { entry: "Domain_SetSet", arg: "domain", min: 0, max: (x) => x.s.numDomains - 1 },
  // Address spaces: the kernel window starts at kernelBase; a frame's offsets end at its size.
  { entry: "ARM_PageTable_Map", arg: "vaddr", min: 0, max: kernelBase - 1 },
  { entry: "ARM_Page_Map", arg: "vaddr", min: 0, max: (x, e) => { const b = invokedFrameBits(x, e); return b === undefined ? undefined : kernelBase - 2 ** b } },
  ...(["Clean_Data", "Invalidate_Data", "CleanInvalidate_Data", "Unify_Instruction"] as const).flatMap((op): ArgBound[] => [
    { entry: `ARM_PageDirectory_${op}`, arg: "start", min: 0, max: kernelBase - 1 },
    { entry: `ARM_PageDirectory_${op}`, arg: "end", min: (_x, e) => (e.mrs[0] ?? 0) + 1, max: kernelBase },
    { entry: `ARM_Page_${op}`, arg: "start_offset", min: 0, max: (x, e) => { const b = invokedFrameBits(x, e); return b === undefined ? undefined : 2 ** b - 1 } },
    { entry: `ARM_Page_${op}`, arg: "end_offset", min: (_x, e) => (e.mrs[0] ?? 0) + 1, max: (x, e) => { const b = invokedFrameBits(x, e); return b === undefined ? undefined : 2 ** b } },
  ]),
]

export const argAlignments: readonly ArgAlignment[] = [
  { entry: "TCB_SetIPCBuffer", arg: "buffer", alignBits: msgAlignBits },
  { entry: "TCB_Configure", arg: "buffer", alignBits: msgAlignBits },
  { entry: "ARM_Page_Map", arg: "vaddr", alignBits: invokedFrameBits },
]

const resolve = (b: Bound, x: Ctx, e: SyscallEvent): number | undefined => (typeof b === "number" ? b : b(x, e))

/** The (index, depth) argument pairs a CNode invocation resolves from the invoked CNode cap itself. */
export const rootedAddressArgs: readonly (readonly [index: string, depth: string])[] = [["index", "depth"], ["dest_index", "dest_depth"]]

/**
 * An address at an edge of the CSpace's shape below CNode cap `root`: walking down through the
 * CNode caps its slots hold (now and then, up to three levels), at one level a depth where the
 * level's guard ends or is one bit short, or where its radix ends, is one bit short or one bit over,
 * with an index whose bits match every guard on the way (and name a slot, at the radix). So the
 * lookup stops exactly where resolveAddressBits's checks change their verdict: a guard longer than
 * the bits left (GuardMismatch), a guard that fits exactly but leaves no room for the radix
 * (DepthMismatch), the slot, a slot with bits left over. `undefined` for a root that is not a CNode
 * cap or a depth outside 1..32 (the range check's own boundary is in `argBounds`).
 */
export const shapeAddress = (s: Ctx["s"], root: Cap | undefined, w: number): readonly [index: number, depth: number] | undefined => {
  if (root?.tag !== "CNodeCap") return undefined
  let node: Extract<Cap, { tag: "CNodeCap" }> = root
  let prefix = 0n
  let len = 0
  for (let level = 0; ; level++) {
    const slots = 2 ** node.radix
    // Down one level (half the time, at most three) into a slot holding a CNode cap, if there is one.
    const nodes: number[] = []
    if (level < 3 && (w >>> (4 + level)) % 2 === 1) {
      for (let i = 0; i < slots && nodes.length < 8; i++) if (s.caps.get(slotOf(node.ptr, i))?.tag === "CNodeCap") nodes.push(i)
    }
    const down = nodes[(w >>> 8) % Math.max(1, nodes.length)]
    const slot = down ?? (w >>> 12) % slots
    const here = (((prefix << BigInt(node.guardSize)) | BigInt(node.guard)) << BigInt(node.radix)) | BigInt(slot)
    const hereLen = len + node.guardSize + node.radix
    if (down !== undefined) {
      const next = s.caps.get(slotOf(node.ptr, down))
      if (next?.tag === "CNodeCap") { prefix = here; len = hereLen; node = next; continue }
    }
    const g = node.guardSize
    const r = node.radix
    const depth = len + [g - 1, g, g + r - 1, g + r, g + r + 1][w % 5]!
    if (depth < 1 || depth > wordBits) return undefined
    // The address's bits: the path so far, then arbitrary bits below; the index is its top `depth` bits.
    const full = (here << 32n) | BigInt((w * 2_654_435_761) >>> 0)
    return [Number(BigInt.asUintN(32, full >> BigInt(hereLen + 32 - depth))), depth]
  }
}

/** A bound's [min, max] for event `e` made by thread `t` in state `s` (undefined where the state gives none). */
export const boundAt = (b: ArgBound, s: Ctx["s"], t: Ctx["t"], e: SyscallEvent): readonly [number, number] | undefined => {
  const x = { s, t } as Ctx
  const min = resolve(b.min, x, e)
  const max = resolve(b.max, x, e)
  return min === undefined || max === undefined ? undefined : [min, max]
}

/** The ABI name of the invocation an event makes, if it invokes an object method the table knows. */
const entryOf = (x: Ctx, e: SyscallEvent): string | undefined => {
  const cap = capAt(x.s, x.t, e.cptr)
  return cap === undefined ? undefined : invocationName(cap, messageInfoFromWord(e.msgInfo).label)
}

/**
 * `e0` with one bounded argument moved to a boundary (picked by the choice's words), or with its
 * message one word short of the arguments the invocation reads (TruncatedMessage). An event that
 * makes no bounded invocation goes out as it is.
 */
export const boundaryEvent = (x: Ctx, e0: Event): Event => {
  if (e0.tag !== "Syscall") return e0
  const name = entryOf(x, e0)
  const entry = name === undefined ? undefined : abiEntry(name)
  if (entry === undefined) return e0
  const w = x.w[9]! ^ x.w[10]!
  // Half the time, for an address the invoked CNode resolves: one at an edge of its CSpace's shape.
  const pair = rootedAddressArgs.find(([i, d]) => entry.args.some((a) => a.name === i) && entry.args.some((a) => a.name === d))
  if (pair !== undefined && (x.w[8]! >>> 3) % 2 === 0) {
    const at = shapeAddress(x.s, capAt(x.s, x.t, e0.cptr), x.w[8]! ^ w)
    const ii = entry.args.findIndex((a) => a.name === pair[0])
    const di = entry.args.findIndex((a) => a.name === pair[1])
    if (at !== undefined && ii < e0.mrs.length && di < e0.mrs.length) {
      const mrs = e0.mrs.slice()
      mrs[ii] = at[0] >>> 0
      mrs[di] = at[1]
      return { ...e0, mrs }
    }
  }
  const bounds = argBounds.filter((b) => b.entry === entry.name)
  const aligns = argAlignments.filter((a) => a.entry === entry.name)
  const n = bounds.length + aligns.length
  // One in five (or always, without a bounded argument): a message one word short.
  if (n === 0 || w % 5 === 4) {
    const len = Math.min(e0.mrs.length, entry.args.length)
    if (len === 0) return e0
    return { ...e0, mrs: e0.mrs.slice(0, len - 1), msgInfo: ((e0.msgInfo & ~0x7f) | (len - 1)) >>> 0 }
  }
  const k = w % n
  const arg = k < bounds.length ? bounds[k]!.arg : aligns[k - bounds.length]!.arg
  const i = entry.args.findIndex((a) => a.name === arg)
  if (i < 0 || i >= e0.mrs.length) return e0
  let v: number
  if (k < bounds.length) {
    const b = bounds[k]!
    const min = resolve(b.min, x, e0)
    const max = resolve(b.max, x, e0)
    if (min === undefined || max === undefined) return e0
    v = [min - 1, min, max, max + 1][(w >>> 3) % 4]!
  } else {
    const bits = resolve(aligns[k - bounds.length]!.alignBits, x, e0)
    if (bits === undefined) return e0
    const size = 2 ** bits
    const base = Math.max(size, e0.mrs[i]! - (e0.mrs[i]! % size))
    v = [base, base + 1, base - 1, base + size / 2][(w >>> 3) % 4]!
  }
  const mrs = e0.mrs.slice()
  mrs[i] = v >>> 0
  return { ...e0, mrs }
}
