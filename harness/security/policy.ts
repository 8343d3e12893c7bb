/**
 * Access-control policies as l4v's PAS has them (proof/access-control/Types.thy, Access.thy): a set
 * of (label, auth, label) edges over l4v's authorities, the well-formedness conditions a policy
 * must meet for the label that runs (`policy_wellformed`), and the two derived sets the
 * information-flow proof reads it through (proof/infoflow/InfoFlow.thy `subjectReads`,
 * `subjectAffects`), computed as least fixpoints of l4v's inductive rules.
 * @category security
 */

/** A partition's name: every object, slot, ASID and IRQ carries one. */
export type Label = string

/**
 * What one label may do to another (l4v `auth`, with the ARM arch auth `ASIDPoolMapsASID`).
 * Control is everything; Reset is what any cap to an endpoint or notification gives.
 */
export const auths = [
  "Control", "Receive", "SyncSend", "Notify", "Reset", "Grant", "Call", "Reply", "Write", "Read", "DeleteDerived", "ASIDPoolMapsASID",
] as const
export type Auth = (typeof auths)[number]

/** One edge of an authority graph: `from` has `auth` over `to`. */
export interface Edge {
  readonly from: Label
  readonly auth: Auth
  readonly to: Label
}

export const showEdge = (e: Edge): string => `(${e.from}, ${e.auth}, ${e.to})`

const key = (from: Label, auth: Auth, to: Label): string => `${from}\u0000${auth}\u0000${to}`

/**
 * A policy: a set of edges, with membership in O(1). Immutable once built.
 */
export class Policy {
  private readonly keys: ReadonlySet<string>
  /** Edges by source label, for the fixpoints. */
  private readonly bySource: ReadonlyMap<Label, readonly Edge[]>
  readonly edges: readonly Edge[]

  constructor(edges: Iterable<Edge>) {
    const keys = new Set<string>()
    const list: Edge[] = []
    for (const e of edges) {
      const k = key(e.from, e.auth, e.to)
      if (keys.has(k)) continue
      keys.add(k)
      list.push({ from: e.from, auth: e.auth, to: e.to })
    }
    list.sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to) || auths.indexOf(a.auth) - auths.indexOf(b.auth))
    this.keys = keys
    this.edges = list
    const by = new Map<Label, Edge[]>()
    for (const e of list) by.set(e.from, [...(by.get(e.from) ?? []), e])
    this.bySource = by
  }

  has(from: Label, auth: Auth, to: Label): boolean { return this.keys.has(key(from, auth, to)) }
  hasEdge(e: Edge): boolean { return this.has(e.from, e.auth, e.to) }
  /** The edges out of `from`. */
  from(from: Label): readonly Edge[] { return this.bySource.get(from) ?? [] }
  /** Every label an edge names. */
  labels(): Label[] { return [...new Set(this.edges.flatMap((e) => [e.from, e.to]))].sort() }
  /** The policy with more edges. */
  with(edges: Iterable<Edge>): Policy { return new Policy([...this.edges, ...edges]) }
}

/** Every auth from `l` to itself: l4v's well-formedness gives the running label all authority over its own objects. */
export const reflexiveEdges = (labels: Iterable<Label>): Edge[] => [...labels].flatMap((l) => auths.map((auth) => ({ from: l, auth, to: l })))

/** One failed well-formedness condition: its name in l4v's definition, in words, and the edges at fault. */
export interface WellformednessProblem {
  readonly condition: string
  readonly message: string
}

/**
 * l4v `policy_wellformed aag maySendIrqs irqs agent` for the running label `agent`, condition by
 * condition; [] when it holds. `irqLabels` are the labels of IRQs (only consulted when partitions
 * may send IRQs, which kspec's systems never allow: see the assumptions).
 */
