/**
 * The address-space invariants (l4v proof/invariant-abstract/ARM/ArchInvariants_AI.thy):
 * the ASID table and pools, the global page directory and the kernel window every directory
 * copies, what the reachable tables may point to, what a table entry may look like, and how the
 * VSpace caps agree with the entries they describe (`valid_arch_caps`).
 *
 * "Reachable" is l4v's `vs_lookup`: from the ASID table to a pool, from a pool entry to a page
 * directory, from a directory's entry below the kernel window to a page table. Tables that are no
 * longer reachable (their directory lost its ASID, their pool was deleted) may hold stale entries,
 * as in seL4: nothing reads them until they are reachable again, which only a fresh (empty) table
 * can be.
 * @category invariants
 */
import type { Cap, PDE, PPtr, PTE } from "../../model/index.ts"
import {
  asidBits, asidLow, asidLowBits, bit, isAligned, kernelBase, largePageBits, pageBits, pagesPerLargePage, pdIndexBits,
  pdIndexOf, ptIndexBits, sectionBits, sectionsPerSuperSection, showCap, showPDE, showPTE, superSectionBits,
} from "../../model/index.ts"
import type { KObject, KernelState } from "../state.ts"
import { hex, showSlot } from "./internal.ts"
import type { StateDelta } from "./delta.ts"
import type { IncrementalScope } from "./types.ts"
import { changedCapWhere } from "./mdb.ts"
import { defineInvariant, everything, nothingChanged, oncePerChange } from "./types.ts"

/** Cap kinds that record or grant address-space structure. */
const vspaceCaps: ReadonlySet<string> = new Set(["FrameCap", "PageTableCap", "PageDirectoryCap", "ASIDPoolCap", "ASIDControlCap"])
/** Object kinds of the address-space structure (frames count only by their existence, size and kind). */
const vspaceObjects: ReadonlySet<string> = new Set(["ASIDPool", "PageDirectory", "PageTable"])

/**
 * Did the step touch what the address-space invariants read: the ASID table, an ASID pool, page
 * directory or page table, a frame's existence or size, or a slot holding a VSpace cap (before or
 * after)? A step that touched none of these leaves every one of them as it was. (A frame whose
 * words alone changed, an IPC buffer written, does not count.)
 */
const vspaceTouched = (s: KernelState, prev: KernelState, d: StateDelta): boolean => {
  if (s.armASIDTable !== prev.armASIDTable) return true
  for (const p of d.objects) {
    const a = prev.kheap.get(p)
    const b = s.kheap.get(p)
    if ((a !== undefined && vspaceObjects.has(a.tag)) || (b !== undefined && vspaceObjects.has(b.tag))) return true
    if (a?.tag === "Frame" || b?.tag === "Frame") {
      if (a?.tag !== "Frame" || b?.tag !== "Frame" || a.sizeBits !== b.sizeBits || a.isDevice !== b.isDevice) return true
    }
  }
  return changedCapWhere(s, prev, d, (t) => vspaceCaps.has(t))
}
const vspaceScope = oncePerChange((s: KernelState, prev: KernelState, d: StateDelta): IncrementalScope => (vspaceTouched(s, prev, d) ? everything : nothingChanged))

const kernelFirst = pdIndexOf(kernelBase)
const pdSize = bit(pdIndexBits)

type PD = Extract<KObject, { tag: "PageDirectory" }>

/** The virtual address of PD entry `i` and PT entry `j` of it. */
const vaddrOf = (i: number, j = 0): number => (i * bit(sectionBits) + j * bit(pageBits)) >>> 0

/** A reachable page directory: the ASID that names it. */
interface ReachablePD { readonly asid: number; readonly pd: PPtr; readonly obj: PD }

/**
 * l4v `vs_lookup`, as kspec walks it (the directories it reaches): every page directory an ASID
 * pool names, with its ASID, through every pool the ASID table names. Objects of the wrong type
 * are left out (valid_vspace_objs and valid_asid_table report them).
 */
const reachableCache = new WeakMap<KernelState, ReachablePD[]>()
const reachable = (s: KernelState): ReachablePD[] => {
  const cached = reachableCache.get(s)
  if (cached !== undefined) return cached
  const r = walkReachable(s)
  reachableCache.set(s, r)
  return r
}
const walkReachable = (s: KernelState): ReachablePD[] => {
  const pds: ReachablePD[] = []
  for (const [hi, poolPtr] of s.armASIDTable) {
    const pool = s.kheap.get(poolPtr)
    if (pool?.tag !== "ASIDPool") continue
    for (const [lo, pdPtr] of pool.pool) {
      const pd = s.kheap.get(pdPtr)
      if (pd?.tag !== "PageDirectory") continue
      pds.push({ asid: (hi << asidLowBits) + lo, pd: pdPtr, obj: pd })
    }
  }
  return pds
}

