/**
 * A `kspec prove` worker thread: builds the scope and an expander (for the impl, or a mutant's
 * patched copy of it), then expands the chunks the search sends, one at a time, and posts each
 * chunk's edges back (transferred, not copied). Started by workers.ts: from the kspec bundle
 * directly, from the sources through workerBoot.mjs, which registers tsx first.
 * @category prove
 */
import { parentPort, workerData } from "node:worker_threads"
import type { ImplState } from "../../impl/index.ts"
import { realImpl } from "../lockstep/impls.ts"
import type { ImplUnderTest } from "../lockstep/runner.ts"
import { Expander } from "./expand.ts"
import { loadImplEntry } from "./implEntry.ts"
import type { WorkerInput, WorkerReply, WorkerRequest } from "./workers.ts"
import { buildScope } from "./scope.ts"

const input = workerData as WorkerInput
const impl = input.mutantEntry === undefined ? realImpl as unknown as ImplUnderTest<ImplState> : await loadImplEntry(input.mutantEntry, input.mutantLayer ?? "impl")
const expander = new Expander({
  scope: buildScope(input.scope), impl, symmetry: input.symmetry, implState: input.implState,
  ...(input.deadlineMs !== undefined ? { deadlineMs: input.deadlineMs } : {}),
})
const port = parentPort!
port.on("message", (m: WorkerRequest) => {
  let reply: WorkerReply
  if (m.type === "root") reply = { type: "root", id: m.id, root: expander.rootKey() }
  else {
    const r = expander.expand(m.chunk)
    reply = { type: "chunk", id: m.id, edges: r.edges, failures: r.failures, outcomes: [...r.outcomes], alphabetMax: r.alphabetMax }
    port.postMessage(reply, [r.edges.buffer as ArrayBuffer])
    return
  }
  port.postMessage(reply)
})
port.postMessage({ type: "ready" } satisfies WorkerReply)
