/**
 * Build a mutant: copy model/ and impl/ (for a spec mutant also spec/ and harness/) into
 * `.mutants/<name>@<pid>.<thread>/` (inside the project, so package imports resolve) with the
 * mutant's edit applied, and load its `Kernel` (or, for a spec mutant, the copy's harness). Each
 * process and thread builds into its own directories, so test files running in parallel never rebuild a mutant
 * another is loading; directories of processes that have ended are removed.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { threadId } from "node:worker_threads"
import type { BootConfig, Event } from "../../model/index.ts"
import type { ImplState } from "../../impl/index.ts"
import { absState } from "../../harness/relation/abstract.ts"
import type { ImplUnderTest } from "../../harness/lockstep/runner.ts"
import type { Mutant } from "./mutants.ts"
import { projectRoot } from "../../harness/paths.ts"

const srcDir = projectRoot
const outRoot = resolve(projectRoot, ".mutants")

interface KernelCtor { boot(config: BootConfig): ImplState & { step(ev: Event): void } }

/** Is process `pid` still running? */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** Remove the builds of processes that have ended (and builds from before per-process directories). */
const removeStaleBuilds = (): void => {
  if (!existsSync(outRoot)) return
  for (const d of readdirSync(outRoot)) {
    const pid = Number(d.split("@")[1]?.split(".")[0])
    if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) rmSync(join(outRoot, d), { recursive: true, force: true })
  }
}
removeStaleBuilds()

/**
 * Write the patched copy of `layer` (impl/ by default; spec/ for a spec mutant, copied with the
 * harness that checks it); throws when the search text does not occur exactly once. Returns the
 * copy's impl/index.ts.
 */
export const writeMutant = (m: Mutant, layer: "impl" | "spec" = "impl"): string => {
  const dir = join(outRoot, `${m.name}@${process.pid}.${threadId}`)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  for (const d of layer === "impl" ? ["model", "impl"] : ["model", "spec", "impl", "harness"]) cpSync(join(srcDir, d), join(dir, d), { recursive: true })
  const file = join(dir, layer, m.file)
  const text = readFileSync(file, "utf8")
  const at = text.indexOf(m.search)
  if (at < 0 || text.indexOf(m.search, at + 1) >= 0) {
    throw new Error(`mutant ${m.name}: search text must occur exactly once in ${layer}/${m.file}`)
  }
  writeFileSync(file, text.slice(0, at) + m.replace + text.slice(at + m.search.length))
  return join(dir, "impl", "index.ts")
}

/** The lockstep harness of a copy whose spec is mutated: its campaign and runner check the (real) impl against the patched spec. */
export interface SpecMutantHarness {
  readonly runCampaign: typeof import("../../harness/lockstep/campaign.ts").runCampaign
  readonly runEvents: typeof import("../../harness/lockstep/runner.ts").runEvents
  readonly realImpl: ImplUnderTest<unknown>
}

/** Build a spec mutant and load the copy's harness. */
export const loadSpecMutant = async (m: Mutant): Promise<SpecMutantHarness> => {
  const root = dirname(dirname(writeMutant(m, "spec")))
  const load = async <T>(p: string): Promise<T> => (await import(pathToFileURL(join(root, p)).href)) as T
  const campaign = await load<typeof import("../../harness/lockstep/campaign.ts")>("harness/lockstep/campaign.ts")
  const runner = await load<typeof import("../../harness/lockstep/runner.ts")>("harness/lockstep/runner.ts")
  const impls = await load<typeof import("../../harness/lockstep/impls.ts")>("harness/lockstep/impls.ts")
  return { runCampaign: campaign.runCampaign, runEvents: runner.runEvents, realImpl: impls.realImpl as ImplUnderTest<unknown> }
}

/** The mutant as an implementation under test, abstracted by the real state relation. */
export const loadMutant = async (m: Mutant): Promise<ImplUnderTest<ImplState & { step(ev: Event): void }>> => {
  const entry = writeMutant(m)
  const mod = (await import(pathToFileURL(entry).href)) as { Kernel: KernelCtor }
  return { boot: (c) => mod.Kernel.boot(c), step: (k, ev) => k.step(ev), abs: absState }
}
