/**
 * The `valid_objs` family: caps are well formed and name existing objects of the right type and
 * shape, caps live in real slots, and each object's own fields are consistent
 * (l4v Invariants_AI `valid_objs`, `valid_cap`, `valid_tcb` with `tcb_cap_cases` and `valid_fault`,
 * `valid_ep`, `valid_ntfn`).
 * @category invariants
 */
import type { Cap, Fault, PPtr } from "../../model/index.ts"
import {
  asidBits, asidLowBits, badgeBits, bit, frameSizeBits, hasRight, ipcBufferSizeBits, isAligned, kernelBase, maxPrio, maxUntypedBits,
  minUntypedBits, RightG, RightGR, sectionBits, showCap, slotBits, tcbBits, tcbBuffer, tcbCaller, tcbReply, tcbVTable,
  tcbCNodeEntries, wordBits, zombieTypeTCB,
} from "../../model/index.ts"
import type { KernelState, KObject, Tcb } from "../state.ts"
import { capBits, capObjRef, heapIndex, hex, objectsMeeting, showRange, showSlot, slotHome, untypedRange } from "./internal.ts"
import { changedCapWhere } from "./mdb.ts"
import { objectMadeOrResized, refNeighbourhood } from "./pspace.ts"
import { changedSlots, defineInvariant, everything, nothingChanged } from "./types.ts"

const isNat = (x: number): boolean => Number.isInteger(x) && x >= 0
const validASID = (asid: number): boolean => isNat(asid) && asid > 0 && asid < bit(asidBits)
/** What is wrong with a recorded mapping (l4v `wellformed_mapdata`), or null. */
const mappingProblem = (asid: number, vaddr: number, sizeBits: number): string | null =>
  !validASID(asid) ? `mapped ASID ${asid} is not in 1..2^${asidBits}-1`
    : !isNat(vaddr) || !isAligned(vaddr, sizeBits) ? `mapped address ${hex(vaddr)} is not aligned to 2^${sizeBits}`
      : vaddr >= kernelBase ? `mapped address ${hex(vaddr)} is in the kernel window` : null
const frameSizes: ReadonlySet<number> = new Set(Object.values(frameSizeBits))
const describe = (o: KObject | undefined): string => (o === undefined ? "nothing" : `a ${o.tag}`)

/** Cap-operation names shared by several invariants' `threatenedBy`. */
const capOps = [
  "CNode_Copy", "CNode_Mint", "CNode_Move", "CNode_Mutate", "CNode_Rotate", "CNode_SaveCaller", "Untyped_Retype",
  "cteInsert", "cteMove", "cteDelete", "cteRevoke",
] as const

/**
 * Every cap is well formed on its own: badges fit in 28 bits, rights in 4, notification caps
 * never carry Grant or GrantReply, CNode caps have radix >= 1, guardSize + radix <= 32 and a
 * guard that fits its size, untyped caps are 2^4..2^29 bytes, aligned to their size, with a
 * watermark that is a multiple of 16 in 0..2^sizeBits, frame caps have a frame size, every cap
 * to memory is aligned to its size, and IRQ handler caps name an IRQ that exists. The VSpace
 * caps' records are proper (l4v `wellformed_acap`): an ASID is in 1..2^17-1, a frame's mapped
 * address is aligned to its size and below the kernel window, a page table's to 1 MiB, an ASID
 * pool's base is a multiple of 1024.
 *
 * Why: decoding trusts these fields (a bad guard makes lookup misbehave, a bad watermark makes
 * Retype place objects outside the untyped).
 *
 * Mirrors: l4v Invariants_AI `wellformed_cap` and `cap_aligned` (parts of `valid_cap`).
 */
