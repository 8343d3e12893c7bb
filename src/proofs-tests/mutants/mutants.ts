/**
 * Bug-injection mutants: deliberately broken variants of the impl, each a one-place source edit
 * of a named impl file. The self-test builds each mutant as a patched copy of src/impl and
 * asserts the default lockstep suite catches it within a fixed budget. A mutant whose search
 * text no longer occurs in the impl fails the self-test too, so the list cannot silently rot.
 */
export interface Mutant {
  readonly name: string
  /** The seL4 behaviour the mutant breaks, in one line. */
  readonly breaks: string
  /** File under src/impl/. */
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
    search: "if (!preserve && cap.badge === 0) return { ...cap, badge: badgeFromWord(newData) }",
    replace: "if (!preserve) return { ...cap, badge: badgeFromWord(newData) }",
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
    search: "return { ...cap, rights: cap.rights & r & allRights }",
    replace: "return { ...cap, rights: cap.rights }",
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
    search: "    st = ensureEmptySlot(k, destSlot)\n    if (st !== EXCEPTION_NONE) return st\n    st = lookupSourceSlot(k, srcRoot, srcIndex, srcDepth)",
    replace: "    st = lookupSourceSlot(k, srcRoot, srcIndex, srcDepth)",
  },
  {
    name: "reset-keeps-free-index",
    breaks: "a retype of a childless untyped starts over from its base: this one keeps the old free index",
    file: "object/untyped.ts",
    search: "    freeIndex = 0",
    replace: "    freeIndex = cap.freeIndex",
  },
]
