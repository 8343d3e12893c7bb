/**
 * The fuzz worker thread: runs `runFuzzLoop` on the batches it owns and posts what it finds to
 * the main thread. Started by `kspec fuzz`: from the kspec bundle directly, from the sources through
 * fuzzWorkerBoot.mjs, which registers tsx first.
 */
import { parentPort, workerData } from "node:worker_threads"
import { pathToFileURL } from "node:url"
import type { BootConfig, Event } from "../model/index.ts"
import type { KernelState } from "../spec/index.ts"
import type { ImplState } from "../impl/index.ts"
import { realImpl } from "../harness/lockstep/impls.ts"
import type { ImplUnderTest } from "../harness/lockstep/runner.ts"
import { absState } from "../harness/relation/abstract.ts"
import type { LoopParams } from "./fuzzLoop.ts"
import { runFuzzLoop } from "./fuzzLoop.ts"

export interface WorkerInput {
  readonly params: LoopParams
  /** The stop flags (two Int32 words). */
  readonly stop: SharedArrayBuffer
  /** A mutant's impl entry (its patched impl/index.ts), already written by the main thread. */
  readonly mutantEntry?: string
}

const input = workerData as WorkerInput
let impl: ImplUnderTest<unknown> = realImpl as ImplUnderTest<unknown>
if (input.mutantEntry !== undefined) {
  // A mutant is a patched copy of the impl's TypeScript: a bundled worker needs tsx to import it.
  if (!import.meta.url.endsWith(".ts")) (await import("tsx/esm/api")).register()
  const mod = (await import(pathToFileURL(input.mutantEntry).href)) as { Kernel: { boot(c: BootConfig): ImplState & { step(ev: Event): void } } }
  // The relation's own absState (not a wrapper), so the runner checks mutants incrementally too.
  impl = { boot: (c) => mod.Kernel.boot(c), step: (k, ev) => (k as { step(ev: Event): void }).step(ev), abs: absState as (k: unknown) => KernelState }
}
await runFuzzLoop(impl, input.params, new Int32Array(input.stop), (m) => parentPort!.postMessage(m))
