/**
 * Build a mutant: copy model/ and the mutant's layers (impl/, spec/ or both) into
 * `.mutants/<name>@<pid>.<thread>/` (inside the project, so package imports resolve) with the
 * mutant's edits applied, and load its `Kernel` (a patched impl), its `boot` and
 * `stepWithOutcome` (a patched spec, checked against the impl), or both (a security mutant: the
 * same bug in both layers). A spec copy's persistent.ts
 * hands on the loader's own persistent-map classes, so its maps are the harness's `PMap`s (from
 * the sources and from the kspec bundle alike). Each
 * process and thread builds into its own directories, so test files running in parallel never rebuild a mutant
 * another is loading; directories of processes that have ended are removed.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { threadId } from "node:worker_threads"
import type { BootConfig, Event } from "../../model/index.ts"
import type { ImplState } from "../../impl/index.ts"
import { absState } from "../../harness/relation/abstract.ts"
import * as persistent from "../../spec/persistent.ts"
import type { ImplUnderTest, SpecUnderTest } from "../../harness/lockstep/runner.ts"
import { realImpl } from "../../harness/lockstep/impls.ts"
import type { Mutant } from "./mutants.ts"
import { mutantEdits } from "./mutants.ts"
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

/** Where a spec mutant's persistent.ts finds the loader's persistent-map module. */
const persistentKey = "kspec.mutant.persistent"

/** The layers a mutant patches: impl/ (the default), spec/, or both (a security mutant). */
export const mutantLayer = (m: Mutant): "impl" | "spec" | "both" => {
  const layers = new Set(mutantEdits(m).map((e) => e.layer))
  return layers.size > 1 ? "both" : layers.has("spec") ? "spec" : "impl"
}

/** A written mutant: the entry (index.ts) of each patched layer. */
export interface MutantBuild {
  readonly impl?: string
  readonly spec?: string
}

/**
 * Write the patched copy and return its layers' entries (impl/index.ts, spec/index.ts); throws
 * when a search text does not occur exactly once.
 */
export const writeMutant = (m: Mutant): MutantBuild => {
  const edits = mutantEdits(m)
  const layers = [...new Set(edits.map((e) => e.layer))]
  const dir = join(outRoot, `${m.name}@${process.pid}.${threadId}`)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  cpSync(join(srcDir, "model"), join(dir, "model"), { recursive: true })
  for (const layer of layers) cpSync(join(srcDir, layer), join(dir, layer), { recursive: true })
  if (layers.includes("spec")) {
    const shim = [`const m = (globalThis as Record<symbol, Record<string, unknown>>)[Symbol.for(${JSON.stringify(persistentKey)})]!`,
      ...Object.keys(persistent).map((name) => `export const ${name} = m[${JSON.stringify(name)}]`)]
    writeFileSync(join(dir, "spec", "persistent.ts"), shim.join("\n") + "\n")
  }
  for (const e of edits) {
    const file = join(dir, e.layer, e.file)
    const text = readFileSync(file, "utf8")
    const at = text.indexOf(e.search)
    if (at < 0 || text.indexOf(e.search, at + 1) >= 0) {
      throw new Error(`mutant ${m.name}: search text must occur exactly once in ${e.layer}/${e.file}`)
    }
    writeFileSync(file, text.slice(0, at) + e.replace + text.slice(at + e.search.length))
  }
  return Object.fromEntries(layers.map((l) => [l, join(dir, l, "index.ts")])) as MutantBuild
}

/**
 * The implementation under test for a written mutant: a patched impl against the real spec, the
 * real impl against a patched spec, or a patched impl against a patched spec.
 */
export const importMutant = async (build: MutantBuild): Promise<ImplUnderTest<ImplState & { step(ev: Event): void }>> => {
  let specUnderTest: SpecUnderTest | undefined
  if (build.spec !== undefined) {
    (globalThis as Record<symbol, unknown>)[Symbol.for(persistentKey)] = persistent
    const spec = (await import(pathToFileURL(build.spec).href)) as SpecUnderTest
    specUnderTest = { boot: spec.boot, stepWithOutcome: spec.stepWithOutcome }
  }
  if (build.impl === undefined) return { ...realImpl, spec: specUnderTest! }
  const mod = (await import(pathToFileURL(build.impl).href)) as { Kernel: KernelCtor }
  // The relation's own absState (not a wrapper), so the runner checks mutants incrementally too.
  const impl: ImplUnderTest<ImplState & { step(ev: Event): void }> = { boot: (c) => mod.Kernel.boot(c), step: (k, ev) => k.step(ev), abs: absState }
  return specUnderTest === undefined ? impl : { ...impl, spec: specUnderTest }
}

/** The mutant as an implementation under test, abstracted by the real state relation. */
export const loadMutant = (m: Mutant): Promise<ImplUnderTest<ImplState & { step(ev: Event): void }>> => importMutant(writeMutant(m))
