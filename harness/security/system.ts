/**
 * Labelled systems: a system of partitions described as data (a JSON file, decoded with Effect
 * Schema), built from boot by the root task as capDL's initialiser would build it, labelled, and
 * checked against its policy before any check runs.
 *
 * The build (with `SystemBuilder`, one kernel entry at a time): each partition gets threads with
 * one CNode (its CSpace, slot i is cap pointer i), one page directory with an ASID, a page table
 * and an IPC buffer frame per thread, its domain and priority, and optionally an untyped of its
 * own; its CSpace is laid out as the root task's (slot 1 its first thread, 2 its CNode, 3 its page
 * directory, 10 the first thread's IPC buffer, 16 its page table, 17 its untyped; more threads and
 * their buffers from 18, the caps to shared objects from 24). Shared objects (endpoints,
 * notifications, frames) carry their owner's label; each partition's caps to them are minted
 * copies with the rights and badge the file gives; a shared frame is also mapped in each holder's
 * address space with the cap's rights (from 0x0108_0000, one page apart). Then the root task deletes every cap it holds
 * to anything but its own objects and its ASID pool (so no cap of a partition has a CDT parent in
 * another partition, and no DomainCap, IRQControl or ASIDControl cap is left), and suspends
 * itself: the checks start from there (l4v's initial states have no root task either).
 * @category security
 */
import { join, resolve } from "node:path"
import { Result, Schema } from "effect"
import type { BootConfig, Event, PPtr } from "../../model/index.ts"
import {
  InitialSlot, ObjectType, RightG, RightGR, RightR, RightW, defaultBootConfig, getObjectSize, showSyscallError, wordBits,
} from "../../model/index.ts"
import type { KernelState } from "../../spec/index.ts"
import { observe } from "../../spec/index.ts"
import {
  seL4_ARM_Default_VMAttributes, seL4_ARM_PageTable_Map, seL4_ARM_Page_Map, seL4_CNode_Copy, seL4_CNode_Delete, seL4_CNode_Mint, seL4_CNode_Move,
  seL4_DomainSet_Set, seL4_ReadWrite, seL4_TCB_BindNotification, seL4_TCB_Configure, seL4_TCB_Resume, seL4_TCB_SetSchedParams, seL4_TCB_Suspend,
} from "../builders.ts"
import { InputFileError, parseJsonText, readInputFile, schemaProblem } from "../files.ts"
import { projectRoot } from "../paths.ts"
import { capAt } from "../query.ts"
import { decodeReply } from "../reply.ts"
import { SetupError, SystemBuilder, cnodeCapData } from "../setup.ts"
import type { ConfinementContext } from "./confinement.ts"
import { checkConfinement } from "./confinement.ts"
import { stateAuthority } from "./extract.ts"
import type { Region } from "./labels.ts"
import { Labelling } from "./labels.ts"
import type { Auth, Edge, Label } from "./policy.ts"
import { Policy, auths, policyWellformed, reflexiveEdges, wellformedClosure } from "./policy.ts"

// ---- the file format ------------------------------------------------------------------------------

const LabelName = Schema.String.pipe(Schema.check(Schema.isPattern(/^[A-Za-z][A-Za-z0-9_-]{0,31}$/, { expected: "a label: a letter, then letters, digits, - or _ (at most 32)" })))
const Rights = Schema.String.pipe(Schema.check(Schema.isPattern(/^[RWGg]*$/, { expected: "rights: letters from R (read), W (write), G (grant), g (grant reply)" })))

const PartitionSchema = Schema.Struct({
  label: LabelName,
  domain: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 15 }))),
  threads: Schema.optionalKey(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 4 })))),
  priority: Schema.optionalKey(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 254 })))),
  untypedBits: Schema.optionalKey(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 10, maximum: 16 })))),
})

const ObjectSchema = Schema.Struct({
  name: LabelName,
  type: Schema.Literals(["Endpoint", "Notification", "Frame"]),
  owner: LabelName,
  /** Bind the notification to a thread of its owner: `thread` is the thread's index in its partition. */
  bindTo: Schema.optionalKey(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 3 })))),
})

