/**
 * The implementation under test, as the lockstep runner sees it: the real impl, or a mutant
 * built from a patched copy of it.
 */
import type { BootConfig, Event } from "../../model/index.ts"
import { Kernel } from "../../impl/index.ts"
import { absState } from "../relation/abstract.ts"
import { implInvariants } from "../relation/implInvariants.ts"
import type { ImplUnderTest } from "./runner.ts"

/** The impl, abstracted with the state relation's abstraction function. */
export const realImpl: ImplUnderTest<Kernel> = {
  boot: (config: BootConfig) => Kernel.boot(config),
  step: (k: Kernel, ev: Event) => k.step(ev),
  abs: absState,
  implChecks: (k: Kernel) => implInvariants.flatMap((inv) => inv.check(k).map((message) => ({ invariant: inv.name, message }))),
}
