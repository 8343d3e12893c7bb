/**
 * The event alphabet of `kspec prove`: every kernel entry the search tries from a state, derived
 * from the state and the scope's finite argument domains. It is finite, deterministic (the same
 * state gives the same events in the same order: a path is a list of indices into it) and grows
 * with what the current thread holds.
 *
 * From a state whose current thread has a CSpace that resolves cap pointers (a CNode cap whose
 * guard and radix cover the 32 bits, guard 0: cap pointer i is slot i), for each occupied slot i,
 * by the cap in it (each family only if the scope has it):
 *
 * - endpoint (ipc): Send and Call with each message length (words 1, 2, ...), NBSend (length 0),
 *   Recv, NBRecv, ReplyRecv; (transfer) Send and Call carrying the cap of each other occupied slot,
 *   Recv with a receive path to the first empty slot of the first CNode the thread can name;
 * - notification (notification): Signal (Send), Wait (Recv), Poll (NBRecv);
 * - CNode (cnode), over the CNode it names (indices 0..2^radix-1 at depth guard+radix), and between
 *   it and every other CNode the thread names: Delete and Revoke of every slot; Copy (each rights
 *   mask), Mint (first rights mask, each badge), Move and Mutate (each badge) from every occupied
 *   slot to each destination; Rotate (first destination, each occupied pivot, each other occupied
 *   source); SaveCaller to each destination; CancelBadgedSends of every endpoint cap;
 * - untyped (untyped): Retype of each scope type into each destination of each CNode;
 * - thread (tcb): Suspend, Resume, SetPriority, SetMCPriority and SetSchedParams (each priority,
 *   authority the first thread cap held), Bind (each notification cap) and UnbindNotification,
 *   SetTLSBase, ReadRegisters (2), WriteRegisters (1 word), CopyRegisters (from each other thread
 *   cap), SetFlags;
 * - IRQControl (irq): Get of each scope line and one more, into the first destination;
 *   IRQHandler (irq): Ack, SetNotification (each notification cap), Clear;
 * - DomainSet (domain): Set of domain 0 and of the last domain, on each thread cap; with several
 *   domains, ScheduleSetStart(1);
 * - frames, page tables, ASID pools and ASID control (vm): Page_Map into each page directory the
 *   thread holds (read-write, read-only execute-never, and unaligned), Page_Unmap, PageTable_Map
 *   (aligned, unaligned, over the IPC buffer's entry), PageTable_Unmap, ASIDPool_Assign of each
 *   directory, ASIDControl_MakePool from each untyped (see `vmInvocations`);
 * - with an interrupt line pending (preemption, on the scope's first line): Delete and Revoke of
 *   each occupied slot, and the first Retype: long operations stop at a preemption point;
 * - reply (ipc): Send on it (a reply);
 * - any other cap (other): each invocation the ABI table lists for its type, with zero words
 *   (so frames, page tables and the rest join the alphabet as the kernel models them);
 * - hostile: every empty slot invoked (Call) and received on (Recv), a cap pointer the guard
 *   rejects, an occupied destination (DeleteFirst) for copies and retypes, a bad label on
 *   each object cap with methods.
 *
 * Then, for the current thread: Reply and Yield (ipc, yield); VMFault, UnknownSyscall and
 * UserException (faults); user loads, a store and a fetch at its IPC buffer, and a load at an
 * unmapped address (memory; with vm also at the address vm maps frames at, a fetch from an
 * execute-never page and a store to an unmapped address). For any current thread, the idle one
 * too: TimerTick (tick) and an
 * interrupt on each scope line plus one unhandled line (irq). No other words: message words,
 * badges, rights and priorities come only from the scope's lists.
 * @category prove
 */
