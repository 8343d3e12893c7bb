/**
 * A measuring stick for the IPC benchmark, not a kernel: the fastpath round trip of the ping-pong
 * (the client's Call, the server's ReplyRecv) written in the cheapest JavaScript this author knows,
 * on a two-thread state built for it. Each entry does what the impl's does on that path (decode
 * the event into the caller's registers, save the restart address, seL4's fastpath checks, the
 * CSpace walk with guard and radix, the endpoint queue, the reply cap's MDB links, the message
 * copy, the switch), with what C has and the impl's shared types do not: caps of one shape with
 * small-integer kinds that hold their object's reference, threads of one shape, registers in
 * typed arrays. Nothing else (no other syscall, no slow path, no object table). Its time bounds
 * what reworking the impl's data layout could gain on this path, against the floor.
 */
import type { Event } from "../model/index.ts"

const NullKind = 0
const CNodeKind = 1
const EndpointKind = 2
const PageDirectoryKind = 3
const ReplyKind = 4

const Running = 0
const BlockedOnReceive = 1
const BlockedOnReply = 2
const EpIdle = 0
const EpSend = 1
const EpRecv = 2

const RightR = 1
const RightW = 2
const RightG = 4
const RightGR = 8

const FaultIP = 17
const NextIP = 15

/** Every cap in one shape: kind, the object it names, and the fields of every kind. */
class SCap {
  constructor(
    readonly kind: number, readonly obj: SCNode | SEndpoint | SThread | null,
    readonly guard = 0, readonly guardSize = 0, readonly radix = 0, readonly rights = 0, readonly badge = 0,
    readonly isMaster = false, readonly asid = -1,
  ) {}
}
const nullCap = new SCap(NullKind, null)

class SSlot {
  cap = nullCap
  prev: SSlot | null = null
  next: SSlot | null = null
  revocable = false
  firstBadged = false
}

class SCNode {
  readonly slots: SSlot[] = []
  constructor(radix: number) { for (let i = 0; i < 2 ** radix; i++) this.slots.push(new SSlot()) }
}

class SEndpoint {
  state = EpIdle
  head: SThread | null = null
  tail: SThread | null = null
}

class SThread {
  readonly mrs = new Uint32Array(4)
  readonly regs = new Uint32Array(20)
  badge = 0
  msgInfo = 0
  fault: object | null = null
  state = Running
  recvEp: SEndpoint | null = null
  recvCanGrant = false
  epNext: SThread | null = null
  epPrev: SThread | null = null
  boundNtfnActive = false
  readonly cspace = new SSlot()
  readonly vspace = new SSlot()
  readonly reply = new SSlot()
  readonly caller = new SSlot()
  replyCapGrant: SCap = nullCap
  constructor(readonly priority: number, readonly domain: number) {}
}

/** The whole state: two threads, a 256-slot root CNode with the endpoint at slot `epSlot`, no other thread ready. */
export class SpecialisedKernel {
  cur: SThread
  readonly idle: SThread = new SThread(0, 0)
  readonly numDomains = 1
  readonly curDomain = 0
  /** The priority bitmap's first level, per domain (empty: only the two threads run). */
  readonly l1 = new Uint32Array(1)
  hits = 0

  constructor(epSlot: number) {
    const cn = new SCNode(8)
    const ep = new SEndpoint()
    cn.slots[epSlot]!.cap = new SCap(EndpointKind, ep, 0, 0, 0, RightR | RightW | RightG | RightGR)
    const root = new SCap(CNodeKind, cn, 0, 24, 8)
    const [client, server] = [new SThread(100, 0), new SThread(100, 0)]
    for (const t of [client, server]) {
      t.cspace.cap = root
      t.vspace.cap = new SCap(PageDirectoryKind, null, 0, 0, 0, 0, 0, false, 1)
      t.reply.cap = new SCap(ReplyKind, t, 0, 0, 0, 0, 0, true)
      t.replyCapGrant = new SCap(ReplyKind, t)
    }
    // The server waits on the endpoint; the client runs.
    server.state = BlockedOnReceive
    server.recvEp = ep
    server.recvCanGrant = true
    ep.state = EpRecv
    ep.head = ep.tail = server
    this.cur = client
  }

  /** One kernel entry: Call and ReplyRecv by the fastpath; false for anything it does not take. */
  step(ev: Event): boolean {
    if (ev.tag !== "Syscall") return false
    const cur = this.cur
    if (cur === this.idle) return false
    // The event's registers into the thread (at most 4 message registers: no IPC-buffer stores here).
    const mrs = ev.mrs
    const n = mrs.length < 4 ? mrs.length : 4
    if (mrs.length > 4 || ev.extraCaps.length > 0 || ev.recvSlot !== undefined) return false
    cur.badge = ev.cptr >>> 0
    cur.msgInfo = ev.msgInfo >>> 0
    for (let i = 0; i < n; i++) cur.mrs[i] = mrs[i]! >>> 0
    cur.regs[FaultIP] = cur.regs[NextIP]!
    const taken = (ev.syscall === "Call" && this.call(cur, cur.badge, cur.msgInfo)) ||
      (ev.syscall === "ReplyRecv" && this.replyRecv(cur, cur.badge, cur.msgInfo))
    if (taken) this.hits++
    return taken
  }

