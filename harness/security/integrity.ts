/**
 * Integrity (l4v proof/access-control/Access.thy `integrity_subjects`): across one kernel step,
 * every change to state that is not the subject's own is one l4v's rules allow the subject to make
 * through the authority the policy gives it. The classes of change are l4v's: objects
 * (`integrity_obj`, the rules `troa_*`), slots (`cnode_integrity`, the TCB caller slot of
 * `troa_tcb_call`), CDT links and originality (`integrity_cdt`), CDT child lists
 * (`integrity_cdt_list`), IRQ states (`integrity_interrupts`), ready queues
 * (`integrity_ready_queues`), the ASID table (`integrity_asids`) and memory words
 * (`integrity_mem`, `trm_*`), each violation naming the change and the rules that did not cover it.
 *
 * Memory words: a frame's words are part of its object (spec/machine/memory.ts), each labelled by
 * its own physical address (l4v's memory is labelled address by address). A word of another label
 * may change when the subject may Write it (`trm_write`), or when it lies in the IPC buffer of a
 * thread of another label that could receive IPC and now runs (`trm_ipc`, l4v `auth_ipc_buffers`:
 * the 512-byte buffer of a thread whose buffer cap may write).
 * @category security
 */
import type { Cap, PPtr, SlotPtr, ThreadState } from "../../model/index.ts"
import { Reg, ipcBufferWords, numPriorities, showCap, slotBits, tcbCaller } from "../../model/index.ts"
import type { KernelState, KObject, Tcb } from "../../spec/index.ts"
import { mapDelta, setDelta } from "../../spec/invariants/delta.ts"
import { lookupIPCBuffer } from "../../spec/kernel/vspace.ts"
import { deepEqual } from "../lockstep/diff.ts"
import type { Labelling } from "./labels.ts"
import type { Auth, Label, Policy } from "./policy.ts"

/** The classes of state integrity constrains. */
export type ChangeClass = "object" | "slot" | "cdt" | "cdt_list" | "irq" | "ready_queue" | "asid" | "memory"

/** One change no rule allows: what changed, where, and the rules that were tried. */
export interface IntegrityViolation {
  readonly class: ChangeClass
  /** The label the changed state carries. */
  readonly label: Label
  /** Where: `thread 0x2000_1000`, `slot 0x2000_0430`, `ready queue d1p100`. */
  readonly where: string
  /** The change, before -> after, in a few words. */
  readonly change: string
  /** The l4v rules that could have allowed it and why each did not. */
  readonly rule: string
}

/** What integrity checks a step against. */
export interface IntegrityContext {
  readonly labels: Labelling
  readonly policy: Policy
  /** Objects outside the check (the idle thread, kernel globals). */
  readonly exempt?: ReadonlySet<PPtr>
}

const hex = (x: number) => `0x${x.toString(16)}`

const showState = (st: ThreadState): string => {
  switch (st.tag) {
    case "BlockedOnReceive": return `BlockedOnReceive(${hex(st.ep)})`
    case "BlockedOnSend": return `BlockedOnSend(${hex(st.ep)}${st.isCall ? ", call" : ""})`
    case "BlockedOnNotification": return `BlockedOnNotification(${hex(st.ntfn)})`
    default: return st.tag
  }
}

/**
 * A step's integrity: the changes from `pre` to `post` that are not the subject's own and that no
 * l4v rule allows. `schedulerDomains` are the domains whose ready queues the scheduler itself may
 * reorder in this step (the new domain, when the step moved on the domain schedule).
 */