import type { Cap, Event, PPtr, SyscallEvent } from "../../model/index.ts"
import { InvocationLabel, allRights, messageInfo, wordBits } from "../../model/index.ts"
import { abi } from "../../model/abi.ts"
import type { KernelState } from "../../spec/index.ts"
import { getCap, getTcb, slotOf } from "../../spec/index.ts"
import {
  interrupt, raw, seL4_CNode_CancelBadgedSends, seL4_CNode_Copy, seL4_CNode_Delete, seL4_CNode_Mint, seL4_CNode_Move, seL4_CNode_Mutate,
  seL4_CNode_Revoke, seL4_CNode_Rotate, seL4_CNode_SaveCaller, seL4_Call, seL4_DomainSet_Set, seL4_IRQControl_Get, seL4_IRQHandler_Ack,
  seL4_IRQHandler_Clear, seL4_IRQHandler_SetNotification, seL4_NBRecv, seL4_NBSend, seL4_Recv, seL4_Reply, seL4_ReplyRecv, seL4_Send,
  seL4_TCB_BindNotification, seL4_TCB_CopyRegisters, seL4_TCB_ReadRegisters, seL4_TCB_Resume, seL4_TCB_SetFlags, seL4_TCB_SetMCPriority,
  seL4_TCB_SetPriority, seL4_TCB_SetSchedParams, seL4_TCB_SetTLSBase, seL4_TCB_Suspend, seL4_TCB_UnbindNotification,
  seL4_TCB_WriteRegisters, seL4_Untyped_Retype, seL4_Yield, seL4_DomainSet_ScheduleSetStart, seL4_ARM_Page_Map, seL4_ARM_Page_Unmap,
  seL4_ARM_PageTable_Map, seL4_ARM_PageTable_Unmap, seL4_ARM_ASIDPool_Assign, seL4_ARM_ASIDControl_MakePool, seL4_ARM_Default_VMAttributes,
  seL4_ARM_ExecuteNever, seL4_ReadWrite, seL4_CanRead, execute, readWord, timerTick, unknownSyscall, userException, vmFault, writeWord,
} from "../builders.ts"
import { rootCNode } from "../gen/resolveUtil.ts"
import type { AlphabetSpec, Family } from "./scope.ts"
import { retypeTypes, vmBase } from "./scope.ts"

/** A CNode the current thread can name with a cap in its CSpace, and how to index it. */
interface CNodeView {
  /** The cap pointer of the CNode cap. */
  readonly cptr: number
  readonly ptr: PPtr
  /** The depth that names one slot (guard size + radix). */
  readonly depth: number
  readonly slots: number
  readonly occupied: readonly number[]
  readonly empty: readonly number[]
}

/** The current thread's CSpace root, if it resolves a cap pointer i to slot i in one level (guard 0). */
const directRoot = (s: KernelState, t: PPtr): Extract<Cap, { tag: "CNodeCap" }> | undefined => {
  const c = rootCNode(s, t)
  return c?.guard === 0 ? c : undefined
}

const view = (s: KernelState, cptr: number, c: Extract<Cap, { tag: "CNodeCap" }>): CNodeView | undefined => {
  const depth = c.guardSize + c.radix
  if (c.guard !== 0 || depth < 1 || depth > wordBits || c.radix > 8) return undefined
  const occupied: number[] = []
  const empty: number[] = []
  for (let i = 0; i < 2 ** c.radix; i++) (getCap(s, slotOf(c.ptr, i)).tag === "NullCap" ? empty : occupied).push(i)
  return { cptr, ptr: c.ptr, depth, slots: 2 ** c.radix, occupied, empty }
}

/** Words 1..n, a message of length n. */
const msg = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1)