const isFrameOf = (o: KObject | undefined, sizeBits: number): boolean => o?.tag === "Frame" && o.sizeBits === sizeBits

/**
 * Every object reachable from the ASID table is valid: a pool names page directories; a
 * reachable directory's entries below the kernel window name a page table, or a frame of the
 * entry's size (1 MiB for a section, 16 MiB for a super section); a reachable page table's entries
 * name frames of 4 KiB or 64 KiB. No mapping dangles.
 *
 * Why: user memory accesses and the frame invocations follow these entries without checking; an
 * entry to a deleted frame would give a thread memory it has no cap to.
 *
 * Mirrors: l4v ArchInvariants_AI `valid_vspace_objs` (`valid_vspace_obj`, `valid_pde`, `valid_pte`).
 */
export const validVSpaceObjs = defineInvariant({
  name: "valid_vspace_objs",
  statement:
    "Every object reachable from the ASID table is valid: pools name page directories; a reachable directory's entries " +
    "below the kernel window name a page table or a frame of the entry's size; a reachable page table's entries name " +
    "frames of the entry's size.",
  mirrors: "l4v ArchInvariants_AI valid_vspace_objs (valid_vspace_obj, valid_pde, valid_pte)",
  threatenedBy: ["ARM_Page_Map", "ARM_PageTable_Map", "ARM_ASIDPool_Assign", "cteDelete", "CNode_Revoke", "Untyped_Retype", "finaliseCap"],
  // In full, after a step that touched the address spaces (vspaceTouched); else it holds as before.
  scope: vspaceScope,
  find: (s, report) => {
    for (const [hi, poolPtr] of s.armASIDTable) {
      const pool = s.kheap.get(poolPtr)
      if (pool?.tag !== "ASIDPool") continue
      for (const [lo, pd] of pool.pool) {
        const o = s.kheap.get(pd)
        if (o?.tag !== "PageDirectory") report(`ASID ${(hi << asidLowBits) + lo} names ${hex(pd)}, which is ${o === undefined ? "no object" : `a ${o.tag}`}, not a PageDirectory`)
      }
    }
    const pds = reachable(s)
    for (const { asid, pd, obj } of pds) {
      for (const [i, e] of obj.pdes) {
        const at = `page directory ${hex(pd)} (ASID ${asid}) entry ${i} (${hex(vaddrOf(i))}) is ${showPDE(e)}`
        switch (e.tag) {
          case "PageTablePDE": {
            const t = s.kheap.get(e.table)
            if (t?.tag !== "PageTable") { report(`${at}, but ${hex(e.table)} is no PageTable`); break }
            for (const [j, p] of t.ptes) {
              if (p.tag === "InvalidPTE") continue
              const want = p.tag === "SmallPagePTE" ? pageBits : largePageBits
              if (!isFrameOf(s.kheap.get(p.frame), want)) report(`page table ${hex(e.table)} entry ${j} (${hex(vaddrOf(i, j))}, ASID ${asid}) is ${showPTE(p)}, but no frame of ${want} bits is there`)
            }
            break
          }
          case "SectionPDE": case "SuperSectionPDE": {
            const want = e.tag === "SectionPDE" ? sectionBits : superSectionBits
            if (!isFrameOf(s.kheap.get(e.frame), want)) report(`${at}, but no frame of ${want} bits is there`)
            break
          }
          case "InvalidPDE": break
        }
      }
    }
  },
})

