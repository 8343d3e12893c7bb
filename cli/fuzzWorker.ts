/**
 * The fuzz worker thread: runs `runFuzzLoop` on the batches it owns and posts what it finds to
 * the main thread. Started by `kspec fuzz`: from the kspec bundle directly, from the sources through
 * fuzzWorkerBoot.mjs, which registers tsx first.
 */
import { parentPort, workerData } from "node:worker_threads"
import { realImpl } from "../harness/lockstep/impls.ts"
import type { ImplUnderTest } from "../harness/lockstep/runner.ts"
import { importMutant } from "../proofs-tests/mutants/build.ts"
import type { MutantBuild } from "../proofs-tests/mutants/build.ts"
import type { LoopParams } from "./fuzzLoop.ts"
import { runFuzzLoop } from "./fuzzLoop.ts"

export interface WorkerInput {
  readonly params: LoopParams
  /** The stop flags (two Int32 words). */
  readonly stop: SharedArrayBuffer
  /** A mutant's entries (its patched impl/index.ts, spec/index.ts or both), already written by the main thread. */
  readonly mutant?: MutantBuild
}

const input = workerData as WorkerInput
let impl: ImplUnderTest<unknown> = realImpl as ImplUnderTest<unknown>
if (input.mutant !== undefined) {
  // A mutant is a patched copy of the impl's TypeScript: a bundled worker needs tsx to import it.
  if (!import.meta.url.endsWith(".ts")) (await import("tsx/esm/api")).register()
  impl = (await importMutant(input.mutant)) as ImplUnderTest<unknown>
}
await runFuzzLoop(impl, input.params, new Int32Array(input.stop), (m) => parentPort!.postMessage(m))
