/**
 * Bug-injection mutants: deliberately broken variants of the impl, each a one-place source edit
 * of a named impl file. The self-test builds each mutant as a patched copy of impl/ and
 * asserts the default lockstep suite catches it within a fixed budget. A mutant whose search
 * text no longer occurs in the impl fails the self-test too, so the list cannot silently rot.
 * `specMutants` break the spec instead (a patched copy of spec/, checked by the copy's own
 * harness against the real impl): a wrong spec must not pass either.
 */
export interface Mutant {
  readonly name: string
  /** The seL4 behaviour the mutant breaks, in one line. */
  readonly breaks: string
  /** File under impl/ (under spec/ for `specMutants`). */
  readonly file: string
  readonly search: string
  readonly replace: string
}

export const mutants: readonly Mutant[] = [
  {
    name: "revoke-stops-early",
    breaks: "cteRevoke deletes every descendant: this one leaves the last descendant alive",
    file: "object/cnode.ts",
    search: "for (let next = slot.next; next !== null && isMDBParentOf(slot, next); next = slot.next) {",
    replace: "for (let next = slot.next; next !== null && isMDBParentOf(slot, next) && next.next !== null && isMDBParentOf(slot, next.next); next = slot.next) {",
  },
  {
    name: "retype-ignores-alignment",
    breaks: "Untyped_Retype aligns each object to its size: this one places it at the raw free index",
    file: "object/untyped.ts",
    search: "const alignedFreeRef = alignUpBits(freeRef, objectSize)",
    replace: "const alignedFreeRef = freeRef",
  },
  {
    name: "mint-rebadges",
    breaks: "Mint may set a badge only on an unbadged cap: this one rebadges badged caps",
    file: "object/objecttype.ts",
    search: "if (!preserve && cap.badge === 0) return { tag: cap.tag,",
    replace: "if (!preserve) return { tag: cap.tag,",
  },
  {
    name: "lookup-ignores-guard",
    breaks: "resolveAddressBits checks each CNode's guard: this one only checks the guard fits",
    file: "kernel/cspace.ts",
    search: "if (guardBits > n || guard !== capGuard) {",
    replace: "if (guardBits > n) {",
  },
  {
    name: "copy-keeps-rights",
    breaks: "Copy/Mint intersect endpoint rights with the mask: this one keeps the source's rights",
    file: "object/objecttype.ts",
    search: "rights: cap.rights & r & allRights }",
    replace: "rights: cap.rights }",
  },
  {
    name: "delete-leaves-stale-link",
    breaks: "emptySlot unlinks the slot from the MDB: this one leaves the next slot pointing back at it",
    file: "object/cnode.ts",
    search: "    next.prev = prev\n    next.firstBadged = next.firstBadged || slot.firstBadged",
    replace: "    next.firstBadged = next.firstBadged || slot.firstBadged",
  },
  {
    name: "final-ignores-next",
    breaks: "isFinalCapability looks at both MDB neighbours: this one ignores the next slot",
    file: "object/cnode.ts",
    search: "  if (next === null) return true\n  return !sameObjectAs(cte.cap, next.cap)",
    replace: "  return next === null || next !== null",
  },
  {
    name: "copy-skips-delete-first",
    breaks: "Copy/Mint/Move/Mutate refuse an occupied destination (DeleteFirst) before the source lookup",
    file: "object/cnode.ts",
    search: "  let st = ensureEmptySlot(k, destSlot)\n  if (st !== EXCEPTION_NONE) return st\n  st = lookupSourceSlot(k, srcRoot, srcIndex, srcDepth)",
    replace: "  let st = lookupSourceSlot(k, srcRoot, srcIndex, srcDepth)",
  },
  {
    name: "reset-keeps-free-index",
    breaks: "a retype of a childless untyped starts over from its base: this one keeps the old free index",
    file: "object/untyped.ts",
    search: "    freeIndex = 0",
    replace: "    freeIndex = cap.freeIndex",
  },
  {
    name: "badge-not-delivered",
    breaks: "a received message carries the badge of the sender's cap: this one delivers badge 0",
    file: "kernel/ipcTransfer.ts",
    search: "receiver.msgInfo = miNew(miLabel(tag), miCapsUnwrapped(capsInfo), miExtraCaps(capsInfo), msgTransferred)\n  receiver.badge = badge >>> 0",
    replace: "receiver.msgInfo = miNew(miLabel(tag), miCapsUnwrapped(capsInfo), miExtraCaps(capsInfo), msgTransferred)\n  receiver.badge = 0",
  },
  {
    name: "call-leaves-no-reply-cap",
    breaks: "a Call that reaches a receiver leaves it a reply cap in its caller slot: this one blocks the caller with no reply cap",
    file: "kernel/ipcTransfer.ts",
    search: "cteInsert(k, canGrant ? sender.replyCapGrant : sender.replyCapNoGrant, replySlot, callerSlot)",
    replace: "void replySlot",
  },
  {
    name: "signal-overwrites",
    breaks: "signals to an active notification OR their badges together: this one keeps only the last badge",
    file: "object/notification.ts",
    search: "ntfn.ntfnMsgIdentifier = (ntfn.ntfnMsgIdentifier | badge) >>> 0",
    replace: "ntfn.ntfnMsgIdentifier = badge >>> 0",
  },
  {
    name: "equal-priority-preempts",
    breaks: "a woken thread of the current thread's priority waits its turn: this one preempts at once",
    file: "kernel/thread.ts",
    search: "} else if (wasRunnable && candidate.tcbPriority === ct.tcbPriority) {",
    replace: "} else if (false) {",
  },
  {
    name: "fastpath-skips-grant-check",
    breaks: "the Call fastpath needs Grant or GrantReply on the endpoint cap: this one takes it without (the caller should stop)",
    file: "fastpath/fastpath.ts",
    search: "if ((epCap.rights & (RightG | RightGR)) === 0) return false",
    replace: "",
  },
  {
    name: "cancel-forgets-last",
    breaks: "deleting an endpoint's last cap restarts every queued thread: this one forgets the last",
    file: "object/endpoint.ts",
    search: "  let thread = head\n  while (thread !== null) {",
    replace: "  let thread = head\n  while (thread !== null && thread.tcbEPNext !== null) {",
  },
  {
    name: "tick-does-not-rotate",
    breaks: "an expired time slice sends the thread to the back of its queue: this one puts it at the front",
    file: "kernel/thread.ts",
    search: "ct.tcbTimeSlice = timeSlice\n      tcbSchedAppend(k, ct)",
    replace: "ct.tcbTimeSlice = timeSlice\n      tcbSchedEnqueue(k, ct)",
  },
  {
    name: "fault-layout-off-by-one",
    breaks: "a cap fault's lookup failure starts at MR3: this one starts it at MR4",
    file: "api/faults.ts",
    search: "return setMRs_lookup_failure(receiver, hasReceiveBuffer, f.failure, 3)",
    replace: "return setMRs_lookup_failure(receiver, hasReceiveBuffer, f.failure, 4)",
  },
  {
    name: "unwrap-any-endpoint",
    breaks: "only caps to the endpoint the message travels through are unwrapped to badges: this one unwraps every endpoint cap",
    file: "kernel/ipcTransfer.ts",
    search: "if (cap.tag === \"EndpointCap\" && ep !== null && cap.ptr === ep.base) {",
    replace: "if (cap.tag === \"EndpointCap\" && ep !== null) {",
  },
  {
    name: "transfer-ignores-grant",
    breaks: "extra caps travel only over a cap with Grant: this one transfers them without",
    file: "kernel/ipcTransfer.ts",
    search: "  const tag = sender.msgInfo\n  if (canGrant) {",
    replace: "  const tag = sender.msgInfo\n  if (canGrant || true) {",
  },
  {
    name: "tls-base-wrong-register",
    breaks: "TCB_SetTLSBase writes TLS_BASE (TPIDRURW): this one writes the register after it (TPIDRURO)",
    file: "object/tcb.ts",
    search: "setRegister(thread, tlsBaseRegister, tlsBase)",
    replace: "setRegister(thread, tlsBaseRegister + 1, tlsBase)",
  },
  {
    name: "tls-base-off-by-one-length",
    breaks: "TCB_SetTLSBase needs one message word: this one refuses a one-word message (TruncatedMessage)",
    file: "object/tcb.ts",
    search: "if (length < 1) return syscallError(k, { tag: \"TruncatedMessage\" })\n  const tlsBase",
    replace: "if (length < 2) return syscallError(k, { tag: \"TruncatedMessage\" })\n  const tlsBase",
  },
  {
    name: "domain-never-ends",
    breaks: "a timer tick takes one from the current domain's time (several domains): this one takes none, so the domain never ends",
    file: "kernel/thread.ts",
    search: "k.domainTime--",
    replace: "k.domainTime -= 0n",
  },
  {
    name: "next-domain-ignores-start",
    breaks: "nextDomain goes back to the start index at an end marker: this one goes back to entry 0 (seL4 before 15.0)",
    file: "kernel/thread.ts",
    search: "k.domScheduleIdx = k.domScheduleStart",
    replace: "k.domScheduleIdx = 0",
  },
  {
    name: "choose-thread-domain-zero",
    breaks: "chooseThread reads the current domain's ready queues: this one reads domain 0's",
    file: "kernel/thread.ts",
    search: "const dom = k.numDomains > 1 ? k.curDomain : 0\n  if (k.readyQueuesL1Bitmap[dom] !== 0) {",
    replace: "const dom = 0\n  if (k.readyQueuesL1Bitmap[dom] !== 0) {",
  },
  {
    name: "set-start-keeps-time",
    breaks: "DomainSet_ScheduleSetStart ends the current domain's time at once: this one lets it run out first",
    file: "object/domain.ts",
    search: "  k.domainTime = 0n\n  k.domScheduleIdx = k.domSchedule.length - 2",
    replace: "  k.domScheduleIdx = k.domSchedule.length - 2",
  },
]

/** Mutants of the spec: the suite must catch a wrong specification as surely as a wrong impl. */
export const specMutants: readonly Mutant[] = [
  {
    name: "spec-domain-never-ends",
    breaks: "the spec's timerTick takes a tick from the domain time when there are several domains: this one never does",
    file: "kernel/thread.ts",
    search: "if (s1.numDomains <= 1) return s1",
    replace: "if (s1.numDomains >= 1) return s1",
  },
  {
    name: "spec-next-domain-skips-entry",
    breaks: "the spec's nextDomain moves to the entry after the current one: this one skips an entry",
    file: "kernel/thread.ts",
    search: "const inc = s.domainIndex + 1",
    replace: "const inc = s.domainIndex + 2",
  },
]