/** What is wrong with an entry on its own (rights, attribute bits, alignment), or null. */
const pdeProblem = (e: PDE): string | null => {
  switch (e.tag) {
    case "InvalidPDE": return "an explicit InvalidPDE (absent entries are invalid)"
    case "PageTablePDE":
      if ((e.attr & ~2) !== 0) return `attributes ${e.attr} beyond ParityEnabled`
      return isAligned(e.table, ptIndexBits + 2) ? null : `page table ${hex(e.table)} not 1 KiB-aligned`
    case "SectionPDE": case "SuperSectionPDE": {
      const bits = e.tag === "SectionPDE" ? sectionBits : superSectionBits
      if ((e.attr & ~7) !== 0) return `attributes ${e.attr} beyond the three VM attribute bits`
      return isAligned(e.frame, bits) ? null : `frame ${hex(e.frame)} not aligned to 2^${bits}`
    }
  }
}
const pteProblem = (e: PTE): string | null => {
  switch (e.tag) {
    case "InvalidPTE": return "an explicit InvalidPTE (absent entries are invalid)"
    case "SmallPagePTE": case "LargePagePTE": {
      const bits = e.tag === "SmallPagePTE" ? pageBits : largePageBits
      if ((e.attr & ~5) !== 0) return `attributes ${e.attr} beyond PageCacheable and ExecuteNever (no parity in a PTE)`
      return isAligned(e.frame, bits) ? null : `frame ${hex(e.frame)} not aligned to 2^${bits}`
    }
  }
}

/** Two entries alike, field by field. */
const sameEntry = (a: PDE | PTE | undefined, b: PDE | PTE | undefined): boolean => {
  if (a === b) return true
  if (a === undefined || b === undefined || a.tag !== b.tag) return false
  const x = a as { frame?: number; table?: number; attr?: number; rights?: string }
  const y = b as { frame?: number; table?: number; attr?: number; rights?: string }
  return x.frame === y.frame && x.table === y.table && x.attr === y.attr && x.rights === y.rights
}

/** What is wrong with the entries of a directory map meant to hold indices lo..hi-1 (messages start with the entry). */
const pdeMapProblems = (m: ReadonlyMap<number, PDE>, lo: number, hi: number): string[] => {
  const out: string[] = []
  for (const [i, e] of m) {
    if (!Number.isInteger(i) || i < lo || i >= hi) { out.push(`has an entry at index ${i}, outside ${lo}..${hi - 1}`); continue }
    const why = pdeProblem(e)
    if (why !== null) out.push(`entry ${i} is ${showPDE(e)}: ${why}`)
    if (e.tag === "SuperSectionPDE" && i % sectionsPerSuperSection === 0) {
      for (let j = 1; j < sectionsPerSuperSection; j++) {
        if (!sameEntry(m.get(i + j), e)) out.push(`has a super section at entry ${i} that is not repeated at entry ${i + j}`)
      }
    } else if (e.tag === "SuperSectionPDE" && !sameEntry(m.get(i - (i % sectionsPerSuperSection)), e)) {
      out.push(`entry ${i} is part of a super section that does not start at entry ${i - (i % sectionsPerSuperSection)}`)
    }
  }
  return out
}

/** `pdeMapProblems` of a kernel window, kept per map: the maps are immutable and one window is shared by every directory. */
const windowProblems = new WeakMap<object, string[]>()
const kernelWindowProblems = (m: ReadonlyMap<number, PDE>): readonly string[] => {
  let r = windowProblems.get(m)
  if (r === undefined) { r = pdeMapProblems(m, kernelFirst, pdSize); windowProblems.set(m, r) }
  return r
}

/**
 * Every page-directory and page-table entry is well formed: rights are one of the three VM
 * rights, attributes are ones the entry can hold (a PTE has no parity bit, a page-table PDE only
 * parity), frames and tables are aligned to their size, indices are in range; a large page fills
 * 16 identical entries from a 16-aligned index of its page table, a super section 16 identical
 * entries from a 16-aligned index of its directory.
 *
 * Why: the hardware reads the 16 copies independently, and unmapping clears 16 from the first;
 * an entry off its alignment would leave a copy mapped after the unmap.
 *
 * Mirrors: l4v ArchInvariants_AI `wellformed_vspace_obj` (`wellformed_pde`, `wellformed_pte`, in
 * `valid_objs`); the 16 copies are seL4's C layout (l4v's abstract spec keeps one "master" entry).
 */
