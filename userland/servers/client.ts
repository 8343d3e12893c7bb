/**
 * A client (its argument: its index i): over and over, it looks the file server up in the name
 * server, writes its file, reads it back and compares, and waits for a timeout from the timer
 * virtualiser. It checks every reply: the right sequence number and contents are "ok", an error
 * label is "error" (a server restarted under its request, a file lost with a fresh restart), a
 * reply with the wrong contents is "wrong", a second answer to a request is "duplicate".
 * @category library
 */
import { seL4_Signal } from "../../index.ts"
import type { ReceivedMessage } from "../../index.ts"
import type { Program, StartContext } from "../lib.ts"
import { Ring, call, load, store, wait } from "../lib.ts"
import { ErrorLabel, Label, Name, Slot, TimerStatus, fileServerMagic, fsBufferVA, maxFileWords, queueVA, requestRingVA, responseRingVA, ringCapacity } from "../layout.ts"

export function* client(ctx: StartContext): Program {
  const i = ctx.arg
  const requests = new Ring(requestRingVA(queueVA(0)), ringCapacity, 2)
  const responses = new Ring(responseRingVA(queueVA(0)), ringCapacity, 2)
  let seq = 0
  /** How a reply to request `s` ends: ok when `good` says so, error on an error label. */
  const judge = (s: number, r: ReceivedMessage, good: (r: ReceivedMessage) => boolean): boolean => {
    if (r.label !== 0) { ctx.console(r.label === ErrorLabel.restarted || r.label === ErrorLabel.notFound ? "error" : "wrong", s, r.label); return false }
    if (r.mrs[0] !== s) { ctx.console(r.mrs[0]! < s ? "duplicate" : "wrong", s, r.mrs[0] ?? 0); return false }
    if (!good(r)) { ctx.console("wrong", s, r.mrs[1] ?? 0); return false }
    ctx.console("ok", s)
    return true
  }
  for (;;) {
    // Look the file server up.
    seq++
    ctx.console("request", seq, Label.lookup)
    judge(seq, yield* call(Slot.nameServer, { label: Label.lookup, mrs: [seq, Name.fileServer] }), (r) => r.mrs[1] === fileServerMagic)
    // Write the file, then read it back.
    seq++
    const len = 1 + (seq % maxFileWords)
    const data = Array.from({ length: len }, (_, w) => (((seq << 8) ^ (i << 4) ^ w) * 2654435761) >>> 0)
    for (let w = 0; w < len; w++) yield* store(fsBufferVA(0) + 4 * w, data[w]!)
    ctx.console("request", seq, Label.write)
    const wrote = judge(seq, yield* call(Slot.fileServer, { label: Label.write, mrs: [seq, len] }), (r) => r.mrs[1] === len)
    seq++
    ctx.console("request", seq, Label.read)
    const r = yield* call(Slot.fileServer, { label: Label.read, mrs: [seq] })
    if (r.label === 0 && r.mrs[0] === seq && wrote) {
      const got: number[] = []
      for (let w = 0; w < (r.mrs[1] ?? 0) && w < maxFileWords; w++) got.push(yield* load(fsBufferVA(0) + 4 * w))
      judge(seq, r, () => got.length === len && got.every((g, w) => g === data[w]))
    } else if (r.label === 0 && r.mrs[0] === seq) ctx.console("ok", seq) // the write failed: any contents will do
    else judge(seq, r, () => true)
    // A timeout of two ticks.
    seq++
    ctx.console("request", seq, 100)
    yield* requests.push([seq, 2])
    yield seL4_Signal(Slot.virt)
    for (let answered = false; !answered;) {
      yield* wait(Slot.notification)
      for (const [s, status] of yield* responses.drain()) {
        if (s !== seq) ctx.console("duplicate", seq, s!)
        else if (!answered) {
          answered = true
          ctx.console(status === TimerStatus.ok ? "ok" : "error", seq, status!)
        }
      }
    }
  }
}