const CapSchema = Schema.Struct({
  partition: LabelName,
  object: LabelName,
  rights: Rights,
  badge: Schema.optionalKey(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 2 ** 28 - 1 })))),
})

const EdgeSchema = Schema.Tuple([LabelName, Schema.Literals(auths), LabelName])

export const SystemFileSchema = Schema.Struct({
  kspec: Schema.Literal("security-system"),
  version: Schema.Literal(1),
  name: LabelName,
  summary: Schema.String,
  domainSchedule: Schema.optionalKey(Schema.Array(Schema.Struct({
    domain: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 15 }))),
    length: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 1000 }))),
  })).pipe(Schema.check(Schema.isMinLength(1), Schema.isMaxLength(32)))),
  partitions: Schema.Array(PartitionSchema).pipe(Schema.check(Schema.isMinLength(1), Schema.isMaxLength(6))),
  objects: Schema.Array(ObjectSchema).pipe(Schema.check(Schema.isMaxLength(16))),
  caps: Schema.Array(CapSchema).pipe(Schema.check(Schema.isMaxLength(32))),
  /** The policy's edges between labels; every partition's authority over itself is added. `"closure"`: the initial state's authority, closed as policy_wellformed asks. */
  policy: Schema.Union([Schema.Array(EdgeSchema), Schema.Literal("closure")]),
})

/** A system as its file describes it. */
export type SystemFile = typeof SystemFileSchema.Type

/** A system file that cannot be used; the message names the file and the problem, in one line. */
export class SystemFileError extends InputFileError {
  override readonly name: string = "SystemFileError"
}

/** The root task's label. */
export const rootLabel: Label = "Root"

// ---- the built system -------------------------------------------------------------------------------

/** A built, labelled system, ready for the checks. */
export interface LabelledSystem {
  readonly file: SystemFile
  readonly name: string
  readonly summary: string
  readonly config: BootConfig
  /** The root task's set-up events, from boot: replayed before every trace. */
  readonly setup: readonly Event[]
  /** The state after set-up (spec), where the checks start. */
  readonly initial: KernelState
  readonly labels: Labelling
  readonly policy: Policy
  /** The labels whose threads run: the subjects. */
  readonly partitions: readonly Label[]
  /** Threads by partition. */
  readonly threads: ReadonlyMap<Label, readonly PPtr[]>
  readonly rootThread: PPtr
  /** Nonleakage needs one label per domain (l4v `pas_domains_distinct`); the reason when this system lacks it. */
  readonly nonleakageSkipped: string | null
  readonly confinement: ConfinementContext
}

const rightsWord = (r: string): number =>
  (r.includes("R") ? RightR : 0) | (r.includes("W") ? RightW : 0) | (r.includes("G") ? RightG : 0) | (r.includes("g") ? RightGR : 0)

/** Slots of a partition's CSpace. */
export const PartitionSlot = { Thread: 1, CNode: 2, VSpace: 3, IPCBuffer: 10, PageTable: 16, Untyped: 17, MoreThreads: 18, Shared: 24 } as const
/** Partition CNodes have 64 slots. */
export const partitionCNodeBits = 6
/** Where partitions' IPC buffers are mapped: one page apart, in one page table's megabyte. */
const bufferBase = 0x0100_0000
/** Where shared frames are mapped: one page apart, in the same page table's megabyte. */
const sharedFrameBase = bufferBase + 0x8_0000

