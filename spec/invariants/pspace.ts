/**
 * The heap-layout and cross-reference part of l4v's `valid_pspace`: objects are aligned and
 * disjoint, object references are symmetric, and live objects are reachable through a cap.
 * @category invariants
 */
import type { PPtr, SlotPtr } from "../../model/index.ts"
import { bit, tcbBits, wordBits } from "../../model/index.ts"
import type { KObject, KernelState, Tcb } from "../state.ts"
import type { StateDelta } from "./delta.ts"
import { refAt } from "./capRefs.ts"
import { capObjRef, heapIndex, hex, objBits, showRange } from "./internal.ts"
import type { IncrementalScope } from "./types.ts"
import { defineInvariant, everything, nothingChanged, oncePerChange } from "./types.ts"

/**
 * Every object's base is aligned to its size (TCB 2^9, endpoint and notification 2^4, CNode
 * 2^(radix+4), frame 2^sizeBits, page table 2^10, page directory 2^14), and the object ends
 * within the 32-bit address space.
 *
 * Why: seL4 finds a TCB from a slot pointer and a slot's index from its address by masking.
 *
 * Mirrors: l4v Invariants_AI `pspace_aligned`.
 */
export const pspaceAligned = defineInvariant({
  name: "pspace_aligned",
  statement: "Every object's base address is aligned to its size, and the object ends within the 32-bit address space.",
  mirrors: "l4v Invariants_AI pspace_aligned",
  threatenedBy: ["Untyped_Retype"],
  // Per object.
  eachObject: (_s, p, o, report) => {
    const bits = objBits(o)
    if (!Number.isInteger(p) || p < 0 || p % bit(bits) !== 0) report(`${o.tag} at ${hex(p)} is not aligned to its size 2^${bits}`)
    else if (p + bit(bits) > 2 ** wordBits) report(`${o.tag} at ${hex(p)} of 2^${bits} bytes runs past the 32-bit address space`)
  },
})

/**
 * No two objects overlap: their ranges [base, base + 2^size) are pairwise disjoint. Checked by
 * sorting bases and comparing each object with the furthest-reaching one before it.
 *
 * Why: two objects sharing memory would corrupt each other.
 *
 * Mirrors: l4v Invariants_AI `pspace_distinct`.
 */
export const pspaceDistinct = defineInvariant({
  name: "pspace_distinct",
  statement: "No two objects overlap: their ranges [base, base + 2^size) are pairwise disjoint.",
  mirrors: "l4v Invariants_AI pspace_distinct",
  threatenedBy: ["Untyped_Retype"],
  // In full, after a step that made an object or changed an object's size; else it holds as before.
  scope: (s, prev, d) => (objectMadeOrResized(s, prev, d) ? everything : nothingChanged),
  find: (s, report) => {
    const ix = heapIndex(s)
    for (let i = 1; i < ix.bases.length; i++) {
      const j = ix.maxEndAt[i - 1]!
      if (ix.ends[j]! > ix.bases[i]!) {
        report(
          `the ${ix.objs[j]!.tag} at ${showRange({ lo: ix.bases[j]!, hi: ix.ends[j]! })} overlaps the ` +
            `${ix.objs[i]!.tag} at ${showRange({ lo: ix.bases[i]!, hi: ix.ends[i]! })}`,
        )
      }
    }
  },
})

/** A reference between objects with its kind, as l4v's `reftype`. */
type RefKind = "TCBBlockedSend" | "TCBBlockedRecv" | "TCBSignal" | "TCBBound" | "EPSend" | "EPRecv" | "NTFNSignal" | "NTFNBound"
const converse: Readonly<Record<RefKind, RefKind>> = {
  TCBBlockedSend: "EPSend", EPSend: "TCBBlockedSend", TCBBlockedRecv: "EPRecv", EPRecv: "TCBBlockedRecv",
  TCBSignal: "NTFNSignal", NTFNSignal: "TCBSignal", TCBBound: "NTFNBound", NTFNBound: "TCBBound",
}

