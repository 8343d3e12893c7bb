// The corruption corpus (corruptions.ts): on each pinned one-field corruption of a reachable state,
// the invariants flag exactly what they flagged when the corpus was written, with the same messages. A weakened clause, a
// dropped case or an over-eager check shows as a changed verdict, named with its corruption.
import { describe, expect, it } from "vitest"
import { invariants } from "../../spec/invariants/index.ts"
import { toCanonicalJSON } from "../../spec/index.ts"
import { deepEqual } from "../../harness/lockstep/diff.ts"
import { baseStates, corrupt, loadCorpus, verdict } from "./corruptions.ts"

describe("the corruption corpus", () => {
  const corpus = loadCorpus()
  it(`every invariant flags what it flagged on ${corpus.corruptions.length} corruptions of ${corpus.bases.length} reachable states`, () => {
    const states = baseStates(corpus.bases)
    for (const s of states) expect(verdict(s), "a base state is not valid: the corpus is stale").toEqual([])
    const changed: string[] = []
    corpus.corruptions.forEach((c, i) => {
      const s = corrupt(states[c.base]!, c)
      if (s === undefined) { changed.push(`#${i}: ${c.path.join(".")} is no longer in base state ${c.base} (a stale corpus)`); return }
      const now = verdict(s), then = corpus.verdicts[i]!
      // By name: an invariant that stopped (or started) flagging, or that flags with other messages.
      const names = (vs: readonly string[]) => vs.map((v) => v.split("#")[0]!)
      const lost = names(then.filter((n) => !now.includes(n))), gained = names(now.filter((n) => !then.includes(n)))
      if (lost.length + gained.length > 0) {
        const what = c.op === "drop" ? "dropped" : c.op === "rekey" ? `moved to key ${JSON.stringify(c.value)}` : `set to ${JSON.stringify(c.value)}`
        const other = lost.filter((n) => gained.includes(n))
        const only = (xs: string[]) => xs.filter((n) => !other.includes(n))
        changed.push(`#${i}: ${c.path.join(".")} ${what} in base state ${c.base}:${only(lost).length > 0 ? ` no longer flagged by ${only(lost).join(", ")}` : ""}${only(gained).length > 0 ? ` now flagged by ${only(gained).join(", ")}` : ""}${other.length > 0 ? ` flagged with other messages by ${other.join(", ")}` : ""}`)
      }
    })
    expect(changed.slice(0, 10), `${changed.length} verdicts changed; if intended, rewrite the corpus (npx tsx proofs-tests/invariants/corruptions.ts --write) and read its diff`).toEqual([])
  })
  it("flags most corruptions, and with many invariants", () => {
    const names = new Set(invariants.map((i) => i.name))
    const flagged = new Set(corpus.verdicts.flat().map((v) => v.split("#")[0]!))
    expect([...flagged].filter((n) => !names.has(n))).toEqual([])
    expect(flagged.size).toBeGreaterThan(names.size * 0.7)
    expect(corpus.verdicts.filter((v) => v.length > 0).length).toBeGreaterThan(corpus.corruptions.length / 2)
  })
  it("the canonical form (equality, diffs, trace files) tells every corrupted state from its base state", () => {
    const states = baseStates(corpus.bases)
    const text = (s: Parameters<typeof toCanonicalJSON>[0]): string => JSON.stringify(toCanonicalJSON(s), (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v))
    const canon = states.map(text)
    let compared = 0
    const merged: string[] = []
    corpus.corruptions.forEach((c, i) => {
      const s = corrupt(states[c.base]!, c)!
      if (deepEqual(s, states[c.base]!)) return
      // The canonical form trims trailing zero message registers: dropping one of them is no change.
      if (c.op === "drop" && c.path.includes("mrs")) return
      let j: string
      // A corruption that breaks an object's shape (a Frame tagged PageTable) has no canonical form.
      try { j = text(s) } catch { return }
      compared++
      if (j === canon[c.base]) merged.push(`#${i}: ${c.path.join(".")} ${c.op} ${JSON.stringify(c.value)}`)
    })
    expect(merged.slice(0, 10)).toEqual([])
    expect(compared).toBeGreaterThan(corpus.corruptions.length / 2)
  })
})
