/**
 * The page `kspec security --html FILE` writes: for each system checked, its summary, the policy
 * graph and the authority graph extracted from the final state of its campaign, each a
 * hand-written inline SVG (no script, no request: the page is one self-contained file), with every
 * authority edge outside the policy drawn in red and listed with the state that confers it.
 *
 * Nodes are the labels, on a circle; an arrow from A to B carries every auth A has over B. Not
 * drawn: a label's authority over itself, and the root task's Control and ASID-pool edges to every
 * label it built (the policy grants them; the root is suspended for good).
 */
import type { KernelState } from "../spec/index.ts"
import { stateAuthority } from "../harness/security/extract.ts"
import type { AuthorityEdge } from "../harness/security/extract.ts"
import type { Auth, Label } from "../harness/security/policy.ts"
import { auths } from "../harness/security/policy.ts"
import type { SecurityReport } from "../harness/security/campaign.ts"
import { describeSecurityFailure, securityChecks } from "../harness/security/campaign.ts"
import type { LabelledSystem } from "../harness/security/system.ts"
import { rootLabel } from "../harness/security/system.ts"

const esc = (s: string): string => s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll("\"", "&quot;")
const short: Readonly<Record<Auth, string>> = {
  Control: "Control", Receive: "Receive", SyncSend: "SyncSend", Notify: "Notify", Reset: "Reset", Grant: "Grant", Call: "Call",
  Reply: "Reply", Write: "Write", Read: "Read", DeleteDerived: "DeleteDerived", ASIDPoolMapsASID: "ASIDPoolMapsASID",
}

/** One arrow: every auth `from` has over `to`, and which of them the policy does not hold. */
export interface GraphEdge {
  readonly from: Label
  readonly to: Label
  readonly auths: readonly Auth[]
  readonly outside: readonly Auth[]
}

/** Edges between distinct labels, one per ordered pair, the root's own edges left out unless outside the policy. */
export const graphEdges = (edges: readonly { from: Label; auth: Auth; to: Label }[], inPolicy: (e: { from: Label; auth: Auth; to: Label }) => boolean): GraphEdge[] => {
  const by = new Map<string, { from: Label; to: Label; auths: Set<Auth>; outside: Set<Auth> }>()
  for (const e of edges) {
    if (e.from === e.to) continue
    const out = !inPolicy(e)
    if (e.from === rootLabel && !out) continue
    const k = `${e.from}\u0000${e.to}`
    let g = by.get(k)
    if (g === undefined) { g = { from: e.from, to: e.to, auths: new Set(), outside: new Set() }; by.set(k, g) }
    g.auths.add(e.auth)
    if (out) g.outside.add(e.auth)
  }
  const order = (xs: Set<Auth>) => auths.filter((a) => xs.has(a))
  return [...by.values()].map((g) => ({ from: g.from, to: g.to, auths: order(g.auths), outside: order(g.outside) }))
    .sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to))
}

