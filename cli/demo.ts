/**
 * `kspec demo`: run the user-level system of userland/ with a fault-injection campaign, print
 * the campaign's table, and write the HTML page (the system, the timeline, a fault and its
 * recovery). Exit 0 when isolation held (no request lost or answered twice, no memory-integrity
 * violation, no kernel failure), 1 otherwise.
 */
import { relative } from "node:path"
import { writeFileAtomic } from "../harness/files.ts"
import type { CampaignReport } from "../userland/campaign.ts"
import { runCampaign } from "../userland/campaign.ts"
import { demoPage, summaryRows } from "../userland/html.ts"
import { Pid, servers } from "../userland/layout.ts"
import type { RestartPolicy } from "../userland/servers/supervisor.ts"
import { defaultPolicy } from "../userland/servers/supervisor.ts"
import type { CommandIO } from "./command.ts"

export interface DemoFlags {
  readonly faults: number
  readonly seed: number | undefined
  readonly clients: number
  readonly html: string
  readonly lockstepEvery: number
  readonly policy: string
}

const policyOf = (p: string): RestartPolicy =>
  p === "fresh" || p === "kept" ? Object.fromEntries(servers.map((s) => [s, p])) as RestartPolicy : defaultPolicy

/** The command line that repeats a demo. */
export const demoCommand = (f: DemoFlags, seed: number): string =>
  `kspec demo --seed ${seed} --faults ${f.faults} --clients ${f.clients}${f.lockstepEvery !== 50 ? ` --lockstep-every ${f.lockstepEvery}` : ""}${f.policy !== "default" ? ` --policy ${f.policy}` : ""}`

/** Did isolation hold? */
export const isolationHeld = (r: CampaignReport): boolean =>
  r.lost === 0 && r.duplicates === 0 && r.integrity.length === 0 && r.kernelFailures.length === 0 && r.setupErrors.length === 0

export const runDemo = (f: DemoFlags, io: CommandIO): number => {
  const seed = f.seed ?? (Date.now() % 2 ** 31)
  io.log(`kspec demo: seed=${seed} faults=${f.faults} clients=${f.clients} (1 run in ${f.lockstepEvery} in lockstep with the spec), restart policy: ${f.policy === "default" ? "drivers fresh, name and file servers keep their state" : f.policy}`)
  const r = runCampaign({
    seed, faults: f.faults, lockstepEvery: f.lockstepEvery, keepFirst: true,
    system: { clients: f.clients, policy: policyOf(f.policy) },
    onRun: (p) => io.log(`  run ${p.runs}${p.lockstepRuns > 0 && p.runs === 1 ? " (lockstep)" : ""}: ${p.injected.toLocaleString("en-US")}/${f.faults.toLocaleString("en-US")} faults, ${p.restarts.toLocaleString("en-US")} restarts, ${Math.round(p.injected / Math.max(0.001, p.ms / 1000)).toLocaleString("en-US")} faults/s`),
  })
  io.log("")
  const rows = summaryRows(r)
  const w = Math.max(...rows.map(([k]) => k.length))
  for (const [k, v] of rows) io.log(`${k.padEnd(w)}  ${v}`)
  for (const e of [...r.setupErrors, ...r.kernelFailures, ...r.integrity.slice(0, 10)]) io.log(`  ! ${e}`)
  const ok = isolationHeld(r)
  io.log("")
  io.log(ok ? "isolation held: every request answered or failed with an error the client saw, none twice; no private word changed behind its owner; no kernel failure"
    : "ISOLATION FAILED (see above)")
  writeFileAtomic(f.html, demoPage(r, r.first, f.clients, demoCommand(f, seed)))
  io.log(`page: ${relative(process.cwd(), f.html) || f.html}`)
  io.log(`rerun: ${demoCommand(f, seed)}`)
  return ok ? 0 : 1
}

export { Pid }