export const wellformedVSpaceObj = defineInvariant({
  name: "valid_objs.wellformed_vspace_obj",
  statement:
    "Every PDE and PTE is well formed (valid rights, attributes the entry can hold, an aligned target, an index in range), " +
    "and large pages and super sections are 16 identical entries from a 16-aligned index.",
  mirrors: "l4v ArchInvariants_AI wellformed_vspace_obj (wellformed_pde, wellformed_pte); the 16 copies are seL4's C",
  threatenedBy: ["ARM_Page_Map", "ARM_PageTable_Map", "ARM_Page_Unmap", "unmapPage", "Untyped_Retype"],
  // Per object: only a changed table can break it.
  eachObject: (s, p, o, report) => {
    if (o.tag === "PageDirectory") {
      for (const why of pdeMapProblems(o.pdes, 0, kernelFirst)) report(`page directory ${hex(p)} ${why}`)
      // A kernel window shared with the global directory is checked with it.
      const g = s.kheap.get(s.armGlobalPD)
      const shared = g?.tag === "PageDirectory" ? g.kernelPDEs : undefined
      if (o.kernelPDEs !== shared || p === s.armGlobalPD) for (const why of kernelWindowProblems(o.kernelPDEs)) report(`page directory ${hex(p)} ${why}`)
    } else if (o.tag === "PageTable") {
      for (const [i, e] of o.ptes) {
        if (!Number.isInteger(i) || i < 0 || i >= bit(ptIndexBits)) { report(`page table ${hex(p)} has an entry at index ${i}`); continue }
        const why = pteProblem(e)
        if (why !== null) report(`page table ${hex(p)} entry ${i} is ${showPTE(e)}: ${why}`)
        if (e.tag === "LargePagePTE" && i % pagesPerLargePage === 0) {
          for (let j = 1; j < pagesPerLargePage; j++) {
            if (!sameEntry(o.ptes.get(i + j), e)) report(`page table ${hex(p)}: the large page at entry ${i} is not repeated at entry ${i + j}`)
          }
        } else if (e.tag === "LargePagePTE" && !sameEntry(o.ptes.get(i - (i % pagesPerLargePage)), e)) {
          report(`page table ${hex(p)} entry ${i} is part of a large page that does not start at entry ${i - (i % pagesPerLargePage)}`)
        }
      }
    }
  },
})

/**
 * The ASID table names ASID pools, each under one index only.
 *
 * Why: an ASID's high bits pick its pool; two indices naming one pool would give two ASIDs one
 * slot of it.
 *
 * Mirrors: l4v ArchInvariants_AI `valid_asid_table` (in `valid_arch_state`).
 */
export const validASIDTable = defineInvariant({
  name: "valid_arch_state.valid_asid_table",
  statement: "Every ASID-table entry (index < 128) names an ASID pool, and no pool is named twice.",
  mirrors: "l4v ArchInvariants_AI valid_asid_table (valid_arch_state)",
  threatenedBy: ["ARM_ASIDControl_MakePool", "deleteASIDPool", "CNode_Revoke", "Untyped_Retype"],
  // In full, after a step that touched the address spaces (vspaceTouched); else it holds as before.
  scope: vspaceScope,
  find: (s, report) => {
    const seen = new Map<PPtr, number>()
    for (const [hi, p] of s.armASIDTable) {
      if (!Number.isInteger(hi) || hi < 0 || hi >= bit(asidBits - asidLowBits)) report(`ASID table index ${hi} is out of range`)
      const o = s.kheap.get(p)
      if (o?.tag !== "ASIDPool") report(`ASID table entry ${hi} names ${hex(p)}, which is ${o === undefined ? "no object" : `a ${o.tag}`}, not an ASIDPool`)
      const other = seen.get(p)
      if (other !== undefined) report(`ASID pool ${hex(p)} is named by ASID table entries ${other} and ${hi}`)
      seen.set(p, hi)
    }
  },
})

/**
 * The ASIDs in the pools are proper: ASID 0 is never given out, every pool index is one of its
 * 1024, and a page directory has at most one ASID (`vspace_at_asid` names one directory per ASID
 * and one ASID per directory).
 *
 * Why: a thread's VSpace root is found by its ASID; two ASIDs for one directory would let one
 * survive the other's deletion.
 *
 * Mirrors: l4v ArchInvariants_AI `valid_asid_map` and `vspace_at_asid`, read over the pools (kspec
 * keeps no hardware ASIDs, so l4v's `arm_asid_map` has no counterpart).
 */
