/**
 * Readable traces in seL4 terms, for `kspec replay`, `kspec check` and `kspec fuzz`. Each event is
 * rendered against the spec state before it (cap pointers resolved in the calling thread's
 * CSpace, arguments named by the ABI table), and its result against the state after it:
 *
 *     3. tcb#0  seL4_TCB_SetPriority(tcb#2, priority=200, authority=tcb#0)  -> RangeError(0, 100)
 *     4. tcb#0  seL4_Call(ep#3 badge=7 RWG, len=2, [5, 9])  -> Blocked (BlockedOnReply); now running tcb#2
 *
 * Objects are numbered in order of first appearance (#0, #1, ...), one counter for all kinds,
 * so a trace reads without addresses; `legend()` maps the numbers back to addresses.
 */
import type {
  BootConfig, Cap, Event, LookupFailure, PPtr, SyscallError, SyscallEvent, UserFaultEvent,
} from "../model/index.ts"
import {
  allRights, bufferCapsWord, errorNames, labelName, messageInfoFromWord, nMsgRegisters, objectTypeName, RightR, RightW, showLookupFailure,
  showRights, showSyscallError, tcbCaller, zombieTypeTCB,
} from "../model/index.ts"
import type { ArgShow } from "../model/abi.ts"
import { abiEntry } from "../model/abi.ts"
import type { KernelState, Outcome } from "../spec/index.ts"
import { boot, getCap, invocationName, observe, slotOf, stepWithOutcome } from "../spec/index.ts"
import { lookupCap, lookupCapAndSlot } from "../spec/kernel/cspace.ts"
import { lookupIPCBuffer } from "../spec/kernel/vspace.ts"
import { loadWordOffs } from "../spec/machine/memory.ts"
import { showEvent, showMemoryAccess } from "./show.ts"

const kindName: Readonly<Record<string, string>> = {
  TCB: "tcb", Endpoint: "ep", Notification: "ntfn", CNode: "cnode", Untyped: "ut", Frame: "frame", PageTable: "pt", PageDirectory: "pd",
  ASIDPool: "asidpool",
}

const word = (w: number): string => (w > 0xffff ? `0x${w.toString(16)}` : String(w))
const hex = (w: number): string => `0x${w.toString(16)}`

const showArg = (w: number, how: ArgShow | undefined): string => {
  switch (how) {
    case "hex": return hex(w)
    case "rights": return showRights(w & 15)
    case "objectType": return objectTypeName[w as keyof typeof objectTypeName] ?? `type#${w}`
    case "flags": return `0b${w.toString(2)}`
    default: return word(w)
  }
}

/** One rendered step: the caller, the event, and how it ended. */
export interface RenderedStep {
  readonly caller: string
  readonly event: string
  readonly result: string
}

/** Renders events and results, numbering objects as they first appear. */
export class TraceRenderer {
  private readonly ids = new Map<string, { n: number; kind: string; ptr: PPtr }>()

  /** `ep#3` for the object of `kind` at `ptr`. */
  obj(kind: string, ptr: PPtr): string {
    const key = `${kind}:${ptr}`
    let e = this.ids.get(key)
    if (e === undefined) { e = { n: this.ids.size, kind, ptr }; this.ids.set(key, e) }
    return `${kindName[kind] ?? kind}#${e.n}`
  }

  /** Which number stands for which object, e.g. `#2 tcb at 0x20001000`. */
  legend(): string[] {
    return [...this.ids.values()].map((e) => `#${e.n} ${kindName[e.kind] ?? e.kind} at ${hex(e.ptr)}`)
  }

  thread(s: KernelState, t: PPtr): string {
    return t === s.idleThread ? "idle" : this.obj("TCB", t)
  }