/** l4v `tcb_st_refs_of`: the object a thread state blocks on, with the kind of reference. */
const tcbStRef = (o: Tcb): readonly [PPtr, RefKind] | null => {
  const st = o.tcbState
  switch (st.tag) {
    case "BlockedOnSend": return [st.ep, "TCBBlockedSend"]
    case "BlockedOnReceive": return [st.ep, "TCBBlockedRecv"]
    case "BlockedOnNotification": return [st.ntfn, "TCBSignal"]
    case "Running": case "Restart": case "Inactive": case "IdleThreadState": case "BlockedOnReply": return null
  }
}

/** Does `o` (the object at some address) hold the reference `(to, k)`? l4v `(to, k) ∈ refs_of o`. */
const holdsRef = (o: KObject | undefined, to: PPtr, k: RefKind): boolean => {
  if (o === undefined) return false
  switch (o.tag) {
    case "TCB": {
      if (k === "TCBBound") return o.tcbBoundNotification === to
      const r = tcbStRef(o)
      return r !== null && r[0] === to && r[1] === k
    }
    case "Endpoint":
      return o.state.tag !== "IdleEP" && (o.state.tag === "SendEP" ? "EPSend" : "EPRecv") === k && o.state.queue.includes(to)
    case "Notification":
      if (k === "NTFNBound") return o.boundTCB === to
      return k === "NTFNSignal" && o.state.tag === "WaitingNtfn" && o.state.queue.includes(to)
    case "CNode": case "Frame": case "PageTable": case "PageDirectory": case "ASIDPool":
      return false
  }
}

/** Every object `o` references (l4v `refs_of`, targets only). */
const refTargets = (o: KObject | undefined): readonly PPtr[] => {
  if (o === undefined) return []
  switch (o.tag) {
    case "TCB": {
      const r = tcbStRef(o)
      const out: PPtr[] = r === null ? [] : [r[0]]
      if (o.tcbBoundNotification !== null) out.push(o.tcbBoundNotification)
      return out
    }
    case "Endpoint": return o.state.tag === "IdleEP" ? [] : o.state.queue
    case "Notification": {
      const out: PPtr[] = o.state.tag === "WaitingNtfn" ? [...o.state.queue] : []
      if (o.boundTCB !== null) out.push(o.boundTCB)
      return out
    }
    case "CNode": case "Frame": case "PageTable": case "PageDirectory": case "ASIDPool": return []
  }
}

/**
 * The objects a step can have broken a reference between (`sym_refs`), or a check of what an object
 * references (`valid_tcb`, `valid_ep`, `valid_ntfn`): the changed objects, what they referenced
 * before and after the step, closed under references; and the TCB of every changed slot (a TCB's
 * checks read its own slots). A broken reference (u -> v) has u or v changed (else it held in
 * prev). If u changed, u is visited. If only v changed, u's reference to v is as in prev, where v
 * held the converse, so u is a prev-target of a changed object and is visited. Targets of visited
 * objects are visited too (to a fixed point), so the thread-side lookup sees every queue it needs.
 * Computed once per step, so the invariants that use it share one view.
 */
export const refNeighbourhood = oncePerChange((s: KernelState, prev: KernelState, d: StateDelta): IncrementalScope => {
  if (d.objects.size === 0 && d.slots.size === 0) return nothingChanged
  const objects = new Set<PPtr>()
  const addRefs = (o: KObject | undefined) => { for (const t of refTargets(o)) objects.add(t) }
  for (const p of d.objects) { objects.add(p); addRefs(prev.kheap.get(p)); addRefs(s.kheap.get(p)) }
  for (const slot of d.slots) objects.add(slot - (slot % bit(tcbBits)))
  // Close under references (the reference components are small: an object, its queue, bindings).
  const todo = [...objects]
  while (todo.length > 0) {
    for (const t of refTargets(s.kheap.get(todo.pop()!))) if (!objects.has(t)) { objects.add(t); todo.push(t) }
  }
  return { objects }
})

