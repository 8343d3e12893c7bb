/**
 * The `valid_mdb` family: the capability derivation tree (CDT) is a forest over non-empty slots,
 * untyped caps nest and own what was made from them, derived caps stay inside their parents,
 * originality is where seL4 needs it, and the ordered child lists match the tree
 * (l4v Invariants_AI `valid_mdb`, `valid_ioc`; Deterministic_A `valid_list`).
 * @category invariants
 */
import type { Cap, SlotPtr, VMRights } from "../../model/index.ts"
import { showCap, showRights } from "../../model/index.ts"
import type { KernelState } from "../state.ts"
import {
  capClass, capObjRef, capRange, hex, isDescendant, isEmpty, lowerBound, rangeSubset, rangesMeet, showRange, showSlot,
  untypedRange, usableUntypedRange,
} from "./internal.ts"
import type { Range } from "./internal.ts"
import type { StateDelta } from "./delta.ts"
import type { IncrementalScope } from "./types.ts"
import { changedSlots, defineInvariant, everything, nothingChanged, oncePerChange } from "./types.ts"

const slotOps = ["CNode_Copy", "CNode_Mint", "CNode_Move", "CNode_Mutate", "CNode_Rotate", "cteInsert", "cteMove", "cteDelete", "emptySlot"] as const
const showAt = (s: KernelState, slot: SlotPtr): string => {
  const c = s.caps.get(slot)
  return `${showSlot(s, slot)} [${c === undefined ? "empty" : showCap(c)}]`
}

/**
 * The CDT edges and child lists a step can have broken a per-edge or per-list property at. An edge
 * (c, p) whose property broke has c's parent, cap or originality changed, or p's cap or
 * child list changed with c's parent unchanged, so c on p's list before the step (`prev`
 * satisfied valid_list). A list whose property broke changed itself, or one of its
 * children changed parent (the list is that child's parent before the step, or after it). Edges are
 * named by their child (the keys of `cdt`), lists by their parent (the keys of `cdtList`). Computed
 * once per delta, so the invariants that use it share one view.
 */
const cdtNeighbourhood = oncePerChange((s: KernelState, prev: KernelState, d: StateDelta): IncrementalScope => {
  if (d.slots.size === 0) return nothingChanged
  // A slot whose child list alone changed has the same edge to its parent as before.
  const edges = new Set<SlotPtr>(d.capsOrOriginal ?? d.slots)
  if (d.parents !== undefined) for (const c of d.parents) edges.add(c)
  const lists = new Set<SlotPtr>(d.children ?? d.slots)
  // A child whose parent is unchanged is on its parent's list in `prev`; one whose parent changed is a changed slot.
  const addKids = (p: SlotPtr) => {
    const a = prev.cdtList.get(p)
    if (a !== undefined) for (const c of a) edges.add(c)
  }
  for (const p of d.capsOrOriginal ?? d.slots) addKids(p)
  if (d.children !== undefined) for (const p of d.children) addKids(p)
  for (const c of d.parents ?? d.slots) {
    const a = prev.cdt.get(c)
    if (a !== undefined) lists.add(a)
    const b = s.cdt.get(c)
    if (b !== undefined) lists.add(b)
  }
  return { edges, lists }
})

/** The kinds of cap the changed slots held before or after the step (found once per change: several scopes ask). */
const changedCapTags = oncePerChange((s: KernelState, prev: KernelState, d: StateDelta): ReadonlySet<Cap["tag"]> => {
  const tags = new Set<Cap["tag"]>()
  for (const slot of d.slots) {
    const a = prev.caps.get(slot)
    if (a !== undefined) tags.add(a.tag)
    const b = s.caps.get(slot)
    if (b !== undefined) tags.add(b.tag)
  }
  return tags
})

/** Did a slot the step changed hold, before or after, a cap of a kind `p` accepts? */
export const changedCapWhere = (s: KernelState, prev: KernelState, d: StateDelta, p: (tag: Cap["tag"]) => boolean): boolean => {
  for (const t of changedCapTags(s, prev, d)) if (p(t)) return true
  return false
}