  /** A cap, e.g. `ep#3 badge=7 RWG` (badge 0 and full rights are left out). */
  cap(c: Cap): string {
    switch (c.tag) {
      case "NullCap": return "null"
      case "EndpointCap": case "NotificationCap": {
        const full = c.tag === "EndpointCap" ? allRights : RightR | RightW
        return `${this.obj(c.tag === "EndpointCap" ? "Endpoint" : "Notification", c.ptr)}${c.badge !== 0 ? ` badge=${c.badge}` : ""}${c.rights !== full ? ` ${showRights(c.rights)}` : ""}`
      }
      case "CNodeCap": return `${this.obj("CNode", c.ptr)}${c.guard !== 0 ? ` guard=${c.guard}/${c.guardSize}` : ""}`
      case "UntypedCap": return `${this.obj("Untyped", c.ptr)} ${c.sizeBits}b${c.isDevice ? " device" : ""}`
      case "ThreadCap": return this.obj("TCB", c.ptr)
      case "ReplyCap": return `${c.isMaster ? "master-reply" : "reply"}(${this.obj("TCB", c.tcb)})`
      case "DomainCap": return "domain"
      case "IRQControlCap": return "irq-control"
      case "IRQHandlerCap": return `irq-handler(${c.irq})`
      case "FrameCap": return `${this.obj("Frame", c.ptr)}${c.mapped !== null ? ` mapped asid=${c.mapped.asid} at ${hex(c.mapped.vaddr)}` : ""}`
      case "PageTableCap": return `${this.obj("PageTable", c.ptr)}${c.mapped !== null ? ` mapped asid=${c.mapped.asid} at ${hex(c.mapped.vaddr)}` : ""}`
      case "PageDirectoryCap": return `${this.obj("PageDirectory", c.ptr)}${c.asid !== null ? ` asid=${c.asid}` : ""}`
      case "ASIDControlCap": return "asid-control"
      case "ASIDPoolCap": return `${this.obj("ASIDPool", c.ptr)} base=${c.asidBase}`
      case "ZombieCap": return `zombie(${c.zombieType === zombieTypeTCB ? this.obj("TCB", c.ptr) : this.obj("CNode", c.ptr)}, ${c.number} left)`
    }
  }

  /** The cap a thread names with `cptr`, or `cptr=0x7 (no slot: <lookup failure>)`. */
  private capAt(s: KernelState, t: PPtr, cptr: number): string {
    const lu = lookupCap(s, t, cptr)
    return lu.ok ? this.cap(lu.value) : `cptr=${hex(cptr)} (no slot: ${showLookupFailure(lu.error)})`
  }

  /** Render the event against the state before it. */
  event(s: KernelState, e: Event): string {
    switch (e.tag) {
      case "TimerTick": return "TimerTick"
      case "Interrupt": return `Interrupt(${e.irq})`
      case "UserFault": return showUserFault(e)
      case "MemoryAccess": return s.curThread === s.idleThread ? `${showMemoryAccess(e)} while idle` : showMemoryAccess(e)
      case "Syscall": return s.curThread === s.idleThread ? `seL4_${e.syscall}(...) while idle` : this.syscall(s, e)
    }
  }