export const policyWellformed = (p: Policy, agent: Label, maySendIrqs = false, irqLabels: readonly Label[] = []): WellformednessProblem[] => {
  const out: WellformednessProblem[] = []
  // Large authority (Control) stays within the agent's own label.
  for (const e of p.from(agent)) {
    if (e.auth === "Control" && e.to !== agent) out.push({ condition: "control_within_agent", message: `${showEdge(e)}: the running label may have Control only over itself` })
  }
  // The agent has all authority over itself.
  for (const a of auths) {
    if (!p.has(agent, a, agent)) out.push({ condition: "agent_self_authority", message: `(${agent}, ${a}, ${agent}) is missing: a label has every authority over itself` })
  }
  const byAuth = (a: Auth): Edge[] => p.edges.filter((e) => e.auth === a)
  // Grant to an endpoint others receive on makes the two labels control each other.
  for (const g of byAuth("Grant")) {
    for (const r of byAuth("Receive").filter((r) => r.to === g.to)) {
      for (const [x, y] of [[g.from, r.from], [r.from, g.from]] as const) {
        if (!p.has(x, "Control", y)) out.push({ condition: "grant_receive_control", message: `${showEdge(g)} and ${showEdge(r)} need (${x}, Control, ${y})` })
      }
    }
  }
  // Anyone may notify what an IRQ notifies (only when partitions may send IRQs).
  if (maySendIrqs) {
    for (const e of byAuth("Notify").filter((e) => irqLabels.includes(e.from))) {
      if (!p.has(agent, "Notify", e.to)) out.push({ condition: "irq_notify", message: `${showEdge(e)} needs (${agent}, Notify, ${e.to})` })
    }
  }
  for (const c of byAuth("Call")) {
    // Call implies SyncSend.
    if (!p.has(c.from, "SyncSend", c.to)) out.push({ condition: "call_syncsend", message: `${showEdge(c)} needs (${c.from}, SyncSend, ${c.to})` })
    for (const r of byAuth("Receive").filter((r) => r.to === c.to)) {
      // Whoever receives a Call may reply to the caller.
      if (!p.has(r.from, "Reply", c.from)) out.push({ condition: "call_receive_reply", message: `${showEdge(c)} and ${showEdge(r)} need (${r.from}, Reply, ${c.from})` })
      // A receiver that may also grant controls the caller, and the caller the receiver.
      if (p.has(r.from, "Grant", c.to)) {
        for (const [x, y] of [[c.from, r.from], [r.from, c.from]] as const) {
          if (!p.has(x, "Control", y)) out.push({ condition: "call_receive_grant_control", message: `${showEdge(c)}, ${showEdge(r)} and (${r.from}, Grant, ${c.to}) need (${x}, Control, ${y})` })
        }
      }
    }
  }
  // A reply cap is derived from the caller's master: the caller may delete it.
  for (const r of byAuth("Reply")) {
    if (!p.has(r.to, "DeleteDerived", r.from)) out.push({ condition: "reply_deletederived", message: `${showEdge(r)} needs (${r.to}, DeleteDerived, ${r.from})` })
  }
  // Reply caps move, so DeleteDerived is transitive.
  for (const a of byAuth("DeleteDerived")) {
    for (const b of p.from(a.to).filter((b) => b.auth === "DeleteDerived")) {
      if (!p.has(a.from, "DeleteDerived", b.to)) out.push({ condition: "deletederived_transitive", message: `${showEdge(a)} and ${showEdge(b)} need (${a.from}, DeleteDerived, ${b.to})` })
    }
  }
  return out
}

/**
 * The least policy holding `edges` that meets the conditions `policyWellformed` closes under:
 * every label's authority over itself, SyncSend for Call, Reply for a caller's receiver,
 * DeleteDerived for Reply, DeleteDerived transitive. (It adds no Control: a policy that needs
 * Control between two labels to be well formed is not made well formed here.)
 */
export const wellformedClosure = (edges: Iterable<Edge>, labels: Iterable<Label>): Policy => {
  let p = new Policy([...edges, ...reflexiveEdges(labels)])
  for (;;) {
    const add: Edge[] = []
    const byAuth = (a: Auth) => p.edges.filter((e) => e.auth === a)
    for (const c of byAuth("Call")) {
      add.push({ from: c.from, auth: "SyncSend", to: c.to })
      for (const r of byAuth("Receive").filter((r) => r.to === c.to)) add.push({ from: r.from, auth: "Reply", to: c.from })
    }
    for (const r of byAuth("Reply")) add.push({ from: r.to, auth: "DeleteDerived", to: r.from })
    for (const a of byAuth("DeleteDerived")) for (const b of p.from(a.to)) if (b.auth === "DeleteDerived") add.push({ from: a.from, auth: "DeleteDerived", to: b.to })
    const next = p.with(add)
    if (next.edges.length === p.edges.length) return p
    p = next
  }
}

/** A least fixpoint over labels: start from `seed`, add what `step` derives from the set so far, until nothing new. */
const fixpoint = (seed: Iterable<Label>, step: (have: ReadonlySet<Label>) => Iterable<Label>): Set<Label> => {
  const have = new Set<Label>(seed)
  for (;;) {
    const before = have.size
    for (const l of [...step(have)]) have.add(l)
    if (have.size === before) return have
  }
}

/**
 * The labels `l` can observe (l4v InfoFlow.thy `subjectReads g l`): itself; what it may Read; the
 * endpoints it may SyncSend to or Receive from; an endpoint a readable thread uses that someone
 * may notify, send to or reset; writers of readable pages and pages readable threads read; the
 * senders and receivers of readable endpoints; both ends of Reply and DeleteDerived edges.
 */