/**
 * Did the step give a slot with CDT children (before or after) a new parent? Then every
 * descendant of that slot has new ancestors. (A slot that itself changed parent is a changed slot.)
 */
const subtreeMoved = (s: KernelState, prev: KernelState, d: StateDelta): boolean => {
  for (const slot of d.parents ?? d.slots) if (s.cdtList.has(slot) || prev.cdtList.has(slot)) return true
  return false
}

/**
 * reply_mdb's scope: the reply caps a step can have broken the rule at, and the CDT edges the check
 * walks from them. A non-master reply cap's rule reads its cap and its parent's: it is a changed
 * slot or a child (before or after) of one. A master's rule reads its parent and every descendant:
 * it is a changed slot or an ancestor (before or after) of one. The edges are each such master's
 * subtree, by the child lists before and after (a child whose parent is unchanged is on its
 * parent's list in `prev`, which satisfied valid_list), and the changed slots.
 */
const replyMdbScope = (s: KernelState, prev: KernelState, d: StateDelta): IncrementalScope => {
  if (d.slots.size === 0) return nothingChanged
  const slots = new Set<SlotPtr>()
  const kids = (x: SlotPtr): SlotPtr[] => [...(prev.cdtList.get(x) ?? []), ...(s.cdtList.get(x) ?? [])]
  for (const y of d.slots) {
    slots.add(y)
    for (const c of kids(y)) slots.add(c)
    for (const st of [s, prev]) {
      let cur = st.cdt.get(y)
      for (let n = 0; cur !== undefined && n <= st.cdt.size && !slots.has(cur); n++) { slots.add(cur); cur = st.cdt.get(cur) }
      if (cur !== undefined) slots.add(cur)
    }
  }
  const edges = new Set<SlotPtr>(d.slots)
  for (const m of slots) {
    const c = s.caps.get(m)
    if (c?.tag !== "ReplyCap" || !c.isMaster) continue
    const todo = kids(m)
    while (todo.length > 0) {
      const x = todo.pop()!
      if (edges.has(x)) continue
      edges.add(x)
      todo.push(...kids(x))
    }
  }
  return { slots, edges }
}

/**
 * untyped_mdb's scope: a pair (untyped u, cap x inside it) breaks only when u's cap changed (then
 * in full), x's cap changed, or x got new ancestors (x is in the subtree of a slot whose parent
 * changed). So: those caps x, with every untyped cap (the checker's cap index lists them), the
 * check's own range search pairing them.
 */
const untypedMdbScope = (s: KernelState, prev: KernelState, d: StateDelta): IncrementalScope => {
  if (d.capRefs === undefined || changedCapWhere(s, prev, d, (t) => t === "UntypedCap")) return everything
  const slots = new Set<SlotPtr>()
  for (const x of d.capsOrOriginal ?? d.slots) {
    const c = s.caps.get(x)
    if (c !== undefined && c.tag !== "ReplyCap") slots.add(x)
  }
  // A moved subtree: every slot under a slot whose parent changed (the slot itself too).
  const seen = new Set<SlotPtr>()
  const todo = [...(d.parents ?? d.slots)]
  while (todo.length > 0) {
    const y = todo.pop()!
    if (seen.has(y)) continue
    seen.add(y)
    if (s.caps.has(y)) slots.add(y)
    for (const c of s.cdtList.get(y) ?? []) todo.push(c)
    for (const c of prev.cdtList.get(y) ?? []) todo.push(c)
  }
  if (slots.size === 0) return nothingChanged
  for (const u of d.capRefs.untypeds) slots.add(u)
  return { slots }
}

/**
 * Both ends of every CDT edge are slots holding a cap.
 *
 * Why: the CDT orders and relates caps; an edge to an empty slot is a dangling link that delete
 * and revoke would follow.
 *
 * Mirrors: l4v Invariants_AI `mdb_cte_at`.
 */
