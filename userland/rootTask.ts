/**
 * The root task: the first thread, holding every boot cap. From seL4's BootInfo (which slots
 * hold untyped memory, and of what size) it builds the whole system with kernel invocations, as
 * a Microkit or CAmkES loader does: it retypes untyped memory into each process's TCB, CNode,
 * page directory (given an ASID from the boot ASID pool), page table and frames; maps the frames
 * (private pages, IPC buffers, status pages the supervisor sees read-only, rings and buffers
 * shared by two processes, each mapping through its own copy of the frame cap); makes the
 * endpoints and notifications and mints badged caps into each CNode; takes the two interrupt
 * lines and points them at notifications; configures each TCB (its fault handler the
 * supervisor's badged endpoint) and starts it at its program's entry with TCB_WriteRegisters.
 * Then it suspends itself. Every reply is checked: the first error stops the build and is
 * printed on the console ("setup-error"), never thrown.
 * @category library
 */
import type { BootConfig } from "../model/index.ts"
import { InitialSlot, ObjectType, wordBits } from "../model/index.ts"
import type { Reply } from "../index.ts"
import {
  bootInfo, capRights, cnodeCapData, seL4_ARM_ASIDPool_Assign, seL4_ARM_Default_VMAttributes, seL4_ARM_PageTable_Map, seL4_ARM_Page_Map,
  seL4_AllRights, seL4_CNode_Copy, seL4_CNode_Mint, seL4_CanRead, seL4_IRQControl_Get, seL4_IRQHandler_SetNotification, seL4_ReadWrite,
  seL4_TCB_BindNotification, seL4_TCB_Configure, seL4_TCB_SetSchedParams, seL4_TCB_Suspend, seL4_TCB_WriteRegisters, seL4_Untyped_Retype,
  untypedBlocks,
} from "../index.ts"
import type { Event } from "../model/index.ts"
import type { Program, StartContext, Step } from "./lib.ts"
import { invoke } from "./lib.ts"
import {
  Irq, NtfnBit, Pid, Slot, fsBufferVA, imageOfPid, ipcBufferVA, priorityOf, privateVA, processCNodeBits, queueVA, regionVA, servers, statusVA,
  supervisorStatusVA, virtBit,
} from "./layout.ts"
import type { RestartPolicy } from "./servers/supervisor.ts"
import { StartFlag } from "./lib.ts"

/** What the root task builds. */
export interface SystemSpec {
  readonly config: BootConfig
  readonly clients: number
  readonly policy: RestartPolicy
  /** Planted configuration bugs, for the tests that show the isolation checks can fail. */
  readonly bugs?: {
    /** Map the file server's private page into the name server too (at the file server's address): a leak of authority. */
    readonly sharePrivatePage?: boolean
    /** Give the servers no fault handler: a crashed server just stops. */
    readonly noFaultHandler?: boolean
  }
}

class SetupFailed { constructor(readonly what: string, readonly reply: Reply) {} }

const C = InitialSlot.InitThreadCNode
const rw = seL4_ReadWrite
const sendOnly = capRights({ write: true, grantReply: true })

