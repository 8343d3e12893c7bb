// The mutation summary: equivalent mutants (by rule or by entry) leave the score, survivors are
// counted by kind and file; and the committed equivalent-mutant file is well formed.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { expect, it } from "vitest"
import { projectRoot } from "../../harness/paths.ts"
import type { Equivalents, Mutant, Report } from "./report.ts"
import { equivalentsFile, score, summarize } from "./report.ts"

const m = (id: string, mutatorName: string, line: number, status: string, replacement = "x"): Mutant =>
  ({ id, mutatorName, replacement, status, location: { start: { line, column: 1 } } })

const report: Report = {
  files: {
    "impl/a.ts": {
      source: 'if (q === null) throw new KernelBug("q")\nx = y + 1\nz = { head: null }\n',
      mutants: [m("1", "StringLiteral", 1, "NoCoverage"), m("2", "ConditionalExpression", 1, "Survived", "false"), m("3", "ArithmeticOperator", 2, "Killed"),
        m("4", "ObjectLiteral", 3, "Survived", "{}"), m("5", "ArithmeticOperator", 2, "Survived")],
    },
    "spec/b.ts": { source: "return a\n", mutants: [m("6", "BlockStatement", 1, "Timeout"), m("7", "BlockStatement", 1, "NoCoverage")] },
  },
}

it("leaves equivalent mutants out of the score and counts the survivors by kind and file", () => {
  const eq = JSON.parse(readFileSync(join(projectRoot, equivalentsFile), "utf8")) as Equivalents
  const withEntry: Equivalents = { ...eq, mutants: [{ file: "impl/a.ts", line: 3, mutator: "ObjectLiteral", replacement: "{}", reason: "overwritten before use" }] }
  const s = summarize(report, withEntry)
  expect(s.byFolder.get("impl")).toEqual({ killed: 1, survived: 1, noCoverage: 0, equivalent: 3, other: 0 })
  expect(s.byFolder.get("spec")).toEqual({ killed: 1, survived: 0, noCoverage: 1, equivalent: 0, other: 0 })
  expect(score(s.byFolder.get("all")!)).toBe(50)
  expect([...s.survivorsByKind]).toEqual([["ArithmeticOperator", 1], ["BlockStatement", 1]])
  expect(s.survivors[0]).toMatch(/^impl\/a.ts:2:1 ArithmeticOperator: x = y \+ 1/)
})

it("the equivalent-mutant file gives a reason for every rule and entry, and its patterns compile", () => {
  const eq = JSON.parse(readFileSync(join(projectRoot, equivalentsFile), "utf8")) as Equivalents
  for (const r of eq.rules) { expect(r.reason.length).toBeGreaterThan(20); expect(() => new RegExp(r.line)).not.toThrow() }
  for (const e of eq.mutants) { expect(e.reason.length).toBeGreaterThan(10); expect(e.file).toMatch(/^(spec|impl)\//) }
})