export const checkIntegrity = (
  pre: KernelState, post: KernelState, subject: Label, c: IntegrityContext, schedulerDomains: ReadonlySet<number> = new Set(),
): IntegrityViolation[] => {
  const out: IntegrityViolation[] = []
  const lab = c.labels
  const auth = (a: Auth, to: Label) => c.policy.has(subject, a, to)
  const mine = (l: Label) => l === subject
  // ---- objects ----
  const objects = new Set<PPtr>()
  mapDelta(pre.kheap, post.kheap, objects)
  let buffers: IpcBuffers | null = null
  for (const p of objects) {
    const l = lab.object(p)
    const a = pre.kheap.get(p)
    const b = post.kheap.get(p)
    // ---- memory words: a frame whose words changed, word by word ----
    if (a?.tag === "Frame" && b?.tag === "Frame" && a.sizeBits === b.sizeBits && a.isDevice === b.isDevice) {
      if (a.words === b.words) continue
      buffers ??= ipcBuffers(pre, post, subject, lab)
      for (const i of new Set([...a.words.keys(), ...b.words.keys()])) {
        const before = a.words.get(i) ?? 0
        const after = b.words.get(i) ?? 0
        if (before === after) continue
        const paddr = p + 4 * i
        const wl = lab.object(paddr)
        if (mine(wl) || auth("Write", wl) || buffers.some(([lo, hi]) => paddr >= lo && paddr < hi)) continue
        out.push({
          class: "memory", label: wl, where: `word ${hex(paddr)} (frame ${hex(p)}, word ${i})`, change: `${hex(before)} -> ${hex(after)}`,
          rule: `integrity_mem: not ${subject}'s (trm_lrefl), no Write on ${wl} (trm_write), not in the IPC buffer of a thread of another label that could receive and now runs (trm_ipc)`,
        })
        if (out.length >= 16) break
      }
      continue
    }
    if (mine(l) || c.exempt?.has(p) === true || p === pre.idleThread) continue
    if (a === b || deepEqual(a, b)) continue
    const v = objectRule(pre, p, a, b, subject, l, auth, c)
    if (v !== null) out.push({ class: "object", label: l, ...v })
  }
  // ---- slots: caps, CDT parents and originality, CDT child lists ----
  const caps = new Set<SlotPtr>()
  mapDelta(pre.caps, post.caps, caps)
  const originals = new Set<SlotPtr>()
  setDelta(pre.isOriginal, post.isOriginal, originals)
  const parents = new Set<SlotPtr>()
  mapDelta(pre.cdt, post.cdt, parents)
  const lists = new Set<SlotPtr>()
  mapDelta(pre.cdtList, post.cdtList, lists)
  const allowed = cdtChangeAllowed(pre, subject, lab, auth)
  for (const sl of caps) {
    const l = lab.slot(pre, sl)
    if (mine(l)) continue
    const a = pre.caps.get(sl) ?? nullCap
    const b = post.caps.get(sl) ?? nullCap
    if (a === b || deepEqual(a, b)) continue
    const why = slotRule(pre, sl, a, b, subject, lab, auth)
    if (why !== null) out.push({ class: "slot", label: l, where: `slot ${hex(sl)}${containerText(pre, sl)}`, change: `${showCap(a)} -> ${showCap(b)}`, rule: why })
  }
  for (const sl of new Set([...parents, ...originals])) {
    const before = [pre.cdt.get(sl), pre.isOriginal.has(sl)] as const
    const after = [post.cdt.get(sl), post.isOriginal.has(sl)] as const
    if (before[0] === after[0] && before[1] === after[1]) continue
    if (allowed(sl)) continue
    const show = (v: readonly [SlotPtr | undefined, boolean]) => `parent ${v[0] === undefined ? "none" : hex(v[0])}${v[1] ? ", original" : ""}`
    out.push({
      class: "cdt", label: lab.slot(pre, sl), where: `slot ${hex(sl)}${containerText(pre, sl)}`, change: `${show(before)} -> ${show(after)}`,
      rule: `integrity_cdt: neither the slot nor a CDT ancestor is ${subject}'s, nor the caller slot of a thread waiting on an endpoint ${subject} may Call (cdca_owned, cdca_reply)`,
    })
  }
  for (const sl of lists) {
    if (allowed(sl)) continue
    const l0 = pre.cdtList.get(sl) ?? []
    const l1 = post.cdtList.get(sl) ?? []
    const keep = (xs: readonly SlotPtr[]) => xs.filter((x) => !allowed(x))
    if (deepEqual(keep(l0), keep(l1))) continue
    out.push({
      class: "cdt_list", label: lab.slot(pre, sl), where: `children of slot ${hex(sl)}${containerText(pre, sl)}`, change: `[${l0.map(hex).join(", ")}] -> [${l1.map(hex).join(", ")}]`,
      rule: `integrity_cdt_list: the children ${subject} may not change are not the same, in the same order, before and after`,
    })
  }
  // ---- IRQ states ----
  for (let i = 0; i < pre.numIRQs; i++) {
    if (pre.irqStates[i] === post.irqStates[i] || mine(lab.irq(i))) continue
    out.push({ class: "irq", label: lab.irq(i), where: `IRQ ${i}`, change: `${pre.irqStates[i]} -> ${post.irqStates[i]}`, rule: `integrity_interrupts: IRQ ${i} is ${lab.irq(i)}'s, not ${subject}'s` })
  }
  // ---- ready queues ----
  const queues = new Set<number>()
  mapDelta(pre.readyQueues, post.readyQueues, queues)
  for (const q of queues) {
    const d = Math.floor(q / numPriorities)
    const labels = lab.domain(d)
    if (labels.includes(subject) || schedulerDomains.has(d)) continue
    const a = pre.readyQueues.get(q) ?? []
    const b = post.readyQueues.get(q) ?? []
    if (b.length >= a.length && a.every((t, i) => b[b.length - a.length + i] === t)) continue
    out.push({
      class: "ready_queue", label: labels.join("+") || lab.root, where: `ready queue of domain ${d}, priority ${q % numPriorities}`, change: `[${a.map(hex).join(", ")}] -> [${b.map(hex).join(", ")}]`,
      rule: `integrity_ready_queues: domain ${d} is not ${subject}'s; its queues may only gain threads at the front`,
    })
  }
  // ---- the ASID table ----
  const highs = new Set<number>()
  mapDelta(pre.armASIDTable, post.armASIDTable, highs)
  for (const h of highs) {
    if (pre.armASIDTable.get(h) === post.armASIDTable.get(h)) continue
    const owners = lab.asidPool(h)
    if (owners.length === 1 && owners[0] === subject) continue
    out.push({ class: "asid", label: owners.join("+"), where: `ASID table entry ${h}`, change: `${hexOr(pre.armASIDTable.get(h))} -> ${hexOr(post.armASIDTable.get(h))}`, rule: `integrity_asids: the ASIDs of entry ${h} are not all ${subject}'s` })
  }
  return out
}