/** Every event the scope's alphabet has from state `s` (see the module comment), in a fixed order. */
export const alphabet = (s: KernelState, a: AlphabetSpec, irqs: readonly number[]): Event[] => {
  const has = new Set<Family>(a.families)
  const out: Event[] = []
  const t = s.curThread
  const root = t === s.idleThread ? undefined : directRoot(s, t)
  // The line a preemption variant raises: the scope's first (unmasked once its handler is set up).
  const preemptIRQ = has.has("preemption") ? irqs[0] : undefined
  if (root !== undefined) {
    const slots: Cap[] = []
    for (let i = 0; i < 2 ** root.radix; i++) slots.push(getCap(s, slotOf(root.ptr, i)))
    const occupied = slots.flatMap((c, i) => (c.tag === "NullCap" ? [] : [i]))
    const views: CNodeView[] = []
    slots.forEach((c, i) => { if (c.tag === "CNodeCap") { const v = view(s, i, c); if (v !== undefined) views.push(v) } })
    const threadCaps = occupied.filter((i) => slots[i]!.tag === "ThreadCap")
    const ntfnCaps = occupied.filter((i) => slots[i]!.tag === "NotificationCap")
    /** Destination slots of a view: the first empty one or every one, and with hostile an occupied one. */
    const dests = (v: CNodeView): number[] => {
      const ds = a.destinations === "every-slot" ? Array.from({ length: v.slots }, (_, i) => i) : v.empty.slice(0, 1)
      if (has.has("hostile") && a.destinations !== "every-slot" && v.occupied.length > 0) ds.push(v.occupied[0]!)
      return ds
    }
    const recvPath = views.length > 0 && views[0]!.empty.length > 0 ? { root: views[0]!.cptr, index: views[0]!.empty[0]!, depth: views[0]!.depth } : undefined

    for (const i of occupied) {
      const c = slots[i]!
      switch (c.tag) {
        case "EndpointCap":
          if (has.has("ipc")) {
            for (const n of a.messageLengths) out.push(seL4_Send(i, { mrs: msg(n) }), seL4_Call(i, { mrs: msg(n) }))
            out.push(seL4_NBSend(i), seL4_Recv(i), seL4_NBRecv(i), seL4_ReplyRecv(i))
          }
          if (has.has("transfer")) {
            for (const j of occupied) if (j !== i) out.push(seL4_Send(i, { caps: [j] }), seL4_Call(i, { caps: [j] }))
            if (recvPath !== undefined) out.push(seL4_Recv(i, recvPath))
          }
          break
        case "NotificationCap":
          if (has.has("notification")) out.push(seL4_Send(i), seL4_Recv(i), seL4_NBRecv(i))
          break
        case "ReplyCap":
          if (has.has("ipc")) out.push(seL4_Send(i, { mrs: msg(1) }))
          break
        case "CNodeCap": {
          const v = views.find((x) => x.cptr === i)
          if (v === undefined || !has.has("cnode")) break
          for (let j = 0; j < v.slots; j++) {
            out.push(seL4_CNode_Delete(i, j, v.depth), seL4_CNode_Revoke(i, j, v.depth))
            // With an interrupt pending: a long deletion stops at a preemption point (the caller stays Restart).
            if (preemptIRQ !== undefined && getCap(s, slotOf(v.ptr, j)).tag !== "NullCap") {
              out.push(preempted(seL4_CNode_Delete(i, j, v.depth), preemptIRQ), preempted(seL4_CNode_Revoke(i, j, v.depth), preemptIRQ))
            }
          }
          for (const sv of views) {
            for (const src of sv.occupied) {
              for (const d of dests(v)) {
                for (const r of a.rights) out.push(seL4_CNode_Copy(i, d, v.depth, sv.cptr, src, sv.depth, r))
                for (const b of a.badges) out.push(seL4_CNode_Mint(i, d, v.depth, sv.cptr, src, sv.depth, a.rights[0] ?? allRights, b))
                out.push(seL4_CNode_Move(i, d, v.depth, sv.cptr, src, sv.depth))
                for (const b of a.badges) out.push(seL4_CNode_Mutate(i, d, v.depth, sv.cptr, src, sv.depth, b))
              }
            }
          }
          const d0 = dests(v)[0]
          if (d0 !== undefined) {
            for (const p of v.occupied) for (const src of v.occupied) if (src !== p) out.push(seL4_CNode_Rotate(i, d0, v.depth, 0, i, p, v.depth, 0, i, src, v.depth))
          }
          for (const d of dests(v)) out.push(seL4_CNode_SaveCaller(i, d, v.depth))
          for (const j of v.occupied) if (getCap(s, slotOf(v.ptr, j)).tag === "EndpointCap") out.push(seL4_CNode_CancelBadgedSends(i, j, v.depth))
          break
        }
        case "UntypedCap":
          if (!has.has("untyped")) break
          for (const r of a.retype) {
            for (const v of views) for (const d of dests(v)) out.push(seL4_Untyped_Retype(i, retypeTypes[r.type], r.sizeBits, v.cptr, 0, 0, d, 1))
          }
          // The first retype with an interrupt pending: the untyped's reset stops between chunks.
          if (preemptIRQ !== undefined && a.retype.length > 0 && views.length > 0) {
            const r = a.retype[0]!
            const d = dests(views[0]!)[0]
            if (d !== undefined) out.push(preempted(seL4_Untyped_Retype(i, retypeTypes[r.type], r.sizeBits, views[0]!.cptr, 0, 0, d, 1), preemptIRQ))
          }
          break
        case "ThreadCap": {
          if (!has.has("tcb")) break
          const auth = threadCaps[0]!
          out.push(seL4_TCB_Suspend(i), seL4_TCB_Resume(i))
          for (const p of a.priorities) {
            out.push(seL4_TCB_SetPriority(i, auth, p), seL4_TCB_SetMCPriority(i, auth, p), seL4_TCB_SetSchedParams(i, auth, p, p))
          }
          for (const n of ntfnCaps) out.push(seL4_TCB_BindNotification(i, n))
          out.push(seL4_TCB_UnbindNotification(i), seL4_TCB_SetTLSBase(i, 7), seL4_TCB_ReadRegisters(i, false, 0, 2), seL4_TCB_WriteRegisters(i, false, 0, [7]))
          for (const o of threadCaps) if (o !== i) out.push(seL4_TCB_CopyRegisters(i, o, false, false, true, true, 0))
          out.push(seL4_TCB_SetFlags(i, 0, 1))
          break
        }
        case "IRQControlCap":
          if (!has.has("irq")) break
          for (const v of views.slice(0, 1)) {
            const d = dests(v)[0]
            if (d !== undefined) for (const q of [...irqs, spareLine(s, irqs)]) out.push(seL4_IRQControl_Get(i, q, v.cptr, d, v.depth))
          }
          break
        case "IRQHandlerCap":
          if (!has.has("irq")) break
          out.push(seL4_IRQHandler_Ack(i))
          for (const n of ntfnCaps) out.push(seL4_IRQHandler_SetNotification(i, n))
          out.push(seL4_IRQHandler_Clear(i))
          break
        case "DomainCap":
          if (!has.has("domain")) break
          for (const th of threadCaps) for (const dom of new Set([0, s.numDomains - 1])) out.push(seL4_DomainSet_Set(i, dom, th))
          // With several domains: start the schedule over from its second entry (the current domain's time ends).
          if (s.numDomains > 1) out.push(seL4_DomainSet_ScheduleSetStart(i, 1))
          break
        case "FrameCap": case "PageTableCap": case "PageDirectoryCap": case "ASIDPoolCap": case "ASIDControlCap":
          if (has.has("vm")) out.push(...vmInvocations(s, c, i, slots, views, t))
          else if (has.has("other")) out.push(...genericInvocations(c, i))
          break
        default:
          if (!has.has("other")) break
          out.push(...genericInvocations(c, i))
      }
      if (has.has("hostile") && hasMethods(c)) out.push(seL4_Call(i, { label: badLabel }))
    }
    if (has.has("hostile")) {
      for (let i = 0; i < slots.length; i++) if (slots[i]!.tag === "NullCap") out.push(seL4_Call(i), seL4_Recv(i))
      // A cap pointer whose top bits the CSpace's guard (0) rejects: a lookup failure.
      out.push(seL4_Call(guardMismatch), seL4_Recv(guardMismatch))
    }
    if (has.has("ipc")) out.push(seL4_Reply({ mrs: msg(1) }))
    if (has.has("yield")) out.push(seL4_Yield())
    if (has.has("faults")) out.push(vmFault(0x1000, 0x5), unknownSyscall(0x99), userException(1, 0))
  }
  if (has.has("memory") && t !== s.idleThread) {
    // The thread's own IPC buffer (mapped read-write: loads, stores, and a fetch), and an address nothing maps (a VMFault).
    const buf = getTcb(s, t).tcbIPCBuffer
    if (buf !== 0) out.push(readWord(buf + 4), writeWord(buf + 4, 5), execute(buf))
    out.push(readWord(unmapped))
    // Where the vm family maps frames.
    if (has.has("vm")) out.push(readWord(vmBase), writeWord(vmBase, 6), execute(vmBase), execute(vmBase + 0x1_0000), writeWord(unmapped, 1))
  }
  if (has.has("tick")) out.push(timerTick())
  if (has.has("irq")) for (const q of [...irqs, spareLine(s, irqs)]) out.push(interrupt(q))
  return out
}