export const mdbCteAt = defineInvariant({
  name: "valid_mdb.mdb_cte_at",
  statement: "Both the child and the parent of every CDT edge are slots that hold a cap.",
  mirrors: "l4v Invariants_AI mdb_cte_at",
  threatenedBy: [...slotOps, "CNode_Delete", "CNode_Revoke"],
  // Per edge: a changed slot's edges and those of its neighbours (cdtNeighbourhood).
  scope: cdtNeighbourhood,
  find: (s, report) => {
    for (const [child, parent] of s.cdt) {
      if (!s.caps.has(child)) report(`CDT child ${showSlot(s, child)} (parent ${hex(parent)}) is empty`)
      if (!s.caps.has(parent)) report(`CDT parent ${showSlot(s, parent)} (of child ${hex(child)}) is empty`)
    }
  },
})

/**
 * The CDT has no cycles: following parent links from any slot ends at a root.
 *
 * Why: revoke walks descendants and delete reparents children; a cycle would loop forever or
 * make a cap its own ancestor.
 *
 * Mirrors: l4v Invariants_AI `no_mloop`.
 */
export const noMloop = defineInvariant({
  name: "valid_mdb.no_mloop",
  statement: "The CDT has no cycles: following parent links from any slot ends at a root.",
  mirrors: "l4v Invariants_AI no_mloop",
  threatenedBy: ["cteInsert", "cteMove", "CNode_Move", "CNode_Rotate", "emptySlot"],
  // A new cycle runs through a slot whose parent changed, and the walk starts from each of them.
  scope: cdtNeighbourhood,
  find: (s, report) => {
    // 1 = on the path being walked, 2 = known to reach a root or a reported cycle.
    const mark = new Map<SlotPtr, 1 | 2>()
    for (const start of s.cdt.keys()) {
      const path: SlotPtr[] = []
      let cur: SlotPtr | undefined = start
      while (cur !== undefined && !mark.has(cur)) {
        mark.set(cur, 1)
        path.push(cur)
        cur = s.cdt.get(cur)
      }
      if (cur !== undefined && mark.get(cur) === 1) {
        const cycle = path.slice(path.indexOf(cur))
        report(`the CDT has a cycle through ${cycle.map(hex).join(" -> ")} -> ${hex(cur)}`)
      }
      for (const p of path) mark.set(p, 2)
    }
  },
})

/**
 * Every cap to an object inside an untyped's range sits in a CDT descendant of that untyped's slot.
 *
 * Why: revoking an untyped must delete every cap to what was made from it before the memory is
 * reused.
 *
 * Mirrors: l4v Invariants_AI `untyped_mdb`.
 */
export const untypedMdb = defineInvariant({
  name: "valid_mdb.untyped_mdb",
  statement: "Every cap naming an object inside an untyped cap's range is in a CDT descendant of that untyped cap's slot.",
  mirrors: "l4v Invariants_AI untyped_mdb",
  threatenedBy: ["Untyped_Retype", "cteInsert", "cteMove", "CNode_Copy", "CNode_Move", "CNode_Rotate", "emptySlot"],
  scope: untypedMdbScope,
  find: (s, report) => {
    // Caps by the object they name (l4v obj_refs: reply caps name none), sorted for range queries.
    const refs: { ref: number; slot: SlotPtr }[] = []
    for (const [slot, c] of s.caps) {
      const r = c.tag === "ReplyCap" ? null : capObjRef(c)
      if (r !== null) refs.push({ ref: r, slot })
    }
    refs.sort((a, b) => a.ref - b.ref || a.slot - b.slot)
    const keys = refs.map((x) => x.ref)
    for (const [slot, c] of s.caps) {
      if (c.tag !== "UntypedCap") continue
      const r = untypedRange(c)
      for (let i = lowerBound(keys, r.lo); i < refs.length && refs[i]!.ref < r.hi; i++) {
        const { ref, slot: other } = refs[i]!
        if (!isDescendant(s, other, slot)) {
          report(`${showAt(s, other)} names ${hex(ref)} inside ${showAt(s, slot)} but is not its CDT descendant`)
        }
      }
    }
  },
})

/**
 * Along every CDT edge the child's cap has the parent's class (memory, reply-to-the-same-thread,
 * or other) and its range lies within the parent's. Edges suffice: both relations are transitive,
 * so every descendant then lies within every ancestor.
 *
 * Why: revoke relies on descendants being derived from (inside) their ancestors.
 *
 * Mirrors: l4v Invariants_AI `descendants_inc` (with object ranges for `cap_range`).
 */