export const wellformedCap = defineInvariant({
  name: "valid_objs.wellformed_cap",
  statement:
    "Every cap is well formed on its own: badges below 2^28, notification caps without Grant/GrantReply, CNode caps " +
    "with radix >= 1 and guardSize + radix <= 32, untyped caps of 4..29 bits aligned to their size with a 16-byte " +
    "multiple watermark in 0..2^sizeBits, caps to memory aligned to their size, IRQ handler caps for existing IRQs; " +
    "VSpace caps record ASIDs in 1..2^17-1 and aligned user addresses, ASID pools a 1024-aligned base.",
  mirrors: "l4v Invariants_AI wellformed_cap, cap_aligned; ARM wellformed_acap",
  threatenedBy: ["CNode_Mint", "CNode_Mutate", "Untyped_Retype", "IRQControl_IssueIRQHandler", "cteInsert"],
  // Per cap: a changed cap can only break its own slot.
  eachCap: (s, slot, c, report) => {
    const at = () => `${showSlot(s, slot)} holds ${showCap(c)}`
    switch (c.tag) {
      case "EndpointCap": case "NotificationCap":
        if (!isNat(c.badge) || c.badge >= bit(badgeBits)) report(`${at()}: badge ${c.badge} is not below 2^${badgeBits}`)
        if (!isNat(c.rights) || c.rights > 15) report(`${at()}: rights word ${c.rights} is not in 0..15`)
        if (c.tag === "NotificationCap" && (hasRight(c.rights, RightG) || hasRight(c.rights, RightGR))) {
          report(`${at()}: notification caps never carry Grant or GrantReply`)
        }
        break
      case "CNodeCap":
        if (!isNat(c.radix) || c.radix < 1) report(`${at()}: radix ${c.radix} is not >= 1`)
        if (!isNat(c.guardSize) || c.guardSize + c.radix > wordBits) {
          report(`${at()}: guardSize ${c.guardSize} + radix ${c.radix} exceeds ${wordBits}`)
        }
        if (!isNat(c.guard) || c.guard >= bit(c.guardSize)) report(`${at()}: guard ${c.guard} does not fit in ${c.guardSize} bits`)
        break
      case "UntypedCap":
        if (!isNat(c.sizeBits) || c.sizeBits < minUntypedBits || c.sizeBits > maxUntypedBits) {
          report(`${at()}: sizeBits ${c.sizeBits} is not in ${minUntypedBits}..${maxUntypedBits}`)
        }
        if (c.ptr === 0) report(`${at()}: an untyped never starts at address 0`)
        if (!isNat(c.freeIndex) || c.freeIndex > bit(c.sizeBits) || c.freeIndex % bit(minUntypedBits) !== 0) {
          report(`${at()}: freeIndex ${c.freeIndex} is not a multiple of ${bit(minUntypedBits)} in 0..2^${c.sizeBits}`)
        }
        if (c.ptr + bit(c.sizeBits) > 2 ** wordBits) report(`${at()}: range ${showRange(untypedRange(c))} leaves the 32-bit address space`)
        break
      case "FrameCap":
        if (!frameSizes.has(c.sizeBits)) report(`${at()}: sizeBits ${c.sizeBits} is not a frame size`)
        if (c.mapped !== null) {
          const why = mappingProblem(c.mapped.asid, c.mapped.vaddr, c.sizeBits)
          if (why !== null) report(`${at()}: ${why}`)
        }
        break
      case "PageTableCap":
        if (c.mapped !== null) {
          const why = mappingProblem(c.mapped.asid, c.mapped.vaddr, sectionBits)
          if (why !== null) report(`${at()}: ${why}`)
        }
        break
      case "PageDirectoryCap":
        if (c.asid !== null && !validASID(c.asid)) report(`${at()}: ASID ${c.asid} is not in 1..2^${asidBits}-1`)
        break
      case "ASIDPoolCap":
        if (!isNat(c.asidBase) || !isAligned(c.asidBase, asidLowBits) || c.asidBase >= bit(asidBits)) report(`${at()}: ASID base ${c.asidBase} is not a multiple of 2^${asidLowBits} below 2^${asidBits}`)
        break
      case "IRQHandlerCap":
        if (!isNat(c.irq) || c.irq >= s.numIRQs) report(`${at()}: IRQ ${c.irq} is not below numIRQs ${s.numIRQs}`)
        break
      // A Zombie of a TCB counts at most its 5 slots, of a CNode (radix >= 1) at most its 2^radix.
      case "ZombieCap": {
        const slots = c.zombieType === zombieTypeTCB ? tcbCNodeEntries : bit(c.zombieType)
        if (c.zombieType !== zombieTypeTCB && (!isNat(c.zombieType) || c.zombieType < 1 || c.zombieType > wordBits - slotBits)) {
          report(`${at()}: Zombie type ${c.zombieType} is neither a CNode radix nor a TCB`)
        } else if (!isNat(c.number) || c.number > slots) report(`${at()}: ${c.number} slots left, but the table has ${slots}`)
        break
      }
      case "NullCap": case "ReplyCap": case "ThreadCap": case "DomainCap": case "IRQControlCap": case "ASIDControlCap":
        break
      default:
        report(`${at()}: a cap of no kind seL4 has`)
    }
    const base = c.tag === "UntypedCap" ? c.ptr : capObjRef(c)
    if (base !== null && !(isNat(base) && isAligned(base, capBits(c)))) {
      report(`${at()}: address ${hex(base)} is not aligned to 2^${capBits(c)}`)
    }
  },
})

