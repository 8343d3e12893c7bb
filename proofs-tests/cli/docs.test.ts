import { describe, expect, it } from "vitest"
import { generatedDocs, staleDocs } from "../../cli/docs.ts"
import { abi } from "../../model/abi.ts"
import { invariants } from "../../spec/invariants/index.ts"

describe("kspec docs", () => {
  it("the committed docs/invariants.md and docs/syscalls.md are what `kspec docs` generates", () => {
    expect(staleDocs(), "docs are stale: run `kspec docs`").toEqual([])
  })
  it("generation is deterministic", () => {
    expect([...generatedDocs()]).toEqual([...generatedDocs()])
  })
  it("every invariant and every ABI entry has a section", () => {
    const docs = generatedDocs()
    for (const i of invariants) expect(docs.get("invariants.md")).toContain(`### ${i.name}\n`)
    for (const e of abi) expect(docs.get("syscalls.md")).toContain(`### ${e.kind === "syscall" ? e.libsel4 : e.name}\n`)
  })
})