/** What is wrong with the file beyond its shape (references, duplicates), or null. */
const fileProblem = (f: SystemFile): string | null => {
  const labels = f.partitions.map((p) => p.label)
  const dup = labels.find((l, i) => labels.indexOf(l) !== i)
  if (dup !== undefined) return `partitions: the label ${JSON.stringify(dup)} is used twice`
  if (labels.includes(rootLabel)) return `partitions: ${rootLabel} is the root task's label`
  const names = f.objects.map((o) => o.name)
  const dupObj = names.find((n, i) => names.indexOf(n) !== i)
  if (dupObj !== undefined) return `objects: the name ${JSON.stringify(dupObj)} is used twice`
  for (const [i, o] of f.objects.entries()) {
    if (o.bindTo !== undefined) {
      if (o.type !== "Notification") return `objects[${i}].bindTo: only a notification can be bound`
      const p = f.partitions.find((x) => x.label === o.owner)
      if (p === undefined) return `objects[${i}].bindTo: its owner ${o.owner} is not a partition`
      if (o.bindTo >= (p.threads ?? 1)) return `objects[${i}].bindTo: ${o.owner} has ${p.threads ?? 1} thread(s)`
    }
  }
  for (const [i, c] of f.caps.entries()) {
    if (!labels.includes(c.partition)) return `caps[${i}].partition: no partition is labelled ${JSON.stringify(c.partition)}`
    if (!names.includes(c.object)) return `caps[${i}].object: no object is named ${JSON.stringify(c.object)}`
  }
  for (const l of labels) if (f.caps.filter((c) => c.partition === l).length > 16) return `caps: ${l} holds more than 16 caps`
  const domains = new Set(f.partitions.map((p) => p.domain))
  for (const [i, e] of (f.domainSchedule ?? []).entries()) if (!domains.has(e.domain)) return `domainSchedule[${i}].domain: no partition runs in domain ${e.domain}`
  return null
}

/** The boot configuration of a system: the default memory, its domains and their schedule (by default each domain in turn, 3 ticks each). */
const configOf = (f: SystemFile): BootConfig => {
  const domains = [...new Set(f.partitions.map((p) => p.domain))]
  const numDomains = Math.max(...domains) + 1
  const schedule = f.domainSchedule ?? domains.map((d) => ({ domain: d, length: 3 }))
  return { ...defaultBootConfig, numDomains, domainSchedule: schedule, numDomainSchedules: Math.max(8, schedule.length + 1) }
}

/**
 * Build a system from its file: the root task's set-up events, the labelling of every object,
 * ASID and domain, the policy (the file's edges, each partition's and the root's authority over
 * itself, and the root's Control over every label it built), validated: the policy must be well
 * formed for every partition, and the state after set-up must confine authority to it. Throws a
 * SetupError (the kernel refused a step) or an Error naming the problem.
 */
