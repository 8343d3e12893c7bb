/**
 * Authority extraction: the authority graph a kernel state confers, as one pure function of the
 * state (l4v proof/access-control/Access.thy `state_objs_to_policy`, `state_asids_to_policy`,
 * `state_irqs_to_policy`; ARM/ArchAccess.thy `state_vrefs`), mapped through the labels
 * (`auth_graph_map pasObjectAbs`). Each edge keeps the first piece of state that confers it, so a
 * check that finds an edge outside the policy can say where it came from.
 * @category security
 */
import type { Cap, PDE, PPtr, PTE, SlotPtr, ThreadState, VMRights } from "../../model/index.ts"
import {
  RightG, RightGR, RightR, RightW, asidLowBits, hasRight, kernelBase, largePageBits, pageBits, pdIndexOf, sectionBits, showCap, superSectionBits,
} from "../../model/index.ts"
import type { KernelState, KObject } from "../../spec/index.ts"
import type { Labelling } from "./labels.ts"
import type { Auth, Edge, Label } from "./policy.ts"
import { auths } from "./policy.ts"

/** An edge of the extracted graph and the state that confers it (l4v's rule and the slot, thread or entry). */
export interface AuthorityEdge extends Edge {
  /** The l4v rule (`sbta_caps`, `sbta_ts`, ...) and the piece of state, in words. */
  readonly why: string
}

const hex = (x: number) => `0x${x.toString(16)}`

/** l4v `cap_rights_to_auth r sync`: Reset always; Read gives Receive, Write SyncSend (or Notify), Grant everything, GrantReply with Write Call. */
export const capRightsToAuth = (r: number, sync: boolean): Auth[] => {
  if (hasRight(r, RightG)) return [...auths]
  const out: Auth[] = ["Reset"]
  if (hasRight(r, RightR)) out.push("Receive")
  if (hasRight(r, RightW)) out.push(sync ? "SyncSend" : "Notify")
  if (hasRight(r, RightGR) && hasRight(r, RightW)) out.push("Call")
  return out
}

/** l4v `vspace_cap_rights_to_auth`: a frame's Write and Read. */
export const vmRightsToAuth = (r: VMRights): Auth[] => (r === "ReadWrite" ? ["Write", "Read"] : r === "ReadOnly" ? ["Read"] : [])

/** The objects a cap names, as address ranges (l4v `obj_refs_ac`; a frame cap names its whole frame), and the auths it confers (`cap_auth_conferred`). */
export const capAuthority = (cap: Cap): { readonly refs: readonly (readonly [number, number])[]; readonly auths: readonly Auth[] } => {
  switch (cap.tag) {
    case "NullCap": case "UntypedCap": case "IRQControlCap": case "IRQHandlerCap": case "ASIDControlCap": return { refs: [], auths: [] }
    case "EndpointCap": return { refs: [[cap.ptr, 1]], auths: capRightsToAuth(cap.rights, true) }
    // A notification cap's Grant bits confer nothing.
    case "NotificationCap": return { refs: [[cap.ptr, 1]], auths: capRightsToAuth(cap.rights & ~(RightG | RightGR), false) }
    // l4v `reply_cap_rights_to_auth`: a master or granting reply cap is everything, another only Reply.
    case "ReplyCap": return { refs: [[cap.tcb, 1]], auths: cap.isMaster || cap.canGrant ? [...auths] : ["Reply"] }
    case "CNodeCap": case "ThreadCap": case "PageTableCap": case "PageDirectoryCap": case "ASIDPoolCap": return { refs: [[cap.ptr, 1]], auths: ["Control"] }
    // A DomainCap names every object (l4v's own hack): handled by the caller, which knows every label.
    case "DomainCap": return { refs: [], auths: ["Control"] }
    case "FrameCap": return { refs: [[cap.ptr, 2 ** cap.sizeBits]], auths: vmRightsToAuth(cap.vmRights) }
    // l4v `cap_auth_conferred (Zombie ...) = {Control}` over `obj_refs` (the table being emptied: a CNode, or a TCB whose slot 0 is the TCB's address).
    case "ZombieCap": return { refs: [[cap.ptr, 1]], auths: ["Control"] }
  }
}

/** l4v `tcb_st_to_auth`: what a blocked thread's state confers over the object it waits on. */
export const threadStateAuth = (st: ThreadState): readonly (readonly [PPtr, Auth])[] => {
  switch (st.tag) {
    case "BlockedOnNotification": return [[st.ntfn, "Receive"]]
    case "BlockedOnSend": {
      const out: [PPtr, Auth][] = [[st.ep, "SyncSend"]]
      if (st.canGrant) out.push([st.ep, "Grant"], [st.ep, "Call"])
      if (st.canGrantReply) out.push([st.ep, "Call"])
      return out
    }
    case "BlockedOnReceive": return st.canGrant ? [[st.ep, "Receive"], [st.ep, "Grant"]] : [[st.ep, "Receive"]]
    default: return []
  }
}

