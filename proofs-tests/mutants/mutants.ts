/**
 * Bug-injection mutants: deliberately broken variants of the impl or of the spec, each a
 * one-place source edit of a named file. The self-test builds each mutant as a patched copy of
 * impl/ (checked against the real spec) or of spec/ (the real impl checked against it) and
 * asserts the default lockstep suite catches it within a fixed budget. A mutant whose search
 * text no longer occurs in its file fails the self-test too, so the list cannot silently rot.
 *
 * Security mutants (`securityCheck` set) make the same plausible kernel bug in the spec and the
 * impl alike (`edits`, one per place): the impl still refines the spec, so lockstep refinement
 * passes, and only the named security check can catch them (proofs-tests/security/).
 */
export interface Mutant {
  readonly name: string
  /** The seL4 behaviour the mutant breaks, in one line. */
  readonly breaks: string
  /** The layer patched: impl/ (default) or spec/. */
  readonly layer?: "impl" | "spec"
  /** File under the layer's directory (single-edit mutants). */
  readonly file?: string
  readonly search?: string
  readonly replace?: string
  /** Several edits, in either layer or both (instead of `layer`, `file`, `search`, `replace`). */
  readonly edits?: readonly MutantEdit[]
  /** A security mutant: the check that must catch it (lockstep refinement must not). */
  readonly securityCheck?: "pas_refined" | "integrity" | "nonleakage"
  /** Where a security mutant's bug shows: the built-in systems (and `kspec fuzz --focus` names) its self-test campaigns aim at, in order. */
  readonly aim?: readonly { readonly system: string; readonly focus?: readonly string[] }[]
  /** The mutant makes a kernel entry loop forever: runs of it need the watchdog (RunOptions.deadlineMs). */
  readonly loops?: boolean
}

/** One source edit of a mutant: `search` must occur exactly once in `layer`/`file`. */
export interface MutantEdit {
  readonly layer: "impl" | "spec"
  readonly file: string
  readonly search: string
  readonly replace: string
}

