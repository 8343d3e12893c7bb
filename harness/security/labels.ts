/**
 * The labelling half of l4v's PAS (proof/access-control/Types.thy `pasObjectAbs`, `pasASIDAbs`,
 * `pasIRQAbs`, `pasDomainAbs`): a label for every address (so for every object, and for every
 * slot, which lies inside its CNode or TCB), every ASID, every IRQ and every scheduling domain.
 *
 * Labels are given by address regions, as l4v's `pasObjectAbs` is a function on all addresses: an
 * object is labelled by the region holding its address, so the objects a partition retypes from
 * its own untyped get the partition's label. Memory in no region (the kernel's boot objects, the
 * root task's untyped memory) carries the root label. The slots of the IRQ node, one per IRQ, carry
 * their IRQ's label, as l4v's `irq_map_wellformed` asks of its per-IRQ CNodes.
 * @category security
 */
import type { PPtr, SlotPtr } from "../../model/index.ts"
import { asidLowBits, slotBits } from "../../model/index.ts"
import type { KernelState } from "../../spec/index.ts"
import type { Label } from "./policy.ts"

/** Addresses `base` to `base + size - 1` carry `label`. */
export interface Region {
  readonly base: number
  readonly size: number
  readonly label: Label
}

export interface LabellingSpec {
  /** The root task's label: unlabelled memory, ASIDs and IRQs carry it. */
  readonly root: Label
  /** Labelled address regions; they must not overlap. */
  readonly regions: readonly Region[]
  /** Labelled ASIDs (the others carry the root label). */
  readonly asids: ReadonlyMap<number, Label>
  /** Labelled IRQs (the others carry the root label). */
  readonly irqs?: ReadonlyMap<number, Label>
  /** The labels whose threads may run in each domain (l4v `pasDomainAbs`). */
  readonly domains: ReadonlyMap<number, readonly Label[]>
}

/** Labels of addresses, slots, ASIDs, IRQs and domains: l4v's `pasObjectAbs` and friends. */
export class Labelling {
  readonly root: Label
  private readonly bases: number[]
  private readonly ends: number[]
  private readonly labels: Label[]
  readonly asids: ReadonlyMap<number, Label>
  readonly irqs: ReadonlyMap<number, Label>
  readonly domains: ReadonlyMap<number, readonly Label[]>
  readonly regions: readonly Region[]

  constructor(spec: LabellingSpec) {
    this.root = spec.root
    const rs = [...spec.regions].filter((r) => r.size > 0).sort((a, b) => a.base - b.base)
    for (let i = 1; i < rs.length; i++) {
      const a = rs[i - 1]!
      const b = rs[i]!
      if (a.base + a.size > b.base) throw new Error(`labelled regions overlap: ${a.label} at 0x${a.base.toString(16)} and ${b.label} at 0x${b.base.toString(16)}`)
    }
    this.regions = rs
    this.bases = rs.map((r) => r.base)
    this.ends = rs.map((r) => r.base + r.size)
    this.labels = rs.map((r) => r.label)
    this.asids = spec.asids
    this.irqs = spec.irqs ?? new Map()
    this.domains = spec.domains
  }

  /** The index of the region holding `p`, or -1. */
  private regionOf(p: number): number {
    let lo = 0
    let hi = this.bases.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (this.bases[mid]! <= p) lo = mid + 1
      else hi = mid - 1
    }
    return hi >= 0 && p < this.ends[hi]! ? hi : -1
  }

  /** l4v `pasObjectAbs`: the label of the object (or slot, or byte) at address `p`. */
  object(p: PPtr): Label {
    const i = this.regionOf(p)
    return i < 0 ? this.root : this.labels[i]!
  }

  /** Every label carried by some address in `base .. base + size - 1` (an untyped's or a frame's range). */
  range(base: number, size: number): Label[] {
    const out = new Set<Label>()
    let at = base
    const end = base + size
    let i = this.regionOf(base)
    if (i < 0) {
      // Find the first region starting after base.
      i = this.bases.findIndex((b) => b > base)
      if (i < 0) return [this.root]
    }
    for (; i < this.bases.length && this.bases[i]! < end; i++) {
      if (this.bases[i]! > at) out.add(this.root)
      out.add(this.labels[i]!)
      at = Math.max(at, this.ends[i]!)
    }
    if (at < end) out.add(this.root)
    return [...out]
  }

  /** The label of a slot: its CNode's or TCB's, or for an IRQ-node slot, its IRQ's. */
  slot(s: KernelState, slot: SlotPtr): Label {
    const irqNode = s.irqNode
    if (slot >= irqNode && slot < irqNode + s.numIRQs * 2 ** slotBits) return this.irq((slot - irqNode) / 2 ** slotBits)
    return this.object(slot)
  }

  /** l4v `pasASIDAbs`. */
  asid(a: number): Label { return this.asids.get(a) ?? this.root }

  /** Every label among the ASIDs of one pool (high bits `high`), ASID 0 left out. */
  asidPool(high: number): Label[] {
    const lo = high << asidLowBits
    const hi = lo + (1 << asidLowBits)
    const out = new Set<Label>()
    let labelled = 0
    for (const [a, l] of this.asids) if (a >= lo && a < hi && a !== 0) { out.add(l); labelled++ }
    if (labelled < (1 << asidLowBits) - (lo === 0 ? 1 : 0)) out.add(this.root)
    return [...out]
  }

  /** l4v `pasIRQAbs`. */
  irq(i: number): Label { return this.irqs.get(i) ?? this.root }

  /** Every IRQ label (for IRQControl, which controls all IRQs). */
  allIrqs(numIRQs: number): Label[] {
    const out = new Set<Label>()
    for (let i = 0; i < numIRQs; i++) out.add(this.irq(i))
    return [...out]
  }

  /** l4v `pasDomainAbs`: the labels whose threads may run in domain `d`. */
  domain(d: number): readonly Label[] { return this.domains.get(d) ?? [] }

  /** The single label of domain `d` (l4v's `pas_domains_distinct`), or undefined when it has none or several. */
  domainLabel(d: number): Label | undefined {
    const ls = this.domain(d)
    return ls.length === 1 ? ls[0] : undefined
  }

  /** Every label the labelling names. */
  all(): Label[] {
    return [...new Set([this.root, ...this.labels, ...this.asids.values(), ...this.irqs.values(), ...[...this.domains.values()].flat()])].sort()
  }
}