/** Did the step make an object, or change an object's kind or size (what its range depends on)? */
export const objectMadeOrResized = (s: KernelState, prev: KernelState, d: StateDelta): boolean => {
  for (const p of d.objects) {
    const b = s.kheap.get(p)
    if (b === undefined) continue
    const a = prev.kheap.get(p)
    if (a === undefined || a.tag !== b.tag || objBits(a) !== objBits(b)) return true
  }
  return false
}

/**
 * Object references are symmetric (l4v `sym_refs (state_refs_of s)` over `refs_of`): a thread
 * blocked sending (receiving) on an endpoint is in that endpoint's send (receive) queue and every
 * queued thread is blocked on it in the matching direction; a thread BlockedOnNotification is in
 * the notification's waiting queue and every waiter is blocked on it; a thread is bound to a
 * notification exactly when the notification is bound to it. A thread is therefore in at most one
 * queue, and the queue kind matches its state.
 *
 * Why: cancelling IPC, deleting an endpoint and unbinding follow one side of the link and update
 * the other; a one-sided link leaves a dangling queue entry or a thread blocked forever.
 *
 * Checked in time linear in the heap plus the queues: each queue entry and each binding is
 * checked against its thread's single state reference, and each thread's state reference against
 * the queue it names (queue membership is looked up in a per-check index, not by scanning).
 *
 * Mirrors: l4v Invariants_AI `sym_refs (state_refs_of s)`.
 */
export const symRefs = defineInvariant({
  name: "sym_refs",
  statement:
    "Object references are symmetric: a thread blocked on an endpoint (send or receive) or notification is in its " +
    "queue of the matching kind and every queued thread is blocked on that object in that direction; a thread is " +
    "bound to a notification exactly when the notification is bound to it.",
  mirrors: "l4v Invariants_AI sym_refs (state_refs_of)",
  threatenedBy: [
    "sendIPC", "receiveIPC", "cancelIPC", "cancelAllIPC", "sendSignal", "receiveSignal", "cancelSignal",
    "cancelAllSignals", "TCB_BindNotification", "TCB_UnbindNotification", "TCB_Suspend", "finaliseCap",
    "CNode_CancelBadgedSends", "doReplyTransfer", "Untyped_Retype",
  ],
  scope: (s, prev, d) => refNeighbourhood(s, prev, d),
  find: (s, report) => {
    // Queue side: every (queue object -> thread) reference has the thread's state reference back.
    // `queuedIn` records, per thread, the objects whose queues hold it (normally at most one).
    const queuedIn = new Map<PPtr, { obj: PPtr; kind: RefKind }[]>()
    const back = (from: PPtr, tag: string, to: PPtr, k: RefKind) => {
      const l = queuedIn.get(to)
      if (l === undefined) queuedIn.set(to, [{ obj: from, kind: k }])
      else l.push({ obj: from, kind: k })
      if (!holdsRef(s.kheap.get(to), from, converse[k])) {
        const t = s.kheap.get(to)
        const what = t?.tag === "TCB" ? t.tcbState.tag : t === undefined ? "no object" : `a ${t.tag}`
        report(`${tag} ${hex(from)} holds ${hex(to)} as ${k}, but ${hex(to)} (${what}) has no ${converse[k]} reference back`)
      }
    }
    for (const [p, o] of s.kheap) {
      if (o.tag === "Endpoint" && o.state.tag !== "IdleEP") {
        const k: RefKind = o.state.tag === "SendEP" ? "EPSend" : "EPRecv"
        for (const t of o.state.queue) back(p, "Endpoint", t, k)
      } else if (o.tag === "Notification") {
        if (o.state.tag === "WaitingNtfn") for (const t of o.state.queue) back(p, "Notification", t, "NTFNSignal")
        if (o.boundTCB !== null && !holdsRef(s.kheap.get(o.boundTCB), p, "TCBBound")) {
          report(`Notification ${hex(p)} is bound to ${hex(o.boundTCB)}, which is not bound back to it`)
        }
      }
    }
    // Thread side: each thread's state reference and binding has the object's reference back.
    for (const [p, o] of s.kheap) {
      if (o.tag !== "TCB") continue
      const r = tcbStRef(o)
      if (r !== null) {
        const [to, k] = r
        const found = queuedIn.get(p)?.some((q) => q.obj === to && q.kind === converse[k]) ?? false
        if (!found) {
          const target = s.kheap.get(to)
          const what = target === undefined ? "no object" : target.tag === "Endpoint" || target.tag === "Notification" ? target.state.tag : `a ${target.tag}`
          report(`TCB ${hex(p)} is ${o.tcbState.tag} on ${hex(to)}, but ${hex(to)} (${what}) does not hold it as ${converse[k]}`)
        }
      }
      if (o.tcbBoundNotification !== null && !holdsRef(s.kheap.get(o.tcbBoundNotification), p, "NTFNBound")) {
        report(`TCB ${hex(p)} is bound to notification ${hex(o.tcbBoundNotification)}, which is not bound back to it`)
      }
    }
  },
})

