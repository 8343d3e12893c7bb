/**
 * Generic operations on capabilities: regions, identity, rights masking, cap data updates,
 * derivation and revocability (seL4 src/object/objecttype.c, A/CSpace_A; ARM arch parts from
 * src/arch/arm/32/object/objecttype.c).
 * @category objects
 */
import { match } from "ts-pattern"
import type { Cap, PPtr, Rights, VMRights } from "../../model/index.ts"
import {
  NullCap, RightR, RightW, badgeFromWord, endpointBits, hasRight, notificationBits, pageDirBits, pageTableBits, slotBits, tcbBits, wordBits,
} from "../../model/index.ts"
import type { SyscallError } from "../../model/index.ts"
import type { Result } from "../result.ts"
import { err, ok } from "../result.ts"

/**
 * The physical region a cap names, for caps that name memory (seL4 `cap_get_capIsPhysical`,
 * `cap_get_capPtr`, `cap_get_capSizeBits`); `null` for caps that do not (reply, domain, IRQ).
 */
export const capRegion = (c: Cap): { readonly base: PPtr; readonly sizeBits: number } | null =>
  match(c)
    .with({ tag: "UntypedCap" }, (u) => ({ base: u.ptr, sizeBits: u.sizeBits }))
    .with({ tag: "EndpointCap" }, (e) => ({ base: e.ptr, sizeBits: endpointBits }))
    .with({ tag: "NotificationCap" }, (n) => ({ base: n.ptr, sizeBits: notificationBits }))
    .with({ tag: "CNodeCap" }, (n) => ({ base: n.ptr, sizeBits: n.radix + slotBits }))
    .with({ tag: "ThreadCap" }, (t) => ({ base: t.ptr, sizeBits: tcbBits }))
    .with({ tag: "FrameCap" }, (f) => ({ base: f.ptr, sizeBits: f.sizeBits }))
    .with({ tag: "PageTableCap" }, (p) => ({ base: p.ptr, sizeBits: pageTableBits }))
    .with({ tag: "PageDirectoryCap" }, (p) => ({ base: p.ptr, sizeBits: pageDirBits }))
    .with({ tag: "NullCap" }, { tag: "ReplyCap" }, { tag: "DomainCap" }, { tag: "IRQControlCap" }, { tag: "IRQHandlerCap" }, () => null)
    .exhaustive()

/**
 * Does `b` name the same region as `a`, or a part of it? Decides CDT parenthood together with
 * originality. An untyped covers every physical cap inside it; IRQ control covers IRQ handlers.
 * Mirrors seL4 `sameRegionAs` / `Arch_sameRegionAs`.
 */
export const sameRegionAs = (a: Cap, b: Cap): boolean =>
  match(a)
    .with({ tag: "UntypedCap" }, (u) => {
      const r = capRegion(b)
      if (r === null) return false
      const aTop = u.ptr + 2 ** u.sizeBits - 1
      const bTop = r.base + 2 ** r.sizeBits - 1
      return u.ptr <= r.base && bTop <= aTop
    })
    .with({ tag: "EndpointCap" }, (e) => b.tag === "EndpointCap" && b.ptr === e.ptr)
    .with({ tag: "NotificationCap" }, (n) => b.tag === "NotificationCap" && b.ptr === n.ptr)
    .with({ tag: "CNodeCap" }, (n) => b.tag === "CNodeCap" && b.ptr === n.ptr && b.radix === n.radix)
    .with({ tag: "ThreadCap" }, (t) => b.tag === "ThreadCap" && b.ptr === t.ptr)
    .with({ tag: "ReplyCap" }, (r) => b.tag === "ReplyCap" && b.tcb === r.tcb)
    .with({ tag: "DomainCap" }, () => b.tag === "DomainCap")
    .with({ tag: "IRQControlCap" }, () => b.tag === "IRQControlCap" || b.tag === "IRQHandlerCap")
    .with({ tag: "IRQHandlerCap" }, (h) => b.tag === "IRQHandlerCap" && b.irq === h.irq)
    .with({ tag: "FrameCap" }, (f) => {
      if (b.tag !== "FrameCap") return false
      const aTop = f.ptr + 2 ** f.sizeBits - 1
      const bTop = b.ptr + 2 ** b.sizeBits - 1
      return f.ptr <= b.ptr && aTop >= bTop
    })
    .with({ tag: "PageTableCap" }, (p) => b.tag === "PageTableCap" && b.ptr === p.ptr)
    .with({ tag: "PageDirectoryCap" }, (p) => b.tag === "PageDirectoryCap" && b.ptr === p.ptr)
    .with({ tag: "NullCap" }, () => false)
    .exhaustive()

/**
 * Do `a` and `b` name the same object (so that deleting one of them is not the last reference)?
 * Untyped and IRQ control caps never do. Mirrors seL4 `sameObjectAs` / `Arch_sameObjectAs`.
 */
export const sameObjectAs = (a: Cap, b: Cap): boolean => {
  if (a.tag === "UntypedCap" || a.tag === "IRQControlCap") return false
  if (a.tag === "FrameCap") {
    return b.tag === "FrameCap" && a.ptr === b.ptr && a.sizeBits === b.sizeBits && a.isDevice === b.isDevice
  }
  return sameRegionAs(a, b)
}

