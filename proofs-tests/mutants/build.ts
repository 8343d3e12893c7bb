/**
 * Build a mutant: copy model/ and the mutant's layer (impl/ or spec/) into
 * `.mutants/<name>@<pid>.<thread>/` (inside the project, so package imports resolve) with the
 * mutant's edit applied, and load its `Kernel` (an impl mutant) or its `boot` and
 * `stepWithOutcome` (a spec mutant, checked against the real impl). A spec copy's persistent.ts
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

/** The layer a mutant patches: impl/ (the default) or spec/. */
export const mutantLayer = (m: Mutant): "impl" | "spec" => m.layer ?? "impl"

/**
 * Write the patched copy and return its layer's entry (impl/index.ts or spec/index.ts); throws
 * when the search text does not occur exactly once.
 */
export const writeMutant = (m: Mutant): string => {
  const layer = mutantLayer(m)
  const dir = join(outRoot, `${m.name}@${process.pid}.${threadId}`)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  cpSync(join(srcDir, "model"), join(dir, "model"), { recursive: true })
  cpSync(join(srcDir, layer), join(dir, layer), { recursive: true })
  if (layer === "spec") {
    const shim = [`const m = (globalThis as Record<symbol, Record<string, unknown>>)[Symbol.for(${JSON.stringify(persistentKey)})]!`,
      ...Object.keys(persistent).map((name) => `export const ${name} = m[${JSON.stringify(name)}]`)]
    writeFileSync(join(dir, "spec", "persistent.ts"), shim.join("\n") + "\n")
  }
  const file = join(dir, layer, m.file)
  const text = readFileSync(file, "utf8")
  const at = text.indexOf(m.search)
  if (at < 0 || text.indexOf(m.search, at + 1) >= 0) {
    throw new Error(`mutant ${m.name}: search text must occur exactly once in ${layer}/${m.file}`)
  }
  writeFileSync(file, text.slice(0, at) + m.replace + text.slice(at + m.search.length))
  return join(dir, layer, "index.ts")
}

/** The implementation under test for a written mutant's entry: a patched impl, or the real impl against a patched spec. */
export const importMutant = async (layer: "impl" | "spec", entry: string): Promise<ImplUnderTest<ImplState & { step(ev: Event): void }>> => {
  if (layer === "spec") {
    (globalThis as Record<symbol, unknown>)[Symbol.for(persistentKey)] = persistent
    const spec = (await import(pathToFileURL(entry).href)) as SpecUnderTest
    return { ...realImpl, spec: { boot: spec.boot, stepWithOutcome: spec.stepWithOutcome } }
  }
  const mod = (await import(pathToFileURL(entry).href)) as { Kernel: KernelCtor }
  // The relation's own absState (not a wrapper), so the runner checks mutants incrementally too.
  return { boot: (c) => mod.Kernel.boot(c), step: (k, ev) => k.step(ev), abs: absState }
}

/** The mutant as an implementation under test, abstracted by the real state relation. */
export const loadMutant = (m: Mutant): Promise<ImplUnderTest<ImplState & { step(ev: Event): void }>> =>
  importMutant(mutantLayer(m), writeMutant(m))