export const buildSystem = (f: SystemFile): LabelledSystem => {
  const problem = fileProblem(f)
  if (problem !== null) throw new Error(problem)
  const config = configOf(f)
  const sb = new SystemBuilder(config)
  const root = sb.root
  const must = (what: string, ev: Event): void => {
    sb.emit(ev)
    const r = decodeReply(observe(sb.state, root))
    if (r.tag === "Error") throw new SetupError(`${what}: the kernel replied ${showSyscallError(r.error)}`)
  }
  const regions: Region[] = []
  const asids = new Map<number, Label>()
  const objectAt = (slot: number): PPtr => {
    const c = capAt(sb.state, root, slot)
    if (c === undefined || !("ptr" in c)) throw new SetupError(`no object cap in root slot ${slot}`)
    return c.ptr
  }
  const label = (slot: number, bits: number, l: Label) => regions.push({ base: objectAt(slot), size: 2 ** bits, label: l })
  const threads = new Map<Label, PPtr[]>()
  /** Root slots of each partition's CNode and thread caps. */
  const cspaces = new Map<Label, number>()
  const tcbSlots = new Map<Label, number[]>()
  const nextShared = new Map<Label, number>()
  /** Root slots of each partition's page directory cap, moved to the partition once its shared frames are mapped. */
  const pdSlots = new Map<Label, number>()
  /** Shared frames mapped so far in each partition. */
  const sharedFrames = new Map<Label, number>()
  const inPartition = (l: Label, index: number) => [cspaces.get(l)!, index, partitionCNodeBits] as const
  for (const p of f.partitions) {
    const l = p.label
    const cnode = sb.cnode(partitionCNodeBits)
    label(cnode, getObjectSize(ObjectType.CNode, partitionCNodeBits), l)
    cspaces.set(l, cnode)
    const pd = sb.addressSpace()
    label(pd, getObjectSize(ObjectType.PageDirectory, 0), l)
    const asid = (() => { const c = capAt(sb.state, root, pd); return c?.tag === "PageDirectoryCap" ? c.asid : null })()
    if (asid !== null) asids.set(asid, l)
    const pt = sb.pageTable()
    label(pt, getObjectSize(ObjectType.PageTable, 0), l)
    must("ARM_PageTable_Map", seL4_ARM_PageTable_Map(pt, pd, bufferBase, seL4_ARM_Default_VMAttributes))
    const n = p.threads ?? 1
    const prio = p.priority ?? 100
    const ts: number[] = []
    const frames: number[] = []
    for (let i = 0; i < n; i++) {
      const tcb = sb.retype(ObjectType.TCB)
      label(tcb, getObjectSize(ObjectType.TCB, 0), l)
      const frame = sb.frame()
      label(frame, getObjectSize(ObjectType.SmallPage, 0), l)
      const addr = bufferBase + i * 0x1000
      must("ARM_Page_Map", seL4_ARM_Page_Map(frame, pd, addr, seL4_ReadWrite, seL4_ARM_Default_VMAttributes))
      must("TCB_Configure", seL4_TCB_Configure(tcb, 0, cnode, cnodeCapData(0, wordBits - partitionCNodeBits), pd, 0, addr, frame))
      must("TCB_SetSchedParams", seL4_TCB_SetSchedParams(tcb, InitialSlot.InitThreadTCB, prio, prio))
      must("DomainSet_Set", seL4_DomainSet_Set(InitialSlot.Domain, p.domain, tcb))
      ts.push(tcb)
      frames.push(frame)
    }
    tcbSlots.set(l, ts)
    threads.set(l, ts.map((t) => objectAt(t)))
    // The partition's own caps, laid out as the root task's.
    const [cs, , depth] = inPartition(l, 0)
    ts.forEach((t, i) => must("CNode_Copy (thread)", seL4_CNode_Copy(cs, i === 0 ? PartitionSlot.Thread : PartitionSlot.MoreThreads + 2 * (i - 1), depth, InitialSlot.InitThreadCNode, t, wordBits, 15)))
    must("CNode_Mint (CNode)", seL4_CNode_Mint(cs, PartitionSlot.CNode, depth, InitialSlot.InitThreadCNode, cnode, wordBits, 15, cnodeCapData(0, wordBits - partitionCNodeBits)))
    pdSlots.set(l, pd)
    must("CNode_Move (page table)", seL4_CNode_Move(cs, PartitionSlot.PageTable, depth, InitialSlot.InitThreadCNode, pt, wordBits))
    frames.forEach((fr, i) => must("CNode_Move (IPC buffer)", seL4_CNode_Move(cs, i === 0 ? PartitionSlot.IPCBuffer : PartitionSlot.MoreThreads + 2 * (i - 1) + 1, depth, InitialSlot.InitThreadCNode, fr, wordBits)))
    if (p.untypedBits !== undefined) {
      const ut = sb.retype(ObjectType.Untyped, p.untypedBits)
      label(ut, p.untypedBits, l)
      must("CNode_Move (untyped)", seL4_CNode_Move(cs, PartitionSlot.Untyped, depth, InitialSlot.InitThreadCNode, ut, wordBits))
    }
    nextShared.set(l, PartitionSlot.Shared)
  }
  // Shared objects and the partitions' caps to them.
  const objectSlots = new Map<string, number>()
  for (const o of f.objects) {
    const type = o.type === "Endpoint" ? ObjectType.Endpoint : o.type === "Notification" ? ObjectType.Notification : ObjectType.SmallPage
    const slot = sb.retype(type)
    label(slot, getObjectSize(type, 0), o.owner)
    objectSlots.set(o.name, slot)
    if (o.bindTo !== undefined) must("TCB_BindNotification", seL4_TCB_BindNotification(tcbSlots.get(o.owner)![o.bindTo]!, slot))
  }
  for (const c of f.caps) {
    const at = nextShared.get(c.partition)!
    nextShared.set(c.partition, at + 1)
    const [cs, , depth] = inPartition(c.partition, at)
    if (f.objects.find((o) => o.name === c.object)!.type === "Frame") {
      // A shared frame is mapped in the partition's address space with the cap's rights (as capDL's
      // initialiser maps it), after its IPC buffers: the cap that maps it moves to the partition.
      const k = sharedFrames.get(c.partition) ?? 0
      sharedFrames.set(c.partition, k + 1)
      const copy = sb.freeSlot()
      must(`CNode_Mint (${c.object} for ${c.partition})`, seL4_CNode_Mint(InitialSlot.InitThreadCNode, copy, wordBits, InitialSlot.InitThreadCNode, objectSlots.get(c.object)!, wordBits, rightsWord(c.rights), 0))
      must(`ARM_Page_Map (${c.object} for ${c.partition})`, seL4_ARM_Page_Map(copy, pdSlots.get(c.partition)!, sharedFrameBase + k * 0x1000, rightsWord(c.rights), seL4_ARM_Default_VMAttributes))
      must(`CNode_Move (${c.object} for ${c.partition})`, seL4_CNode_Move(cs, at, depth, InitialSlot.InitThreadCNode, copy, wordBits))
      continue
    }
    must(`CNode_Mint (${c.object} for ${c.partition})`, seL4_CNode_Mint(cs, at, depth, InitialSlot.InitThreadCNode, objectSlots.get(c.object)!, wordBits, rightsWord(c.rights), c.badge ?? 0))
  }
  for (const [l, pd] of pdSlots) {
    const [cs, , depth] = inPartition(l, 0)
    must("CNode_Move (page directory)", seL4_CNode_Move(cs, PartitionSlot.VSpace, depth, InitialSlot.InitThreadCNode, pd, wordBits))
  }
  for (const ts of tcbSlots.values()) for (const t of ts) must("TCB_Resume", seL4_TCB_Resume(t))
  // The root task lets go: it keeps its own objects and the ASID pool, deletes everything else.
  const keep = new Set<number>([InitialSlot.InitThreadTCB, InitialSlot.InitThreadCNode, InitialSlot.InitThreadVSpace, InitialSlot.InitThreadASIDPool, InitialSlot.InitThreadIPCBuffer, 16])
  const held: number[] = []
  for (let i = 1; i < 2 ** config.rootCNodeBits; i++) if (!keep.has(i) && capAt(sb.state, root, i) !== undefined) held.push(i)
  const untypedLast = [...held.filter((i) => capAt(sb.state, root, i)?.tag !== "UntypedCap"), ...held.filter((i) => capAt(sb.state, root, i)?.tag === "UntypedCap")]
  for (const i of untypedLast) must(`CNode_Delete (root slot ${i})`, seL4_CNode_Delete(InitialSlot.InitThreadCNode, i, wordBits))
  sb.emit(seL4_TCB_Suspend(InitialSlot.InitThreadTCB))
  if (sb.state.curThread === root) throw new SetupError("the root task still runs after suspending itself")

  const partitions = f.partitions.map((p) => p.label)
  const domains = new Map<number, Label[]>()
  for (const p of f.partitions) domains.set(p.domain, [...(domains.get(p.domain) ?? []), p.label])
  const labels = new Labelling({ root: rootLabel, regions, asids, domains })
  const everyLabel = [...new Set([rootLabel, ...partitions, ...f.objects.map((o) => o.owner)])]
  const rootEdges: Edge[] = everyLabel.flatMap((l) => [{ from: rootLabel, auth: "Control" as Auth, to: l }, { from: rootLabel, auth: "ASIDPoolMapsASID" as Auth, to: l }])
  const own = reflexiveEdges([rootLabel, ...partitions])
  const initial = sb.state
  const policy = f.policy === "closure"
    ? wellformedClosure([...stateAuthority(initial, labels).values(), ...rootEdges, ...own], [rootLabel, ...partitions])
    : new Policy([...f.policy.map(([from, auth, to]): Edge => ({ from, auth, to })), ...rootEdges, ...own])
  if (f.policy !== "closure") {
    for (const [i, [from, , to]] of f.policy.entries()) {
      for (const [which, l] of [["0", from], ["2", to]] as const) if (!everyLabel.includes(l)) throw new Error(`policy[${i}][${which}]: no partition or object owner is labelled ${JSON.stringify(l)}`)
    }
  }
  for (const p of partitions) {
    const w = policyWellformed(policy, p)
    if (w.length > 0) throw new Error(`policy: not well formed for ${p} (l4v policy_wellformed, ${w[0]!.condition}): ${w[0]!.message}`)
  }
  const confinement: ConfinementContext = { labels, policy, exemptThreads: new Set([root]), irqStates: initial.irqStates }
  const v = checkConfinement(initial, confinement)
  if (v.length > 0) throw new Error(`the state after set-up breaks its policy (${v[0]!.rule}): ${v[0]!.message}`)
  const shared = [...domains.entries()].find(([, ls]) => ls.length > 1)
  const nonleakageSkipped = shared === undefined ? null : `domain ${shared[0]} runs ${shared[1].join(" and ")}: nonleakage needs one label per domain (l4v pas_domains_distinct)`
  return {
    file: f, name: f.name, summary: f.summary, config, setup: [...sb.events], initial, labels, policy, partitions, threads, rootThread: root,
    nonleakageSkipped, confinement,
  }
}

