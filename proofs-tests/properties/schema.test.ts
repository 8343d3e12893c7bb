import { describe, expect, it } from "vitest"
import fc from "fast-check"
import { Schema } from "effect"
import { EventSchema, decodeBootConfig, decodeTraceFile, defaultBootConfig } from "../../model/index.ts"
import { boot } from "../../spec/index.ts"
import { resolveChoice, traceArb } from "../../harness/gen/choices.ts"

describe("untrusted input is decoded with Effect Schema", () => {
  it("every generated event is a valid Event", () => {
    const s = boot(defaultBootConfig)
    for (const trace of fc.sample(traceArb(30), { numRuns: 20, seed: 1 })) {
      for (const c of trace) expect(Schema.is(EventSchema)(resolveChoice(s, c))).toBe(true)
    }
  })
  it("rejects bad JSON, wrong shapes, unknown syscalls and other versions with one clear message", () => {
    const bad = (text: string, pattern: RegExp) => {
      const d = decodeTraceFile(text)
      expect(d.ok).toBe(false)
      if (!d.ok) expect(d.message).toMatch(pattern)
    }
    bad("{nope", /not valid JSON/)
    bad(JSON.stringify({ kspec: "trace", version: 7, config: defaultBootConfig, events: [] }), /version 7 is not supported/)
    const ev = { tag: "Syscall", syscall: "Recv2", cptr: 1, msgInfo: 0, mrs: [], extraCaps: [] }
    bad(JSON.stringify({ kspec: "trace", version: 2, config: defaultBootConfig, events: [ev] }), /Send.*NBSend.*Call/)
    bad(JSON.stringify({ kspec: "trace", version: 2, config: defaultBootConfig, events: [{ ...ev, syscall: "Send", cptr: -1 }] }), /32-bit word/)
  })
  it("rejects overlapping or kernel-reserved memory in boot configs", () => {
    expect(decodeBootConfig({ ...defaultBootConfig, memory: [{ base: 0x2000_0000, size: 0x2000, isDevice: false }, { base: 0x2000_1000, size: 0x1000, isDevice: false }] }).ok).toBe(false)
    expect(decodeBootConfig({ ...defaultBootConfig, memory: [{ base: 0x100, size: 0x1000, isDevice: false }] }).ok).toBe(false)
    expect(decodeBootConfig(defaultBootConfig).ok).toBe(true)
  })
})
