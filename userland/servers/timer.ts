/**
 * The timer, in the shape of seL4's device driver framework (sDDF): a driver that alone touches
 * the device (its interrupts reach it through an IRQHandler and a notification), a virtualiser
 * that multiplexes it among clients, and shared-memory rings with notifications between them.
 * The driver publishes each tick on its ring to the virtualiser and signals it; each client puts
 * a timeout request [seq, ticks] on its request ring and signals the virtualiser, which answers
 * on the client's response ring [seq, status] and signals the client when the time has come.
 * @category library
 */
import { seL4_IRQHandler_Ack } from "../../index.ts"
import type { Program, StartContext } from "../lib.ts"
import { Ring, StartFlag, invoke, load, signal, store, wait } from "../lib.ts"
import { Pid, Slot, TimerStatus, privateVA, queueVA, requestRingVA, responseRingVA, ringCapacity } from "../layout.ts"
import { answerHeldCaller, begin, done } from "./common.ts"

/** The driver: count ticks in its private page, publish each to the virtualiser, acknowledge the line. */
export function* timerDriver(ctx: StartContext): Program {
  const ticksVA = privateVA(Pid.timerDriver)
  yield* answerHeldCaller(ctx)
  // An interrupt that was pending when the last generation died is acknowledged: the line delivers again.
  yield* invoke(seL4_IRQHandler_Ack(Slot.irqHandler))
  let n = (ctx.flags & StartFlag.KeepState) !== 0 ? yield* load(ticksVA) : 0
  if ((ctx.flags & StartFlag.KeepState) === 0) yield* store(ticksVA, 0)
  const toVirt = new Ring(queueVA(0), ringCapacity, 1)
  for (;;) {
    yield* wait(Slot.notification)
    ctx.console("irq")
    yield* begin(ctx, n + 1)
    n++
    yield* store(ticksVA, n)
    yield* toVirt.push([n])
    yield* signal(Slot.virt)
    yield* invoke(seL4_IRQHandler_Ack(Slot.irqHandler))
    ctx.console("ack")
    yield* done(ctx, n)
  }
}

/** Private-page words of the virtualiser: the time, then per client [seq, deadline] of its pending timeout (deadline 0: none). */
const V = { now: 0, seq: (i: number) => 4 + 8 * i, deadline: (i: number) => 8 + 8 * i } as const

/** The virtualiser (its argument: how many clients). */
export function* timerVirt(ctx: StartContext): Program {
  const clients = ctx.arg
  const priv = privateVA(Pid.timerVirt)
  const fromDriver = new Ring(queueVA(0), ringCapacity, 1)
  const requests = (i: number) => new Ring(requestRingVA(queueVA(1 + i)), ringCapacity, 2)
  const responses = (i: number) => new Ring(responseRingVA(queueVA(1 + i)), ringCapacity, 2)
  yield* answerHeldCaller(ctx)
  const keep = (ctx.flags & StartFlag.KeepState) !== 0
  if (!keep) yield* store(priv + V.now, 0)
  for (let i = 0; i < clients; i++) {
    if (!keep) yield* store(priv + V.deadline(i), 0)
    if (ctx.generation === 0) continue
    // After a crash: reconcile each client's rings with what this generation knows. The last
    // request (still in memory, in the ring the client writes) and the last response (in the
    // ring this server writes) say whether the client still waits; a timeout the last generation
    // held is lost with a fresh start, and a kept one that was already answered is dropped. A
    // client that waits for a request no one holds any more gets a "restarted" response. Every
    // client is signalled: a wake the last generation owed it may have died with it.
    const reqRing = requestRingVA(queueVA(1 + i))
    const respRing = responseRingVA(queueVA(1 + i))
    const reqHead = yield* load(reqRing)
    const reqTail = yield* load(reqRing + 4)
    const respTail = yield* load(respRing + 4)
    const lastSeq = reqTail === 0 ? -1 : yield* load(reqRing + 4 * (2 + ((reqTail - 1) % ringCapacity) * 2))
    const lastAnswered = respTail === 0 ? -1 : yield* load(respRing + 4 * (2 + ((respTail - 1) % ringCapacity) * 2))
    const held = keep && (yield* load(priv + V.deadline(i))) !== 0 ? yield* load(priv + V.seq(i)) : -1
    if (held !== -1 && held === lastAnswered) yield* store(priv + V.deadline(i), 0)
    const stillQueued = keep && reqHead !== reqTail
    if (!keep) yield* store(reqRing, reqTail)
    if (lastSeq !== -1 && lastSeq !== lastAnswered && held !== lastSeq && !stillQueued) yield* responses(i).push([lastSeq, TimerStatus.restarted])
    yield* signal(Slot.table + i)
  }
  let now = yield* load(priv + V.now)
  let round = 0
  for (;;) {
    const bits = yield* wait(Slot.notification)
    yield* begin(ctx, ++round)
    if ((bits & 1) !== 0) {
      now += (yield* fromDriver.drain()).length
      yield* store(priv + V.now, now)
    }
    for (let i = 0; i < clients; i++) {
      // Every ring is looked at on every wake: a client's signal may have been taken by a generation that died.
      for (const [seq, ticks] of yield* requests(i).drain()) {
        yield* store(priv + V.seq(i), seq!)
        yield* store(priv + V.deadline(i), now + Math.max(1, ticks!))
      }
      const deadline = yield* load(priv + V.deadline(i))
      if (deadline !== 0 && deadline <= now) {
        const seq = yield* load(priv + V.seq(i))
        yield* store(priv + V.deadline(i), 0)
        yield* responses(i).push([seq, TimerStatus.ok])
        yield* signal(Slot.table + i)
      }
    }
    yield* done(ctx, round)
  }
}
