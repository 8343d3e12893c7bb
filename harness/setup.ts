/**
 * Common set-ups as kernel entries: spawn a thread with its CSpace, VSpace root, IPC buffer and
 * priority; mint badged caps; make a chosen thread current; a client and a server on an
 * endpoint. A `SystemBuilder` emits the events the root task would make (every object retyped
 * from the boot untypeds into free slots of the root CNode) and runs them in the spec as it goes,
 * so it knows which slots are free and which untyped has room, and fails at once, naming the
 * step, if the kernel refuses one. Its `events` then replay in any harness, in both layers.
 * @category library
 */
import type { BootConfig, Event, PPtr } from "../model/index.ts"
import { InitialSlot, ObjectType, defaultBootConfig, maxPrio, pageBits, showSyscallError, wordBits } from "../model/index.ts"
import type { KernelState } from "../spec/index.ts"
import { boot, getTcb, observe, stepWithOutcome } from "../spec/index.ts"
import {
  seL4_ARM_ASIDPool_Assign, seL4_ARM_Default_VMAttributes, seL4_ARM_PageTable_Map, seL4_ARM_Page_Map, seL4_AllRights, seL4_CNode_Mint,
  seL4_DomainSet_Set, seL4_ReadWrite, seL4_Recv, seL4_TCB_Configure, seL4_TCB_Resume, seL4_TCB_SetPriority, seL4_TCB_SetSchedParams,
  seL4_Untyped_Retype, seL4_Yield,
} from "./builders.ts"
import { capAt, objectNamedBy } from "./query.ts"
import { decodeReply } from "./reply.ts"

/** seL4_CNode_CapData: a CNode cap's guard (bits 8..25) and guard size (bits 3..7), for a CSpace root. */
export const cnodeCapData = (guard: number, guardSize: number): number => (((guard & 0x3ffff) << 8) | ((guardSize & 0x1f) << 3)) >>> 0

/** How to spawn a thread. */
export interface ThreadOptions {
  /** Priority (default 100: below the root task's 255, so it runs when the root blocks or yields to it). */
  readonly priority?: number
  /** Maximum controlled priority (default the priority). */
  readonly mcp?: number
  /**
   * Its CSpace: the root task's own CNode (default), or a new CNode of this radix whose guard
   * makes a cap pointer resolve in one level (slot i is cap pointer i).
   */
  readonly cspace?: "root" | { readonly radix: number }
  /** The fault handler's cap pointer, in the thread's CSpace (default 0: none). */
  readonly faultHandler?: number
  /** Give it an IPC buffer (a 4 KiB frame); default true. */
  readonly ipcBuffer?: boolean
  /** Its VSpace root: the page directory in this root-CNode slot (threads sharing an address space); default a new one. */
  readonly vspace?: number
  /** Start it (TCB_Resume); default true. */
  readonly resume?: boolean
  /** Its scheduling domain, set with DomainSet_Set before it starts (default: the current domain's, as a new TCB has). */
  readonly domain?: number
}

/** A spawned thread: where the root task holds its caps (root CNode indices) and its TCB's address. */
export interface SpawnedThread {
  readonly tcb: number
  readonly ptr: PPtr
  /** Its CSpace root: the root CNode's own slot, or the slot of its new CNode. */
  readonly cspace: number
  /** The depth that names one slot of `cspace` through the root task's cap to it (32 for the root CNode, else the new CNode's radix). */
  readonly cspaceDepth: number
  /** Its VSpace root: a page directory with an ASID from the root task's ASID pool. */
  readonly vspace: number
  /** The page table that maps its IPC buffer (null without a buffer). */
  readonly pageTable: number | null
  readonly buffer: number | null
  readonly bufferAddr: number
}

/** A set-up step the kernel refused. */
export class SetupError extends Error {
  override readonly name = "SetupError"
}

/** Where spawned threads' IPC buffers go: one page apart from here (any 512-aligned address will do). */
const bufferBase = 0x0100_0000

/**
 * Builds a system from boot as the root task would, one kernel entry at a time (see the module
 * comment). All caps it makes land in the root CNode; the numbers it returns are their indices,
 * which are also the root task's cap pointers.
 */
export class SystemBuilder {
  private s: KernelState
  private readonly log: Event[] = []
  private nextSlot: number = InitialSlot.NumInitialCaps
  private threads = 0
  /** Page tables this builder mapped, by VSpace slot and 1 MiB region. */
  private readonly pageTables = new Map<string, number>()
  readonly root: PPtr

  constructor(readonly config: BootConfig = defaultBootConfig) {
    this.s = boot(config)
    this.root = this.s.curThread
  }

