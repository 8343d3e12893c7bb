/**
 * Loading an implementation from a file: a mutant's patched copy of impl/ (its impl/index.ts,
 * written by proofs-tests/mutants/build.ts), as the search's impl under test. Used by the search
 * in this thread and by its workers.
 * @category prove
 */
import { pathToFileURL } from "node:url"
import type { BootConfig, Event } from "../../model/index.ts"
import type { ImplState } from "../../impl/index.ts"
import type { ImplUnderTest } from "../lockstep/runner.ts"
import { absState } from "../relation/abstract.ts"

/** The `Kernel` of the impl entry file, abstracted by the real relation. */
export const loadImplEntry = async (entry: string): Promise<ImplUnderTest<ImplState>> => {
  // The copy is TypeScript: a bundled kspec needs tsx registered to import it (the sources run under tsx already).
  if (!import.meta.url.endsWith(".ts")) (await import("tsx/esm/api")).register()
  const mod = (await import(pathToFileURL(entry).href)) as { Kernel: { boot(c: BootConfig): ImplState & { step(ev: Event): void } } }
  return { boot: (c) => mod.Kernel.boot(c), step: (k, ev) => (k as ImplState & { step(ev: Event): void }).step(ev), abs: absState }
}