export const descendantsInc = defineInvariant({
  name: "valid_mdb.descendants_inc",
  statement:
    "Every CDT descendant has its ancestor's cap class and a cap range inside the ancestor's (checked per edge; both " +
    "relations are transitive).",
  mirrors: "l4v Invariants_AI descendants_inc",
  threatenedBy: ["cteInsert", "CNode_Mint", "CNode_Mutate", "CNode_Move", "CNode_Rotate", "emptySlot", "Untyped_Retype"],
  // Per edge: both ends' caps, so a changed slot's edges and those of its neighbours (cdtNeighbourhood).
  scope: cdtNeighbourhood,
  find: (s, report) => {
    for (const [child, parent] of s.cdt) {
      const c = s.caps.get(child)
      const p = s.caps.get(parent)
      if (c === undefined || p === undefined) continue // mdb_cte_at reports it
      if (capClass(c) !== capClass(p)) {
        report(`${showAt(s, child)} is a CDT child of ${showAt(s, parent)} but its class ${capClass(c)} differs from ${capClass(p)}`)
      } else if (!rangeSubset(capRange(c), capRange(p))) {
        report(
          `${showAt(s, child)} is a CDT child of ${showAt(s, parent)} but its range ${showRange(capRange(c))} is not ` +
            `inside ${showRange(capRange(p))}`,
        )
      }
    }
  },
})

interface Ut { readonly slot: SlotPtr; readonly cap: Cap; readonly r: Range; readonly usable: Range }

/**
 * Untyped ranges nest: any two are nested or disjoint. A strictly smaller one sits in a CDT
 * descendant of the larger one's slot and outside its usable range (below its watermark). Two caps
 * with the same range are one the descendant of the other, with the ancestor's usable range empty.
 * Checked by a sweep over the caps sorted by range, comparing each with its nearest enclosing range.
 *
 * Why: Retype from an untyped must not hand out memory already given to a child untyped.
 *
 * Mirrors: l4v Invariants_AI `untyped_inc`.
 */
export const untypedInc = defineInvariant({
  name: "valid_mdb.untyped_inc",
  statement:
    "Untyped ranges are nested or disjoint; a strictly smaller untyped is a CDT descendant of the larger and outside " +
    "its usable range; two untypeds with the same range are ancestor and descendant, the ancestor's usable range empty.",
  mirrors: "l4v Invariants_AI untyped_inc",
  threatenedBy: ["Untyped_Retype", "CNode_Copy", "CNode_Mint", "cteInsert", "cteMove", "emptySlot"],
  // In full, after a step that changed an untyped cap or moved a subtree of the CDT; else it holds as before.
  scope: (s, prev, d) => (changedCapWhere(s, prev, d, (t) => t === "UntypedCap") || subtreeMoved(s, prev, d) ? everything : nothingChanged),
  find: (s, report) => {
    const uts: Ut[] = []
    for (const [slot, cap] of s.caps) {
      if (cap.tag === "UntypedCap") uts.push({ slot, cap, r: untypedRange(cap), usable: usableUntypedRange(cap) })
    }
    uts.sort((a, b) => a.r.lo - b.r.lo || b.r.hi - a.r.hi || a.slot - b.slot)
    // Groups of caps with equal ranges, in sorted order.
    const groups: Ut[][] = []
    for (const u of uts) {
      const g = groups[groups.length - 1]
      if (g !== undefined && g[0]!.r.lo === u.r.lo && g[0]!.r.hi === u.r.hi) g.push(u)
      else groups.push([u])
    }
    const name = (u: Ut) => showAt(s, u.slot)
    const stack: Ut[][] = []
    for (const g of groups) {
      // Equal ranges: one is the other's descendant and the ancestor has no usable space.
      for (let i = 0; i < g.length; i++) {
        for (let j = i + 1; j < g.length; j++) {
          const a = g[i]!
          const b = g[j]!
          const ok = (isDescendant(s, b.slot, a.slot) && isEmpty(a.usable)) || (isDescendant(s, a.slot, b.slot) && isEmpty(b.usable))
          if (!ok) report(`${name(a)} and ${name(b)} cover the same range but neither is an exhausted CDT ancestor of the other`)
        }
      }
      const r = g[0]!.r
      while (stack.length > 0 && stack[stack.length - 1]![0]!.r.hi <= r.lo) stack.pop()
      const top = stack[stack.length - 1]
      if (top !== undefined) {
        if (r.hi > top[0]!.r.hi) {
          report(`${name(g[0]!)} overlaps ${name(top[0]!)} without either range containing the other`)
        } else {
          for (const outer of top) {
            for (const inner of g) {
              if (!isDescendant(s, inner.slot, outer.slot)) report(`${name(inner)} lies inside ${name(outer)} but is not its CDT descendant`)
              if (rangesMeet(inner.r, outer.usable)) {
                report(`${name(inner)} lies inside ${name(outer)} but meets its usable range ${showRange(outer.usable)}`)
              }
            }
          }
        }
      }
      stack.push(g)
    }
  },
})