/** The heap object a cap must name, and the shape it must have, or null if the cap names none. */
const expectedObject = (c: Cap): { ptr: PPtr; ok: (o: KObject) => boolean; want: string } | null => {
  switch (c.tag) {
    case "EndpointCap": return { ptr: c.ptr, ok: (o) => o.tag === "Endpoint", want: "an Endpoint" }
    case "NotificationCap": return { ptr: c.ptr, ok: (o) => o.tag === "Notification", want: "a Notification" }
    case "CNodeCap":
      return { ptr: c.ptr, ok: (o) => o.tag === "CNode" && o.radix === c.radix, want: `a CNode of radix ${c.radix}` }
    case "ThreadCap": return { ptr: c.ptr, ok: (o) => o.tag === "TCB", want: "a TCB" }
    case "ReplyCap": return { ptr: c.tcb, ok: (o) => o.tag === "TCB", want: "a TCB" }
    case "FrameCap":
      return {
        ptr: c.ptr,
        ok: (o) => o.tag === "Frame" && o.sizeBits === c.sizeBits && o.isDevice === c.isDevice,
        want: `a ${c.isDevice ? "device" : "RAM"} Frame of ${c.sizeBits} bits`,
      }
    case "PageTableCap": return { ptr: c.ptr, ok: (o) => o.tag === "PageTable", want: "a PageTable" }
    case "PageDirectoryCap": return { ptr: c.ptr, ok: (o) => o.tag === "PageDirectory", want: "a PageDirectory" }
    case "ASIDPoolCap": return { ptr: c.ptr, ok: (o) => o.tag === "ASIDPool", want: "an ASIDPool" }
    // A Zombie: the TCB or the CNode (of its radix) it is emptying.
    case "ZombieCap":
      return c.zombieType === zombieTypeTCB
        ? { ptr: c.ptr, ok: (o) => o.tag === "TCB", want: "a TCB" }
        : { ptr: c.ptr, ok: (o) => o.tag === "CNode" && o.radix === c.zombieType, want: `a CNode of radix ${c.zombieType}` }
    case "NullCap": case "UntypedCap": case "DomainCap": case "IRQControlCap": case "IRQHandlerCap": case "ASIDControlCap": return null
  }
}

const showObject = (o: KObject): string =>
  o.tag === "CNode" ? `a CNode of radix ${o.radix}`
  : o.tag === "Frame" ? `a ${o.isDevice ? "device" : "RAM"} Frame of ${o.sizeBits} bits`
  : `a ${o.tag}`

/**
 * Every cap to an object names an object that exists, of the cap's type and shape: endpoint caps
 * an Endpoint, notification caps a Notification, CNode caps a CNode of the same radix, thread and
 * reply caps a TCB, frame caps a Frame of the same size and device flag, page-table and
 * page-directory caps objects of those types. No cap dangles.
 *
 * Why: every invocation dereferences the cap's object; a dangling cap is a use-after-free.
 *
 * Mirrors: l4v Invariants_AI `valid_cap_ref` (the object part of `valid_cap`).
 */
export const validCap = defineInvariant({
  name: "valid_objs.valid_cap",
  statement:
    "Every cap to an object names an existing object of the cap's type and shape (CNode radix, frame size and device " +
    "flag agree); no cap dangles.",
  mirrors: "l4v Invariants_AI valid_cap (valid_cap_ref)",
  threatenedBy: ["Untyped_Retype", "CNode_Revoke", "CNode_Delete", "cteDelete", "finaliseCap", "cteInsert"],
  // Per cap: a changed cap, or a cap naming a changed object (found by the checker's cap index).
  scope: (_s, _prev, d) => {
    if (d.capRefs === undefined) return everything
    if (d.slots.size === 0 && d.objects.size === 0) return nothingChanged
    const slots = new Set(d.slots)
    for (const p of d.objects) for (const sl of d.capRefs.naming(p)) slots.add(sl)
    return { slots }
  },
  find: (s, report) => {
    for (const [slot, c] of s.caps) {
      const e = expectedObject(c)
      if (e === null) continue
      const o = s.kheap.get(e.ptr)
      if (o === undefined) report(`${showSlot(s, slot)} holds ${showCap(c)}, which dangles: no object at ${hex(e.ptr)}`)
      else if (!e.ok(o)) report(`${showSlot(s, slot)} holds ${showCap(c)}, but ${hex(e.ptr)} is ${showObject(o)}, not ${e.want}`)
    }
  },
})

