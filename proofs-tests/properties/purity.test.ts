import { describe, expect, it } from "vitest"
import { defaultBootConfig, messageInfo, InvocationLabel as L } from "../../model/index.ts"
import { boot, step } from "../../spec/index.ts"
import { bootInfo } from "../../spec/kernel/boot.ts"
import { deepFreeze } from "../../harness/lockstep/freeze.ts"

describe("purity guard: spec states are deep-frozen in tests", () => {
  it("a frozen state rejects mutation of its maps, sets and objects", () => {
    const s = deepFreeze(boot(defaultBootConfig))
    expect(() => (s.caps as Map<number, unknown>).set(0, { tag: "NullCap" })).toThrow(/purity/)
    expect(() => (s.isOriginal as Set<number>).add(1)).toThrow(/purity/)
    expect(() => { (s as { curThread: number }).curThread = 0 }).toThrow()
  })
  it("spec steps run on frozen states and leave them unchanged", () => {
    const s = deepFreeze(boot(defaultBootConfig))
    const before = JSON.stringify([...s.caps])
    const s2 = step(s, { tag: "Syscall", syscall: "Call", cptr: bootInfo(defaultBootConfig).untyped.start, msgInfo: messageInfo(L.UntypedRetype, 6, 1), mrs: [2, 0, 0, 0, 100, 3], extraCaps: [2] })
    expect(JSON.stringify([...s.caps])).toBe(before)
    expect(s2.caps.size).toBe(s.caps.size + 3)
  })
})
