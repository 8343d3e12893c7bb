/**
 * A `kspec demo` worker thread: runs the campaign runs it is given (userland/campaign.ts
 * `runOnce`) and posts each run's counts to the main thread. Started by `kspec demo --workers N`:
 * from the kspec bundle directly, from the sources through demoWorkerBoot.mjs (tsx first).
 */
import { parentPort, workerData } from "node:worker_threads"
import type { CampaignOptions, PlannedRun } from "../userland/campaign.ts"
import { newReport, runOnce } from "../userland/campaign.ts"

export interface DemoWorkerInput {
  readonly options: CampaignOptions
  readonly runs: readonly PlannedRun[]
}

/** What a worker posts: one run's counts, or that it is done. */
export type DemoWorkerMessage = { readonly tag: "run"; readonly report: Omit<ReturnType<typeof newReport>, "first"> } | { readonly tag: "done" }

const input = workerData as DemoWorkerInput
for (const run of input.runs) {
  const r = newReport(input.options.seed)
  const t0 = Date.now()
  runOnce(run.seed, run.faults, input.options, run.lockstep, r)
  r.ms = Date.now() - t0
  const { first: _first, ...plain } = r
  parentPort!.postMessage({ tag: "run", report: plain } satisfies DemoWorkerMessage)
}
parentPort!.postMessage({ tag: "done" } satisfies DemoWorkerMessage)
