/**
 * The search's worker threads (node:worker_threads): each builds the scope and an expander and
 * expands the chunks it is sent (expand.ts); the search keeps the visited table and folds the
 * results in chunk order (search.ts). Each worker has two chunks in flight, so it never waits
 * for the main thread between chunks.
 * @category prove
 */
import { Worker } from "node:worker_threads"
import type { Chunk, ChunkResult, ProveFailure } from "./expand.ts"
import type { ScopeSpec } from "./scope.ts"
import type { ChunkRunner } from "./search.ts"

export interface WorkerInput {
  readonly scope: ScopeSpec
  readonly symmetry: boolean
  readonly implState: boolean
  /** A mutant's entry (its patched impl/index.ts or spec/index.ts), already written by the main thread. */
  readonly mutantEntry?: string
  /** The layer the mutant patches (default impl). */
  readonly mutantLayer?: "impl" | "spec"
  /** The watchdog (expand.ts `ExpandOptions.deadlineMs`). */
  readonly deadlineMs?: number
}

export type WorkerRequest =
  | { readonly type: "root"; readonly id: number }
  | { readonly type: "chunk"; readonly id: number; readonly chunk: Chunk }

type Print = { readonly lo: number; readonly hi: number }
export type WorkerReply =
  | { readonly type: "ready" }
  | { readonly type: "root"; readonly id: number; readonly root: { readonly key: Print; readonly spec: Print } }
  | { readonly type: "chunk"; readonly id: number; readonly edges: Uint32Array; readonly failures: readonly ProveFailure[]; readonly outcomes: readonly (readonly [string, number])[]; readonly alphabetMax: number }

/** Start `n` workers for a search; resolves once every worker has built its expander. */
export const workerPool = async (n: number, input: WorkerInput): Promise<ChunkRunner> => {
  // From the sources, the worker registers tsx first; from the kspec bundle, it is the bundle's own entry.
  const entry = import.meta.url.endsWith(".ts") ? new URL("./workerBoot.mjs", import.meta.url) : new URL("./proveWorker.js", import.meta.url)
  const waiting = new Map<number, { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }>()
  const load: number[] = new Array<number>(n).fill(0)
  let crashed: Error | null = null
  let nextId = 0
  const threads = await Promise.all(Array.from({ length: n }, (_, i) => new Promise<Worker>((ready, fail) => {
    const w = new Worker(entry, { workerData: input })
    w.on("message", (m: WorkerReply) => {
      if (m.type === "ready") { ready(w); return }
      load[i]!--
      const p = waiting.get(m.id)
      waiting.delete(m.id)
      p?.resolve(m)
    })
    w.on("error", (e) => {
      crashed = new Error(`a prove worker crashed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`)
      fail(crashed)
      for (const p of waiting.values()) p.reject(crashed)
      waiting.clear()
    })
  })))
  const send = (req: WorkerRequest, transfer: ArrayBuffer[] = []): Promise<WorkerReply> => {
    if (crashed !== null) return Promise.reject(crashed)
    // The least loaded worker.
    let best = 0
    for (let i = 1; i < n; i++) if (load[i]! < load[best]!) best = i
    load[best]!++
    return new Promise((resolve, reject) => {
      waiting.set(req.id, { resolve, reject })
      threads[best]!.postMessage(req, transfer)
    })
  }
  return {
    parallelism: 2 * n,
    run: async (chunk: Chunk): Promise<ChunkResult> => {
      const r = await send({ type: "chunk", id: nextId++, chunk }, [chunk.ids.buffer as ArrayBuffer, chunk.events.buffer as ArrayBuffer])
      if (r.type !== "chunk") throw new Error("prove worker: unexpected reply")
      return { edges: r.edges, failures: r.failures, outcomes: new Map(r.outcomes), alphabetMax: r.alphabetMax }
    },
    rootKey: async () => {
      const r = await send({ type: "root", id: nextId++ })
      if (r.type !== "root") throw new Error("prove worker: unexpected reply")
      return r.root
    },
    close: async () => { await Promise.all(threads.map((t) => t.terminate())) },
  }
}