/**
 * The vm family's invocations of an address-space cap in slot `i`: a frame mapped into each
 * directory the thread holds (read-write, and read-only execute-never, at `vmBase`; read-write
 * 2 KiB above it: unaligned for any frame) and unmapped; a page table mapped at `vmBase`,
 * 1 MiB + 4 KiB above it (recorded 1 MiB-aligned) and at the thread's IPC buffer (a directory
 * entry in use), and
 * unmapped; each directory assigned from a pool; a pool made from each untyped into the first
 * empty slot.
 */
const vmInvocations = (s: KernelState, c: Cap, i: number, slots: readonly Cap[], views: readonly CNodeView[], t: PPtr): SyscallEvent[] => {
  const out: SyscallEvent[] = []
  const pds = slots.flatMap((x, j) => (x.tag === "PageDirectoryCap" ? [j] : []))
  const attr = seL4_ARM_Default_VMAttributes
  switch (c.tag) {
    case "FrameCap":
      for (const d of pds) {
        out.push(seL4_ARM_Page_Map(i, d, vmBase, seL4_ReadWrite, attr), seL4_ARM_Page_Map(i, d, vmBase, seL4_CanRead, attr | seL4_ARM_ExecuteNever))
        out.push(seL4_ARM_Page_Map(i, d, vmBase + 0x800, seL4_ReadWrite, attr))
      }
      out.push(seL4_ARM_Page_Unmap(i))
      break
    case "PageTableCap": {
      const buf = getTcb(s, t).tcbIPCBuffer
      for (const d of pds) {
        out.push(seL4_ARM_PageTable_Map(i, d, vmBase, attr), seL4_ARM_PageTable_Map(i, d, vmBase + 0x10_1000, attr))
        if (buf !== 0) out.push(seL4_ARM_PageTable_Map(i, d, buf, attr))
      }
      out.push(seL4_ARM_PageTable_Unmap(i))
      break
    }
    case "ASIDPoolCap":
      for (const d of pds) out.push(seL4_ARM_ASIDPool_Assign(i, d))
      break
    case "ASIDControlCap": {
      const v = views[0]
      const d = v?.empty[0]
      if (v !== undefined && d !== undefined) slots.forEach((x, u) => { if (x.tag === "UntypedCap") out.push(seL4_ARM_ASIDControl_MakePool(i, u, v.cptr, d, v.depth)) })
      break
    }
    default: break
  }
  return out
}

