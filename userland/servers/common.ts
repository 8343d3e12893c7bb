/**
 * What every supervised server does: mark its status page (busy with a request, requests
 * served) for the supervisor's watchdog, and after a restart answer the request it held when it
 * died with an error, so no client waits forever.
 */
import { seL4_Reply } from "../../index.ts"
import type { StartContext, Step } from "../lib.ts"
import { store } from "../lib.ts"
import { ErrorLabel, Status, statusVA } from "../layout.ts"

/** Busy with request number `n` (nonzero). */
export function* begin(ctx: StartContext, n: number): Step<void> {
  yield* store(statusVA + Status.busy, n === 0 ? 1 : n)
  ctx.console("begin", n)
}
/** Done with request number `n`. */
export function* done(ctx: StartContext, n: number): Step<void> {
  yield* store(statusVA + Status.served, n)
  yield* store(statusVA + Status.busy, 0)
  ctx.console("served", n)
}
/**
 * After a restart: a caller whose request this server held when it died still waits on its reply
 * cap (the reply cap lives in this thread's TCB and survives the restart); it gets an error. With
 * no such caller the Reply does nothing.
 */
export function* answerHeldCaller(ctx: StartContext, planted?: { readonly skip?: boolean | undefined }): Step<void> {
  yield* store(statusVA + Status.busy, 0)
  if (ctx.generation > 0 && planted?.skip !== true) yield seL4_Reply({ label: ErrorLabel.restarted, mrs: [] })
}