/** Mask frame VM rights by cap rights. Mirrors seL4 ARM `maskVMRights` (write-only is not supported). */
export const maskVMRights = (vm: VMRights, r: Rights): VMRights => {
  if (vm === "ReadOnly" && hasRight(r, RightR)) return "ReadOnly"
  if (vm === "ReadWrite" && hasRight(r, RightR)) return hasRight(r, RightW) ? "ReadWrite" : "ReadOnly"
  return "KernelOnly"
}

/**
 * Intersect a cap's rights with `r`; caps without rights are unchanged. Asking for more rights
 * than the cap has silently gives fewer. Mirrors seL4 `maskCapRights`.
 */
export const maskCapRights = (r: Rights, c: Cap): Cap =>
  match(c)
    .with({ tag: "EndpointCap" }, (e) => ({ ...e, rights: e.rights & r }))
    .with({ tag: "NotificationCap" }, (n) => ({ ...n, rights: n.rights & r & (RightR | RightW) }))
    .with({ tag: "ReplyCap" }, (rc) => ({ ...rc, canGrant: rc.canGrant && (r & 4) !== 0 }))
    .with({ tag: "FrameCap" }, (f) => ({ ...f, vmRights: maskVMRights(f.vmRights, r) }))
    .otherwise((x) => x)

/**
 * Apply user cap data: set the badge of an unbadged endpoint/notification cap (Mint only, not
 * when `preserve`), or set a CNode cap's guard. Anything not allowed yields NullCap, which the
 * caller turns into IllegalOperation. Mirrors seL4 `updateCapData` (32-bit seL4_CNode_CapData:
 * guardSize at bits 3..7, guard at bits 8..25).
 */
export const updateCapData = (preserve: boolean, data: number, c: Cap): Cap =>
  match(c)
    .with({ tag: "EndpointCap" }, (e) => (!preserve && e.badge === 0 ? { ...e, badge: badgeFromWord(data) } : NullCap))
    .with({ tag: "NotificationCap" }, (n) => (!preserve && n.badge === 0 ? { ...n, badge: badgeFromWord(data) } : NullCap))
    .with({ tag: "CNodeCap" }, (n) => {
      const guardSize = (data >>> 3) & 0x1f
      if (guardSize + n.radix > wordBits) return NullCap
      const guard = ((data >>> 8) & 0x3ffff) % 2 ** guardSize
      return { ...n, guard, guardSize }
    })
    .otherwise((x) => x)

/**
 * The cap a copy of `c` would hold, or why there can be none: an untyped with children must be
 * revoked first; reply and IRQ control caps cannot be copied (NullCap); frame copies are
 * unmapped; unmapped page tables and directories cannot be copied. Mirrors seL4 `deriveCap`.
 */
export const deriveCap = (hasChildren: boolean, c: Cap): Result<Cap, SyscallError> =>
  match(c)
    .with({ tag: "UntypedCap" }, (u) => (hasChildren ? err({ tag: "RevokeFirst" as const }) : ok<Cap>(u)))
    .with({ tag: "ReplyCap" }, { tag: "IRQControlCap" }, () => ok(NullCap))
    .with({ tag: "FrameCap" }, (f) => ok<Cap>({ ...f, mapped: null }))
    .with({ tag: "PageTableCap" }, (p) => (p.mapped !== null ? ok<Cap>(p) : err({ tag: "IllegalOperation" as const })))
    // kspec departure until ASIDs exist: a page directory derives as if it had one (docs/model-decisions.md).
    .with({ tag: "PageDirectoryCap" }, (p) => ok<Cap>(p))
    .otherwise((x) => ok(x))

/**
 * Is a new cap `n` derived from `src` an original (revocable) cap? Newly badged endpoint and
 * notification caps, IRQ handlers made from IRQ control, and untyped caps are.
 * Mirrors seL4 `isCapRevocable`.
 */
export const isCapRevocable = (n: Cap, src: Cap): boolean =>
  match(n)
    .with({ tag: "EndpointCap" }, (e) => src.tag === "EndpointCap" && e.badge !== src.badge)
    .with({ tag: "NotificationCap" }, (e) => src.tag === "NotificationCap" && e.badge !== src.badge)
    .with({ tag: "IRQHandlerCap" }, () => src.tag === "IRQControlCap")
    .with({ tag: "UntypedCap" }, () => true)
    .otherwise(() => false)

/**
 * Should the slot holding `src` (original or not) become the CDT parent of a new cap `n`?
 * Only an original cap parents, only caps to its own region, and a badged endpoint or
 * notification cap only parents unoriginal copies with its badge. Mirrors l4v `should_be_parent_of`.
 */
export const shouldBeParentOf = (src: Cap, srcOriginal: boolean, n: Cap, nOriginal: boolean): boolean => {
  if (!srcOriginal || !sameRegionAs(src, n)) return false
  if ((src.tag === "EndpointCap" || src.tag === "NotificationCap") && src.badge !== 0) {
    return (n.tag === "EndpointCap" || n.tag === "NotificationCap") && n.badge === src.badge && !nOriginal
  }
  return true
}
