/**
 * A seeded random lockstep smoke run: impl and spec from the same boot over the same events; after
 * every step absState(impl) equals the spec state. (The full generators live in proofs-tests/;
 * this is the relation's own quick self-check.)
 */
import { describe, expect, it } from "vitest"
import { Kernel } from "../../impl/index.ts"
import type { Event, SyscallKind } from "../../model/index.ts"
import { defaultBootConfig, messageInfo } from "../../model/index.ts"
import { boot, step, toCanonicalJSON } from "../../spec/index.ts"
import { absState } from "../../harness/relation/abstract.ts"
import { checkImplInvariants } from "../../harness/relation/implInvariants.ts"

/** xorshift32: a tiny deterministic PRNG. */
export const rng = (seed: number) => {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    return x / 2 ** 32
  }
}

export const genEvent = (r: () => number): Event => {
  const int = (n: number) => Math.floor(r() * n)
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!
  const slot = () => (r() < 0.7 ? pick([1, 2, 3, 4, 10, 11, 16, 17, 18, 19, 20, 21]) : int(40))
  const word = () => (r() < 0.5 ? int(40) : int(2 ** 32))
  const syscall: SyscallKind = pick(["Send", "NBSend", "Call", "Call"])
  const depth = () => (r() < 0.85 ? 32 : pick([0, 1, 8, 24, 31, 33, word()]))
  const kind = r()
  if (kind < 0.35) {
    // Untyped_Retype into the root CNode
    const type = r() < 0.9 ? int(11) : word()
    const size = pick([0, 1, 2, 3, 4, 5, 6, 8, 12, int(32)])
    const args = [type, size, slot(), r() < 0.8 ? 0 : depth(), r() < 0.8 ? 20 + int(20) : word(), r() < 0.8 ? 1 + int(3) : word()]
    return { tag: "Syscall", syscall, cptr: r() < 0.8 ? pick([16, 17, 18, 19, 20]) : slot(), msgInfo: messageInfo(r() < 0.95 ? 1 : int(40), r() < 0.9 ? 6 : int(8), r() < 0.95 ? 1 : int(4)), mrs: args, extraCaps: [r() < 0.9 ? 2 : slot()] }
  }
  const label = r() < 0.95 ? 17 + int(9) : int(40)
  // Destination slots avoid the root's own TCB and CNode caps most of the time (deleting them stops the run).
  const target = () => (r() < 0.97 ? 3 + int(37) : slot())
  const args = [target(), depth(), pick([0, 1, 5, 15, word()]), slot(), depth(), pick([0, 15, 3, word()]), slot(), depth()]
  if (label === 20 || label === 21 || label === 23) args[2] = slot(), args[3] = depth()
  if (label === 21) args[4] = pick([15, 3, 7, word()]), args[5] = pick([0, 1, 5, word()])
  return {
    tag: "Syscall", syscall, cptr: r() < 0.9 ? 2 : slot(),
    msgInfo: messageInfo(label, r() < 0.9 ? 8 : int(10), r() < 0.9 ? 2 : int(4)),
    mrs: args, extraCaps: [r() < 0.9 ? 2 : slot(), r() < 0.9 ? 2 : slot()],
  }
}

describe("lockstep smoke", () => {
  it("absState(impl) equals spec and the impl invariants hold after every step (seeded random CNode/Untyped traces)", () => {
    for (let seed = 1; seed <= Number(process.env.KSPEC_SMOKE_SEEDS ?? 150); seed++) {
      const r = rng(seed)
      const k = Kernel.boot(defaultBootConfig)
      let s = boot(defaultBootConfig)
      const trace: Event[] = []
      for (let i = 0; i < 80; i++) {
        const ev = genEvent(r)
        trace.push(ev)
        s = step(s, ev)
        k.step(ev)
        const broken = checkImplInvariants(k)
        if (broken.length > 0) expect({ seed, step: i, trace, broken }).toEqual({ seed, step: i, trace, broken: [] })
        const a = JSON.stringify(toCanonicalJSON(absState(k)))
        const b = JSON.stringify(toCanonicalJSON(s))
        if (a !== b) {
          expect({ seed, step: i, trace, impl: toCanonicalJSON(absState(k)) }).toEqual({ seed, step: i, trace, impl: toCanonicalJSON(s) })
        }
      }
    }
  })
})
