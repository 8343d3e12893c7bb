/**
 * Loading an implementation from a file: a mutant's patched copy of impl/ (its impl/index.ts,
 * written by proofs-tests/mutants/build.ts), as the search's impl under test; or a patched copy
 * of spec/ (its spec/index.ts), the real impl checked against it. Used by the search in this
 * thread and by its workers.
 * @category prove
 */
import { pathToFileURL } from "node:url"
import type { BootConfig, Event } from "../../model/index.ts"
import type { ImplState } from "../../impl/index.ts"
import * as persistent from "../../spec/persistent.ts"
import type { ImplUnderTest, SpecUnderTest } from "../lockstep/runner.ts"
import { realImpl } from "../lockstep/impls.ts"
import { absState } from "../relation/abstract.ts"

/** Where a spec copy's persistent.ts finds the loader's persistent maps (the key proofs-tests/mutants/build.ts writes into its shim). */
const persistentKey = "kspec.mutant.persistent"

/** The layer an entry file patches. */
export type EntryLayer = "impl" | "spec"

/** The `Kernel` of an impl entry file abstracted by the real relation, or the real impl against a spec entry file's spec. */
export const loadImplEntry = async (entry: string, layer: EntryLayer = "impl"): Promise<ImplUnderTest<ImplState>> => {
  // The copy is TypeScript: a bundled kspec needs tsx registered to import it (the sources run under tsx already).
  if (!import.meta.url.endsWith(".ts")) (await import("tsx/esm/api")).register()
  if (layer === "spec") {
    (globalThis as Record<symbol, unknown>)[Symbol.for(persistentKey)] = persistent
    const spec = (await import(pathToFileURL(entry).href)) as SpecUnderTest
    return { ...(realImpl as unknown as ImplUnderTest<ImplState>), spec: { boot: spec.boot, stepWithOutcome: spec.stepWithOutcome } }
  }
  const mod = (await import(pathToFileURL(entry).href)) as { Kernel: { boot(c: BootConfig): ImplState & { step(ev: Event): void } } }
  return { boot: (c) => mod.Kernel.boot(c), step: (k, ev) => (k as ImplState & { step(ev: Event): void }).step(ev), abs: absState }
}