export const validASIDMap = defineInvariant({
  name: "valid_asid_map",
  statement: "No pool gives out ASID 0, pool indices are below 1024, and no page directory has two ASIDs.",
  mirrors: "l4v ArchInvariants_AI valid_asid_map, vspace_at_asid (over the pools: kspec has no hardware ASIDs)",
  threatenedBy: ["ARM_ASIDPool_Assign", "deleteASID", "deleteASIDPool"],
  // In full, after a step that touched the address spaces (vspaceTouched); else it holds as before.
  scope: vspaceScope,
  find: (s, report) => {
    const owner = new Map<PPtr, number>()
    for (const [hi, poolPtr] of s.armASIDTable) {
      const pool = s.kheap.get(poolPtr)
      if (pool?.tag !== "ASIDPool") continue
      for (const [lo, pd] of pool.pool) {
        const asid = (hi << asidLowBits) + lo
        if (!Number.isInteger(lo) || lo < 0 || lo >= bit(asidLowBits)) report(`ASID pool ${hex(poolPtr)} has an entry at index ${lo}`)
        if (asid === 0) report(`ASID 0 names page directory ${hex(pd)}: ASID 0 is never given out`)
        const other = owner.get(pd)
        if (other !== undefined) report(`page directory ${hex(pd)} has two ASIDs, ${other} and ${asid}`)
        owner.set(pd, asid)
      }
    }
  },
})

/** What is wrong with the global directory's kernel window, kept per (immutable) map and global page table. */
const globalProblems = new WeakMap<object, { pt: PPtr; out: string[] }>()
const globalWindowProblems = (m: ReadonlyMap<number, PDE>, globalPT: PPtr): readonly string[] => {
  const kept = globalProblems.get(m)
  if (kept !== undefined && kept.pt === globalPT) return kept.out
  const out: string[] = []
  for (const [i, e] of m) {
    const at = `global page directory entry ${i} (${hex(vaddrOf(i))}) is ${showPDE(e)}`
    if (e.tag === "PageTablePDE" && e.table !== globalPT) out.push(`${at}: its only page table is the global one ${hex(globalPT)}`)
    else if ((e.tag === "SectionPDE" || e.tag === "SuperSectionPDE") && (e.rights !== "KernelOnly" || pdeProblem(e) !== null)) out.push(`${at}: kernel mappings are kernel-only and aligned`)
  }
  globalProblems.set(m, { pt: globalPT, out })
  return out
}

/**
 * The global page directory is a page directory holding nothing below the kernel window and, in
 * it, kernel-only sections and super sections (aligned) and page-table entries to the global page
 * table only; the global page table is a page table of kernel-only, aligned small pages. Neither
 * is ever a user's: the ASID table names no pool holding the global directory.
 *
 * Why: every address space shares these entries; a user entry in them would appear in all.
 *
 * Mirrors: l4v ArchInvariants_AI `valid_global_objs` (with `empty_table` of the global PD, and
 * `valid_global_pts`).
 */
export const validGlobalObjs = defineInvariant({
  name: "valid_global_objs",
  statement:
    "The global page directory has no entry below the kernel window; its kernel-window entries are kernel-only aligned " +
    "(super) sections or the global page table; the global page table holds kernel-only aligned small pages; no ASID names " +
    "the global directory.",
  mirrors: "l4v ArchInvariants_AI valid_global_objs, valid_global_pts",
  threatenedBy: ["Untyped_Retype", "ARM_ASIDPool_Assign", "ARM_Page_Map"],
  // In full, after a step that touched the address spaces (vspaceTouched); else it holds as before.
  scope: vspaceScope,
  find: (s, report) => {
    const g = s.kheap.get(s.armGlobalPD)
    if (g?.tag !== "PageDirectory") { report(`the global page directory ${hex(s.armGlobalPD)} is ${g === undefined ? "no object" : `a ${g.tag}`}`); return }
    for (const [i, e] of g.pdes) report(`global page directory entry ${i} (${hex(vaddrOf(i))}) is ${showPDE(e)}: nothing may be mapped below the kernel window`)
    for (const why of globalWindowProblems(g.kernelPDEs, s.armGlobalPT)) report(why)
    const t = s.kheap.get(s.armGlobalPT)
    if (t?.tag !== "PageTable") report(`the global page table ${hex(s.armGlobalPT)} is ${t === undefined ? "no object" : `a ${t.tag}`}`)
    else for (const [j, e] of t.ptes) if (e.tag !== "SmallPagePTE" || e.rights !== "KernelOnly" || pteProblem(e) !== null) report(`global page table entry ${j} is ${showPTE(e)}: kernel mappings are kernel-only aligned small pages`)
    for (const poolPtr of s.armASIDTable.values()) {
      const pool = s.kheap.get(poolPtr)
      if (pool?.tag === "ASIDPool") for (const [lo, pd] of pool.pool) if (pd === s.armGlobalPD) report(`ASID pool ${hex(poolPtr)} entry ${lo} names the global page directory`)
    }
  },
})

