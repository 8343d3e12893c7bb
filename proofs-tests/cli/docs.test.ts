import { describe, expect, it } from "vitest"
import { generatedDocs, staleDocs } from "../../cli/docs.ts"
import { abi } from "../../model/abi.ts"
import { invariants } from "../../spec/invariants/index.ts"
import { builtinSystems } from "../../harness/security/system.ts"
import { mutants } from "../mutants/mutants.ts"

describe("kspec docs", () => {
  it("the committed docs/invariants.md and docs/syscalls.md are what `kspec docs` generates", () => {
    expect(staleDocs(), "docs are stale: run `kspec docs`").toEqual([])
  })
  it("generation is deterministic", () => {
    expect([...generatedDocs()]).toEqual([...generatedDocs()])
  })
  it("docs/security.md's tables name every built-in system and every security mutant, with its check", () => {
    const text = generatedDocs().get("security.md")!
    for (const name of builtinSystems) expect(text).toContain(`| \`${name}\` |`)
    for (const m of mutants.filter((x) => x.securityCheck !== undefined)) expect(text).toContain(`| \`${m.name}\` | ${m.breaks} | \`${m.securityCheck}\` |`)
  })
  it("every invariant and every ABI entry has a section", () => {
    const docs = generatedDocs()
    for (const i of invariants) expect(docs.get("invariants.md")).toContain(`### ${i.name}\n`)
    for (const e of abi) expect(docs.get("syscalls.md")).toContain(`### ${e.kind === "syscall" ? e.libsel4 : e.name}\n`)
  })
})