/** A hand-written SVG of a labelled graph: labels on a circle, arrows with their auths, edges outside the policy in red. */
export const graphSvg = (title: string, labels: readonly Label[], edges: readonly GraphEdge[], partitions: readonly Label[]): string => {
  const n = Math.max(1, labels.length)
  const r = n <= 2 ? 150 : 130 + 30 * n
  const w = 2 * r + 320
  const h = 2 * r + 160
  const cx = w / 2
  const cy = h / 2
  const pos = new Map(labels.map((l, i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / n
    return [l, { x: cx + r * Math.cos(a), y: cy + r * Math.sin(a) }] as const
  }))
  const f = (x: number) => x.toFixed(1)
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${f(w)} ${f(h)}" width="${f(w)}" height="${f(h)}" role="img" aria-label="${esc(title)}">`,
    "<defs>",
    `<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#445"/></marker>`,
    `<marker id="arrow-out" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#c00"/></marker>`,
    "</defs>",
    `<text class="title" x="12" y="22">${esc(title)}</text>`,
  ]
  const boxW = (l: Label) => 16 + 8.5 * l.length
  for (const e of edges) {
    const a = pos.get(e.from)
    const b = pos.get(e.to)
    if (a === undefined || b === undefined) continue
    // A pair with arrows both ways bends each to its own side.
    const dx = b.x - a.x
    const dy = b.y - a.y
    const len = Math.max(1, Math.hypot(dx, dy))
    const bend = edges.some((x) => x.from === e.to && x.to === e.from) ? 40 : 0
    const nx = -dy / len
    const ny = dx / len
    const mx = (a.x + b.x) / 2 + nx * bend
    const my = (a.y + b.y) / 2 + ny * bend
    // Start and end at the boxes' edges (approximately: a circle around each box).
    const ra = Math.min(len / 3, boxW(e.from) / 2 + 6)
    const rb = Math.min(len / 3, boxW(e.to) / 2 + 8)
    const ux0 = mx - a.x, uy0 = my - a.y, l0 = Math.max(1, Math.hypot(ux0, uy0))
    const ux1 = mx - b.x, uy1 = my - b.y, l1 = Math.max(1, Math.hypot(ux1, uy1))
    const x0 = a.x + (ux0 / l0) * ra, y0 = a.y + (uy0 / l0) * ra
    const x1 = b.x + (ux1 / l1) * rb, y1 = b.y + (uy1 / l1) * rb
    const out = e.outside.length > 0
    const tx = mx + nx * 10
    const ty = my + ny * 10
    const lines = [...e.auths.filter((x) => !e.outside.includes(x)).map((x) => ({ t: short[x], out: false })), ...e.outside.map((x) => ({ t: short[x], out: true }))]
    parts.push(
      `<g class="edge${out ? " outside" : ""}" data-from="${esc(e.from)}" data-to="${esc(e.to)}" data-auths="${esc(e.auths.join(" "))}" data-outside="${esc(e.outside.join(" "))}">`,
      `<path d="M${f(x0)},${f(y0)} Q${f(mx)},${f(my)} ${f(x1)},${f(y1)}" marker-end="url(#${out ? "arrow-out" : "arrow"})"/>`,
      `<text x="${f(tx)}" y="${f(ty - 6 * (lines.length - 1))}">${lines.map((x, i) => `<tspan x="${f(tx)}" dy="${i === 0 ? 0 : 12}"${x.out ? " class=\"out\"" : ""}>${esc(x.t)}</tspan>`).join("")}</text>`,
      "</g>",
    )
  }
  for (const l of labels) {
    const p = pos.get(l)!
    const bw = boxW(l)
    const kind = l === rootLabel ? "root" : partitions.includes(l) ? "partition" : "object"
    parts.push(`<g class="node ${kind}" data-label="${esc(l)}"><rect x="${f(p.x - bw / 2)}" y="${f(p.y - 14)}" width="${f(bw)}" height="28" rx="6"/><text x="${f(p.x)}" y="${f(p.y + 5)}">${esc(l)}</text></g>`)
  }
  parts.push("</svg>")
  return parts.join("\n")
}

/** One system's results, for the page. */
export interface PageSection {
  readonly system: LabelledSystem
  readonly report: SecurityReport
  /** The state the authority graph is drawn from (default: the report's final state). */
  readonly final?: KernelState
}

const us = (ms: number, n: number) => (n === 0 ? "-" : String(Math.round((1000 * ms) / n)))

