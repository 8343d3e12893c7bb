import { describe, expect, it } from "vitest"
import { Kernel } from "../../impl/index.ts"
import type { BootConfig } from "../../model/index.ts"
import { defaultBootConfig } from "../../model/index.ts"
import { boot } from "../../spec/kernel/boot.ts"
import type { KObject, KernelState } from "../../spec/state.ts"
import { absState } from "../../harness/relation/abstract.ts"
import { domainsBootConfig } from "../../harness/configs.ts"

/** A plain view of a state with every Map/Set as entries sorted by key, for deep equality. */
const canon = (s: KernelState): unknown => {
  const sortMap = <V>(m: ReadonlyMap<number, V>) => [...m.entries()].sort((a, b) => a[0] - b[0])
  // Page tables, directories, ASID pools and frames hold maps of their own.
  const obj = (o: KObject): unknown =>
    o.tag === "PageDirectory" ? { ...o, pdes: sortMap(o.pdes), kernelPDEs: sortMap(o.kernelPDEs) } : o.tag === "PageTable" ? { ...o, ptes: sortMap(o.ptes) }
      : o.tag === "ASIDPool" ? { ...o, pool: sortMap(o.pool) } : o.tag === "Frame" ? { ...o, words: sortMap(o.words) } : o
  return {
    ...s,
    kheap: sortMap(s.kheap).map(([p, o]) => [p, obj(o)]),
    armASIDTable: sortMap(s.armASIDTable),
    caps: sortMap(s.caps),
    cdt: sortMap(s.cdt),
    cdtList: sortMap(s.cdtList),
    isOriginal: [...s.isOriginal].sort((a, b) => a - b),
    readyQueues: sortMap(s.readyQueues),
  }
}

const configs: readonly [string, BootConfig][] = [
  ["default", defaultBootConfig],
  ["small CNode, one region", { rootCNodeBits: 5, memory: [{ base: 0x2000_0000, size: 0x1000, isDevice: false }], numIRQs: 4, numDomains: 1 }],
  ["many blocks overflow the CNode", {
    rootCNodeBits: 5,
    memory: [{ base: 0x2000_0010, size: 0x12345, isDevice: false }, { base: 0x3000_0000, size: 0x10, isDevice: true }],
    numIRQs: 16, numDomains: 2,
  }],
  // A region whose start and end are not 16-byte aligned: the pieces below the smallest untyped
  // (16 bytes) at either end become no untyped, with room in the CNode for them if they did.
  ["a region with pieces below 16 bytes at both ends", {
    rootCNodeBits: 12, memory: [{ base: 0x2000_0008, size: 0x1_0000 + 4, isDevice: false }], numIRQs: 4, numDomains: 1,
  }],
  ["large CNode", { rootCNodeBits: 12, memory: [{ base: 0x2000_0000, size: 0x40_0000, isDevice: false }], numIRQs: 16, numDomains: 1 }],
  ["three domains under a static schedule", domainsBootConfig],
  ["a schedule starting in domain 2 with a long entry", {
    ...defaultBootConfig, numDomains: 3, numDomainSchedules: 3, domainSchedule: [{ domain: 2, length: 1 }, { domain: 0, length: 2 ** 40 }],
  }],
]

describe("boot corres", () => {
  for (const [name, config] of configs) {
    it(`absState(Kernel.boot(config)) equals spec boot(config): ${name}`, () => {
      expect(canon(absState(Kernel.boot(config)))).toEqual(canon(boot(config)))
    })
  }
})