/** A syscall event with an interrupt line pending during its kernel entry. */
const preempted = (ev: SyscallEvent, irq: number): SyscallEvent => ({ ...ev, pendingIRQ: irq })

/** A user address below every scope's mappings (IPC buffers are mapped high): a translation fault. */
const unmapped = 0x1000

/** A label no object method has. */
const badLabel = 0x7ff
/** A cap pointer with the top bit set (and slot 1 below it): the guard (0) of any CSpace rejects it. */
const guardMismatch = 0x8000_0001

/** An interrupt line that is not one of the scope's: the last line, or none if it is one of them. */
const spareLine = (s: KernelState, irqs: readonly number[]): number => {
  for (let q = s.numIRQs - 1; q > 0; q--) if (!irqs.includes(q)) return q
  return s.numIRQs
}

const hasMethods = (c: Cap): boolean =>
  c.tag === "CNodeCap" || c.tag === "UntypedCap" || c.tag === "ThreadCap" || c.tag === "IRQControlCap" || c.tag === "IRQHandlerCap" || c.tag === "DomainCap"

/** The ABI table's invocations of a cap type, each with zero words (label 0 for a cap invoked as a whole). */
const genericInvocations = (c: Cap, i: number): SyscallEvent[] => {
  const entries = abi.filter((e) => e.kind === "invocation" && e.cap === c.tag)
  if (entries.length === 0) return [seL4_Call(i)]
  return entries.map((e) => {
    const label = e.label === undefined ? 0 : InvocationLabel[e.label]
    return raw("Call", i, messageInfo(label, e.args.length), new Array<number>(e.args.length).fill(0))
  })
}