/**
 * Every object that overlaps an untyped cap's range lies wholly inside it and below its
 * watermark (outside its usable range).
 *
 * Why: Retype places new objects at the watermark; an object above it would be overwritten.
 *
 * Mirrors: l4v Invariants_AI `valid_untyped`.
 */
export const validUntyped = defineInvariant({
  name: "valid_objs.valid_untyped",
  statement:
    "Every object that overlaps an untyped cap's range lies wholly inside that range and below its watermark " +
    "(outside the usable range [ptr+freeIndex, end)).",
  mirrors: "l4v Invariants_AI valid_untyped",
  threatenedBy: ["Untyped_Retype", "CNode_Revoke", "cteDelete", "cteInsert"],
  // In full, after a step that made or resized an object or changed an untyped cap; else it holds as before.
  scope: (s, prev, d) => (objectMadeOrResized(s, prev, d) || changedCapWhere(s, prev, d, (t) => t === "UntypedCap") ? everything : nothingChanged),
  find: (s, report) => {
    const ix = heapIndex(s)
    for (const [slot, c] of s.caps) {
      if (c.tag !== "UntypedCap") continue
      const r = untypedRange(c)
      const usableLo = c.ptr + c.freeIndex
      for (const j of objectsMeeting(ix, r)) {
        const lo = ix.bases[j]!
        const hi = ix.ends[j]!
        const what = () => `the ${ix.objs[j]!.tag} at ${showRange({ lo, hi })}`
        if (lo < r.lo || hi > r.hi) report(`${showSlot(s, slot)} holds ${showCap(c)}: ${what()} straddles its edge`)
        else if (hi > usableLo) report(`${showSlot(s, slot)} holds ${showCap(c)}: ${what()} lies above its watermark ${hex(usableLo)}`)
      }
    }
  },
})

/**
 * Every cap lives in a real slot: a slot-aligned index below 2^radix of a CNode, or one of the
 * five slots of a TCB.
 *
 * Why: caps outside any cap table are unreachable and escape delete and revoke.
 *
 * Mirrors: none (kspec-specific; l4v's `caps_of_state` has only real slots by construction).
 */
export const capSlots = defineInvariant({
  name: "valid_objs.cap_slots",
  statement: "Every cap lives in a real slot: a slot-aligned index below 2^radix of a CNode, or one of the five slots of a TCB.",
  mirrors: "none (kspec-specific; l4v's caps_of_state ranges over real slots by construction)",
  threatenedBy: [...capOps, "Untyped_Retype"],
  // A cap's home changes only when objects are made, resized or removed (then in full), and a cap
  // comes to a new address only by filling a slot: a thread's own slot needs no look, any other
  // fills check in full.
  scope: (s, prev, d) => {
    if (objectMadeOrResized(s, prev, d)) return everything
    for (const p of d.objects) {
      const a = prev.kheap.get(p)
      if ((a?.tag === "CNode" || a?.tag === "TCB") && !s.kheap.has(p)) return everything
    }
    for (const x of d.slots) {
      if (!s.caps.has(x) || prev.caps.has(x)) continue
      const base = x - (x % bit(tcbBits))
      const off = x - base
      if (s.kheap.get(base)?.tag === "TCB" && off % bit(slotBits) === 0 && off / bit(slotBits) < tcbCNodeEntries) continue
      return everything
    }
    return nothingChanged
  },
  find: (s, report) => {
    const ix = heapIndex(s)
    for (const [slot, c] of s.caps) {
      const h = slotHome(ix, slot)
      if (h.kind === "none") report(`slot ${hex(slot)} holds ${showCap(c)}, but it is not a real slot: ${h.reason}`)
      else if (h.kind === "CNode" && h.index >= bit(h.radix)) {
        report(`slot ${hex(slot)} holds ${showCap(c)} at index ${h.index} of the radix-${h.radix} CNode at ${hex(h.base)}`)
      }
    }
  },
})

const isHalted = (t: Tcb): boolean => t.tcbState.tag === "Inactive" || t.tcbState.tag === "IdleThreadState"