const hexOr = (p: number | undefined) => (p === undefined ? "none" : hex(p))
const nullCap: Cap = { tag: "NullCap" }

/** ` (in CNode 0x...)` or ` (caller slot of thread 0x...)`: where a slot lives, for messages. */
const containerText = (s: KernelState, sl: SlotPtr): string => {
  for (const [p, o] of s.kheap) {
    if (o.tag === "TCB" && sl >= p && sl < p + 5 * 2 ** slotBits) return ` (${["ctable", "vtable", "reply", "caller", "ipc buffer"][(sl - p) / 2 ** slotBits]} slot of thread ${hex(p)})`
    if (o.tag === "CNode" && sl >= p && sl < p + 2 ** (o.radix + slotBits)) return p === s.irqNode ? ` (IRQ node, IRQ ${(sl - p) / 2 ** slotBits})` : ` (CNode ${hex(p)}, index ${(sl - p) / 2 ** slotBits})`
  }
  return ""
}

/** Physical address ranges [lo, hi). */
type IpcBuffers = readonly (readonly [number, number])[]

/**
 * trm_ipc: the IPC buffers (l4v `auth_ipc_buffers`: the 512-byte buffer through a buffer cap that
 * may write) of the threads of other labels that could receive IPC before the step and run after it.
 */
const ipcBuffers = (pre: KernelState, post: KernelState, subject: Label, lab: Labelling): IpcBuffers => {
  const out: (readonly [number, number])[] = []
  for (const [p, o] of pre.kheap) {
    if (o.tag !== "TCB" || p === pre.idleThread || lab.object(p) === subject || !canReceiveIPC(o.tcbState)) continue
    const after = post.kheap.get(p)
    if (after?.tag !== "TCB" || after.tcbState.tag !== "Running") continue
    const buf = lookupIPCBuffer(pre, true, p)
    if (buf !== null) out.push([buf.frame + 4 * buf.word, buf.frame + 4 * (buf.word + ipcBufferWords)])
  }
  return out
}

/** l4v `can_receive_ipc`. */
const canReceiveIPC = (st: ThreadState): boolean =>
  st.tag === "BlockedOnReceive" || st.tag === "BlockedOnNotification" || st.tag === "BlockedOnReply" ||
  (st.tag === "BlockedOnSend" && st.isCall && (st.canGrant || st.canGrantReply))

/**
 * `cdt_change_allowed` over the pre-state: may the subject change the CDT entry of `sl`? It may
 * when the slot or one of its CDT ancestors is its own (`cdca_owned`) or is the caller slot of a
 * thread waiting in a receive on an endpoint the subject may Call (`cdca_reply`).
 */