/** l4v `is_transferable`: an empty slot or a non-master reply cap may move between labels without Grant. */
export const isTransferable = (c: Cap | undefined): boolean => c === undefined || c.tag === "NullCap" || (c.tag === "ReplyCap" && !c.isMaster)

/** The ASIDs a cap names (l4v `acap_asid'`); `"all"` for ASIDControl, `{ pool }` for a pool's 1023 or 1024. */
const capASIDs = (cap: Cap): readonly number[] | "all" | { readonly pool: number } => {
  switch (cap.tag) {
    case "FrameCap": case "PageTableCap": return cap.mapped === null ? [] : [cap.mapped.asid]
    case "PageDirectoryCap": return cap.asid === null ? [] : [cap.asid]
    case "ASIDPoolCap": return { pool: cap.asidBase >>> asidLowBits }
    case "ASIDControlCap": return "all"
    default: return []
  }
}

const pteRef = (e: PTE): { frame: PPtr; bits: number; rights: VMRights } | null =>
  e.tag === "SmallPagePTE" ? { frame: e.frame, bits: pageBits, rights: e.rights }
    : e.tag === "LargePagePTE" ? { frame: e.frame, bits: largePageBits, rights: e.rights } : null

/** Which parts of a state to extract from: everything, or the slots and objects a step changed. */
export interface ExtractScope {
  readonly slots: Iterable<SlotPtr> | "all"
  readonly objects: Iterable<PPtr> | "all"
  /** The ASID table's edges (sata_asid_lookup, sata_asidpool). */
  readonly asidTable: boolean
}

const everything: ExtractScope = { slots: "all", objects: "all", asidTable: true }

/**
 * The authority graph of `s` between labels: every edge of l4v's `state_objs_to_policy` (caps,
 * untyped ranges, blocked thread states, notification bindings, CDT links, page-table and
 * directory entries), `state_asids_to_policy` and `state_irqs_to_policy`, mapped through `lab`,
 * each with the first piece of state that confers it. Keyed by `from auth to`. With a `scope`, only
 * the edges the given slots (their caps and their CDT links to their parents), objects and the
 * ASID table confer: the edges a step may have added.
 */