  /** The spec state after the events so far. */
  get state(): KernelState { return this.s }
  /** The events so far: replay them in any harness. */
  get events(): readonly Event[] { return this.log }

  /** Run one event (in the spec) and record it. Setup events are the root task's: it must be running. */
  emit(ev: Event): KernelState {
    this.s = stepWithOutcome(this.s, ev).state
    this.log.push(ev)
    return this.s
  }

  /** Run a kernel invocation as the root task and insist it succeeded. */
  private invoke(what: string, ev: Event): void {
    this.mustBeRoot(what)
    this.emit(ev)
    const r = decodeReply(observe(this.s, this.root))
    if (r.tag === "Error") throw new SetupError(`${what}: the kernel replied ${showSyscallError(r.error)}`)
  }

  private mustBeRoot(what: string): void {
    if (this.s.curThread !== this.root) throw new SetupError(`${what}: set-up runs as the root task, but thread 0x${this.s.curThread.toString(16)} is running`)
  }

  /** The next empty slot of the root CNode. */
  freeSlot(): number {
    const radix = this.config.rootCNodeBits
    while (this.nextSlot < 2 ** radix && capAt(this.s, this.root, this.nextSlot) !== undefined) this.nextSlot++
    if (this.nextSlot >= 2 ** radix) throw new SetupError(`no free slot left in the root CNode (2^${radix} slots)`)
    return this.nextSlot++
  }

  /** Retype one object of `type` into a new slot, from the first boot untyped with room; returns the slot. */
  retype(type: ObjectType, sizeBits = 0): number {
    this.mustBeRoot("Untyped_Retype")
    const dest = this.freeSlot()
    const untypeds: number[] = []
    for (let i: number = InitialSlot.NumInitialCaps; i < 2 ** this.config.rootCNodeBits; i++) {
      const c = capAt(this.s, this.root, i)
      if (c?.tag === "UntypedCap" && !c.isDevice) untypeds.push(i)
    }
    for (const ut of untypeds) {
      const before = this.s
      const ev = seL4_Untyped_Retype(ut, type, sizeBits, InitialSlot.InitThreadCNode, 0, 0, dest, 1)
      this.emit(ev)
      const r = decodeReply(observe(this.s, this.root))
      if (r.tag === "Ok") return dest
      // Try the next untyped: forget the refused attempt.
      this.s = before
      this.log.pop()
      if (r.tag === "Error" && r.error.tag !== "NotEnoughMemory") throw new SetupError(`Untyped_Retype: the kernel replied ${showSyscallError(r.error)}`)
    }
    throw new SetupError(`Untyped_Retype: no boot untyped has room for an object of type ${type}`)
  }

  endpoint(): number { return this.retype(ObjectType.Endpoint) }
  notification(): number { return this.retype(ObjectType.Notification) }
  cnode(radix: number): number { return this.retype(ObjectType.CNode, radix) }
  frame(): number { return this.retype(ObjectType.SmallPage) }
  pageDirectory(): number { return this.retype(ObjectType.PageDirectory) }
  pageTable(): number { return this.retype(ObjectType.PageTable) }

  /** A page directory with an ASID from the root task's ASID pool: a VSpace root a thread can use. */
  addressSpace(): number {
    const pd = this.pageDirectory()
    this.invoke("ARM_ASIDPool_Assign", seL4_ARM_ASIDPool_Assign(InitialSlot.InitThreadASIDPool, pd))
    return pd
  }

  /** The page table mapped in `vspace` for the 1 MiB region holding `vaddr`: the one this builder mapped there, or a new one. */
  pageTableAt(vspace: number, vaddr: number): number {
    const key = `${vspace}:${vaddr >>> 20}`
    const known = this.pageTables.get(key)
    if (known !== undefined) return known
    const pt = this.pageTable()
    this.mapPageTable(pt, vspace, vaddr)
    this.pageTables.set(key, pt)
    return pt
  }

  /** Map a page table into `vspace` at the 1 MiB region holding `vaddr`. */
  mapPageTable(pt: number, vspace: number, vaddr: number): void {
    this.invoke("ARM_PageTable_Map", seL4_ARM_PageTable_Map(pt, vspace, vaddr, seL4_ARM_Default_VMAttributes))
  }

  /** Map a frame into `vspace` at `vaddr` (a page table must be there for a 4 KiB frame). */
  mapFrame(frame: number, vspace: number, vaddr: number, rights = seL4_ReadWrite): void {
    this.invoke("ARM_Page_Map", seL4_ARM_Page_Map(frame, vspace, vaddr, rights, seL4_ARM_Default_VMAttributes))
  }