/**
 * Each of a TCB's five slots holds only what seL4's `tcb_cap_cases` allows: ctable any cap (a CNode cap or
 * nothing outside deletion); vtable a page-directory cap with an ASID (`is_valid_vtable_root`) or nothing; reply the thread's own master reply cap (with
 * Grant), empty only while the thread is halted (Inactive or idle); caller a non-master reply cap
 * or nothing, and nothing while the thread is blocked receiving on an endpoint; buffer a RAM frame
 * cap or nothing.
 *
 * Why: the kernel reads these slots without checking their type (lookup roots, reply, IPC buffer).
 * The caller slot must be empty while BlockedOnReceive because a receive that completes a Call
 * writes the new reply cap there without deleting what it holds; in every other state it may
 * hold the reply cap of the last Call received (l4v: `is_reply_cap or NullCap`). The reply slot
 * may be empty only while halted because `restart` (TCB_Resume) recreates the master there.
 *
 * The ctable slot may hold any cap, as in l4v: TCB_SetSpace installs only CNode caps, but while a
 * TCB is being deleted its own Zombie is parked there (a cyclic Zombie), and a Zombie of a CNode
 * whose last cap sat there is swapped into that CNode's first slot, leaving that slot's cap in
 * the ctable slot until the next preemption point has passed.
 *
 * Mirrors: l4v Invariants_AI `tcb_cap_cases` (via `valid_tcb`).
 */
export const tcbCapCases = defineInvariant({
  name: "valid_objs.tcb_cap_cases",
  statement:
    "A TCB's slots hold what tcb_cap_cases allows: ctable any cap (a CNode cap, or mid-deletion a Zombie or a cap swapped in), vtable a page-directory cap with an " +
    "ASID or nothing, reply its own master reply cap (empty only while halted), caller a non-master reply cap or nothing " +
    "(nothing while blocked receiving), buffer a RAM frame cap or nothing.",
  mirrors: "l4v Invariants_AI tcb_cap_cases",
  threatenedBy: [
    "TCB_Configure", "TCB_SetSpace", "TCB_SetIPCBuffer", "TCB_Resume", "Untyped_Retype", "CNode_Move", "CNode_Rotate",
    "CNode_SaveCaller", "sendIPC", "receiveIPC", "doReplyTransfer", "cteDelete",
  ],
  // Per TCB: its own fields and its five slots; a changed slot names its TCB by masking (tcbBits).
  scope: (_s, _prev, d) => {
    const objects = new Set(d.objects)
    for (const slot of d.slots) objects.add(slot - (slot % bit(tcbBits)))
    return { objects }
  },
  find: (s, report) => {
    for (const [p, o] of s.kheap) {
      if (o.tag !== "TCB") continue
      const cap = (i: number) => s.caps.get(p + i * bit(slotBits))
      const bad = (i: number, name: string, c: Cap, why: string) =>
        report(`TCB ${hex(p)} ${name} slot ${hex(p + i * bit(slotBits))} holds ${showCap(c)}: ${why}`)
      const vtable = cap(tcbVTable)
      if (vtable !== undefined && (vtable.tag !== "PageDirectoryCap" || vtable.asid === null)) bad(tcbVTable, "vtable", vtable, "only a page-directory cap with an ASID may be there")
      const reply = cap(tcbReply)
      if (reply === undefined) {
        if (!isHalted(o)) report(`TCB ${hex(p)} is ${o.tcbState.tag} but its reply slot is empty (only a halted thread may lack its master reply cap)`)
      } else if (reply.tag !== "ReplyCap" || !reply.isMaster || reply.tcb !== p || !reply.canGrant) {
        bad(tcbReply, "reply", reply, "only its own master reply cap, with Grant, may be there")
      }
      const caller = cap(tcbCaller)
      if (caller !== undefined) {
        if (caller.tag !== "ReplyCap" || caller.isMaster) bad(tcbCaller, "caller", caller, "only a non-master reply cap may be there")
        else if (o.tcbState.tag === "BlockedOnReceive") bad(tcbCaller, "caller", caller, "it must be empty while the thread is blocked receiving")
      }
      const buffer = cap(tcbBuffer)
      if (buffer !== undefined && (buffer.tag !== "FrameCap" || buffer.isDevice)) {
        bad(tcbBuffer, "buffer", buffer, "only a RAM (non-device) frame cap may be there")
      }
    }
  },
})

