/**
 * The name server: a table of (name, value) pairs in its private page. REGISTER [seq, name,
 * value] (only the file server may register the file server's name: the badge says who calls),
 * LOOKUP [seq, name] -> [seq, value] or NOT_FOUND. Clients Call its endpoint through caps badged
 * with their pid.
 * @category library
 */
import type { Program, StartContext } from "../lib.ts"
import { StartFlag, load, recv, replyRecv, store } from "../lib.ts"
import type { Message } from "../../index.ts"
import { ErrorLabel, Label, Name, Pid, Slot, privateVA } from "../layout.ts"
import { answerHeldCaller, begin, done } from "./common.ts"

const entries = 4
const nameVA = (i: number) => privateVA(Pid.nameServer) + 8 * i
const valueVA = (i: number) => nameVA(i) + 4

export interface ServerBugs {
  /** Planted bug: after a restart, do not answer the caller whose request died with the last generation. */
  readonly forgetHeldCaller?: boolean
}

export const nameServer = (bugs: ServerBugs = {}) => function* (ctx: StartContext): Program {
  yield* answerHeldCaller(ctx, { skip: bugs.forgetHeldCaller })
  if ((ctx.flags & StartFlag.KeepState) === 0) for (let i = 0; i < entries; i++) yield* store(nameVA(i), 0)
  let m = yield* recv(Slot.serve)
  let n = 0
  for (;;) {
    yield* begin(ctx, ++n)
    const seq = m.mrs[0] ?? 0
    let reply: Message
    if (m.label === Label.lookup && m.mrs.length >= 2) {
      reply = { label: ErrorLabel.notFound, mrs: [seq] }
      for (let i = 0; i < entries; i++) {
        if ((yield* load(nameVA(i))) === m.mrs[1]) { reply = { label: 0, mrs: [seq, yield* load(valueVA(i))] }; break }
      }
    } else if (m.label === Label.register && m.mrs.length >= 3 && (m.mrs[1] !== Name.fileServer || m.badge === Pid.fileServer)) {
      reply = { label: ErrorLabel.notFound, mrs: [seq] }
      for (let i = 0; i < entries; i++) {
        const name = yield* load(nameVA(i))
        if (name === m.mrs[1] || name === 0) {
          yield* store(nameVA(i), m.mrs[1]!)
          yield* store(valueVA(i), m.mrs[2]!)
          reply = { label: 0, mrs: [seq] }
          break
        }
      }
    } else reply = { label: ErrorLabel.badRequest, mrs: [seq] }
    yield* done(ctx, n)
    m = yield* replyRecv(Slot.serve, reply)
  }
}
