/**
 * The heap-layout and cross-reference part of l4v's `valid_pspace`: objects are aligned and
 * disjoint, object references are symmetric, and live objects are reachable through a cap.
 * @category invariants
 */
import type { PPtr } from "../../model/index.ts"
import { bit, wordBits } from "../../model/index.ts"
import type { KernelState } from "../state.ts"
import { capObjRef, heapIndex, hex, objBits, showRange } from "./internal.ts"
import { defineInvariant } from "./types.ts"

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
  find: (s, report) => {
    for (const [p, o] of s.kheap) {
      const bits = objBits(o)
      if (!Number.isInteger(p) || p < 0 || p % bit(bits) !== 0) report(`${o.tag} at ${hex(p)} is not aligned to its size 2^${bits}`)
      else if (p + bit(bits) > 2 ** wordBits) report(`${o.tag} at ${hex(p)} of 2^${bits} bytes runs past the 32-bit address space`)
    }
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

/** l4v `refs_of`: the references an object holds, as (target, kind) pairs. */
const refsOf = (s: KernelState, p: PPtr): readonly (readonly [PPtr, RefKind])[] => {
  const o = s.kheap.get(p)
  if (o === undefined) return []
  switch (o.tag) {
    case "TCB": {
      const out: [PPtr, RefKind][] = []
      const st = o.tcbState
      if (st.tag === "BlockedOnSend") out.push([st.ep, "TCBBlockedSend"])
      else if (st.tag === "BlockedOnReceive") out.push([st.ep, "TCBBlockedRecv"])
      else if (st.tag === "BlockedOnNotification") out.push([st.ntfn, "TCBSignal"])
      if (o.tcbBoundNotification !== null) out.push([o.tcbBoundNotification, "TCBBound"])
      return out
    }
    case "Endpoint":
      return o.state.tag === "IdleEP" ? [] : o.state.queue.map((t) => [t, o.state.tag === "SendEP" ? "EPSend" : "EPRecv"] as const)
    case "Notification": {
      const out: [PPtr, RefKind][] = o.state.tag === "WaitingNtfn" ? o.state.queue.map((t) => [t, "NTFNSignal"]) : []
      if (o.boundTCB !== null) out.push([o.boundTCB, "NTFNBound"])
      return out
    }
    case "CNode": case "Frame": case "PageTable": case "PageDirectory":
      return []
  }
}

/**
 * Object references are symmetric: a thread blocked sending (receiving) on an endpoint is in that
 * endpoint's send (receive) queue and every queued thread is blocked on it; the same for threads
 * waiting on a notification; a thread is bound to a notification exactly when the notification is
 * bound to it.
 *
 * Why: cancelling IPC, deleting an endpoint and unbinding follow one side of the link and update
 * the other.
 *
 * Mirrors: l4v Invariants_AI `sym_refs (state_refs_of s)`.
 */
export const symRefs = defineInvariant({
  name: "sym_refs",
  statement:
    "Object references are symmetric: a thread blocked on an endpoint or notification is in its queue (of the " +
    "matching direction) and every queued thread is blocked on it; thread and notification bindings agree.",
  mirrors: "l4v Invariants_AI sym_refs (state_refs_of)",
  threatenedBy: [
    "sendIPC", "receiveIPC", "cancelIPC", "cancelAllIPC", "sendSignal", "receiveSignal", "cancelSignal",
    "TCB_BindNotification", "TCB_UnbindNotification", "TCB_Suspend", "finaliseCap", "CNode_CancelBadgedSends",
  ],
  find: (s, report) => {
    const key = (from: PPtr, to: PPtr, k: RefKind) => `${from}:${to}:${k}`
    const all = new Set<string>()
    for (const p of s.kheap.keys()) for (const [to, k] of refsOf(s, p)) all.add(key(p, to, k))
    for (const p of s.kheap.keys()) {
      for (const [to, k] of refsOf(s, p)) {
        if (!all.has(key(to, p, converse[k]))) {
          report(`${s.kheap.get(p)!.tag} ${hex(p)} refers to ${hex(to)} as ${k}, but ${hex(to)} has no ${converse[k]} reference back`)
        }
      }
    }
  },
})

/**
 * Every live object has a cap naming it: a thread that is bound or neither Inactive nor idle, an
 * endpoint with a queue, a notification that is bound or has waiters. Reply caps do not count.
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
    "notification) is named by some cap other than a reply cap.",
  mirrors: "l4v Invariants_AI if_live_then_nonz_cap",
  threatenedBy: ["cteDelete", "CNode_Delete", "CNode_Revoke", "CNode_Move", "CNode_Rotate", "finaliseCap", "TCB_Resume"],
  find: (s, report) => {
    const named = new Set<PPtr>()
    for (const c of s.caps.values()) {
      const p = c.tag === "ReplyCap" ? null : capObjRef(c)
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
