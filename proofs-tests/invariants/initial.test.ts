import { describe, expect, it } from "vitest"
import type { BootConfig } from "../../model/index.ts"
import { defaultBootConfig } from "../../model/index.ts"
import { checkAll, invariants, invs, leaves, validMdb, validPspace, validState } from "../../spec/invariants/index.ts"
import { boot } from "../../spec/kernel/boot.ts"
import { domainsBootConfig } from "../../harness/configs.ts"

const configs: readonly { readonly name: string; readonly config: BootConfig }[] = [
  { name: "default", config: defaultBootConfig },
  { name: "rootCNodeBits 5", config: { ...defaultBootConfig, rootCNodeBits: 5 } },
  { name: "one IRQ line (a radix-0 IRQ node)", config: { ...defaultBootConfig, numIRQs: 1 } },
  { name: "256 IRQ lines, 16 domains", config: { ...defaultBootConfig, numIRQs: 256, numDomains: 16 } },
  { name: "three domains under a static schedule", config: domainsBootConfig },
  {
    name: "a schedule starting in domain 2, one entry short of a full table",
    config: { ...defaultBootConfig, numDomains: 3, numDomainSchedules: 3, domainSchedule: [{ domain: 2, length: 1 }, { domain: 0, length: 2 ** 40 }] },
  },
  {
    name: "several RAM and device regions",
    config: {
      rootCNodeBits: 10,
      numIRQs: 64,
      numDomains: 4,
      memory: [
        { base: 0x1000_0000, size: 0x40_0000, isDevice: false },
        { base: 0x2000_1000, size: 0x1_2340, isDevice: false },
        { base: 0x3000_0000, size: 0x1_0000, isDevice: true },
        { base: 0x3100_0000, size: 0x100_0000, isDevice: true },
        { base: 0x5000_0000, size: 0x3000, isDevice: false },
        { base: 0x6000_0000, size: 0x2000_0000, isDevice: false },
      ],
    },
  },
]

for (const { name: configName, config } of configs) {
  describe(`boot(${configName})`, () => {
    const s = boot(config)
    for (const inv of invariants) {
      it(`initial state satisfies ${inv.name}`, () => {
        expect(inv.check(s)).toEqual([])
      })
    }
  })
}

describe("layers", () => {
  it("invs reaches every registered invariant, each once", () => {
    expect(leaves(invs).map((i) => i.name)).toEqual(invariants.map((i) => i.name))
  })
  it("the initial state satisfies invs (checkAll is empty)", () => {
    for (const { config } of configs) expect(checkAll(boot(config))).toEqual([])
  })
  it("each layer's violations are its members' violations", () => {
    const s = { ...boot(defaultBootConfig), curThread: 0 }
    expect(validPspace.check(s)).toEqual([])
    expect(validMdb.check(s)).toEqual([])
    expect(validState.check(s)).toEqual([])
    expect(invs.check(s).map((v) => v.invariant)).toContain("cur_tcb")
  })
})
