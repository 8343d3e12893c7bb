/**
 * Capabilities, rights and badges (seL4 `cap`, A/Structures_A). Caps are immutable tagged values
 * shared by spec and impl.
 * @category objects
 */
import { badgeBits, tcbCNodeRadix } from "./constants.ts"
import type { PPtr } from "./objects.ts"
import { mask } from "./words.ts"

/**
 * Access rights as seL4's user word encodes them (A/CSpace_A `data_to_rights`):
 * bit 0 Write, bit 1 Read, bit 2 Grant, bit 3 GrantReply.
 */
export type Rights = number
export const RightW = 1
export const RightR = 2
export const RightG = 4
export const RightGR = 8
export const allRights: Rights = 15
export const noRights: Rights = 0
/** Decode a user word to rights: only the low 4 bits count. Mirrors seL4 `rightsFromWord`. */
export const rightsFromWord = (w: number): Rights => w & 15
export const hasRight = (r: Rights, bit: number): boolean => (r & bit) !== 0
export const showRights = (r: Rights): string =>
  (hasRight(r, RightR) ? "R" : "") + (hasRight(r, RightW) ? "W" : "") + (hasRight(r, RightG) ? "G" : "") +
  (hasRight(r, RightGR) ? "g" : "") || "-"

/** Mask a user word to a badge (28 bits on 32-bit platforms). */
export const badgeFromWord = (w: number): number => (w & mask(badgeBits)) >>> 0

/** Virtual-memory rights of a frame cap (seL4 ARM `vm_rights`). */
export type VMRights = "KernelOnly" | "ReadOnly" | "ReadWrite"

/** A mapping of a frame or page table: which address space and where. */
export interface Mapping { readonly asid: number; readonly vaddr: number }

export type Cap =
  | { readonly tag: "NullCap" }
  | { readonly tag: "UntypedCap"; readonly isDevice: boolean; readonly ptr: PPtr; readonly sizeBits: number; readonly freeIndex: number }
  | { readonly tag: "EndpointCap"; readonly ptr: PPtr; readonly badge: number; readonly rights: Rights }
  | { readonly tag: "NotificationCap"; readonly ptr: PPtr; readonly badge: number; readonly rights: Rights }
  | { readonly tag: "ReplyCap"; readonly tcb: PPtr; readonly isMaster: boolean; readonly canGrant: boolean }
  | { readonly tag: "CNodeCap"; readonly ptr: PPtr; readonly radix: number; readonly guardSize: number; readonly guard: number }
  | { readonly tag: "ThreadCap"; readonly ptr: PPtr }
  | { readonly tag: "DomainCap" }
  | { readonly tag: "IRQControlCap" }
  | { readonly tag: "IRQHandlerCap"; readonly irq: number }
  | { readonly tag: "FrameCap"; readonly ptr: PPtr; readonly sizeBits: number; readonly vmRights: VMRights; readonly isDevice: boolean; readonly mapped: Mapping | null }
  | { readonly tag: "PageTableCap"; readonly ptr: PPtr; readonly mapped: Mapping | null }
  | { readonly tag: "PageDirectoryCap"; readonly ptr: PPtr; readonly asid: number | null }
  | { readonly tag: "ASIDControlCap" }
  | { readonly tag: "ASIDPoolCap"; readonly ptr: PPtr; readonly asidBase: number }
  /**
   * What is left of the last cap to a CNode or TCB while its slots are deleted (seL4 `cap_zombie_cap`,
   * l4v `Zombie`): `ptr` is the first slot of the table being emptied (C `capZombiePtr`: the CNode, or
   * the TCB's slot 0), `zombieType` its size (C `capZombieType`: a CNode's radix, or `zombieTypeTCB`),
   * `number` how many of its slots, from slot 0 up, are still to be deleted (C `capZombieNumber`).
   */
  | { readonly tag: "ZombieCap"; readonly ptr: PPtr; readonly zombieType: number; readonly number: number }

export type CapTag = Cap["tag"]
export const capTags: readonly CapTag[] = [
  "NullCap", "UntypedCap", "EndpointCap", "NotificationCap", "ReplyCap", "CNodeCap", "ThreadCap", "DomainCap",
  "IRQControlCap", "IRQHandlerCap", "FrameCap", "PageTableCap", "PageDirectoryCap", "ASIDControlCap", "ASIDPoolCap", "ZombieCap",
]

/** The Zombie type of a TCB's slots (C `ZombieType_ZombieTCB` = BIT(wordRadix) on 32-bit); a CNode's is its radix. */
export const zombieTypeTCB = 32

/** How many slots a Zombie's table has, as a radix (C `cap_zombie_cap_get_capZombieBits`: 4 for a TCB's 5 slots). */
export const zombieBits = (c: { readonly zombieType: number }): number => (c.zombieType === zombieTypeTCB ? tcbCNodeRadix : c.zombieType)

export const NullCap: Cap = { tag: "NullCap" }

/** Is this an architecture (virtual memory) cap? Mirrors seL4 `isArchCap`. */
export const isArchCap = (c: Cap): boolean =>
  c.tag === "FrameCap" || c.tag === "PageTableCap" || c.tag === "PageDirectoryCap" || c.tag === "ASIDControlCap" ||
  c.tag === "ASIDPoolCap"

const showMapping = (m: Mapping | null): string => (m === null ? "" : `, mapped asid=${m.asid} at 0x${m.vaddr.toString(16)}`)

/** Readable one-line rendering of a cap, used in traces. */
export const showCap = (c: Cap): string => {
  const h = (x: number) => `0x${x.toString(16)}`
  switch (c.tag) {
    case "NullCap": return "Null"
    case "UntypedCap": return `Untyped(${h(c.ptr)}, ${c.sizeBits}b, free=${c.freeIndex}${c.isDevice ? ", device" : ""})`
    case "EndpointCap": return `Endpoint(${h(c.ptr)}, badge=${c.badge}, ${showRights(c.rights)})`
    case "NotificationCap": return `Notification(${h(c.ptr)}, badge=${c.badge}, ${showRights(c.rights)})`
    case "ReplyCap": return `Reply(tcb=${h(c.tcb)}${c.isMaster ? ", master" : ""}${c.canGrant ? ", G" : ""})`
    case "CNodeCap": return `CNode(${h(c.ptr)}, radix=${c.radix}, guard=${c.guard}/${c.guardSize})`
    case "ThreadCap": return `Thread(${h(c.ptr)})`
    case "DomainCap": return "Domain"
    case "IRQControlCap": return "IRQControl"
    case "IRQHandlerCap": return `IRQHandler(${c.irq})`
    case "FrameCap": return `Frame(${h(c.ptr)}, ${c.sizeBits}b, ${c.vmRights}${c.isDevice ? ", device" : ""}${showMapping(c.mapped)})`
    case "PageTableCap": return `PageTable(${h(c.ptr)}${showMapping(c.mapped)})`
    case "PageDirectoryCap": return `PageDirectory(${h(c.ptr)}${c.asid === null ? "" : `, asid=${c.asid}`})`
    case "ASIDControlCap": return "ASIDControl"
    case "ASIDPoolCap": return `ASIDPool(${h(c.ptr)}, base=${c.asidBase})`
    case "ZombieCap": return `Zombie(${h(c.ptr)}, ${c.zombieType === zombieTypeTCB ? "TCB" : `radix=${c.zombieType}`}, ${c.number} left)`
  }
}