/** Decode a system from JSON `json` read from `file` (for messages), then build it; throws a SystemFileError naming the problem. */
export const parseSystem = (file: string, json: unknown): LabelledSystem => {
  const problem = schemaProblem(SystemFileSchema, json)
  if (problem !== null) throw new SystemFileError(file, problem)
  const r = Schema.decodeUnknownResult(SystemFileSchema)(json)
  if (Result.isFailure(r)) throw new SystemFileError(file, "not a system file")
  try {
    return buildSystem(r.success)
  } catch (e) {
    throw new SystemFileError(file, (e as Error).message.split("\n")[0]!)
  }
}

/** Read, decode and build a system file; throws a SystemFileError naming the problem. */
export const loadSystemFile = (file: string): LabelledSystem => parseSystem(file, parseJsonText(file, readInputFile(file, SystemFileError), SystemFileError))

/** The systems that come with kspec (harness/security/systems/NAME.json). */
export const builtinSystems = ["isolated", "client-server", "pipe"] as const
export const systemsDir = resolve(projectRoot, "harness/security/systems")

const builtCache = new Map<string, LabelledSystem>()

/**
 * A system by name (one of `builtinSystems`) or from a file: built once per process and name
 * (a built system is immutable). Throws a SystemFileError naming the problem.
 */
export const loadSystem = (nameOrFile: string): LabelledSystem => {
  const builtin = (builtinSystems as readonly string[]).includes(nameOrFile)
  const file = builtin ? join(systemsDir, `${nameOrFile}.json`) : nameOrFile
  if (!builtin) return loadSystemFile(file)
  let sys = builtCache.get(file)
  if (sys === undefined) { sys = loadSystemFile(file); builtCache.set(file, sys) }
  return sys
}

/** The label a step runs as (l4v `pasSubject`): the current thread's, or with the idle thread running, its domain's. */
export const subjectOf = (sys: LabelledSystem, s: KernelState): Label =>
  s.curThread !== s.idleThread ? sys.labels.object(s.curThread) : sys.labels.domainLabel(s.curDomain) ?? rootLabel

