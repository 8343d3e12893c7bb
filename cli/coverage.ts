/**
 * The coverage of a fuzz campaign: how often each (row, outcome) cell was reached, against the
 * cells seL4 makes reachable (proofs-tests/gen/focus.ts `reachableOutcomes`). Renders the
 * matrix, lists the cells never reached and the shortfall against `--min-cover N`, and gives
 * the same report as JSON.
 */
import { errorNames } from "../model/index.ts"
import type { CoverageCounts } from "../harness/gen/focus.ts"
import { coverageRows, reachableOutcomes } from "../harness/gen/focus.ts"

/** Mutable counts per row and outcome. */
export type Coverage = Map<string, Map<string, number>>

/** A flat cell count, as workers send them: [row, outcome, count]. */
export type CellCount = readonly [row: string, outcome: string, count: number]

export const addCell = (c: Coverage, row: string, outcome: string, n = 1): void => {
  let m = c.get(row)
  if (m === undefined) { m = new Map(); c.set(row, m) }
  m.set(outcome, (m.get(outcome) ?? 0) + n)
}

export const addCells = (c: Coverage, cells: readonly CellCount[]): void => {
  for (const [r, o, n] of cells) addCell(c, r, o, n)
}

export const cellList = (c: CoverageCounts): CellCount[] =>
  [...c].flatMap(([r, m]) => [...m].map(([o, n]) => [r, o, n] as const))

export const count = (c: CoverageCounts, row: string, outcome: string): number => c.get(row)?.get(outcome) ?? 0

export const totalSteps = (c: CoverageCounts): number => cellList(c).reduce((a, [, , n]) => a + n, 0)

/** Distinct cells reached. */
export const distinctCells = (c: CoverageCounts): number => cellList(c).filter(([, , n]) => n > 0).length

/** Steps per outcome, over all rows. */
export const outcomeHistogram = (c: CoverageCounts): Record<string, number> => {
  const h: Record<string, number> = {}
  for (const [, o, n] of cellList(c)) h[o] = (h[o] ?? 0) + n
  return h
}

/** Share of steps that took an error path (a syscall error or a cap fault). */
export const errorShare = (c: CoverageCounts): number => {
  const h = outcomeHistogram(c)
  const total = Object.values(h).reduce((a, n) => a + n, 0)
  const errs = Object.entries(h).filter(([o]) => o === "CapFault" || (errorNames as readonly string[]).includes(o)).reduce((a, [, n]) => a + n, 0)
  return total === 0 ? 0 : errs / total
}

/** Reachable cells of `rows` hit fewer than `n` times. */
export const cellsBelow = (c: CoverageCounts, rows: readonly string[], n: number): { row: string; outcome: string; count: number }[] =>
  rows.flatMap((row) => (reachableOutcomes[row] ?? []).map((outcome) => ({ row, outcome, count: count(c, row, outcome) })))
    .filter((x) => x.count < n)

/** Column order: the non-error outcomes first, then seL4's error codes in their numeric order. */
const outcomeOrder = [
  "Success", "Blocked", "Inactive", "Empty", "NoCaller", "NoCaller+Success", "NoCaller+Blocked", "Delivered", "NoHandler", "Idle",
  "CapFault", ...errorNames,
]
const byOutcome = (a: string, b: string): number => {
  const ia = outcomeOrder.indexOf(a)
  const ib = outcomeOrder.indexOf(b)
  return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b)
}
const short = (c: string): string =>
  c.replace("IllegalOperation", "IllegalOp").replace("TruncatedMessage", "Truncated").replace("InvalidArgument", "InvalidArg")
    .replace("InvalidCapability", "InvalidCap").replace("NotEnoughMemory", "NoMemory").replace("AlignmentError", "Alignment")
    .replace("NoCaller+", "NC+").replace("FailedLookup", "Lookup")

/**
 * The matrix of `rows` x outcomes. A cell shows its count; `0` marks a reachable cell never hit,
 * a blank a cell seL4 does not allow, and `!` after a count a cell reached that the reachable
 * table does not list (a gap in that table, or a model bug). Rows seen outside the table follow.
 */