const cdtChangeAllowed = (pre: KernelState, subject: Label, lab: Labelling, auth: (a: Auth, to: Label) => boolean): ((sl: SlotPtr) => boolean) => {
  const memo = new Map<SlotPtr, boolean>()
  const direct = (sl: SlotPtr): boolean => {
    if (lab.slot(pre, sl) === subject) return true
    const t = callerSlotOwner(pre, sl)
    return t !== undefined && directCall(t.tcbState, lab, auth)
  }
  return (sl) => {
    const hit = memo.get(sl)
    if (hit !== undefined) return hit
    let ok = false
    const seen = new Set<SlotPtr>()
    for (let p: SlotPtr | undefined = sl; p !== undefined && !seen.has(p); p = pre.cdt.get(p)) {
      seen.add(p)
      if (direct(p)) { ok = true; break }
    }
    memo.set(sl, ok)
    return ok
  }
}

/** The TCB whose caller slot `sl` is, if it is one. */
const callerSlotOwner = (s: KernelState, sl: SlotPtr): Tcb | undefined => {
  const t = s.kheap.get(sl - tcbCaller * 2 ** slotBits)
  return t?.tag === "TCB" ? t : undefined
}

/** l4v `direct_call`: the thread waits in a receive on an endpoint the subject may Call. */
const directCall = (st: ThreadState, lab: Labelling, auth: (a: Auth, to: Label) => boolean): boolean =>
  st.tag === "BlockedOnReceive" && auth("Call", lab.object(st.ep))

/** l4v `reply_cap_deletion_integrity`: unchanged, or a reply cap to one of the subject's threads deleted. */
const replyCapDeleted = (a: Cap, b: Cap, subject: Label, lab: Labelling): boolean =>
  a.tag === "ReplyCap" && !a.isMaster && b.tag === "NullCap" && lab.object(a.tcb) === subject

/** Why the change of the cap in slot `sl` from `a` to `b` is not allowed, or null if it is. */
const slotRule = (pre: KernelState, sl: SlotPtr, a: Cap, b: Cap, subject: Label, lab: Labelling, auth: (a: Auth, to: Label) => boolean): string | null => {
  if (replyCapDeleted(a, b, subject, lab)) return null
  const owner = callerSlotOwner(pre, sl)
  if (owner !== undefined) {
    // troa_tcb_call: a reply cap to one of the subject's threads in the caller slot of a thread it calls.
    const replyToSubject = (c: Cap) => c.tag === "ReplyCap" && !c.isMaster && lab.object(c.tcb) === subject
    if (replyToSubject(b) && directCall(owner.tcbState, lab, auth)) return null
    return `troa_tcb_call puts a reply cap to ${subject}'s thread in the caller slot only of a thread waiting in a receive on an endpoint ${subject} may Call` +
      ` (this thread is ${showState(owner.tcbState)}${owner.tcbState.tag === "BlockedOnReceive" ? `, an endpoint of ${lab.object(owner.tcbState.ep)}` : ""});` +
      ` cnode_integrity lets ${subject} only delete a reply cap to its own thread`
  }
  return `cnode_integrity: another label's slot may only lose a reply cap to one of ${subject}'s threads (reply_cap_deletion_integrity)`
}

/** The fields of a TCB no rule lets another label change. */
const fixedTcbFields = ["tcbPriority", "tcbMCP", "tcbDomain", "tcbTimeSlice", "tcbFaultHandler", "tcbIPCBuffer"] as const