/**
 * Every untyped cap is original (revocable).
 *
 * Why: only original caps can be revoked to reclaim memory, and Retype's "no children" test
 * relies on the untyped being the root of what it made.
 *
 * Mirrors: l4v Invariants_AI `ut_revocable`.
 */
export const utRevocable = defineInvariant({
  name: "valid_mdb.ut_revocable",
  statement: "Every untyped cap is original (revocable).",
  mirrors: "l4v Invariants_AI ut_revocable",
  threatenedBy: ["CNode_Copy", "CNode_Mint", "cteInsert", "cteMove", "Untyped_Retype"],
  // Per slot: its cap and its originality, both in the slot delta.
  eachCap: (s, slot, c, report) => {
    if (c.tag === "UntypedCap" && !s.isOriginal.has(slot)) report(`${showAt(s, slot)} is an untyped cap but not original`)
  },
})

/**
 * There is at most one IRQ control cap, and it is original.
 *
 * Why: IRQ handler caps are issued from the one control cap; a copy would let IRQs be issued
 * twice.
 *
 * Mirrors: l4v Invariants_AI `irq_revocable`; Invariants_H `irq_control` (at most one).
 */
export const irqControl = defineInvariant({
  name: "valid_mdb.irq_control",
  statement: "There is at most one IRQControlCap, and it is original.",
  mirrors: "l4v Invariants_AI irq_revocable; Invariants_H irq_control",
  threatenedBy: ["CNode_Copy", "CNode_Mint", "cteInsert", "cteMove", "deriveCap"],
  // In full, after a step that changed a slot holding an IRQ control cap; else it holds as before.
  scope: (s, prev, d) => (changedCapWhere(s, prev, d, (t) => t === "IRQControlCap") ? everything : nothingChanged),
  find: (s, report) => {
    const slots: SlotPtr[] = []
    for (const [slot, c] of s.caps) {
      if (c.tag !== "IRQControlCap") continue
      slots.push(slot)
      if (!s.isOriginal.has(slot)) report(`${showAt(s, slot)} is not original`)
    }
    if (slots.length > 1) report(`${slots.length} IRQControlCaps, in ${slots.map((x) => showSlot(s, x)).join(", ")}`)
  },
})

/**
 * Every master reply cap is original.
 *
 * Why: the reply caps a Call creates are children of the caller's master reply cap.
 *
 * Mirrors: l4v Invariants_AI `reply_master_revocable`.
 */
export const replyMasterRevocable = defineInvariant({
  name: "valid_mdb.reply_master_revocable",
  statement: "Every master reply cap is original.",
  mirrors: "l4v Invariants_AI reply_master_revocable",
  threatenedBy: ["TCB_Resume", "Untyped_Retype", "cteMove", "setupReplyMaster"],
  // Per slot: its cap and its originality, both in the slot delta.
  eachCap: (s, slot, c, report) => {
    if (c.tag === "ReplyCap" && c.isMaster && !s.isOriginal.has(slot)) report(`${showAt(s, slot)} is a master reply cap but not original`)
  },
})

/**
 * Each non-master reply cap is a CDT child of a master reply cap to the same thread; master reply
 * caps are CDT roots whose descendants are all non-master reply caps to their thread.
 *
 * Why: deleting a thread's master reply cap must find and delete every reply cap to it.
 *
 * Mirrors: l4v Invariants_AI `reply_mdb` (`reply_caps_mdb`, `reply_masters_mdb`).
 */