/**
 * Every page directory has the global page directory's kernel-window entries (from index 0xe00,
 * the kernel base 0xe0000000, up): all the same, none missing, none extra.
 *
 * Why: the kernel runs in whatever address space is current; its window must be mapped in each.
 *
 * Mirrors: l4v ArchInvariants_AI `equal_kernel_mappings`.
 */
export const equalKernelMappings = defineInvariant({
  name: "equal_kernel_mappings",
  statement: "Every page directory's entries from the kernel window up (index 0xe00..0xfff) equal the global page directory's.",
  mirrors: "l4v ArchInvariants_AI equal_kernel_mappings",
  threatenedBy: ["Untyped_Retype (copyGlobalMappings)", "ARM_Page_Map", "ARM_PageTable_Map"],
  // Per directory: a changed directory against the global one; every directory when the global one changed.
  scope: (s, _prev, d) => (d.objects.has(s.armGlobalPD) ? everything : { objects: d.objects }),
  find: (s, report) => {
    const g = s.kheap.get(s.armGlobalPD)
    if (g?.tag !== "PageDirectory") return
    for (const [p, o] of s.kheap) {
      if (o.tag !== "PageDirectory" || o.kernelPDEs === g.kernelPDEs || p === s.armGlobalPD) continue
      for (let i = kernelFirst; i < pdSize; i++) {
        const a = o.kernelPDEs.get(i)
        const b = g.kernelPDEs.get(i)
        if (!sameEntry(a, b)) {
          report(`page directory ${hex(p)} entry ${i} is ${a === undefined ? "Invalid" : showPDE(a)}, the global one ${b === undefined ? "Invalid" : showPDE(b)}`)
          break
        }
      }
      if (o.kernelPDEs.size !== g.kernelPDEs.size) report(`page directory ${hex(p)} has ${o.kernelPDEs.size} kernel-window entries, the global one ${g.kernelPDEs.size}`)
    }
  },
})

/** The mapping a VSpace cap describes, as l4v's `vs_cap_ref` reads it: (ASID, PD index, PT index?). */
const capRef = (c: Cap): string | null => {
  switch (c.tag) {
    case "ASIDPoolCap": return `pool ${c.asidBase >>> asidLowBits}`
    case "PageDirectoryCap": return c.asid === null ? null : `asid ${c.asid}`
    case "PageTableCap": return c.mapped === null ? null : `asid ${c.mapped.asid} pd ${pdIndexOf(c.mapped.vaddr)}`
    case "FrameCap": {
      if (c.mapped === null) return null
      const { asid, vaddr } = c.mapped
      return c.sizeBits === pageBits || c.sizeBits === largePageBits
        ? `asid ${asid} pd ${pdIndexOf(vaddr)} pt ${(vaddr >>> pageBits) & 0xff} size ${c.sizeBits}`
        : `asid ${asid} pd ${pdIndexOf(vaddr)} size ${c.sizeBits}`
    }
    default: return null
  }
}

/**
 * Every reachable mapping is described by a cap (l4v `valid_vs_lookup`): a pool in the ASID table
 * by an ASID-pool cap for its index; a directory in a pool by a page-directory cap with that ASID;
 * a page table in a reachable directory by a page-table cap recording (ASID, region); a frame in a
 * reachable table by a frame cap recording (ASID, address) with the frame's size. Caps may be
 * stale (a frame mapped over keeps its cap's record), entries may not: a mapping without a cap
 * could never be taken down.
 *
 * Mirrors: l4v ArchInvariants_AI `valid_vs_lookup` (in `valid_arch_caps`).
 */