  private syscall(s: KernelState, e: SyscallEvent): string {
    const t = s.curThread
    const mi = messageInfoFromWord(e.msgInfo)
    const hasBuffer = lookupIPCBuffer(s, false, t)
    // What the decoder reads: the event's words over the thread's old ones, cut to 4 without a buffer.
    const mrs = observe(s, t).mrs.slice()
    e.mrs.forEach((w, i) => { mrs[i] = w })
    const length = mi.length > nMsgRegisters && !hasBuffer ? nMsgRegisters : mi.length
    const words = mrs.slice(0, length).map((w) => w ?? 0)
    const msg = `len=${length}${length > 0 ? `, [${words.map(word).join(", ")}]` : ""}`
    const recv = e.recvSlot !== undefined && e.recvSlot.length > 0 ? `, recv slot=[${e.recvSlot.map(word).join(", ")}]` : ""
    const extraPtrs = hasBuffer !== null ? [0, 1, 2].slice(0, mi.extraCaps).map((i) => e.extraCaps[i] ?? loadWordOffs(s, hasBuffer, bufferCapsWord + i)) : []
    const extras = extraPtrs.map((p) => this.capAt(s, t, p))
    const sys = `seL4_${e.syscall}`
    switch (e.syscall) {
      case "Yield": return `${sys}()`
      case "Recv": case "NBRecv": return `${sys}(${this.capAt(s, t, e.cptr)}${recv})`
      case "Reply": case "ReplyRecv": {
        const rc = getCap(s, slotOf(t, tcbCaller))
        const to = rc.tag === "ReplyCap" && !rc.isMaster ? `reply to ${this.obj("TCB", rc.tcb)}` : "no caller to reply to"
        const label = mi.label !== 0 ? `label=${word(mi.label)}, ` : ""
        return e.syscall === "Reply" ? `${sys}(${to}, ${label}${msg})` : `${sys}(${this.capAt(s, t, e.cptr)}, ${to}, ${label}${msg}${recv})`
      }
      case "Send": case "NBSend": case "Call": break
    }
    const lu = lookupCapAndSlot(s, t, e.cptr)
    if (!lu.ok) return `${sys}(${this.capAt(s, t, e.cptr)}, label=${labelName(mi.label)}, ${msg})`
    const cap = lu.value.cap
    const name = invocationName(cap, mi.label)
    const entry = abiEntry(name)
    const capList = extras.length > 0 ? `, caps=[${extras.join(", ")}]` : ""
    if (entry?.label === undefined) {
      // A cap invoked as a whole (endpoint, notification, reply, null, VM caps) or a label that is no method.
      const label = mi.label !== 0 || entry === undefined ? `label=${labelName(mi.label)}, ` : ""
      const call = cap.tag === "NotificationCap" && e.syscall === "Send" ? "seL4_Signal" : sys
      return `${call}(${this.cap(cap)}, ${label}${msg}${capList})`
    }
    // An object method: name each word and extra cap as libsel4 does.
    const parts = [this.cap(cap)]
    entry.args.forEach((a, i) => {
      if (a.name.endsWith("...")) { if (words.length > i) parts.push(`${a.name.slice(0, -3)}=[${words.slice(i).map(word).join(", ")}]`); return }
      if (i < words.length) parts.push(`${a.name}=${showArg(words[i]!, a.show)}`)
    })
    if (!entry.args.some((a) => a.name.endsWith("...")) && words.length > entry.args.length) {
      parts.push(`+[${words.slice(entry.args.length).map(word).join(", ")}]`)
    }
    entry.caps.forEach((c, i) => { if (i < extras.length) parts.push(`${c.name}=${extras[i]}`) })
    if (extras.length > entry.caps.length) parts.push(`+caps=[${extras.slice(entry.caps.length).join(", ")}]`)
    if (words.length < entry.args.filter((a) => !a.name.endsWith("...")).length) parts.push(`(${words.length} of ${entry.args.length} words)`)
    return `seL4_${name}(${parts.join(", ")})${e.syscall === "Call" ? "" : ` via ${sys}`}`
  }