export const replyMdb = defineInvariant({
  name: "valid_mdb.reply_mdb",
  statement:
    "Each non-master reply cap is a CDT child of the master reply cap to the same thread; master reply caps have no " +
    "CDT parent and only non-master reply caps to their thread below them.",
  mirrors: "l4v Invariants_AI reply_mdb (reply_caps_mdb, reply_masters_mdb)",
  threatenedBy: ["sendIPC", "receiveIPC", "setupCallerCap", "cteInsert", "cteMove", "CNode_Move", "CNode_Rotate", "CNode_SaveCaller"],
  scope: replyMdbScope,
  find: (s, report) => {
    const children = new Map<SlotPtr, SlotPtr[]>()
    for (const [c, p] of s.cdt) {
      const l = children.get(p)
      if (l === undefined) children.set(p, [c])
      else l.push(c)
    }
    for (const [slot, c] of s.caps) {
      if (c.tag !== "ReplyCap") continue
      const parent = s.cdt.get(slot)
      if (!c.isMaster) {
        const pc = parent === undefined ? undefined : s.caps.get(parent)
        if (pc?.tag !== "ReplyCap" || !pc.isMaster || pc.tcb !== c.tcb) {
          const has = parent === undefined ? "no CDT parent" : `CDT parent ${showAt(s, parent)}`
          report(`${showAt(s, slot)} is a reply cap with ${has}, not the master reply cap to ${hex(c.tcb)}`)
        }
        continue
      }
      if (parent !== undefined) report(`${showAt(s, slot)} is a master reply cap with CDT parent ${showAt(s, parent)}`)
      const seen = new Set<SlotPtr>([slot])
      const todo = [...(children.get(slot) ?? [])]
      while (todo.length > 0) {
        const d = todo.pop()!
        if (seen.has(d)) continue
        seen.add(d)
        const dc = s.caps.get(d)
        if (dc?.tag !== "ReplyCap" || dc.isMaster || dc.tcb !== c.tcb) {
          report(`${showAt(s, d)} descends from the master reply cap in ${showSlot(s, slot)} but is not a reply cap to ${hex(c.tcb)}`)
        }
        todo.push(...(children.get(d) ?? []))
      }
    }
  },
})

/**
 * Every slot marked original holds a cap.
 *
 * Why: originality belongs to a cap; a stale mark on an empty slot would make the next cap put
 * there revocable by accident.
 *
 * Mirrors: l4v Invariants_AI `valid_ioc`.
 */
export const validIoc = defineInvariant({
  name: "valid_ioc",
  statement: "Every slot marked original holds a cap.",
  mirrors: "l4v Invariants_AI valid_ioc",
  threatenedBy: ["cteDelete", "emptySlot", "cteMove", "CNode_Move", "CNode_Rotate", "CNode_Delete", "CNode_Revoke"],
  // Per slot: its originality and whether it holds a cap, both in the slot delta.
  scope: (_s, _prev, d) => changedSlots(d),
  find: (s, report) => {
    for (const slot of s.isOriginal) if (!s.caps.has(slot)) report(`${showSlot(s, slot)} is marked original but is empty`)
  },
})

/**
 * The ordered child lists match the CDT exactly: a slot's list holds each of its CDT children
 * once and nothing else, and no slot has an empty list.
 *
 * Why: revoke deletes children in list order; a child missing from the list would survive revoke.
 *
 * Mirrors: l4v Deterministic_A `valid_list` (`valid_list_2`).
 */
