/**
 * Reachable (spec, impl) state pairs of a scope for the prove tests: the first `levels` levels of
 * a breadth-first walk of the scope's alphabet (no deduplication), at most `max` pairs.
 */
import type { Event } from "../../model/index.ts"
import { Kernel } from "../../impl/index.ts"
import type { KernelState } from "../../spec/index.ts"
import { stepWithOutcome } from "../../spec/index.ts"
import { alphabet } from "../../harness/prove/alphabet.ts"
import { cloneKernel } from "../../harness/prove/clone.ts"
import { buildScope, resolveScope } from "../../harness/prove/scope.ts"

export interface Sample { readonly spec: KernelState; readonly impl: Kernel; readonly path: readonly Event[] }

export const sampleStates = (scopeName: string, levels: number, max: number): Sample[] => {
  const scope = buildScope(resolveScope(scopeName))
  const k0 = Kernel.boot(scope.config)
  for (const e of scope.setup) k0.step(e)
  const irqs = scope.spec.irqs.map((q) => q.irq)
  const out: Sample[] = [{ spec: scope.initial, impl: k0, path: [] }]
  let level: Sample[] = out.slice()
  for (let d = 0; d < levels && out.length < max; d++) {
    const next: Sample[] = []
    for (const n of level) {
      for (const e of alphabet(n.spec, scope.spec.alphabet, irqs)) {
        if (out.length >= max) break
        const k = cloneKernel(n.impl)
        k.step(e)
        const m = { spec: stepWithOutcome(n.spec, e).state, impl: k, path: [...n.path, e] }
        out.push(m)
        next.push(m)
      }
    }
    level = next
  }
  return out
}