/**
 * Every TCB's own fields are valid: priority and MCP in 0..255, domain below numDomains, a thread
 * blocked on an endpoint or notification names an object of that type (a blocked sender's badge
 * fits in 28 bits), a bound notification is a Notification, and an IPC buffer address is aligned
 * to 2^9 whenever the buffer slot holds a frame cap.
 *
 * Why: IPC and scheduling dereference these fields directly.
 *
 * Mirrors: l4v Invariants_AI `valid_tcb` (`valid_tcb_state`, `valid_bound_ntfn`, `valid_ipc_buffer_cap`).
 */
export const validTcb = defineInvariant({
  name: "valid_objs.valid_tcb",
  statement:
    "Every TCB has priority and MCP in 0..255 and a domain below numDomains; a blocked thread names an object of the " +
    "right type (a blocked sender's badge below 2^28); a bound notification is a Notification; an IPC buffer address " +
    "is 2^9-aligned whenever the buffer slot holds a frame cap.",
  mirrors: "l4v Invariants_AI valid_tcb (valid_tcb_state, valid_bound_ntfn, valid_ipc_buffer_cap)",
  threatenedBy: [
    "TCB_SetPriority", "TCB_SetMCPriority", "TCB_SetSchedParams", "TCB_Configure", "TCB_SetIPCBuffer",
    "TCB_BindNotification", "DomainSet_Set", "sendIPC", "receiveIPC", "receiveSignal", "finaliseCap",
  ],
  // Per TCB: its fields, its buffer slot, and the objects it references (refNeighbourhood).
  scope: refNeighbourhood,
  find: (s, report) => {
    for (const [p, o] of s.kheap) {
      if (o.tag !== "TCB") continue
      const t = `TCB ${hex(p)}`
      if (!isNat(o.tcbPriority) || o.tcbPriority > maxPrio) report(`${t}: priority ${o.tcbPriority} is not in 0..${maxPrio}`)
      if (!isNat(o.tcbMCP) || o.tcbMCP > maxPrio) report(`${t}: MCP ${o.tcbMCP} is not in 0..${maxPrio}`)
      if (!isNat(o.tcbDomain) || o.tcbDomain >= s.numDomains) report(`${t}: domain ${o.tcbDomain} is not below numDomains ${s.numDomains}`)
      const st = o.tcbState
      if (st.tag === "BlockedOnReceive" || st.tag === "BlockedOnSend") {
        const e = s.kheap.get(st.ep)
        if (e?.tag !== "Endpoint") report(`${t} is ${st.tag} on ${hex(st.ep)}, which is ${describe(e)}, not an Endpoint`)
        if (st.tag === "BlockedOnSend" && (!isNat(st.badge) || st.badge >= bit(badgeBits))) {
          report(`${t} is BlockedOnSend with badge ${st.badge}, not below 2^${badgeBits}`)
        }
      } else if (st.tag === "BlockedOnNotification") {
        const n = s.kheap.get(st.ntfn)
        if (n?.tag !== "Notification") report(`${t} is BlockedOnNotification on ${hex(st.ntfn)}, which is ${describe(n)}, not a Notification`)
      }
      if (o.tcbBoundNotification !== null) {
        const n = s.kheap.get(o.tcbBoundNotification)
        if (n?.tag !== "Notification") report(`${t} is bound to ${hex(o.tcbBoundNotification)}, which is ${describe(n)}, not a Notification`)
      }
      const buffer = s.caps.get(p + tcbBuffer * bit(slotBits))
      if (buffer?.tag === "FrameCap" && !isAligned(o.tcbIPCBuffer, ipcBufferSizeBits)) {
        report(`${t}: IPC buffer address ${hex(o.tcbIPCBuffer)} is not aligned to 2^${ipcBufferSizeBits}`)
      }
    }
  },
})

/** Report a queue that is empty, holds a non-TCB, or repeats a thread. */
const checkQueue = (s: KernelState, what: string, q: readonly PPtr[], report: (m: string) => void) => {
  if (q.length === 0) report(`${what} has an empty queue`)
  const seen = new Set<PPtr>()
  for (const t of q) {
    if (seen.has(t)) report(`${what} queues thread ${hex(t)} twice`)
    seen.add(t)
    const o = s.kheap.get(t)
    if (o?.tag !== "TCB") report(`${what} queues ${hex(t)}, which is ${describe(o)}, not a TCB`)
  }
}

/**
 * An endpoint in the Send or Recv state has a non-empty queue of distinct TCBs.
 *
 * Why: send and receive pop the queue head without checking; an empty queue must be IdleEP.
 *
 * Mirrors: l4v Invariants_AI `valid_ep`.
 */