export const renderMatrix = (c: CoverageCounts, rows: readonly string[]): string => {
  const extra = [...c.keys()].filter((r) => !coverageRows.includes(r) && rows.length === coverageRows.length)
  const all = [...rows, ...extra.sort()]
  const cols = new Set<string>()
  for (const r of all) {
    for (const o of reachableOutcomes[r] ?? []) cols.add(o)
    for (const [o, n] of c.get(r) ?? []) if (n > 0) cols.add(o)
  }
  const colList = [...cols].sort(byOutcome)
  const w0 = Math.max(12, ...all.map((r) => r.length))
  const widths = colList.map((o) => Math.max(5, short(o).length))
  const line = (cells: readonly string[]) => cells.map((x, i) => (i === 0 ? x.padEnd(w0) : x.padStart(widths[i - 1]!))).join(" ").trimEnd()
  const out = [line(["row", ...colList.map(short)])]
  for (const r of all) {
    const reach = reachableOutcomes[r] ?? []
    out.push(line([r, ...colList.map((o) => {
      const n = count(c, r, o)
      if (reach.includes(o)) return String(n)
      return n > 0 ? `${n}!` : ""
    })]))
  }
  return out.join("\n")
}

/** The cells never reached, one line per row: `CNode_Copy: RevokeFirst, CapFault`. */
export const renderUnreached = (c: CoverageCounts, rows: readonly string[]): string[] => {
  const by = new Map<string, string[]>()
  for (const x of cellsBelow(c, rows, 1)) by.set(x.row, [...(by.get(x.row) ?? []), x.outcome])
  return [...by].map(([r, os]) => `${r}: ${os.join(", ")}`)
}

export interface CoverageJson {
  readonly steps: number
  readonly reachableCells: number
  readonly reachedCells: number
  readonly rows: readonly { readonly row: string; readonly reachable: readonly string[]; readonly counts: Readonly<Record<string, number>> }[]
  /** Cells reached that the reachable table does not list. */
  readonly unexpected: readonly { readonly row: string; readonly outcome: string; readonly count: number }[]
  readonly unreached: readonly { readonly row: string; readonly outcome: string }[]
}

/** The coverage of `rows` as JSON (the whole step count; rows outside the table go to `unexpected`). */
export const coverageJson = (c: CoverageCounts, rows: readonly string[]): CoverageJson => {
  const reachable = rows.flatMap((r) => (reachableOutcomes[r] ?? []).map((o) => [r, o] as const))
  return {
    steps: totalSteps(c),
    reachableCells: reachable.length,
    reachedCells: reachable.filter(([r, o]) => count(c, r, o) > 0).length,
    rows: rows.map((row) => ({ row, reachable: reachableOutcomes[row] ?? [], counts: Object.fromEntries(c.get(row) ?? []) })),
    unexpected: cellList(c).filter(([r, o, n]) => n > 0 && !(reachableOutcomes[r] ?? []).includes(o))
      .map(([row, outcome, n]) => ({ row, outcome, count: n })),
    unreached: cellsBelow(c, rows, 1).map(({ row, outcome }) => ({ row, outcome })),
  }
}

/** Steps that ended with a thread of a domain running, and with the domain current but nothing to run (index = domain). */
export type DomainCounts = readonly { readonly running: number; readonly idle: number }[]

/** Domains whose threads ran fewer than `n` times (with one domain, none: there is nothing to share). */
export const domainsBelow = (d: DomainCounts, n: number): number[] =>
  d.length <= 1 ? [] : d.flatMap((x, i) => (x.running < n ? [i] : []))

/**
 * The domain table: per domain, the steps that ended with one of its threads running and its
 * share of all such steps, and the steps it was current with only the idle thread to run.
 */
export const renderDomains = (d: DomainCounts): string[] => {
  const running = d.reduce((a, x) => a + x.running, 0)
  const fmt = (n: number) => n.toLocaleString("en-US")
  const rows = d.map((x, i) => [String(i), fmt(x.running), `${(100 * x.running / Math.max(1, running)).toFixed(1)}%`, fmt(x.idle)])
  const head = ["domain", "thread ran", "share", "idle"]
  const widths = head.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j]!.length)))
  const line = (cells: readonly string[]) => cells.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join("  ")
  const never = domainsBelow(d, 1)
  return [
    "steps that ended with a thread of each domain running, and with the domain current but only the idle thread to run:",
    line(head), ...rows.map(line),
    never.length === 0 ? "every domain's threads ran" : `threads never ran in domain${never.length > 1 ? "s" : ""} ${never.join(", ")}`,
  ]
}