/** A mutant's edits, whichever form it is written in. */
export const mutantEdits = (m: Mutant): readonly MutantEdit[] =>
  m.edits ?? [{ layer: m.layer ?? "impl", file: m.file ?? "", search: m.search ?? "", replace: m.replace ?? "" }]

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
    name: "signal-wakes-last-waiter",
    breaks: "a signal to a notification with waiters wakes the first to have blocked: this one wakes the last",
    file: "object/notification.ts",
    search: "const dest = scratchQueue.head",
    replace: "const dest = scratchQueue.end",
  },
  {
    name: "delete-keeps-first-badged",
    breaks: "deleting a cap passes its first-badged mark to the next cap in the MDB, so its children stay apart from a later same-badge sibling: this one drops the mark",
    file: "object/cnode.ts",
    search: "next.firstBadged = next.firstBadged || slot.firstBadged",
    replace: "next.firstBadged = next.firstBadged",
  },
  {
    name: "saved-reply-ignores-grant",
    breaks: "a reply cap carries its receiver's Grant right, and a reply through a saved one without it leaves the caps behind: this one always transfers them",
    file: "object/objecttype.ts",
    search: "return performInvocation_Reply(k, getTcbImpl(k, cap.tcb), slot, cap.canGrant)",
    replace: "return performInvocation_Reply(k, getTcbImpl(k, cap.tcb), slot, true)",
  },
  {
    name: "large-page-xn-read-as-small",
    breaks: "a large page's execute-never bit sits elsewhere in its entry than a small page's: this MMU reads it where a small page keeps it, so every fetch from a large page faults",
    file: "machine/mmu.ts",
    search: "if (!permits(kind, pte_get_AP(pte), small ? pte_pte_small_get_XN(pte) : pte_pte_large_get_XN(pte))) {",
    replace: "if (!permits(kind, pte_get_AP(pte), pte_pte_small_get_XN(pte))) {",
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
    search: "return setMRs_lookup_failure(receiver, receiveIPCBuffer, f.failure, 3)",
    replace: "return setMRs_lookup_failure(receiver, receiveIPCBuffer, f.failure, 4)",
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
  {
    name: "spec-domain-never-ends",
    breaks: "the spec's timerTick takes a tick from the domain time when there are several domains: this one never does",
    layer: "spec",
    file: "kernel/thread.ts",
    search: "if (s1.numDomains <= 1) return s1",
    replace: "if (s1.numDomains >= 1) return s1",
  },
  {
    name: "spec-next-domain-skips-entry",
    breaks: "the spec's nextDomain moves to the entry after the current one: this one skips an entry",
    layer: "spec",
    file: "kernel/thread.ts",
    search: "const inc = s.domainIndex + 1",
    replace: "const inc = s.domainIndex + 2",
  },
  {
    name: "page-map-ignores-alignment",
    breaks: "Page_Map refuses a vaddr not aligned to the frame's size (AlignmentError): this one maps it",
    file: "kernel/vspace.ts",
    search: "if ((vaddr & mask(frameSize)) !== 0) return syscallError(k, { tag: \"AlignmentError\" })",
    replace: "",
  },
  {
    name: "page-map-keeps-cap-rights",
    breaks: "Page_Map maps with the cap's rights cut by the rights word: this one ignores the rights word",
    file: "kernel/vspace.ts",
    search: "const vmRights = maskVMRights(cap.vmRights, rightsFromWord(wRightsMask))",
    replace: "const vmRights = cap.vmRights",
  },
  {
    name: "large-page-unmap-clears-one",
    breaks: "unmapping a 64 KiB page clears its 16 page-table entries: this one clears only the first",
    file: "kernel/vspace.ts",
    search: "for (let j = 0; j < pagesPerLargePage; j++) pt.pt[i + j] = 0",
    replace: "pt.pt[i] = 0",
  },
  {
    name: "pt-map-over-used-entry",
    breaks: "PageTable_Map refuses a directory entry in use (DeleteFirst): this one overwrites it",
    file: "kernel/vspace.ts",
    search: "if (pde_get_pdeType(pd.pd[pdIndex]!) !== pde_pde_invalid) return syscallError(k, { tag: \"DeleteFirst\" })",
    replace: "",
  },
  {
    name: "asid-zero-assigned",
    breaks: "ASIDPool_Assign never gives out ASID 0: this one does",
    file: "kernel/vspace.ts",
    search: "(base + i === 0 || pool.array[i] !== null)",
    replace: "(pool.array[i] !== null)",
  },
  {
    name: "make-pool-ignores-children",
    breaks: "ASIDControl_MakePool needs an untyped with no children (RevokeFirst): this one makes a pool over live objects",
    file: "kernel/vspace.ts",
    search: "let st = ensureNoChildren(k, parentSlot)\n      if (st !== EXCEPTION_NONE) return st\n",
    replace: "let st: Exception\n",
  },
  {
    name: "pt-map-records-unaligned-vaddr",
    breaks: "a mapped page-table cap records the 1 MiB-aligned address it maps: this one records the vaddr as given",
    file: "kernel/vspace.ts",
    search: "mapped: { asid, vaddr: pageBase(vaddr, sectionBits) } }",
    replace: "mapped: { asid, vaddr } }",
  },
  {
    name: "pt-unmap-keeps-entries",
    breaks: "PageTable_Unmap clears the table it unmaps: this one leaves its entries",
    file: "kernel/vspace.ts",
    search: "    pt.pt.fill(0)\n",
    replace: "",
  },
  {
    name: "pd-delete-keeps-asid",
    breaks: "deleting the last cap to a page directory frees its ASID: this one leaves the pool naming it",
    file: "object/objecttype.ts",
    search: "if (final && cap.asid !== null) deleteASID(",
    replace: "if (!final && cap.asid !== null) deleteASID(",
  },
  {
    name: "derive-unmapped-page-table",
    breaks: "a page-table cap derives only while mapped (IllegalOperation): this one copies an unmapped one",
    file: "object/objecttype.ts",
    search: "    case \"PageTableCap\":\n      if (cap.mapped !== null) return cap",
    replace: "    case \"PageTableCap\":\n      if (cap.mapped !== null || true) return cap",
  },
  {
    name: "frame-delete-unmaps-only-final",
    breaks: "deleting any cap that records a frame's mapping unmaps it: this one unmaps only on the last cap",
    file: "object/objecttype.ts",
    search: "      if (cap.mapped !== null) unmapPage(k,",
    replace: "      if (final && cap.mapped !== null) unmapPage(k,",
  },
  {
    layer: "spec",
    name: "spec-pd-without-kernel-window",
    breaks: "(spec) a new page directory gets the global directory's kernel-window entries: this spec gives it none",
    file: "object/objecttype.ts",
    search: "kernelPDEs: copyGlobalMappings(s) }",
    replace: "kernelPDEs: mapFrom([]) }",
  },
  {
    layer: "spec",
    name: "spec-super-section-one-entry",
    breaks: "(spec) a 16 MiB frame is mapped by 16 identical directory entries: this spec writes one",
    file: "kernel/vspace.ts",
    search: "const count = section ? 1 : sectionsPerSuperSection",
    replace: "const count = 1",
  },
  {
    layer: "spec",
    name: "spec-pt-unmap-keeps-pde",
    breaks: "(spec) unmapping a page table clears the directory entry that points to it: this spec leaves it",
    file: "kernel/vspace.ts",
    search: "return pd === null ? s : storePDEs(s, pd, pdIndexOf(vaddr), 1, InvalidPDE)",
    replace: "return pd === null ? s : s",
  },
  {
    layer: "spec",
    name: "spec-assign-leaves-cap",
    breaks: "(spec) ASIDPool_Assign records the ASID in the directory's cap: this spec only fills the pool",
    file: "kernel/vspace.ts",
    search: "const s1 = setCap(s, inv.pdSlot, { ...pdCap, asid: inv.asid })",
    replace: "const s1 = s",
  },
  {
    name: "revoke-never-advances",
    loops: true,
    breaks: "cteRevoke deletes each descendant in turn: this one never deletes, so the loop never ends (caught by the watchdog)",
    file: "object/cnode.ts",
    search: "    let status = cteDelete(k, next, true)\n",
    replace: "    let status: Exception = EXCEPTION_NONE\n",
  },
  {
    name: "spec-revoke-never-advances",
    loops: true,
    breaks: "(spec) cteRevoke deletes each child in turn: this spec never deletes, so the loop never ends (caught by the watchdog)",
    layer: "spec",
    file: "object/cnode.ts",
    search: "    const r = cteDelete(st, next, true)\n",
    replace: "    const r = notPreempted(st)\n",
  },
  // ---- preemption: long operations stop at preemption points and restart (issue 14) ----
  {
    name: "work-counter-never-preempts",
    breaks: "preemptionPoint looks at the interrupt controller every maxWorkUnitsPerPreemption units: this one never reaches the limit",
    file: "model/preemption.ts",
    search: "if (k.ksWorkUnitsCompleted >= k.maxWorkUnitsPerPreemption) {",
    replace: "if (k.ksWorkUnitsCompleted >= k.maxWorkUnitsPerPreemption + 0x7fffffff) {",
  },
  {
    name: "zombie-misses-last-slot",
    breaks: "the last cap to a CNode becomes a Zombie of all its slots: this one counts one slot fewer, so a preempted deletion leaves a cap behind",
    file: "object/objecttype.ts",
    search: "zombieType: cap.radix, number: BIT(cap.radix) }",
    replace: "zombieType: cap.radix, number: BIT(cap.radix) - 1 }",
  },
  {
    name: "reset-restarts-from-top",
    breaks: "a restarted reset goes on from the free index the preempted one left: this one clears the whole untyped again",
    file: "object/untyped.ts",
    search: "  let offset = prevCap.freeIndex\n",
    replace: "  let offset = prevCap.freeIndex === 0 ? 0 : BIT(blockSize)\n",
  },
  {
    name: "preempted-entry-drops-interrupt",
    breaks: "a preempted syscall's entry handles the interrupt that preempted it (checkInterrupt): this one leaves it",
    file: "api/syscall.ts",
    search: "  if (isIRQPending(k)) handleInterrupt(k, k.pendingIRQ!)",
    replace: "  void k",
  },
  {
    name: "preempted-syscall-completes",
    breaks: "a preempted invocation leaves its caller Restart, with no reply: this one carries on as if it had completed",
    file: "api/syscall.ts",
    search: "  if (st === EXCEPTION_PREEMPTED) return st\n",
    replace: "",
  },
  {
    name: "unexposed-delete-recurses",
    breaks: "an unexposed deletion that meets another table's Zombie parks it in that table's first slot: this one deletes that table too, recursively",
    file: "object/cnode.ts",
    search: "    let status = reduceZombie(k, slot, immediate)",
    replace: "    let status = reduceZombie(k, slot, true)",
  },
  {
    name: "spec-revoke-never-preempts",
    breaks: "(spec) cteRevoke passes a preemption point after each descendant: this spec passes none",
    layer: "spec",
    file: "object/cnode.ts",
    search: "    const p = preemptionPoint(r.state)\n    if (p.preempted) return p\n    st = p.state\n  }\n  return notPreempted(st)",
    replace: "    st = r.state\n  }\n  return notPreempted(st)",
  },
  {
    name: "spec-preempted-reset-forgets-progress",
    breaks: "(spec) a preempted reset lowers the free index to the last chunk cleared: this spec keeps the old one, so the restart repeats the work",
    layer: "spec",
    file: "object/untyped.ts",
    search: "return { state: setCap(st, slot, { ...cap, freeIndex: offset }), preempted: p.preempted }",
    replace: "return { state: setCap(st, slot, { ...cap, freeIndex: p.preempted ? cap.freeIndex : offset }), preempted: p.preempted }",
  },
  {
    name: "data-abort-without-wnr",
    breaks: "a failed user store reports WnR (bit 11) in its fault status: this MMU reports it as a read",
    file: "machine/mmu.ts",
    search: "const wnr = kind === \"Write\" ? FaultStatus.WnR : 0",
    replace: "const wnr = 0",
  },
  {
    name: "long-message-shifted",
    breaks: "MR i past MR3 is word i + 1 of the IPC buffer on both sides: this copy moves each word one slot down",
    file: "kernel/ipcTransfer.ts",
    search: "for (; i < n; i++) recvBuf[i + 1] = sendBuf[i + 1]!",
    replace: "for (; i < n; i++) recvBuf[i] = sendBuf[i + 1]!",
  },
  {
    name: "extra-cap-wrong-word",
    breaks: "extra cap i's pointer is the IPC buffer's caps_or_badges[i]: this one reads the word after it",
    file: "kernel/ipcTransfer.ts",
    search: "const cptr = bufferPtr[bufferCapsWord + i]!",
    replace: "const cptr = bufferPtr[bufferCapsWord + i + 1]!",
  },
  {
    layer: "spec",
    name: "spec-execute-ignores-xn",
    breaks: "(spec) an instruction fetch through an execute-never mapping is a permission fault: this spec's MMU fetches anyway",
    file: "machine/mmu.ts",
    search: "rights !== \"KernelOnly\" && (kind === \"Read\" || (attr & VMAttr.ExecuteNever) === 0)",
    replace: "rights !== \"KernelOnly\"",
  },

  // ---- security mutants: one bug in the spec and the impl alike; lockstep passes, a security check fails ----
  {
    name: "rotate-pivot-may-be-destination",
    breaks: "CNode_Rotate refuses a pivot that is the source or the destination (IllegalOperation): this one checks the source only (planted by an independent bug hunt)",
    file: "object/cnode.ts",
    search: "if (pivotSlot === srcSlot || pivotSlot === destSlot) return syscallError(k, { tag: \"IllegalOperation\" })",
    replace: "if (pivotSlot === srcSlot) return syscallError(k, { tag: \"IllegalOperation\" })",
  },
  {
    name: "same-badge-mint-is-child",
    breaks: "two caps minted apart with one badge are siblings (firstBadged), so revoking one leaves the other: this one makes the later a child of the earlier (planted by an independent bug hunt)",
    file: "object/cnode.ts",
    search: "return ca.badge === bBadge && !b.firstBadged",
    replace: "return ca.badge === bBadge",
  },
  {
    name: "sec-call-without-grant-gets-reply-cap",
    breaks: "a Call through a cap without Grant or GrantReply stops the caller: this kernel gives the receiver a reply cap all the same",
    securityCheck: "pas_refined",
    aim: [{ system: "client-server", focus: ["Call/EndpointCap", "Recv/EndpointCap"] }, { system: "client-server" }],
    edits: [
      { layer: "spec", file: "object/endpoint.ts", search: "canGrant || canGrantReply ? setupCallerCap(s, caller, receiver, replyCanGrant)", replace: "true ? setupCallerCap(s, caller, receiver, replyCanGrant)" },
      { layer: "impl", file: "object/endpoint.ts", search: "if (canGrant || canGrantReply) setupCallerCap(k, thread, dest, replyCanGrant)", replace: "if (true) setupCallerCap(k, thread, dest, replyCanGrant)" },
      { layer: "impl", file: "object/endpoint.ts", search: "if (canGrant || canGrantReply) setupCallerCap(k, sender, thread, (cap.rights & RightG) !== 0)", replace: "if (true) setupCallerCap(k, sender, thread, (cap.rights & RightG) !== 0)" },
    ],
  },
  {
    name: "sec-transfer-without-grant",
    breaks: "extra caps travel only through a cap with Grant: this kernel transfers them through any cap, across the policy's boundary",
    securityCheck: "pas_refined",
    aim: [{ system: "client-server", focus: ["Call/EndpointCap", "Send/EndpointCap", "Recv/EndpointCap"] }, { system: "client-server" }],
    edits: [
      { layer: "spec", file: "kernel/ipcTransfer.ts", search: "  let caps: readonly SlotPtr[] = []\n  if (canGrant) {", replace: "  let caps: readonly SlotPtr[] = []\n  if (canGrant || true) {" },
      { layer: "impl", file: "kernel/ipcTransfer.ts", search: "  const tag = sender.msgInfo\n  if (canGrant) {", replace: "  const tag = sender.msgInfo\n  if (canGrant || true) {" },
    ],
  },
  {
    name: "sec-bind-without-read",
    breaks: "TCB_BindNotification needs Read on the notification: this kernel binds through a cap that may only signal",
    securityCheck: "pas_refined",
    aim: [{ system: "pipe", focus: ["TCB_BindNotification"] }, { system: "pipe" }],
    edits: [
      { layer: "spec", file: "object/tcb.ts", search: "  if (!hasRight(c.rights, RightR)) return err(illegal)\n", replace: "" },
      { layer: "impl", file: "object/tcb.ts", search: "  if ((ntfnCap.rights & RightR) === 0) return syscallError(k, { tag: \"IllegalOperation\" })\n", replace: "" },
    ],
  },
  {
    name: "sec-badge-to-next-receiver",
    breaks: "a send reaches the first waiting receiver only: this kernel also writes the badge into the next receiver in the queue",
    securityCheck: "integrity",
    aim: [{ system: "client-server" }, { system: "client-server", focus: ["Recv", "Call", "Send"] }],
    edits: [
      {
        layer: "spec", file: "object/endpoint.ts",
        search: "      const s1 = doIPCTransfer(setEPState(s, ep, withQueue(\"RecvEP\", rest)), t, ep, badge, canGrant, dest)\n",
        replace: "      const s0 = doIPCTransfer(setEPState(s, ep, withQueue(\"RecvEP\", rest)), t, ep, badge, canGrant, dest)\n      const s1 = rest.length === 0 ? s0 : updateTcb(s0, rest[0]!, (tcb) => tcbWith(tcb, { tcbContext: contextWith(tcb.tcbContext, { badge: badge >>> 0 }) }))\n",
      },
      { layer: "impl", file: "object/endpoint.ts", search: "      doIPCTransfer(k, thread, ep, badge, canGrant, dest)\n", replace: "      doIPCTransfer(k, thread, ep, badge, canGrant, dest)\n      if (q.head !== null) q.head.badge = badge >>> 0\n" },
      { layer: "impl", file: "fastpath/fastpath.ts", search: "  const badge = epCap.badge\n", replace: "  const badge = epCap.badge\n  if (next !== null) next.badge = badge >>> 0\n" },
    ],
  },
  {
    name: "sec-signal-wakes-any-bound-thread",
    breaks: "a signal wakes a bound thread only when it waits in an endpoint receive: this kernel pulls it out of any blocked state (a send, a reply wait) and hands it the badge",
    securityCheck: "integrity",
    aim: [{ system: "pipe" }, { system: "pipe", focus: ["Send/NotificationCap", "Call/EndpointCap", "Send/EndpointCap"] }],
    edits: [
      { layer: "spec", file: "object/notification.ts", search: "if (tcb !== null && getTcb(s, tcb).tcbState.tag === \"BlockedOnReceive\") {", replace: "if (tcb !== null && getTcb(s, tcb).tcbState.tag.startsWith(\"Blocked\")) {" },
      { layer: "impl", file: "object/notification.ts", search: "if (tcb !== null && tcb.tcbState.tag === \"BlockedOnReceive\") {", replace: "if (tcb !== null && tcb.tcbState.tag.startsWith(\"Blocked\")) {" },
    ],
  },
  {
    name: "sec-wake-other-domain-appends",
    breaks: "a thread woken for another domain goes to the head of its ready queue: this kernel puts it at the tail, reordering another domain's queue",
    securityCheck: "integrity",
    aim: [{ system: "client-server" }, { system: "pipe" }],
    edits: [
      { layer: "spec", file: "kernel/thread.ts", search: "if (getTcb(s, t).tcbDomain !== s.curDomain) return tcbSchedEnqueue(s, t)", replace: "if (getTcb(s, t).tcbDomain !== s.curDomain) return tcbSchedAppend(s, t)" },
      { layer: "impl", file: "kernel/thread.ts", search: "  if (k.curDomain !== target.tcbDomain) {\n    tcbSchedEnqueue(k, target)", replace: "  if (k.curDomain !== target.tcbDomain) {\n    tcbSchedAppend(k, target)" },
    ],
  },
  {
    name: "sec-store-through-read-only",
    breaks: "a user store needs a mapping that may write: this MMU lets one through a read-only mapping, so a label that may only read a shared page writes it",
    securityCheck: "integrity",
    aim: [{ system: "client-server", focus: ["MemoryAccess/Write"] }, { system: "client-server", focus: ["MemoryAccess"] }],
    edits: [
      { layer: "spec", file: "machine/mmu.ts", search: "kind === \"Write\" ? rights === \"ReadWrite\"", replace: "kind === \"Write\" ? rights !== \"KernelOnly\"" },
      { layer: "impl", file: "machine/mmu.ts", search: "kind === \"Write\" ? ap === 3", replace: "kind === \"Write\" ? ap >= 2" },
    ],
  },
  {
    name: "sec-poll-without-read",
    breaks: "receiving on a notification needs Read: this kernel checks it only for a blocking wait, so a non-blocking poll reads (and clears) a word the caller may only signal",
    securityCheck: "nonleakage",
    aim: [{ system: "pipe" }, { system: "pipe", focus: ["NBRecv"] }],
    edits: [
      { layer: "spec", file: "api/syscall.ts", search: "if (!hasRight(cap.rights, RightR) || (bound !== null && bound !== t)) return fault(missing, \"NotificationCap\")", replace: "if ((!hasRight(cap.rights, RightR) && isBlocking) || (bound !== null && bound !== t)) return fault(missing, \"NotificationCap\")" },
      { layer: "impl", file: "api/syscall.ts", search: "if ((cap.rights & RightR) === 0 || (bound !== null && bound !== thread)) break", replace: "if (((cap.rights & RightR) === 0 && isBlocking) || (bound !== null && bound !== thread)) break" },
    ],
  },
  {
    name: "sec-choose-thread-any-domain-priority",
    breaks: "chooseThread looks for the highest ready priority in the current domain: this kernel takes it over every domain, so a higher-priority thread of another domain makes the current domain idle",
    securityCheck: "nonleakage",
    aim: [{ system: "isolated" }, { system: "pipe" }],
    edits: [
      {
        layer: "spec", file: "kernel/thread.ts",
        search: "  const prio = highestPrio(s, dom)\n  if (prio < 0) return updateState(s, { curThread: s.idleThread })\n  const head = s.readyQueues.get(readyQueueIndex(dom, prio))?.[0]\n  if (head === undefined) throw new KernelBug(\"chooseThread: non-empty queue has no head\")",
        replace: "  const prio = Math.max(...Array.from({ length: s.numDomains }, (_, d) => highestPrio(s, d)))\n  if (prio < 0) return updateState(s, { curThread: s.idleThread })\n  const head = s.readyQueues.get(readyQueueIndex(dom, prio))?.[0]\n  if (head === undefined) return updateState(s, { curThread: s.idleThread })",
      },
      {
        layer: "impl", file: "kernel/thread.ts",
        search: "  if (k.readyQueuesL1Bitmap[dom] !== 0) {\n    const prio = getHighestPrio(k, dom)\n    const thread = k.readyQueueHead[readyQueuesIndex(dom, prio)] ?? null\n    if (thread === null) throw new KernelBug(\"chooseThread: non-empty queue has no head\")",
        replace: "  let prio = -1\n  for (let d = 0; d < k.numDomains; d++) if (k.readyQueuesL1Bitmap[d] !== 0) prio = Math.max(prio, getHighestPrio(k, d))\n  const ready = prio < 0 ? null : k.readyQueueHead[readyQueuesIndex(dom, prio)] ?? null\n  if (ready !== null) {\n    const thread = ready",
      },
    ],
  },
  {
    name: "sec-domain-time-inherits-slice",
    breaks: "a domain's time is its schedule entry's length: this kernel carries the outgoing thread's unused time slice over into it (a saturating add), so one domain's threads shift the others' schedule",
    securityCheck: "nonleakage",
    aim: [{ system: "isolated", focus: ["TimerTick"] }, { system: "pipe", focus: ["TimerTick"] }],
    edits: [
      { layer: "spec", file: "kernel/thread.ts", search: "return updateState(s, { domainIndex: index, curDomain: e.domain, domainTime: e.duration, workUnitsCompleted: 0 })", replace: "const carried = e.duration + BigInt(getTcb(s, s.curThread).tcbTimeSlice)\n  return updateState(s, { domainIndex: index, curDomain: e.domain, domainTime: carried < 1n << 56n ? carried : e.duration, workUnitsCompleted: 0 })" },
      { layer: "impl", file: "kernel/thread.ts", search: "  k.domainTime = dscheduleDuration(sched)\n", replace: "  const carried = dscheduleDuration(sched) + BigInt(k.curThread.tcbTimeSlice)\n  k.domainTime = carried < 1n << 56n ? carried : dscheduleDuration(sched)\n" },
    ],
  },
]