export const validEp = defineInvariant({
  name: "valid_objs.valid_ep",
  statement: "An endpoint in the Send or Recv state has a non-empty queue of distinct TCBs.",
  mirrors: "l4v Invariants_AI valid_ep",
  threatenedBy: ["sendIPC", "receiveIPC", "cancelIPC", "cancelAllIPC", "CNode_CancelBadgedSends", "TCB_Suspend"],
  // Per endpoint: its queue, and the threads in it (refNeighbourhood).
  scope: refNeighbourhood,
  find: (s, report) => {
    for (const [p, o] of s.kheap) {
      if (o.tag !== "Endpoint" || o.state.tag === "IdleEP") continue
      checkQueue(s, `Endpoint ${hex(p)} (${o.state.tag})`, o.state.queue, report)
    }
  },
})

/**
 * A notification in the Waiting state has a non-empty queue of distinct TCBs, and only its bound
 * thread when it is bound; a bound thread is a TCB; an active notification's badge fits in 28 bits.
 *
 * Why: signal pops the queue head without checking; a bound notification has one possible waiter.
 *
 * Mirrors: l4v Invariants_AI `valid_ntfn`.
 */
export const validNtfn = defineInvariant({
  name: "valid_objs.valid_ntfn",
  statement:
    "A waiting notification has a non-empty queue of distinct TCBs, exactly [its bound thread] when bound; a bound " +
    "thread is a TCB; an active notification's badge is below 2^28.",
  mirrors: "l4v Invariants_AI valid_ntfn",
  threatenedBy: ["sendSignal", "receiveSignal", "cancelSignal", "cancelAllSignals", "TCB_BindNotification", "unbindNotification"],
  // Per notification: its queue, its binding, and the threads they name (refNeighbourhood).
  scope: refNeighbourhood,
  find: (s, report) => {
    for (const [p, o] of s.kheap) {
      if (o.tag !== "Notification") continue
      const n = `Notification ${hex(p)}`
      if (o.state.tag === "WaitingNtfn") {
        checkQueue(s, `${n} (WaitingNtfn)`, o.state.queue, report)
        if (o.boundTCB !== null && (o.state.queue.length !== 1 || o.state.queue[0] !== o.boundTCB)) {
          report(`${n} is bound to ${hex(o.boundTCB)} but its queue is [${o.state.queue.map(hex).join(", ")}]`)
        }
      } else if (o.state.tag === "ActiveNtfn" && (!isNat(o.state.badge) || o.state.badge >= bit(badgeBits))) {
        report(`${n} is active with badge ${o.state.badge}, not below 2^${badgeBits}`)
      }
      if (o.boundTCB !== null) {
        const t = s.kheap.get(o.boundTCB)
        if (t?.tag !== "TCB") report(`${n} is bound to ${hex(o.boundTCB)}, which is ${describe(t)}, not a TCB`)
      }
    }
  },
})

/**
 * Objects have sizes seL4 can hold: a CNode's radix is in 0..27 (so it fits the address space
 * with its 16-byte slots), a frame is one of the four page sizes. Radix 0 is allowed, as in l4v:
 * user CNodes have radix >= 1 (Retype refuses 0 and `wellformed_cap` wants CNode caps of radix >=
 * 1), but the kernel's IRQ node has radix 0 when there is one IRQ line.
 *
 * Why: sizes fix object ranges, which every range invariant relies on.
 *
 * Mirrors: l4v Invariants_AI `valid_cs_size` (CNodes) and ARM `valid_arch_obj` frame sizes.
 */
export const objSizes = defineInvariant({
  name: "valid_objs.obj_sizes",
  statement: "Every CNode's radix is in 0..27 and every frame's size is one of the four page sizes (12, 16, 20, 24 bits).",
  mirrors: "l4v Invariants_AI valid_cs_size; ARM frame sizes",
  threatenedBy: ["Untyped_Retype"],
  // Per object.
  eachObject: (s, p, o, report) => {
    if (o.tag === "CNode" && (!isNat(o.radix) || o.radix >= wordBits - slotBits)) {
      report(`CNode ${hex(p)} has radix ${o.radix}, not in 0..${wordBits - slotBits - 1}`)
    } else if (o.tag === "Frame" && !frameSizes.has(o.sizeBits)) {
      report(`Frame ${hex(p)} has size ${o.sizeBits} bits, not a page size`)
    }
  },
})