/** Why the change of object `p` (labelled `l`) from `a` to `b` is not allowed, or null. */
const objectRule = (
  pre: KernelState, p: PPtr, a: KObject | undefined, b: KObject | undefined, subject: Label, l: Label, auth: (a: Auth, to: Label) => boolean, c: IntegrityContext,
): { where: string; change: string; rule: string } | null => {
  if (a === undefined || b === undefined) {
    return { where: `object ${hex(p)}`, change: a === undefined ? `created (${b!.tag})` : `removed (${a.tag})`, rule: `only ${l} may create or remove its objects (troa_lrefl)` }
  }
  const where = `${a.tag === "TCB" ? "thread" : a.tag} ${hex(p)}`
  if (a.tag === "Endpoint" && b.tag === "Endpoint") {
    if ((["Receive", "SyncSend", "Reset"] as const).some((x) => auth(x, l))) return null
    // troa_ep_unblock: a thread bound to a notification the subject may notify waits on this endpoint.
    const labels = c.labels.all()
    if (labels.some((t) => c.policy.has(t, "Receive", l) && labels.some((n) => c.policy.has(t, "Receive", n) && auth("Notify", n)))) return null
    return { where, change: `${a.state.tag} -> ${b.state.tag}`, rule: `troa_ep needs Receive, SyncSend or Reset on ${l}; troa_ep_unblock a notification ${subject} may Notify bound to a receiver on ${l}` }
  }
  if (a.tag === "Notification" && b.tag === "Notification") {
    if ((["Receive", "Notify", "Reset"] as const).some((x) => auth(x, l))) return null
    return { where, change: `${a.state.tag}${a.boundTCB !== b.boundTCB ? " (binding)" : ""} -> ${b.state.tag}`, rule: `troa_ntfn needs Receive, Notify or Reset on ${l}` }
  }
  if (a.tag === "TCB" && b.tag === "TCB") return tcbRule(a, b, subject, l, auth, c, where)
  if (a.tag === "ASIDPool" && b.tag === "ASIDPool") {
    for (const [low, pd] of a.pool) {
      if (b.pool.get(low) === pd) continue
      if (b.pool.get(low) === undefined && auth("Control", c.labels.object(pd))) continue
      return { where, change: `entry ${low}: ${hex(pd)} -> ${hexOr(b.pool.get(low))}`, rule: `asid_pool_integrity: an entry may only be cleared, by a label with Control over its page directory` }
    }
    for (const [low, pd] of b.pool) if (!a.pool.has(low)) return { where, change: `entry ${low}: none -> ${hex(pd)}`, rule: "asid_pool_integrity: another label's pool may only lose entries" }
    return null
  }
  return { where, change: `${a.tag} changed`, rule: `no rule lets ${subject} change another label's ${a.tag} (troa_lrefl only)` }
}

const showContextDiff = (a: Tcb, b: Tcb): string => {
  const fields = Object.keys(a.tcbContext).filter((k) => !deepEqual((a.tcbContext as unknown as Record<string, unknown>)[k], (b.tcbContext as unknown as Record<string, unknown>)[k]))
  return fields.map((f) => {
    const x = (a.tcbContext as unknown as Record<string, unknown>)[f]
    const y = (b.tcbContext as unknown as Record<string, unknown>)[f]
    return typeof x === "number" ? `${f} ${x} -> ${y as number}` : f
  }).join(", ")
}

/** Do two contexts differ only in the next-instruction register (what activation writes)? */
const onlyNextIP = (a: Tcb, b: Tcb): boolean =>
  deepEqual({ ...a.tcbContext, regs: a.tcbContext.regs.map((r, i) => (i === Reg.NextIP ? 0 : r)) }, { ...b.tcbContext, regs: b.tcbContext.regs.map((r, i) => (i === Reg.NextIP ? 0 : r)) })

/**
 * A TCB of another label: which chains of l4v's TCB rules lead from `a` to `b`? The rules move the
 * thread state (and some may rewrite the registers or clear the fault): troa_tcb_send, _call,
 * _reply, _receive, _restart, _activate; troa_tcb_unbind clears the binding; nothing changes the
 * priority, MCP, domain, time slice, fault handler or IPC buffer.
 */