export const validVsLookup = defineInvariant({
  name: "valid_arch_caps.valid_vs_lookup",
  statement:
    "Every reachable mapping (a pool in the ASID table, a directory in a pool, a page table or frame in a reachable " +
    "directory or table) is described by a cap to that object recording that place (ASID and virtual address).",
  mirrors: "l4v ArchInvariants_AI valid_vs_lookup (valid_arch_caps)",
  threatenedBy: ["cteDelete", "CNode_Move", "CNode_Revoke", "ARM_Page_Map", "ARM_Page_Unmap", "ARM_PageTable_Unmap", "finaliseCap"],
  // In full, after a step that touched the address spaces (vspaceTouched); else it holds as before.
  scope: vspaceScope,
  find: (s, report) => {
    const refs = new Set<string>()
    for (const c of s.caps.values()) {
      const r = capRef(c)
      if (r !== null) refs.add(`${r} -> ${c.tag === "ASIDControlCap" ? "" : (c as { ptr: number }).ptr}`)
    }
    // Each mapping's message is built only when it is missing (building them all cost most of the check).
    const recorded = (ref: string, p: PPtr): boolean => refs.has(`${ref} -> ${p}`)
    const missing = (what: string) => report(`${what}, but no cap records that mapping`)
    for (const [hi, pool] of s.armASIDTable) if (!recorded(`pool ${hi}`, pool)) missing(`ASID table entry ${hi} names pool ${hex(pool)}`)
    const pds = reachable(s)
    for (const { asid, pd, obj } of pds) {
      if (!recorded(`asid ${asid}`, pd)) missing(`ASID ${asid} names page directory ${hex(pd)}`)
      for (const [i, e] of obj.pdes) {
        if (e.tag === "PageTablePDE") {
          if (!recorded(`asid ${asid} pd ${i}`, e.table)) missing(`page directory ${hex(pd)} (ASID ${asid}) installs page table ${hex(e.table)} at ${hex(vaddrOf(i))}`)
          const t = s.kheap.get(e.table)
          if (t?.tag !== "PageTable") continue
          for (const [j, p] of t.ptes) {
            if (p.tag === "InvalidPTE" || (p.tag === "LargePagePTE" && j % pagesPerLargePage !== 0)) continue
            const size = p.tag === "SmallPagePTE" ? pageBits : largePageBits
            if (!recorded(`asid ${asid} pd ${i} pt ${j} size ${size}`, p.frame)) missing(`page table ${hex(e.table)} maps frame ${hex(p.frame)} at ${hex(vaddrOf(i, j))} (ASID ${asid})`)
          }
        } else if (e.tag === "SectionPDE" || (e.tag === "SuperSectionPDE" && i % sectionsPerSuperSection === 0)) {
          const size = e.tag === "SectionPDE" ? sectionBits : superSectionBits
          if (!recorded(`asid ${asid} pd ${i} size ${size}`, e.frame)) missing(`page directory ${hex(pd)} maps frame ${hex(e.frame)} at ${hex(vaddrOf(i))} (ASID ${asid})`)
        }
      }
    }
  },
})

/**
 * A page-directory cap without an ASID, or a page-table cap without a mapping, names an empty
 * table: a directory with nothing below the kernel window, a page table with no entries.
 *
 * Why: assigning an ASID or mapping the table makes every entry in it reachable at once; only an
 * empty table may become reachable, or a stale entry would come back to life.
 *
 * Mirrors: l4v ArchInvariants_AI `valid_table_caps` (in `valid_arch_caps`).
 */
export const validTableCaps = defineInvariant({
  name: "valid_arch_caps.valid_table_caps",
  statement: "A page-directory cap without an ASID names a directory with no entry below the kernel window; a page-table cap with no mapping names a page table with no entries.",
  mirrors: "l4v ArchInvariants_AI valid_table_caps (valid_arch_caps)",
  threatenedBy: ["ARM_PageTable_Unmap", "Untyped_Retype", "ARM_Page_Map", "ARM_PageTable_Map"],
  // In full, after a step that touched the address spaces (vspaceTouched); else it holds as before.
  scope: vspaceScope,
  find: (s, report) => {
    for (const [slot, c] of s.caps) {
      if (c.tag === "PageDirectoryCap" && c.asid === null) {
        const o = s.kheap.get(c.ptr)
        if (o?.tag === "PageDirectory" && o.pdes.size > 0) {
          report(`${showSlot(s, slot)} holds ${showCap(c)} without an ASID, but its directory has entry ${[...o.pdes.keys()][0]} below the kernel window`)
        }
      } else if (c.tag === "PageTableCap" && c.mapped === null) {
        const o = s.kheap.get(c.ptr)
        if (o?.tag === "PageTable" && o.ptes.size > 0) report(`${showSlot(s, slot)} holds ${showCap(c)} with no mapping, but the table has ${o.ptes.size} entries`)
      }
    }
  },
})

/**
 * A page-directory cap without an ASID, or a page-table cap without a mapping, is the only cap to
 * its table.
 *
 * Why: assigning the ASID (mapping the table) updates this one cap; another cap to the same table
 * would keep saying it has none.
 *
 * Mirrors: l4v ArchInvariants_AI `unique_table_caps` (in `valid_arch_caps`).
 */