const section = (p: PageSection, i: number): string => {
  const sys = p.system
  const r = p.report
  const labels = sys.labels.all().filter((l) => l !== rootLabel)
  const policy = graphEdges(sys.policy.edges, () => true)
  const extracted = [...stateAuthority(p.final ?? r.final, sys.labels).values()]
  const outside = extracted.filter((e) => !sys.policy.hasEdge(e))
  const authority = graphEdges(extracted, (e) => sys.policy.has(e.from, e.auth, e.to))
  const withRoot = outside.some((e) => e.from === rootLabel || e.to === rootLabel) ? [...labels, rootLabel] : labels
  const rows = securityChecks.map((c) => {
    const s = r.stats.checks[c]
    const failed = r.failure !== null && r.failure.check === c
    return `<tr class="${failed ? "failed" : "ok"}"><td>${c}</td><td>${s.steps}</td><td>${s.implSteps}</td><td>${c === "nonleakage" ? `${s.pairs} / ${s.implPairs}` : "-"}</td><td>${us(s.ms, s.steps)}</td><td>${us(s.implMs, s.implSteps)}</td><td>${failed ? "FAILED" : "held"}</td></tr>`
  })
  return [
    `<section class="system" id="system-${i}" data-system="${esc(sys.name)}" data-outside="${outside.length}">`,
    `<h2>${esc(sys.name)}</h2>`,
    `<p>${esc(sys.summary)}</p>`,
    `<p>${r.stats.traces} traces, ${r.stats.steps} steps after set-up (seed ${r.seed}); partitions: ${sys.partitions.map((l) => `${esc(l)} (domain ${sys.file.partitions.find((x) => x.label === l)!.domain})`).join(", ")}.</p>`,
    "<table class=\"checks\"><thead><tr><th>check</th><th>steps (spec)</th><th>steps (impl)</th><th>pairs (spec / impl)</th><th>µs/step (spec)</th><th>µs/step (impl)</th><th>result</th></tr></thead><tbody>",
    ...rows,
    "</tbody></table>",
    r.failure === null ? "" : `<pre class="failure">${esc(describeSecurityFailure(r.failure))}</pre>`,
    "<div class=\"graphs\">",
    `<figure class="policy">${graphSvg(`${sys.name}: the policy`, labels, policy, sys.partitions)}<figcaption>The policy: every edge the system may ever have.</figcaption></figure>`,
    `<figure class="authority">${graphSvg(`${sys.name}: authority of the final state`, withRoot, authority, sys.partitions)}<figcaption>The authority extracted from the ${r.failure === null ? "final state of the last trace" : "state where the check failed"}; edges outside the policy in red.</figcaption></figure>`,
    "</div>",
    outside.length === 0 ? "<p class=\"inside\">Every extracted edge is in the policy.</p>"
      : `<table class="outside"><thead><tr><th>edge outside the policy</th><th>from</th></tr></thead><tbody>${outside.map((e: AuthorityEdge) => `<tr><td>(${esc(e.from)}, ${e.auth}, ${esc(e.to)})</td><td>${esc(e.why)}</td></tr>`).join("")}</tbody></table>`,
    "</section>",
  ].join("\n")
}

const style = `
body { font-family: "DejaVu Sans", "Liberation Sans", sans-serif; margin: 24px; color: #223; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; border-top: 1px solid #ccd; padding-top: 16px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; } td, th { border: 1px solid #ccd; padding: 3px 8px; text-align: left; }
tr.failed td { background: #fdd; } pre.failure { background: #fee; border: 1px solid #c00; padding: 8px; white-space: pre-wrap; font-size: 12px; }
.graphs { display: flex; flex-wrap: wrap; gap: 16px; } figure { margin: 0; } figcaption { font-size: 12px; color: #556; max-width: 520px; }
svg { background: #fafbff; border: 1px solid #dde; font-size: 12px; }
svg .title { font-size: 14px; font-weight: bold; fill: #223; }
svg .node rect { fill: #e8eefc; stroke: #446; } svg .node.object rect { fill: #f4f4f4; stroke: #888; stroke-dasharray: 4 2; }
svg .node.root rect { fill: #eee; stroke: #999; } svg .node text { text-anchor: middle; fill: #112; font-weight: bold; }
svg .edge path { fill: none; stroke: #445; stroke-width: 1.5; } svg .edge text { fill: #334; text-anchor: middle; font-size: 11px; }
svg .edge.outside path { stroke: #c00; stroke-width: 2.5; } svg .edge tspan.out { fill: #c00; font-weight: bold; }
`

/** The whole page: one section per system, with its graphs. */
export const securityPage = (sections: readonly PageSection[], assumptions: readonly string[]): string => [
  "<!doctype html>",
  "<html lang=\"en\"><head><meta charset=\"utf-8\"><title>kspec security</title>",
  `<style>${style}</style></head>`,
  `<body data-kspec="security" data-systems="${sections.length}">`,
  "<h1>kspec security: authority confinement, integrity and nonleakage</h1>",
  `<p>l4v's access-control and information-flow properties (pas_refined, integrity, nonleakage by unwinding) checked after every step of random traces, on the spec and on the abstraction of the impl. Assumptions (see docs/security.md): ${assumptions.map(esc).join("; ")}.</p>`,
  ...sections.map(section),
  "</body></html>",
  "",
].join("\n")