const tcbRule = (a: Tcb, b: Tcb, subject: Label, l: Label, auth: (a: Auth, to: Label) => boolean, c: IntegrityContext, where: string): { where: string; change: string; rule: string } | null => {
  const lab = c.labels
  for (const f of fixedTcbFields) {
    if (a[f] !== b[f]) return { where, change: `${f} ${String(a[f])} -> ${String(b[f])}`, rule: `no rule lets ${subject} change ${l}'s ${f} (troa_lrefl only)` }
  }
  if (a.tcbBoundNotification !== b.tcbBoundNotification) {
    const n = a.tcbBoundNotification
    if (!(b.tcbBoundNotification === null && n !== null && auth("Reset", lab.object(n)))) {
      return { where, change: `bound notification ${hexOr(n ?? undefined)} -> ${hexOr(b.tcbBoundNotification ?? undefined)}`, rule: `troa_tcb_unbind only unbinds, with Reset on the notification` }
    }
  }
  // Search the thread-state moves the subject's authority allows.
  interface Node { st: ThreadState; regs: boolean; ip: boolean; faultCleared: boolean; rules: string[] }
  const same = (x: ThreadState, y: ThreadState) => deepEqual(x, y)
  const moves = (n: Node): Node[] => {
    const st = n.st
    const next: Node[] = []
    const go = (s2: ThreadState, rule: string, regs = false, fault = false, ip = false) =>
      next.push({ st: s2, regs: n.regs || regs, ip: n.ip || ip, faultCleared: n.faultCleared || fault, rules: [...n.rules, rule] })
    const running: ThreadState = { tag: "Running" }
    if (st.tag === "BlockedOnReceive" || st.tag === "BlockedOnNotification") {
      const x = st.tag === "BlockedOnReceive" ? st.ep : st.ntfn
      const direct = auth("SyncSend", lab.object(x)) || auth("Notify", lab.object(x))
      const indirect = st.tag === "BlockedOnReceive" && a.tcbBoundNotification !== null && auth("Notify", lab.object(a.tcbBoundNotification))
      if (direct || indirect) go(running, "troa_tcb_send", true)
      if (st.tag === "BlockedOnReceive" && auth("Call", lab.object(st.ep))) go(running, "troa_tcb_call", true)
      if (auth("Reset", lab.object(x))) go({ tag: "Restart" }, "troa_tcb_restart")
    }
    if (st.tag === "BlockedOnSend") {
      if (auth("Receive", lab.object(st.ep))) {
        go(running, "troa_tcb_receive")
        if (st.isCall) go({ tag: "Inactive" }, "troa_tcb_receive")
        if (st.isCall && (st.canGrant || st.canGrantReply)) go({ tag: "BlockedOnReply" }, "troa_tcb_receive")
      }
      if (auth("Reset", lab.object(st.ep))) go({ tag: "Restart" }, "troa_tcb_restart")
    }
    if (st.tag === "BlockedOnReply" && auth("Reply", l)) {
      go(running, "troa_tcb_reply", true, true)
      if (a.tcbFault !== null) { go({ tag: "Restart" }, "troa_tcb_reply", true, true); go({ tag: "Inactive" }, "troa_tcb_reply", true, true) }
    }
    // pasMayActivate: any thread in Restart may be activated.
    if (st.tag === "Restart") go(running, "troa_tcb_activate", false, false, true)
    return next
  }
  const start: Node = { st: a.tcbState, regs: false, ip: false, faultCleared: false, rules: [] }
  const frontier = [start]
  const reached: Node[] = [start]
  for (let depth = 0; depth < 4 && frontier.length > 0; depth++) {
    const n = frontier.shift()!
    for (const m of moves(n)) if (!reached.some((r) => same(r.st, m.st) && r.regs === m.regs && r.ip === m.ip && r.faultCleared === m.faultCleared)) { reached.push(m); frontier.push(m) }
  }
  const regsChanged = !deepEqual(a.tcbContext, b.tcbContext)
  const faultChanged = !deepEqual(a.tcbFault, b.tcbFault)
  const fits = (n: Node) =>
    same(n.st, b.tcbState) &&
    (!regsChanged || n.regs || (n.ip && onlyNextIP(a, b))) &&
    (!faultChanged || (n.faultCleared && b.tcbFault === null))
  if (reached.some(fits)) return null
  const changes = [
    ...(same(a.tcbState, b.tcbState) ? [] : [`tcbState ${showState(a.tcbState)} -> ${showState(b.tcbState)}`]),
    ...(regsChanged ? [`registers (${showContextDiff(a, b)})`] : []),
    ...(faultChanged ? [`tcbFault ${a.tcbFault?.tag ?? "none"} -> ${b.tcbFault?.tag ?? "none"}`] : []),
  ]
  const tried = reached.filter((n) => n.rules.length > 0).map((n) => `${n.rules.join(" then ")} reaches ${showState(n.st)}${n.regs ? " (registers may change)" : ""}`)
  return {
    where, change: changes.join("; "),
    rule: tried.length === 0
      ? `no troa_tcb_* rule applies to a thread that is ${showState(a.tcbState)} under ${subject}'s authority over ${l}`
      : `the rules ${subject}'s authority allows do not reach it: ${tried.join("; ")}`,
  }
}