/** What the alphabet offers, in a few lines for the statement and `--help` (from the scope's options). */
export const describeAlphabet = (a: AlphabetSpec, irqs: readonly number[]): string[] => {
  const has = (f: Family) => a.families.includes(f)
  const list = (xs: readonly number[]) => (xs.length === 0 ? "none" : xs.join(", "))
  const lines: string[] = []
  const per: string[] = []
  if (has("ipc")) per.push(`endpoint Send/Call (lengths ${list(a.messageLengths)}), NBSend, Recv, NBRecv, ReplyRecv; Reply, reply caps`)
  if (has("transfer")) per.push("Send/Call carrying each other cap, Recv with a receive path")
  if (has("notification")) per.push("Signal, Wait, Poll")
  if (has("cnode")) per.push(`CNode Delete/Revoke of every slot, Copy (rights ${list(a.rights)}), Mint/Mutate (badges ${list(a.badges)}), Move, Rotate, SaveCaller, CancelBadgedSends, to ${a.destinations === "first-empty" ? "the first empty slot" : "every slot"}`)
  if (has("untyped")) per.push(`Retype of ${a.retype.map((r) => `${r.type}${r.type === "CNode" || r.type === "Untyped" ? `(${r.sizeBits})` : ""}`).join(", ") || "nothing"}`)
  if (has("tcb")) per.push(`TCB Suspend, Resume, priorities (${list(a.priorities)}), Bind/Unbind, registers, TLS base, flags`)
  if (has("irq")) per.push("IRQControl_Get, IRQHandler Ack/SetNotification/Clear")
  if (has("domain")) per.push("DomainSet_Set, ScheduleSetStart(1) with several domains")
  if (has("vm")) per.push(`Page_Map (RW and R at 0x${vmBase.toString(16)}, RW 2 KiB above), Page_Unmap, PageTable_Map (there and at the IPC buffer), PageTable_Unmap, ASIDPool_Assign, ASIDControl_MakePool`)
  if (has("other")) per.push("every other cap's ABI invocations")
  if (has("preemption")) per.push(irqs.length > 0 ? `Delete/Revoke of each occupied slot and the first Retype again with line ${irqs[0]} pending (preempted)` : "no preemption (the scope has no interrupt line)")
  if (has("hostile")) per.push("empty slots, a guard-rejected cap pointer, occupied destinations, bad labels")
  lines.push(`per cap the current thread holds: ${per.join("; ") || "nothing"}`)
  const rest: string[] = []
  if (has("yield")) rest.push("Yield")
  if (has("faults")) rest.push("VMFault, UnknownSyscall, UserException")
  if (has("memory")) rest.push(`user loads, a store and a fetch at the IPC buffer${has("vm") ? ` and at 0x${vmBase.toString(16)}` : ""}, a load at 0x${unmapped.toString(16)} (unmapped)`)
  if (has("tick")) rest.push("TimerTick")
  if (has("irq")) rest.push(`interrupts on lines ${list(irqs)} and a spare line`)
  if (rest.length > 0) lines.push(`plus ${rest.join(", ")}`)
  return lines
}
