/**
 * Build a mutant: copy src/model and src/impl into `.mutants/<name>/` (inside the project, so
 * package imports resolve) with the mutant's edit applied, and load its `Kernel`.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import type { BootConfig, Event } from "../../model/index.ts"
import type { ImplState } from "../../impl/index.ts"
import { absState } from "../relation/abstract.ts"
import type { ImplUnderTest } from "../lockstep/runner.ts"
import type { Mutant } from "./mutants.ts"

const srcDir = resolve(dirname(fileURLToPath(import.meta.url)), "../..")
const outRoot = resolve(srcDir, "../.mutants")

interface KernelCtor { boot(config: BootConfig): ImplState & { step(ev: Event): void } }

/** Write the patched copy; throws when the search text does not occur exactly once. */
export const writeMutant = (m: Mutant): string => {
  const dir = join(outRoot, m.name)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  cpSync(join(srcDir, "model"), join(dir, "model"), { recursive: true })
  cpSync(join(srcDir, "impl"), join(dir, "impl"), { recursive: true })
  const file = join(dir, "impl", m.file)
  const text = readFileSync(file, "utf8")
  const at = text.indexOf(m.search)
  if (at < 0 || text.indexOf(m.search, at + 1) >= 0) {
    throw new Error(`mutant ${m.name}: search text must occur exactly once in src/impl/${m.file}`)
  }
  writeFileSync(file, text.slice(0, at) + m.replace + text.slice(at + m.search.length))
  return join(dir, "impl", "index.ts")
}

/** The mutant as an implementation under test, abstracted by the real state relation. */
export const loadMutant = async (m: Mutant): Promise<ImplUnderTest<ImplState & { step(ev: Event): void }>> => {
  const entry = writeMutant(m)
  const mod = (await import(pathToFileURL(entry).href)) as { Kernel: KernelCtor }
  return { boot: (c) => mod.Kernel.boot(c), step: (k, ev) => k.step(ev), abs: absState }
}
