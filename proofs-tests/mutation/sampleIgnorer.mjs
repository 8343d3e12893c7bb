// A Stryker ignorer plugin for `npm run mutation -- --sample K`: ignores every syntax node that is not
// a sampled mutant's node or an ancestor of one (KSPEC_MUTATION_SAMPLE names the sample file, see
// sample.ts), so Stryker tests the sampled mutants and the few others on the same nodes, and no more.
import { readFileSync } from "node:fs"
import { relative } from "node:path"
import { PluginKind, declareValuePlugin } from "@stryker-mutator/api/plugin"

const file = process.env.KSPEC_MUTATION_SAMPLE
const byFile = new Map()
if (file !== undefined) {
  for (const m of JSON.parse(readFileSync(file, "utf8")).mutants) {
    // Stryker's mutant locations have 0-based lines; Babel's nodes have 1-based ones.
    const loc = { start: { line: m.location.start.line + 1, column: m.location.start.column }, end: { line: m.location.end.line + 1, column: m.location.end.column } }
    const xs = byFile.get(m.file) ?? []
    xs.push(loc)
    byFile.set(m.file, xs)
  }
}
const before = (a, b) => a.line < b.line || (a.line === b.line && a.column <= b.column)
const inside = (outer, inner) => before(outer.start, inner.start) && before(inner.end, outer.end)

export const strykerPlugins = [
  declareValuePlugin(PluginKind.Ignore, "sample", {
    shouldIgnore(path) {
      const name = path.hub?.file?.opts?.filename
      const loc = path.node.loc
      if (name === undefined || loc == null) return undefined
      const locs = byFile.get(relative(process.cwd(), name)) ?? byFile.get(name)
      return locs?.some((l) => inside(loc, l)) ? undefined : "not in the sample (npm run mutation -- --sample)"
    },
  }),
]