const isWord = (x: number): boolean => Number.isInteger(x) && x >= 0 && x < 2 ** wordBits

/** What is wrong with a fault's fields, or null if nothing. */
const faultProblem = (f: Fault): string | null => {
  switch (f.tag) {
    case "CapFault": {
      if (!isWord(f.address)) return `its address ${f.address} is not a 32-bit word`
      const lf = f.failure
      switch (lf.tag) {
        case "InvalidRoot": return null
        case "MissingCapability":
          return isNat(lf.bitsLeft) && lf.bitsLeft <= wordBits ? null : `MissingCapability bitsLeft ${lf.bitsLeft} is not in 0..${wordBits}`
        case "DepthMismatch":
          if (!(isNat(lf.bitsLeft) && lf.bitsLeft <= wordBits)) return `DepthMismatch bitsLeft ${lf.bitsLeft} is not in 0..${wordBits}`
          return isNat(lf.bitsFound) && lf.bitsFound <= wordBits ? null : `DepthMismatch bitsFound ${lf.bitsFound} is not in 0..${wordBits}`
        case "GuardMismatch":
          if (!(isNat(lf.bitsLeft) && lf.bitsLeft <= wordBits)) return `GuardMismatch bitsLeft ${lf.bitsLeft} is not in 0..${wordBits}`
          if (!(isNat(lf.bitsFound) && lf.bitsFound <= wordBits)) return `GuardMismatch guard size ${lf.bitsFound} exceeds ${wordBits}`
          return isNat(lf.guardFound) && lf.guardFound < bit(lf.bitsFound) ? null : `GuardMismatch guard ${lf.guardFound} does not fit in ${lf.bitsFound} bits`
      }
      return null
    }
    case "UnknownSyscall":
      return isWord(f.syscallNumber) ? null : `its syscall number ${f.syscallNumber} is not a 32-bit word`
    case "UserException":
      return isWord(f.number) && isWord(f.code) ? null : `its number ${f.number} or code ${f.code} is not a 32-bit word`
    case "VMFault":
      return isWord(f.address) && isWord(f.fsr) ? null : `its address ${f.address} or FSR ${f.fsr} is not a 32-bit word`
  }
}

/**
 * A pending fault is well formed: its words are 32-bit words, and a lookup failure inside a cap
 * fault has bit counts in 0..32 and a guard that fits its guard size. The idle thread has no
 * fault.
 *
 * Why: the fault is turned into the handler's message words (`setMRs_fault`); a guard longer
 * than a word cannot be encoded (l4v's `valid_fault` is exactly that condition).
 *
 * Not stated, because seL4 does not keep it: that a thread with a fault is in a fault-IPC state.
 * `cancelIPC` of a BlockedOnSend thread (suspend, endpoint deletion, badge cancellation) does not
 * clear `tcbFault` (only the BlockedOnReply branch does, and `doReplyTransfer`), so a stale fault
 * rides along into Inactive, Restart, Running and every blocked state (and a later plain Send
 * from that thread is delivered as a fault message). l4v states no tcb_fault-state link either.
 *
 * Mirrors: l4v Invariants_AI `valid_fault` (part of `valid_tcb`); the idle-thread clause is
 * kspec's (idle never enters the kernel, so it never faults).
 */
export const validFault = defineInvariant({
  name: "valid_objs.valid_fault",
  statement:
    "A pending fault is well formed: 32-bit words, and a cap fault's lookup failure has bit counts in 0..32 and a " +
    "guard that fits its size. The idle thread has no fault.",
  mirrors: "l4v Invariants_AI valid_fault (in valid_tcb)",
  threatenedBy: ["handleFault", "sendFaultIPC", "doReplyTransfer", "cancelIPC"],
  // Per object: only a changed object can break it (idleThread is fixed at boot).
  eachObject: (s, p, o, report) => {
    if (o.tag !== "TCB" || o.tcbFault === null) return
    if (p === s.idleThread) report(`the idle thread ${hex(p)} has a pending ${o.tcbFault.tag}`)
    const why = faultProblem(o.tcbFault)
    if (why !== null) report(`TCB ${hex(p)} has a pending ${o.tcbFault.tag} that is malformed: ${why}`)
  },
})

/** The valid_objs invariants, in registry order. */
export const objectInvariants = [
  wellformedCap, validCap, validUntyped, capSlots, tcbCapCases, validTcb, validFault, validEp, validNtfn, objSizes,
] as const