export const uniqueTableCaps = defineInvariant({
  name: "valid_arch_caps.unique_table_caps",
  statement: "A page-directory cap without an ASID, or a page-table cap with no mapping, is the only cap to its table.",
  mirrors: "l4v ArchInvariants_AI unique_table_caps (valid_arch_caps)",
  threatenedBy: ["CNode_Copy", "CNode_Mint", "deriveCap", "ARM_ASIDPool_Assign", "ARM_PageTable_Map"],
  // In full, after a step that touched the address spaces (vspaceTouched); else it holds as before.
  scope: vspaceScope,
  find: (s, report) => {
    const count = new Map<number | string, number>()
    for (const c of s.caps.values()) {
      if (c.tag === "PageDirectoryCap" || c.tag === "PageTableCap") count.set(tableKey(c), (count.get(tableKey(c)) ?? 0) + 1)
    }
    for (const [slot, c] of s.caps) {
      const unassigned = (c.tag === "PageDirectoryCap" && c.asid === null) || (c.tag === "PageTableCap" && c.mapped === null)
      if (unassigned && (count.get(tableKey(c)) ?? 0) > 1) report(`${showSlot(s, slot)} holds ${showCap(c)}, which is not the only cap to its table`)
    }
  },
})

/**
 * A table cap's object as a key: its address and its kind (a directory, a table or a pool at one
 * address are three objects), a number for any integer address (a string for a stranger one).
 */
const tableKey = (c: Extract<Cap, { tag: "PageDirectoryCap" | "PageTableCap" | "ASIDPoolCap" }>): number | string =>
  Number.isInteger(c.ptr) && Math.abs(c.ptr) < 2 ** 48 ? c.ptr * 4 + (c.tag === "PageDirectoryCap" ? 0 : c.tag === "PageTableCap" ? 1 : 2) : `${c.tag} ${c.ptr}`

/**
 * Caps to one page directory, page table or ASID pool agree on where it sits (the same ASID, the
 * same mapping, the same pool index), and no page table is installed in two entries of reachable
 * directories. (A directory that lost its ASID keeps its entries, stale and unreachable: a table
 * it names may be unmapped, cleared and mapped elsewhere.) Table caps may be stale too: once a
 * directory's ASID is gone, the ASID can name another directory while a table's cap still records it.
 *
 * Why: finalising the last cap takes the table down at the place it records; a second place would
 * be left behind, and one table in two address spaces would share their mappings.
 *
 * Mirrors: l4v ArchInvariants_AI `unique_table_refs` (in `valid_arch_caps`); the single
 * installation follows in l4v from it and `valid_vs_lookup`, and is checked here directly.
 */
export const uniqueTableRefs = defineInvariant({
  name: "valid_arch_caps.unique_table_refs",
  statement: "Caps to one page directory, page table or ASID pool record the same place, and no page table is installed in two entries of reachable directories.",
  mirrors: "l4v ArchInvariants_AI unique_table_refs (valid_arch_caps)",
  threatenedBy: ["ARM_PageTable_Map", "ARM_ASIDPool_Assign", "CNode_Copy"],
  // In full, after a step that touched the address spaces (vspaceTouched); else it holds as before.
  scope: vspaceScope,
  find: (s, report) => {
    const placeOf = new Map<number | string, string>()
    for (const [slot, c] of s.caps) {
      if (c.tag !== "PageDirectoryCap" && c.tag !== "PageTableCap" && c.tag !== "ASIDPoolCap") continue
      const key = tableKey(c)
      const ref = capRef(c) ?? "none"
      const prev = placeOf.get(key)
      if (prev !== undefined && prev !== ref) report(`${showSlot(s, slot)} holds ${showCap(c)} at ${ref}, but another cap to it says ${prev}`)
      placeOf.set(key, ref)
    }
    const installedAt = new Map<PPtr, string>()
    for (const { pd: p, obj: o } of reachable(s)) {
      for (const [i, e] of o.pdes) {
        if (e.tag !== "PageTablePDE") continue
        const here = `${hex(p)} entry ${i}`
        const there = installedAt.get(e.table)
        if (there !== undefined) report(`page table ${hex(e.table)} is installed twice: in ${there} and ${here}`)
        installedAt.set(e.table, here)
      }
    }
  },
})

/** The VSpace invariants, in registry order (`wellformedVSpaceObj` joins valid_objs). */
export const vspaceInvariants = [
  validVSpaceObjs, validASIDTable, validASIDMap, validGlobalObjs, equalKernelMappings,
] as const
export const archCapsInvariants = [validVsLookup, validTableCaps, uniqueTableCaps, uniqueTableRefs] as const