  private lookup(root: SCap, cptr: number): SCap {
    if (root.kind !== CNodeKind) return nullCap
    let node = root
    let bits = 0
    let found = nullCap
    for (;;) {
      const g = node.guardSize
      const r = node.radix
      if (r === 0 || g + r > 32) return nullCap
      const c2 = (cptr << bits) >>> 0
      if (g !== 0 && c2 >>> (32 - g) !== node.guard) return nullCap
      found = (node.obj as SCNode).slots[((c2 << g) >>> 0) >>> (32 - r)]!.cap
      bits += g + r
      if (bits >= 32 || found.kind !== CNodeKind) break
      node = found
    }
    return bits > 32 ? nullCap : found
  }

  private highestOrAbove(prio: number): boolean {
    // Nothing else is ever ready here; the impl reads the bitmap the same way first.
    return this.l1[0] === 0 || prio >= 255
  }

  private call(cur: SThread, cptr: number, mi: number): boolean {
    if ((((mi & 0x1ff) + 3) & ~7) !== 0 || cur.fault !== null) return false
    const c = this.lookup(cur.cspace.cap, cptr)
    if (c.kind !== EndpointKind || (c.rights & RightW) === 0) return false
    const ep = c.obj as SEndpoint
    if (ep.state !== EpRecv) return false
    const dest = ep.head!
    const vt = dest.vspace.cap
    if (vt.kind !== PageDirectoryKind || vt.asid < 0) return false
    if (dest.priority < cur.priority && !this.highestOrAbove(dest.priority)) return false
    if ((c.rights & (RightG | RightGR)) === 0) return false
    if (dest.domain !== this.curDomain && this.numDomains > 1) return false
    const replySlot = cur.reply
    const callerSlot = dest.caller
    if (dest.state !== BlockedOnReceive || replySlot.cap.kind !== ReplyKind || replySlot.next !== null || callerSlot.cap.kind !== NullKind) {
      throw new Error("specialised fastpath: a broken state")
    }
    const next = dest.epNext
    ep.head = next
    if (next !== null) next.epPrev = null
    else { ep.tail = null; ep.state = EpIdle }
    dest.epNext = null
    dest.epPrev = null
    cur.state = BlockedOnReply
    callerSlot.cap = cur.replyCapGrant
    callerSlot.prev = replySlot
    replySlot.next = callerSlot
    replySlot.revocable = true
    replySlot.firstBadged = true
    this.deliver(cur, dest, c.badge, mi)
    return true
  }

  private replyRecv(cur: SThread, cptr: number, mi: number): boolean {
    if ((((mi & 0x1ff) + 3) & ~7) !== 0 || cur.fault !== null) return false
    const c = this.lookup(cur.cspace.cap, cptr)
    if (c.kind !== EndpointKind || (c.rights & RightR) === 0) return false
    if (cur.boundNtfnActive) return false
    const ep = c.obj as SEndpoint
    if (ep.state === EpSend) return false
    const callerSlot = cur.caller
    const callerCap = callerSlot.cap
    if (callerCap.kind !== ReplyKind || callerCap.isMaster) return false
    const caller = callerCap.obj as SThread
    if (caller.fault !== null) return false
    const vt = caller.vspace.cap
    if (vt.kind !== PageDirectoryKind || vt.asid < 0) return false
    if (!this.highestOrAbove(caller.priority)) return false
    if (caller.domain !== this.curDomain && this.numDomains > 1) return false
    const replyPrev = callerSlot.prev
    if (replyPrev === null || callerSlot.next !== null) throw new Error("specialised fastpath: a broken state")
    cur.state = BlockedOnReceive
    cur.recvEp = ep
    cur.recvCanGrant = (c.rights & RightG) !== 0
    const tail = ep.tail
    if (tail === null) { cur.epPrev = null; ep.head = cur } else { tail.epNext = cur; cur.epPrev = tail }
    cur.epNext = null
    ep.tail = cur
    ep.state = EpRecv
    replyPrev.next = null
    replyPrev.revocable = true
    replyPrev.firstBadged = true
    callerSlot.cap = nullCap
    callerSlot.prev = null
    callerSlot.next = null
    callerSlot.revocable = false
    callerSlot.firstBadged = false
    this.deliver(cur, caller, 0, mi)
    return true
  }

  /** The message (at most 4 words, no caps) from `from` to `to`, which runs next. */
  private deliver(from: SThread, to: SThread, badge: number, mi: number): void {
    const length = mi & 0x7f
    for (let i = 0; i < length; i++) to.mrs[i] = from.mrs[i]!
    to.state = Running
    this.cur = to
    to.badge = badge
    to.msgInfo = ((mi & 0xfffff000) | length) >>> 0
  }

  /** The current thread's message registers (for the benchmark's check that the words went round). */
  currentMrs(): readonly number[] { return [...this.cur.mrs] }
}