export const rootTask = (sys: SystemSpec) => function* (ctx: StartContext): Program {
  const bi = bootInfo(sys.config)
  // BootInfo's untyped list: which slots hold RAM (not device memory).
  const ram: number[] = []
  let slot = bi.untyped.start
  for (const region of sys.config.memory) {
    for (const _ of untypedBlocks(region.base, region.size)) {
      if (slot < bi.untyped.end && !region.isDevice) ram.push(slot)
      slot++
    }
  }
  let free = bi.empty.start
  let failed: SetupFailed | null = null

  function* ok(what: string, ev: Event): Step<boolean> {
    if (failed !== null) return false
    const r = yield* invoke(ev)
    if (r.tag !== "Ok") failed = new SetupFailed(what, r)
    return r.tag === "Ok"
  }
  function* retype(type: ObjectType, sizeBits = 0): Step<number> {
    const dest = free++
    for (const ut of ram) {
      if (failed !== null) return dest
      const r = yield* invoke(seL4_Untyped_Retype(ut, type, sizeBits, C, 0, 0, dest, 1))
      if (r.tag === "Ok") return dest
      if (r.tag !== "Error" || r.error.tag !== "NotEnoughMemory") { failed = new SetupFailed(`Untyped_Retype(${type})`, r); return dest }
    }
    failed = new SetupFailed(`Untyped_Retype(${type}): out of memory`, { tag: "Malformed", reason: "no untyped has room" })
    return dest
  }
  function* copy(src: number): Step<number> {
    const dest = free++
    yield* ok("CNode_Copy", seL4_CNode_Copy(C, dest, wordBits, C, src, wordBits, seL4_AllRights))
    return dest
  }

  interface Proc { pid: number; tcb: number; cnode: number; pd: number }
  const procs = new Map<number, Proc>()
  const pids = [Pid.supervisor, ...servers, ...Array.from({ length: sys.clients }, (_, i) => Pid.firstClient + i)]

  // Each process: TCB, CNode, an address space with one page table, an IPC buffer and a private page.
  for (const pid of pids) {
    const tcb = yield* retype(ObjectType.TCB)
    const cnode = yield* retype(ObjectType.CNode, processCNodeBits)
    const pd = yield* retype(ObjectType.PageDirectory)
    yield* ok("ASIDPool_Assign", seL4_ARM_ASIDPool_Assign(InitialSlot.InitThreadASIDPool, pd))
    const pt = yield* retype(ObjectType.PageTable)
    yield* ok("PageTable_Map", seL4_ARM_PageTable_Map(pt, pd, regionVA, seL4_ARM_Default_VMAttributes))
    const ipc = yield* retype(ObjectType.SmallPage)
    yield* ok("Page_Map(ipc buffer)", seL4_ARM_Page_Map(ipc, pd, ipcBufferVA, rw, seL4_ARM_Default_VMAttributes))
    const priv = yield* retype(ObjectType.SmallPage)
    yield* ok("Page_Map(private)", seL4_ARM_Page_Map(priv, pd, privateVA(pid), rw, seL4_ARM_Default_VMAttributes))
    const faultEP = (servers as readonly number[]).includes(pid) && sys.bugs?.noFaultHandler !== true ? Slot.faultEP : 0
    yield* ok("TCB_Configure", seL4_TCB_Configure(tcb, faultEP, cnode, cnodeCapData(0, wordBits - processCNodeBits), pd, 0, ipcBufferVA, ipc))
    yield* ok("TCB_SetSchedParams", seL4_TCB_SetSchedParams(tcb, InitialSlot.InitThreadTCB, priorityOf(pid), priorityOf(pid)))
    procs.set(pid, { pid, tcb, cnode, pd })
    if (pid === Pid.fileServer && sys.bugs?.sharePrivatePage === true) {
      const leak = yield* copy(priv)
      yield* ok("Page_Map(leak)", seL4_ARM_Page_Map(leak, procs.get(Pid.nameServer)!.pd, privateVA(Pid.fileServer), rw, seL4_ARM_Default_VMAttributes))
    }
  }
  const P = (pid: number): Proc => procs.get(pid)!
  const give = (pid: number, index: number, src: number, rights: number, badge: number, what: string): Step<boolean> =>
    ok(`CNode_Mint(${what})`, seL4_CNode_Mint(P(pid).cnode, index, processCNodeBits, C, src, wordBits, rights, badge))
  function* share(a: number, aVA: number, b: number, bVA: number, bRights = rw): Step<void> {
    const f = yield* retype(ObjectType.SmallPage)
    yield* ok("Page_Map(shared)", seL4_ARM_Page_Map(f, P(a).pd, aVA, rw, seL4_ARM_Default_VMAttributes))
    const g = yield* copy(f)
    yield* ok("Page_Map(shared, second mapping)", seL4_ARM_Page_Map(g, P(b).pd, bVA, bRights, seL4_ARM_Default_VMAttributes))
  }

  // Status pages: written by each server, read by the supervisor.
  for (const pid of servers) yield* share(pid, statusVA, Pid.supervisor, supervisorStatusVA(pid), seL4_CanRead)
  // Endpoints: the supervisor's fault endpoint, the name server's, the file server's.
  const faultEP = yield* retype(ObjectType.Endpoint)
  yield* give(Pid.supervisor, Slot.serve, faultEP, seL4_AllRights, 0, "fault endpoint")
  for (const pid of servers) if (sys.bugs?.noFaultHandler !== true) yield* give(pid, Slot.faultEP, faultEP, sendOnly, pid, "fault handler")
  const nsEP = yield* retype(ObjectType.Endpoint)
  yield* give(Pid.nameServer, Slot.serve, nsEP, seL4_AllRights, 0, "name server endpoint")
  const fsEP = yield* retype(ObjectType.Endpoint)
  yield* give(Pid.fileServer, Slot.serve, fsEP, seL4_AllRights, 0, "file server endpoint")
  yield* give(Pid.fileServer, Slot.nameServer, nsEP, sendOnly, Pid.fileServer, "name server")
  // Notifications.
  const ntfn = new Map<number, number>()
  for (const pid of [Pid.supervisor, Pid.timerDriver, Pid.timerVirt, ...pids.filter((p) => p >= Pid.firstClient)]) {
    const n = yield* retype(ObjectType.Notification)
    ntfn.set(pid, n)
    yield* give(pid, Slot.notification, n, seL4_AllRights, 0, "own notification")
  }
  yield* ok("TCB_BindNotification", seL4_TCB_BindNotification(P(Pid.supervisor).tcb, ntfn.get(Pid.supervisor)!))
  // Interrupts: the timer line to the driver's notification, the watchdog line to the supervisor's.
  for (const [irq, pid] of [[Irq.timer, Pid.timerDriver], [Irq.watchdog, Pid.supervisor]] as const) {
    const handler = free++
    yield* ok("IRQControl_Get", seL4_IRQControl_Get(InitialSlot.IRQControl, irq, C, handler, wordBits))
    const badged = free++
    yield* ok("CNode_Mint(irq notification)", seL4_CNode_Mint(C, badged, wordBits, C, ntfn.get(pid)!, wordBits, seL4_AllRights, NtfnBit.irq))
    yield* ok("IRQHandler_SetNotification", seL4_IRQHandler_SetNotification(handler, badged))
    yield* ok("CNode_Copy(irq handler)", seL4_CNode_Copy(P(pid).cnode, Slot.irqHandler, processCNodeBits, C, handler, wordBits, seL4_AllRights))
  }
  // The timer's rings: driver -> virtualiser, and virtualiser <-> each client.
  yield* share(Pid.timerDriver, queueVA(0), Pid.timerVirt, queueVA(0))
  yield* give(Pid.timerDriver, Slot.virt, ntfn.get(Pid.timerVirt)!, capRights({ write: true }), virtBit(Pid.timerDriver), "virt notification")
  for (let i = 0; i < sys.clients; i++) {
    const c = Pid.firstClient + i
    yield* share(Pid.timerVirt, queueVA(1 + i), c, queueVA(0))
    yield* give(Pid.timerVirt, Slot.table + i, ntfn.get(c)!, capRights({ write: true }), 1, "client notification")
    yield* give(c, Slot.virt, ntfn.get(Pid.timerVirt)!, capRights({ write: true }), virtBit(c), "virt notification")
    yield* give(c, Slot.nameServer, nsEP, sendOnly, c, "name server")
    yield* give(c, Slot.fileServer, fsEP, sendOnly, c, "file server")
    yield* share(Pid.fileServer, fsBufferVA(i), c, fsBufferVA(0))
  }
  // The supervisor's caps to the servers' TCBs.
  for (const pid of servers) yield* give(Pid.supervisor, Slot.table + pid, P(pid).tcb, seL4_AllRights, 0, "server TCB")
  // Start everyone at its program's entry: r8 the start flags, r9 the argument.
  for (const pid of pids) {
    const arg = pid >= Pid.firstClient ? pid - Pid.firstClient : sys.clients
    const flags = sys.policy[pid] === "kept" ? StartFlag.KeepState : 0
    yield* ok("TCB_WriteRegisters", seL4_TCB_WriteRegisters(P(pid).tcb, true, 0, [imageOfPid(pid), 0, 0, 0, 0, flags, arg]))
  }
  if (failed !== null) {
    const f: SetupFailed = failed
    ctx.print(`setup failed: ${f.what}: ${f.reply.tag === "Error" ? f.reply.error.tag : f.reply.tag === "Malformed" ? f.reply.reason : "?"}`)
    ctx.console("setup-error", free)
  } else ctx.console("ready", free)
  yield* invoke(seL4_TCB_Suspend(InitialSlot.InitThreadTCB))
}