export const subjectReads = (g: Policy, l: Label): Set<Label> => {
  const es = g.edges
  return fixpoint([l], (have) => {
    const out: Label[] = []
    for (const e of es) {
      // reads_read, reads_ep: l's own Read, SyncSend and Receive targets.
      if (e.from === l && (e.auth === "Read" || e.auth === "SyncSend" || e.auth === "Receive")) out.push(e.to)
      // reads_read_queued_thread_read_ep: an endpoint a readable thread sends to or receives on, that anyone may notify, send to or reset.
      if ((e.auth === "SyncSend" || e.auth === "Receive") && have.has(e.from) && es.some((a) => a.to === e.to && (a.auth === "Notify" || a.auth === "SyncSend" || a.auth === "Reset"))) out.push(e.to)
      // reads_read_page_read_thread: whoever may write a readable page.
      if (e.auth === "Write" && have.has(e.to)) out.push(e.from)
      // reads_read_thread_read_pages: what a readable thread may read.
      if (e.auth === "Read" && have.has(e.from)) out.push(e.to)
      // read_sync_ep_read_senders / _call_senders / _receivers: who may send to, call or receive on a readable endpoint.
      if ((e.auth === "SyncSend" || e.auth === "Call" || e.auth === "Receive") && have.has(e.to)) out.push(e.from)
      // read_reply_thread_read_thread(_rev), read_delder_thread_read_thread(_rev): both ends of Reply and DeleteDerived.
      if (e.auth === "Reply" || e.auth === "DeleteDerived") {
        if (have.has(e.to)) out.push(e.from)
        if (have.has(e.from)) out.push(e.to)
      }
    }
    return out
  })
}

/**
 * The labels `l` can change (l4v InfoFlow.thy `subjectAffects g l`): itself; what it Controls or
 * may Write; endpoints it may receive on, notify, send to, call or reset; pages writable by
 * receivers of what it sends to; senders on what it receives from; callers it may reply to and
 * their pages; DeleteDerived targets and their other deleters; pages of threads using what it
 * resets; labels whose ASIDs its pools map; endpoints threads bound to what it notifies wait on.
 */
export const subjectAffects = (g: Policy, l: Label): Set<Label> => {
  const es = g.edges
  const out = new Set<Label>([l])
  for (const e of es) {
    if (e.from === l && (e.auth === "Control" || e.auth === "Write")) out.add(e.to) // affects_write
    if (e.from === l && (e.auth === "Receive" || e.auth === "Notify" || e.auth === "SyncSend" || e.auth === "Call" || e.auth === "Reset")) out.add(e.to) // affects_ep
    if (e.from === l && (e.auth === "SyncSend" || e.auth === "Notify" || e.auth === "Call")) {
      // affects_send: pages writable by receivers of what l sends to.
      for (const r of es) if (r.auth === "Receive" && r.to === e.to) for (const w of g.from(r.from)) if (w.auth === "Write") out.add(w.to)
    }
    if (e.from === l && e.auth === "Receive") for (const s of es) if (s.auth === "SyncSend" && s.to === e.to) out.add(s.from) // affects_recv
    if (e.to === l && e.auth === "Reply") out.add(e.from) // affects_reply_back
    if (e.from === l && e.auth === "Reply") for (const w of g.from(e.to)) if (w.auth === "Write") out.add(w.to) // affects_reply
    if (e.from === l && e.auth === "DeleteDerived") {
      out.add(e.to) // affects_delete_derived
      for (const d of es) if (d.auth === "DeleteDerived" && d.to === e.to) out.add(d.from) // affects_delete_derived2
    }
    if (e.from === l && e.auth === "Reset") {
      // affects_reset: pages of threads that send to or receive on what l resets.
      for (const u of es) if ((u.auth === "SyncSend" || u.auth === "Receive") && u.to === e.to) for (const w of g.from(u.from)) if (w.auth === "Write") out.add(w.to)
    }
    if (e.from === l && e.auth === "ASIDPoolMapsASID") out.add(e.to) // affects_asidpool_map
    if (e.from === l && e.auth === "Notify") {
      // affects_ep_bound_trans: endpoints a thread bound to what l notifies receives on.
      for (const b of es) if (b.auth === "Receive" && b.to === e.to) for (const r of g.from(b.from)) if (r.auth === "Receive") out.add(r.to)
    }
  }
  return out
}

/**
 * May `u` affect what `l` reads (l4v Noninterference.thy `label_can_affect_partition`)? Then a
 * step run by `u` may legitimately change `l`'s view, depending on `u`'s state.
 */
export const canAffect = (g: Policy, u: Label, l: Label): boolean => {
  const reads = subjectReads(g, l)
  for (const x of subjectAffects(g, u)) if (reads.has(x)) return true
  return false
}
