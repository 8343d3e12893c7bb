/**
 * The file server: one small file per client in its private page ([length, words...]); a client
 * Calls its endpoint (badged with the client's pid, which names the file and the data buffer)
 * with WRITE [seq, length] after putting the words in the buffer page it shares with the server,
 * or READ [seq], and finds the words in that buffer. At start it registers its name with the name
 * server.
 * @category library
 */
import type { Message } from "../../index.ts"
import type { Program, StartContext } from "../lib.ts"
import { StartFlag, call, load, recv, replyRecv, store } from "../lib.ts"
import { ErrorLabel, Label, Name, Pid, Slot, fileServerMagic, fsBufferVA, maxFileWords, privateVA } from "../layout.ts"
import { answerHeldCaller, begin, done } from "./common.ts"
import type { ServerBugs } from "./nameServer.ts"

const fileVA = (i: number) => privateVA(Pid.fileServer) + 4 * (1 + maxFileWords) * i

export const fileServer = (bugs: ServerBugs = {}) => function* (ctx: StartContext): Program {
  const clients = ctx.arg
  yield* answerHeldCaller(ctx, { skip: bugs.forgetHeldCaller })
  if ((ctx.flags & StartFlag.KeepState) === 0) for (let i = 0; i < clients; i++) yield* store(fileVA(i), 0)
  yield* call(Slot.nameServer, { label: Label.register, mrs: [0, Name.fileServer, fileServerMagic] })
  let m = yield* recv(Slot.serve)
  let n = 0
  for (;;) {
    yield* begin(ctx, ++n)
    const i = m.badge - Pid.firstClient
    const seq = m.mrs[0] ?? 0
    let reply: Message
    if (i < 0 || i >= clients) reply = { label: ErrorLabel.badRequest, mrs: [seq] }
    else if (m.label === Label.write && m.mrs.length >= 2 && m.mrs[1]! <= maxFileWords) {
      const len = m.mrs[1]!
      for (let w = 0; w < len; w++) yield* store(fileVA(i) + 4 * (1 + w), yield* load(fsBufferVA(i) + 4 * w))
      yield* store(fileVA(i), len)
      reply = { label: 0, mrs: [seq, len] }
    } else if (m.label === Label.read && m.mrs.length >= 1) {
      const len = yield* load(fileVA(i))
      if (len === 0 || len > maxFileWords) reply = { label: ErrorLabel.notFound, mrs: [seq] }
      else {
        for (let w = 0; w < len; w++) yield* store(fsBufferVA(i) + 4 * w, yield* load(fileVA(i) + 4 * (1 + w)))
        reply = { label: 0, mrs: [seq, len] }
      }
    } else reply = { label: ErrorLabel.badRequest, mrs: [seq] }
    yield* done(ctx, n)
    m = yield* replyRecv(Slot.serve, reply)
  }
}