  /**
   * How the step ended, against the states before and after it (`post` null when a layer threw):
   * the error with its words, what a receive got, where the caller blocked, a context switch.
   */
  result(pre: KernelState, ev: Event, o: Outcome | undefined, post: KernelState | null): string {
    if (o === undefined || post === null) return "(no result: a layer threw)"
    if (o.result === "Idle") return "idle: no user thread to make this entry"
    let r: string
    if (ev.tag === "TimerTick") r = "tick"
    else if (ev.tag === "Interrupt") r = o.invocation === "Undelivered" ? "not delivered (masked or no such line)" : o.invocation === "IRQSignal" ? "signal" : o.invocation
    else if (ev.tag === "UserFault") r = o.result === "Delivered" ? "fault sent to the handler" : "no fault handler: thread stopped"
    else if (o.invocation === "VMFault" || (ev.tag === "MemoryAccess" && o.result !== "Success")) r = this.vmFault(post, pre.curThread, o)
    else if (ev.tag === "MemoryAccess") r = ev.kind === "Read" ? `read ${word(observe(post, pre.curThread).mrs[0] ?? 0)}` : ev.kind === "Write" ? "written" : "jumped"
    else {
      r = this.syscallResult(pre, ev, o, post)
      if (ev.pendingIRQ !== undefined && o.result !== "Preempted") r += ` (IRQ ${ev.pendingIRQ} pending; no preemption point took it)`
    }
    if (post.curDomain !== pre.curDomain || (post.domainIndex !== pre.domainIndex && post.domainTime !== pre.domainTime)) r += `; domain ${post.curDomain}'s turn`
    if (post.curThread !== pre.curThread) r += `; now running ${this.thread(post, post.curThread)}`
    return r
  }

  /** A VMFault the step raised (a memory access, or a syscall's IPC-buffer stores): where, why, and whether a handler got it. */
  private vmFault(post: KernelState, t: PPtr, o: Outcome): string {
    const after = post.kheap.get(t)
    const f = after?.tag === "TCB" ? after.tcbFault : null
    const what = f?.tag === "VMFault" ? `VMFault(addr=${hex(f.address)}, fsr=${hex(f.fsr)}${f.instructionFault ? ", instruction" : ""})` : "VMFault"
    return o.result === "NoHandler" ? `${what}, no fault handler: thread stopped` : `${what} sent to the fault handler`
  }

  private syscallResult(pre: KernelState, ev: SyscallEvent, o: Outcome, post: KernelState): string {
    const t = pre.curThread
    const after = post.kheap.get(t)
    const ctx = after?.tag === "TCB" ? after.tcbContext : null
    if ((errorNames as readonly string[]).includes(o.result)) {
      // The error with its words: a Call finds them in its registers; for Send and NBSend decode
      // again as a Call (decoding reads only and does not depend on the syscall).
      const asCall = ev.syscall === "Call" ? post : stepWithOutcome(pre, { ...ev, syscall: "Call" }).state
      const tc = asCall.kheap.get(t)
      const err = tc?.tag === "TCB" ? errorFromReply(o.result as SyscallError["tag"], observe(asCall, t).mrs, messageInfoFromWord(tc.tcbContext.msgInfo).length) : o.result
      return ev.syscall === "Call" ? err : `${err} (not replied: ${ev.syscall})`
    }
    // A long operation stopped at a preemption point: the thread stays Restart and runs it again.
    if (o.result === "Preempted") return `Preempted by IRQ ${ev.pendingIRQ ?? "?"} (handled); the thread will run it again`
    if (o.result === "CapFault") {
      const f = after?.tag === "TCB" ? after.tcbFault : null
      if (ev.syscall === "NBSend") return "CapFault ignored (NBSend)"
      const what = f?.tag === "CapFault" ? `CapFault(${showLookupFailure(f.failure)})` : "CapFault"
      return after?.tag === "TCB" && after.tcbState.tag === "Inactive" ? `${what}, no fault handler: thread stopped` : `${what} sent to the fault handler`
    }
    if (o.result === "Blocked" && after?.tag === "TCB") {
      const st = after.tcbState
      const on = "ep" in st ? ` on ${this.obj("Endpoint", st.ep)}` : "ntfn" in st ? ` on ${this.obj("Notification", st.ntfn)}` : ""
      return `Blocked (${st.tag}${on})`
    }
    const received = (ev.syscall === "Recv" || ev.syscall === "NBRecv" || ev.syscall === "ReplyRecv") && (o.result === "Success" || o.result.endsWith("+Success"))
    if ((received || (ev.syscall === "Call" && o.result === "Success")) && ctx !== null) {
      const mi = messageInfoFromWord(ctx.msgInfo)
      const ws = observe(post, t).mrs.slice(0, mi.length).map((w) => word(w ?? 0))
      const badge = received && ctx.badge !== 0 ? `badge=${ctx.badge}, ` : ""
      const label = mi.label !== 0 ? `label=${word(mi.label)}, ` : ""
      return badge === "" && label === "" && ws.length === 0 ? o.result : `${o.result}: ${badge}${label}[${ws.join(", ")}]`
    }
    return o.result
  }
}