  /** A copy of the cap in `src` with `rights` and `badge` (CNode_Mint) in a new slot. */
  mint(src: number, badge: number, rights = seL4_AllRights): number {
    const dest = this.freeSlot()
    this.invoke(`CNode_Mint of slot ${src}`, seL4_CNode_Mint(InitialSlot.InitThreadCNode, dest, wordBits, InitialSlot.InitThreadCNode, src, wordBits, rights, badge))
    return dest
  }

  /** Mint the cap in root slot `src` into slot `index` of a thread's own CNode (threads spawned with `cspace: { radix }`). */
  grant(thread: SpawnedThread, index: number, src: number, badge = 0, rights = seL4_AllRights): void {
    if (thread.cspace === InitialSlot.InitThreadCNode) throw new SetupError("grant: the thread shares the root CNode; its caps are the root's")
    this.invoke(`CNode_Mint into the thread's CNode`, seL4_CNode_Mint(thread.cspace, index, thread.cspaceDepth, InitialSlot.InitThreadCNode, src, wordBits, rights, badge))
  }

  /**
   * Spawn a thread: its TCB, CSpace, VSpace root (a page directory given an ASID), IPC buffer (a
   * frame mapped read-write at its address through a page table of its own) and priority, started
   * unless `resume: false`.
   */
  thread(o: ThreadOptions = {}): SpawnedThread {
    const priority = o.priority ?? 100
    const tcb = this.retype(ObjectType.TCB)
    let cspace: number = InitialSlot.InitThreadCNode
    let cspaceData = 0
    let cspaceDepth = wordBits
    if (o.cspace !== undefined && o.cspace !== "root") {
      cspace = this.cnode(o.cspace.radix)
      cspaceDepth = o.cspace.radix
      cspaceData = cnodeCapData(0, wordBits - o.cspace.radix)
    }
    const vspace = o.vspace ?? this.addressSpace()
    const withBuffer = o.ipcBuffer ?? true
    const buffer = withBuffer ? this.frame() : null
    const bufferAddr = withBuffer ? bufferBase + (this.threads++ << pageBits) : 0
    const pageTable = buffer !== null ? this.pageTableAt(vspace, bufferAddr) : null
    if (buffer !== null) this.mapFrame(buffer, vspace, bufferAddr)
    this.invoke("TCB_Configure", seL4_TCB_Configure(tcb, o.faultHandler ?? 0, cspace, cspaceData, vspace, 0, bufferAddr, buffer ?? 0))
    this.invoke("TCB_SetSchedParams", seL4_TCB_SetSchedParams(tcb, InitialSlot.InitThreadTCB, o.mcp ?? priority, priority))
    if (o.domain !== undefined) this.invoke("DomainSet_Set", seL4_DomainSet_Set(InitialSlot.Domain, o.domain, tcb))
    if (o.resume ?? true) this.invoke("TCB_Resume", seL4_TCB_Resume(tcb))
    return { tcb, ptr: objectNamedBy(this.s, this.root, tcb)!, cspace, cspaceDepth, vspace, pageTable, buffer, bufferAddr }
  }

  /**
   * Make a runnable thread the current one: the root task raises it to its own priority (255)
   * and yields, so it runs next. The root task is back in line behind it: it runs again once
   * the thread blocks or yields.
   */
  makeCurrent(t: SpawnedThread): void {
    const st = getTcb(this.s, t.ptr).tcbState.tag
    if (st !== "Running" && st !== "Restart") throw new SetupError(`makeCurrent: the thread is ${st}, not runnable`)
    this.invoke("TCB_SetPriority", seL4_TCB_SetPriority(t.tcb, InitialSlot.InitThreadTCB, maxPrio))
    this.emit(seL4_Yield())
    if (this.s.curThread !== t.ptr) {
      throw new SetupError(`makeCurrent: after the yield thread 0x${this.s.curThread.toString(16)} runs, not 0x${t.ptr.toString(16)} (another thread at priority ${maxPrio} was ahead of it)`)
    }
  }
}

/**
 * A client and a server on one endpoint: the server (a thread at the root's priority, sharing its
 * CSpace) is started, made current and blocks in Recv on the endpoint; the root task, the client,
 * runs again. Then `seL4_Call(ep, ...)` from the client reaches the server.
 */
export const clientServer = (config: BootConfig = defaultBootConfig): { readonly system: SystemBuilder; readonly ep: number; readonly server: SpawnedThread } => {
  const system = new SystemBuilder(config)
  const ep = system.endpoint()
  const server = system.thread({ priority: maxPrio })
  system.makeCurrent(server)
  system.emit(seL4_Recv(ep))
  return { system, ep, server }
}