export const stateAuthority = (s: KernelState, lab: Labelling, scope: ExtractScope = everything): Map<string, AuthorityEdge> => {
  const out = new Map<string, AuthorityEdge>()
  // The rule and the place are rendered only for an edge not seen yet.
  let why: (() => string) | null = null
  const add = (from: Label, auth: Auth, to: Label): void => {
    const k = `${from}\u0000${auth}\u0000${to}`
    if (!out.has(k)) out.set(k, { from, auth, to, why: why!() })
  }
  const capEdges = (sl: SlotPtr, cap: Cap): void => {
    const holder = lab.slot(s, sl)
    const where = () => `${showCap(cap)} in slot ${hex(sl)}`
    const ca = capAuthority(cap)
    why = () => `sbta_caps: ${where()}`
    for (const [base, size] of ca.refs) {
      const targets = size === 1 ? [lab.object(base)] : lab.range(base, size)
      for (const t of targets) for (const a of ca.auths) add(holder, a, t)
    }
    switch (cap.tag) {
      case "DomainCap":
        why = () => `sbta_caps: ${where()} (a DomainCap names everything)`
        for (const t of lab.all()) add(holder, "Control", t)
        break
      case "UntypedCap":
        why = () => `sbta_untyped: ${where()}`
        for (const t of lab.range(cap.ptr, 2 ** cap.sizeBits)) add(holder, "Control", t)
        break
      case "IRQControlCap":
        why = () => `sita_controlled: ${where()}`
        for (const t of lab.allIrqs(s.numIRQs)) add(holder, "Control", t)
        break
      case "IRQHandlerCap":
        why = () => `sita_controlled: ${where()}`
        add(holder, "Control", lab.irq(cap.irq))
        break
      default: break
    }
    const asids = capASIDs(cap)
    if (asids === "all") { why = () => `sata_asid: ${where()}`; for (const t of new Set([lab.root, ...lab.asids.values()])) add(holder, "Control", t) }
    else if (Array.isArray(asids)) { for (const a of asids) { why = () => `sata_asid: ${where()} (ASID ${a})`; add(holder, "Control", lab.asid(a)) } }
    else { why = () => `sata_asid: ${where()}`; for (const t of lab.asidPool((asids as { pool: number }).pool)) add(holder, "Control", t) }
  }
  // CDT links: sbta_cdt (Control, unless the child may move between labels) and sbta_cdt_transferable (DeleteDerived).
  const cdtEdge = (child: SlotPtr, parent: SlotPtr): void => {
    const from = lab.slot(s, parent)
    const to = lab.slot(s, child)
    const link = () => `CDT: slot ${hex(child)} (${showCap(s.caps.get(child) ?? { tag: "NullCap" })}) is a child of slot ${hex(parent)}`
    if (!isTransferable(s.caps.get(child))) { why = () => `sbta_cdt: ${link()}`; add(from, "Control", to) }
    why = () => `sbta_cdt_transferable: ${link()}`
    add(from, "DeleteDerived", to)
  }
  const objectEdges = (p: PPtr, o: KObject): void => {
    switch (o.tag) {
      case "TCB": {
        if (p === s.idleThread) break
        const l = lab.object(p)
        // sbta_ts: a blocked thread's state; sbta_bounds: its bound notification.
        for (const [x, a] of threadStateAuth(o.tcbState)) { why = () => `sbta_ts: thread ${hex(p)} is ${o.tcbState.tag} on ${hex(x)}`; add(l, a, lab.object(x)) }
        const n = o.tcbBoundNotification
        if (n !== null) { why = () => `sbta_bounds: thread ${hex(p)} is bound to notification ${hex(n)}`; add(l, "Receive", lab.object(n)); add(l, "Reset", lab.object(n)) }
        break
      }
      // sbta_vref: page tables and directories (below the kernel window) and ASID pools.
      case "PageTable": {
        const l = lab.object(p)
        for (const [i, e] of o.ptes) {
          const r = pteRef(e)
          if (r === null) continue
          why = () => `sbta_vref: page table ${hex(p)} entry ${i} maps frame ${hex(r.frame)}`
          for (const t of lab.range(r.frame, 2 ** r.bits)) for (const a of vmRightsToAuth(r.rights)) add(l, a, t)
        }
        break
      }
      case "PageDirectory": {
        if (p === s.armGlobalPD) break
        const l = lab.object(p)
        for (const [i, e] of o.pdes) {
          if (i >= pdIndexOf(kernelBase)) continue
          const r = pdeRef(e)
          if (r === null) continue
          why = () => `sbta_vref: page directory ${hex(p)} entry ${i} (${e.tag}) points to ${hex(r.target)}`
          for (const t of r.bits === 0 ? [lab.object(r.target)] : lab.range(r.target, 2 ** r.bits)) for (const a of r.auths) add(l, a, t)
        }
        break
      }
      case "ASIDPool": {
        const l = lab.object(p)
        for (const [low, pd] of o.pool) { why = () => `sbta_vref: ASID pool ${hex(p)} entry ${low} holds page directory ${hex(pd)}`; add(l, "Control", lab.object(pd)) }
        break
      }
      default: break
    }
  }
  if (scope.slots === "all") {
    for (const [sl, cap] of s.caps) capEdges(sl, cap)
    for (const [child, parent] of s.cdt) cdtEdge(child, parent)
  } else {
    for (const sl of scope.slots) {
      const cap = s.caps.get(sl)
      if (cap !== undefined) capEdges(sl, cap)
      const parent = s.cdt.get(sl)
      if (parent !== undefined) cdtEdge(sl, parent)
    }
  }
  if (scope.objects === "all") for (const [p, o] of s.kheap) objectEdges(p, o)
  else for (const p of scope.objects) { const o = s.kheap.get(p); if (o !== undefined) objectEdges(p, o) }
  // The ASID table: sata_asid_lookup (an ASID's label over its directory) and sata_asidpool.
  if (scope.asidTable) {
    for (const [high, poolPtr] of s.armASIDTable) {
      const pool = s.kheap.get(poolPtr)
      if (pool?.tag !== "ASIDPool") continue
      for (const [low, pd] of pool.pool) {
        const asid = (high << asidLowBits) | low
        why = () => `sata_asid_lookup: ASID ${asid} maps page directory ${hex(pd)}`
        add(lab.asid(asid), "Control", lab.object(pd))
      }
      why = () => `sata_asidpool: ASID pool ${hex(poolPtr)} holds the ASIDs of high bits ${high}`
      for (const t of lab.asidPool(high)) add(lab.object(poolPtr), "ASIDPoolMapsASID", t)
    }
  }
  return out
}

/** The reference of a directory entry (l4v ARM `pde_ref2`): a page table is Control over the table alone (size 0). */
const pdeRef = (e: PDE): { target: PPtr; bits: number; auths: readonly Auth[] } | null => {
  switch (e.tag) {
    case "InvalidPDE": return null
    case "PageTablePDE": return { target: e.table, bits: 0, auths: ["Control"] }
    case "SectionPDE": return { target: e.frame, bits: sectionBits, auths: vmRightsToAuth(e.rights) }
    case "SuperSectionPDE": return { target: e.frame, bits: superSectionBits, auths: vmRightsToAuth(e.rights) }
  }
}