const showUserFault = (e: UserFaultEvent): string => {
  const w = (i: number) => (e.words[i] ?? 0) >>> 0
  switch (e.kind) {
    case "VMFault": return `UserFault(VMFault, addr=${hex(w(0))}, fsr=${hex(w(1) & 0x3fff)}${w(2) !== 0 ? ", instruction" : ""})`
    case "UnknownSyscall": return `UserFault(UnknownSyscall, n=${w(0)})`
    case "UserException": return `UserFault(UserException, n=${w(0)}, code=${w(1) & 0xfff_ffff})`
  }
}

/** Rebuild a syscall error from the words seL4 replies (`setMRs_syscall_error`); words the reply lost show as `?`. */
export const errorFromReply = (tag: SyscallError["tag"], mrs: readonly number[], length: number): string => {
  const w = (i: number): number => (i < length ? mrs[i] ?? 0 : Number.NaN)
  const lf = (at: number): LookupFailure => {
    switch (w(at) - 1) {
      case 0: return { tag: "InvalidRoot" }
      case 1: return { tag: "MissingCapability", bitsLeft: w(at + 1) }
      case 2: return { tag: "DepthMismatch", bitsLeft: w(at + 1), bitsFound: w(at + 2) }
      default: return { tag: "GuardMismatch", bitsLeft: w(at + 1), guardFound: w(at + 2), bitsFound: w(at + 3) }
    }
  }
  let e: SyscallError
  switch (tag) {
    case "InvalidArgument": e = { tag, argument: w(0) }; break
    case "InvalidCapability": e = { tag, capability: w(0) }; break
    case "RangeError": e = { tag, min: w(0), max: w(1) }; break
    case "NotEnoughMemory": e = { tag, bytesLeft: w(0) }; break
    case "FailedLookup": e = { tag, wasSource: w(0) === 1, failure: lf(1) }; break
    default: e = { tag } as SyscallError
  }
  return showSyscallError(e).replaceAll("NaN", "?")
}

/** Lines `  N. caller  event  -> result`, with the step number padded to `width`. */
export const formatStep = (i: number, r: RenderedStep, width = 3): string =>
  `  ${String(i).padStart(width)}. ${r.caller.padEnd(7)} ${r.event}  -> ${r.result}`

/**
 * Render a whole trace by running it in the spec from boot. Used where only the events are at
 * hand (`kspec check`'s counterexample). Should the spec throw, the rest is shown state-free.
 */
export const renderTrace = (config: BootConfig, events: readonly Event[], renderer = new TraceRenderer()): string[] => {
  const out: string[] = []
  let s: KernelState | null = boot(config)
  events.forEach((ev, i) => {
    if (s === null) { out.push(`  ${String(i + 1).padStart(3)}. ${showEvent(ev)}`); return }
    const pre: KernelState = s
    const caller = ev.tag === "Syscall" || ev.tag === "UserFault" ? renderer.thread(pre, pre.curThread) : "-"
    const event = renderer.event(pre, ev)
    let post: KernelState | null = null
    let o: Outcome | undefined
    try { const r = stepWithOutcome(pre, ev); post = r.state; o = r.outcome } catch { /* shown as no result */ }
    out.push(formatStep(i + 1, { caller, event, result: renderer.result(pre, ev, o, post) }))
    s = post
  })
  return out
}
