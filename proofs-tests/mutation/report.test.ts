// The mutation summary: equivalent mutants (by rule or by entry) leave the score, survivors are
// counted by kind and file; the committed equivalent-mutant file is well formed; a sample is drawn per folder and scored with weights.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { expect, it } from "vitest"
import { projectRoot } from "../../harness/paths.ts"
import type { Equivalents, Mutant, Report } from "./report.ts"
import { equivalentsFile, estimates, score, summarize, wilson } from "./report.ts"
import type { SampledMutant } from "./sample.ts"
import { drawSample, mutateRange, sampledKey, stratum } from "./sample.ts"

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

it("an entry with an end column matches only the mutant that ends there, of two that start together", () => {
  const at = (id: string, end: number, status: string): Mutant => ({ ...m(id, "ConditionalExpression", 1, status, "false"), location: { start: { line: 1, column: 5 }, end: { line: 1, column: end } } })
  const rep: Report = { files: { "spec/d.ts": { source: "if (a !== b || c) return s\n", mutants: [at("9", 12, "Survived"), at("10", 17, "Killed")] } } }
  const entry = { file: "spec/d.ts", line: 1, column: 5, mutator: "ConditionalExpression", replacement: "false", reason: "the a !== b test never decides" }
  expect(summarize(rep, { rules: [], mutants: [{ ...entry, endColumn: 12 }] }).byFolder.get("spec")).toEqual({ killed: 1, survived: 0, noCoverage: 0, equivalent: 1, other: 0 })
  // Without it, the entry takes both: the killed one leaves the score too.
  expect(summarize(rep, { rules: [], mutants: [entry] }).byFolder.get("spec")).toEqual({ killed: 0, survived: 0, noCoverage: 0, equivalent: 2, other: 0 })
})

it("a mutant Stryker calls survived with no test completed (the test files did not load) counts as killed, and is listed", () => {
  const loaded = (n: number | undefined): Mutant => ({ ...m("8", "BlockStatement", 1, "Survived", "{}"), ...(n === undefined ? {} : { testsCompleted: n }) })
  const s = summarize({ files: { "spec/c.ts": { source: "const f = () => { return 1 }\n", mutants: [loaded(0), loaded(3), loaded(undefined)] } } }, { rules: [], mutants: [] })
  expect(s.byFolder.get("spec")).toEqual({ killed: 1, survived: 2, noCoverage: 0, equivalent: 0, other: 0 })
  expect(s.killedAtLoad).toEqual(["spec/c.ts:1:1 BlockStatement"])
})

it("the equivalent-mutant file gives a reason for every rule and entry, and its patterns compile", () => {
  const eq = JSON.parse(readFileSync(join(projectRoot, equivalentsFile), "utf8")) as Equivalents
  for (const r of eq.rules) { expect(r.reason.length).toBeGreaterThan(20); expect(() => new RegExp(r.line)).not.toThrow() }
  for (const e of eq.mutants) { expect(e.reason.length).toBeGreaterThan(10); expect(e.file).toMatch(/^(spec|impl)\//) }
})

it("every equivalent entry still sits on its line: the words of its replacement are words of that line", () => {
  // An edit above an entry moves its line and detaches it (its mutant shows as a survivor again, or
  // worse, another mutant of the same kind takes its place): this fails first, naming the entry.
  const eq = JSON.parse(readFileSync(join(projectRoot, equivalentsFile), "utf8")) as Equivalents
  const words = (t: string): string[] => t.match(/[A-Za-z_$][\w$]*|\d+/g) ?? []
  const detached = eq.mutants.filter((e) => {
    const line = readFileSync(join(projectRoot, e.file), "utf8").split("\n")[e.line - 1] ?? ""
    const here = new Set(words(line))
    return words(e.replacement).some((w) => !here.has(w) && !["true", "false", "undefined", "Stryker", "was", "here"].includes(w))
  }).map((e) => `${e.file}:${e.line} ${e.mutator} -> ${e.replacement}`)
  expect(detached).toEqual([])
})

it("a sample draws K mutants per folder, the same for the same seed, and the estimate weighs folders by their mutant counts", () => {
  expect([stratum("impl/object/cnode.ts"), stratum("spec/state.ts"), stratum("spec/invariants/mdb.ts")]).toEqual(["impl/object", "spec/(top)", "spec/invariants"])
  const at = (file: string, line: number): SampledMutant => ({ file, location: { start: { line, column: 4 }, end: { line, column: 9 } }, mutator: "EqualityOperator", replacement: "a <= b" })
  const all = [...Array.from({ length: 30 }, (_, i) => at("impl/object/a.ts", i)), ...Array.from({ length: 3 }, (_, i) => at("spec/b.ts", i))]
  const s = drawSample(all, 5, 7)
  expect(s.population).toEqual({ "impl/object": 30, "spec/(top)": 3 })
  expect(s.mutants.filter((m) => m.file === "impl/object/a.ts")).toHaveLength(5)
  expect(s.mutants.filter((m) => m.file === "spec/b.ts")).toHaveLength(3)
  expect(new Set(s.mutants.map(sampledKey)).size).toBe(8)
  expect(drawSample(all, 5, 7)).toEqual(s)
  expect(drawSample(all, 5, 8).mutants).not.toEqual(s.mutants)
  // Stryker reads `--mutate` lines 1-based, columns as given; its report has 1-based lines and columns.
  expect(mutateRange(at("impl/object/a.ts", 3))).toBe("impl/object/a.ts:4:4-4:9")
  // A report where 4 of the 5 impl mutants drawn are killed and all 3 spec ones survive; an undrawn mutant does not count.
  const drawnImpl = s.mutants.filter((m) => m.file === "impl/object/a.ts")
  const asReported = (m: SampledMutant, status: string): Mutant => ({ id: "x", mutatorName: m.mutator, replacement: m.replacement, status, location: { start: { line: m.location.start.line + 1, column: m.location.start.column + 1 } } })
  const undrawn = all.find((m) => !s.mutants.includes(m))!
  const rep: Report = { files: {
    "impl/object/a.ts": { source: "x\n".repeat(40), mutants: [...drawnImpl.map((m, i) => asReported(m, i === 0 ? "Survived" : "Killed")), asReported(undrawn, "Survived")] },
    "spec/b.ts": { source: "x\n".repeat(5), mutants: s.mutants.filter((m) => m.file === "spec/b.ts").map((m) => asReported(m, "Survived")) },
  } }
  const es = estimates(rep, { rules: [], mutants: [] }, s)
  const get = (f: string) => es.find((e) => e.folder === f)!
  expect(get("impl/object")).toMatchObject({ sampled: 5, scored: 5, score: 80 })
  expect(get("spec/(top)")).toMatchObject({ sampled: 3, score: 0 })
  // All: 30 mutants at 80% and 3 at 0%.
  expect(get("all").score).toBeCloseTo((30 * 80) / 33, 6)
  const [lo, hi] = wilson(4, 5)
  expect(lo).toBeLessThan(80)
  expect(hi).toBeGreaterThan(80)
})