/**
 * Every live object has a cap naming it: a thread that is bound or neither Inactive nor idle, an
 * endpoint with a queue, a notification that is bound or has waiters. Reply caps and Zombies do
 * not count (l4v `zobj_refs`): a TCB is suspended and unbound before its last cap becomes a Zombie.
 *
 * Why: when the last cap to an object goes, finalisation cleans it up; a live object with no cap
 * could be retyped over while the kernel still uses it.
 *
 * Mirrors: l4v Invariants_AI `if_live_then_nonz_cap`.
 */
export const ifLiveThenNonzCap = defineInvariant({
  name: "if_live_then_nonz_cap",
  statement:
    "Every live object (a bound or running/blocked thread, an endpoint with a queue, a bound or waited-on " +
    "notification) is named by some cap other than a reply cap or a Zombie.",
  mirrors: "l4v Invariants_AI if_live_then_nonz_cap",
  threatenedBy: ["cteDelete", "CNode_Delete", "CNode_Revoke", "CNode_Move", "CNode_Rotate", "finaliseCap", "TCB_Resume"],
  // Per object: a changed object, or one a changed cap named before the step; with every cap that
  // names it now (the checker's cap index), so the check sees all of them.
  scope: (_s, prev, d) => {
    if (d.capRefs === undefined) return everything
    const objects = new Set(d.objects)
    for (const sl of d.slots) {
      const p = refAt(prev, sl)
      if (p !== null) objects.add(p)
    }
    const slots = new Set<SlotPtr>()
    for (const p of objects) for (const sl of d.capRefs.naming(p)) slots.add(sl)
    return { objects, slots }
  },
  find: (s, report) => {
    const named = new Set<PPtr>()
    for (const c of s.caps.values()) {
      // Reply caps and Zombies do not keep an object alive (l4v zobj_refs).
      const p = c.tag === "ReplyCap" || c.tag === "ZombieCap" ? null : capObjRef(c)
      if (p !== null) named.add(p)
    }
    for (const [p, o] of s.kheap) {
      const live =
        o.tag === "TCB" ? o.tcbBoundNotification !== null || (o.tcbState.tag !== "Inactive" && o.tcbState.tag !== "IdleThreadState")
        : o.tag === "Endpoint" ? o.state.tag !== "IdleEP"
        : o.tag === "Notification" ? o.boundTCB !== null || o.state.tag === "WaitingNtfn"
        : false
      if (live && !named.has(p)) report(`${o.tag} ${hex(p)} is live but no cap names it`)
    }
  },
})

/** The pspace invariants, in registry order. */
export const pspaceInvariants = [pspaceAligned, pspaceDistinct, symRefs, ifLiveThenNonzCap] as const