export const validList = defineInvariant({
  name: "valid_list",
  statement: "Each slot's ordered child list holds exactly its CDT children, each once; no slot has an empty list.",
  mirrors: "l4v Deterministic_A valid_list",
  threatenedBy: ["cteInsert", "cteMove", "emptySlot", "CNode_Move", "CNode_Rotate", "CNode_Revoke", "Untyped_Retype"],
  // Per edge and per list: a changed slot's parent and child list, and its neighbours' (cdtNeighbourhood).
  scope: cdtNeighbourhood,
  find: (s, report) => {
    const listed = new Map<SlotPtr, Set<SlotPtr>>()
    for (const [p, l] of s.cdtList) {
      if (l.length === 0) report(`${showSlot(s, p)} has an empty child list`)
      const set = new Set<SlotPtr>()
      for (const c of l) {
        if (set.has(c)) report(`${showSlot(s, p)} lists child ${hex(c)} twice`)
        set.add(c)
        const actual = s.cdt.get(c)
        if (actual !== p) {
          report(`${showSlot(s, p)} lists child ${hex(c)}, whose CDT parent is ${actual === undefined ? "none" : hex(actual)}`)
        }
      }
      listed.set(p, set)
    }
    // A parent's list by lookup, not only the lists iterated above (an incremental view iterates fewer).
    const listOf = (p: SlotPtr): ReadonlySet<SlotPtr> | undefined => {
      let set = listed.get(p)
      if (set === undefined) {
        const l = s.cdtList.get(p)
        if (l !== undefined) listed.set(p, set = new Set(l))
      }
      return set
    }
    for (const [c, p] of s.cdt) {
      if (listOf(p)?.has(c) !== true) report(`${showSlot(s, c)} is a CDT child of ${hex(p)} but missing from its child list`)
    }
  },
})

const vmRank: Readonly<Record<VMRights, number>> = { KernelOnly: 0, ReadOnly: 1, ReadWrite: 2 }

/** The rights the child has that its parent lacks, as text, or null when it has none extra. */
const extraRights = (child: Cap, parent: Cap): string | null => {
  if ((child.tag === "EndpointCap" && parent.tag === "EndpointCap") || (child.tag === "NotificationCap" && parent.tag === "NotificationCap")) {
    const extra = child.rights & ~parent.rights
    return extra === 0 ? null : showRights(extra)
  }
  if (child.tag === "FrameCap" && parent.tag === "FrameCap") {
    return vmRank[child.vmRights] > vmRank[parent.vmRights] ? `${child.vmRights} over ${parent.vmRights}` : null
  }
  if (child.tag === "ReplyCap" && parent.tag === "ReplyCap") return child.canGrant && !parent.canGrant ? "Grant" : null
  return null
}

/**
 * A CDT child naming the same object as its parent never has rights the parent lacks: endpoint
 * and notification rights are a subset, a frame's VM rights are no stronger (ReadOnly below
 * ReadWrite), a reply cap has Grant only if its parent has it.
 *
 * Why: Copy and Mint only ever remove rights; a child with more would be an authority leak.
 *
 * Mirrors: none (kspec-specific; in l4v it follows from cap_insert and derive_cap lemmas).
 */
export const derivedRights = defineInvariant({
  name: "derived_rights",
  statement:
    "A CDT child that names the same object as its parent never has rights the parent lacks (endpoint/notification " +
    "rights, frame VM rights, reply Grant).",
  mirrors: "none (kspec-specific; l4v proves it per operation rather than as an invariant)",
  threatenedBy: ["CNode_Copy", "CNode_Mint", "CNode_Mutate", "cteInsert", "setupCallerCap", "Frame_Map"],
  // Per edge: both ends' caps, so a changed slot's edges and those of its neighbours (cdtNeighbourhood).
  scope: cdtNeighbourhood,
  find: (s, report) => {
    for (const [child, parent] of s.cdt) {
      const c = s.caps.get(child)
      const p = s.caps.get(parent)
      if (c === undefined || p === undefined || capObjRef(c) === null || capObjRef(c) !== capObjRef(p)) continue
      const extra = extraRights(c, p)
      if (extra !== null) report(`${showAt(s, child)} has rights (${extra}) that its CDT parent ${showAt(s, parent)} lacks`)
    }
  },
})

/** The valid_mdb invariants, in registry order. */
export const mdbInvariants = [
  mdbCteAt, noMloop, untypedMdb, descendantsInc, untypedInc, utRevocable, irqControl, replyMasterRevocable, replyMdb,
] as const
/** The CDT-side invariants outside l4v's valid_mdb conjunction. */
export const cdtExtraInvariants = [validIoc, validList, derivedRights] as const
