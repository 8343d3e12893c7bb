/**
 * `kspec replay FILE --html OUT`: a saved trace as a sequence diagram on one self-contained page
 * (inline SVG, no script). Threads are lifelines beside the kernel's; each kernel entry is an
 * arrow from the thread that made it (or from the hardware, for interrupts and ticks) to the
 * kernel, and the result comes back as a dashed arrow; beside the kernel's lifeline each step
 * reads as the event in seL4 terms and its result. The first divergence or broken invariant is
 * marked on its step, and the state diff and the violations stand beside the diagram.
 */
import type { RenderedStep } from "./render.ts"

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

export interface ReplayPicture {
  readonly file: string
  readonly steps: readonly RenderedStep[]
  /** The failing step (1-based) and what the replay printed about it; null for a clean replay. */
  readonly failure: { readonly step: number; readonly title: string; readonly details: readonly string[] } | null
  readonly legend: readonly string[]
}

/** The page. */
export const replayPage = (p: ReplayPicture): string => {
  const lanes = ["hardware", ...[...new Set(p.steps.map((s) => s.caller))].filter((c) => c !== "-").sort(), "kernel"]
  const laneOf = (caller: string) => (caller === "-" ? "hardware" : caller)
  const x = (lane: string) => 90 + 150 * lanes.indexOf(lane)
  const kx = x("kernel")
  const rowH = 34
  const H = 50 + rowH * p.steps.length
  const heads = lanes.map((l) => `<g class="lifeline" data-name="${esc(l)}"><text x="${x(l)}" y="20" font-size="12" font-weight="bold" text-anchor="middle">${esc(l)}</text>` +
    `<line x1="${x(l)}" x2="${x(l)}" y1="28" y2="${H}" stroke="${l === "kernel" ? "#557" : "#bbb"}" stroke-dasharray="${l === "kernel" ? "0" : "3 3"}"/></g>`)
  const rows = p.steps.map((s, i) => {
    const n = i + 1
    const y = 44 + rowH * i
    const from = x(laneOf(s.caller))
    const failed = p.failure !== null && p.failure.step === n
    const c = failed ? "#c1121f" : /Error|Fault|Illegal|Invalid|Range|Truncated|Delete|Revoke|NotEnough|Alignment/.test(s.result) ? "#b35c00" : "#223"
    const tx = kx + 14
    return `<g class="step${failed ? " failure" : ""}" data-step="${n}">` +
      (failed ? `<rect x="0" y="${y - 14}" width="${tx + 760}" height="${rowH}" fill="#fde2e2"/>` : "") +
      `<text x="4" y="${y + 4}" font-size="10" fill="#888">${n}</text>` +
      `<line x1="${from}" y1="${y}" x2="${kx - 6}" y2="${y}" stroke="${c}" stroke-width="1.4"/><path d="M${kx},${y} l-7,-4 v8 z" fill="${c}"/>` +
      `<line x1="${kx}" y1="${y + 12}" x2="${from + 6}" y2="${y + 12}" stroke="${c}" stroke-dasharray="4 2"/><path d="M${from},${y + 12} l7,-4 v8 z" fill="${c}"/>` +
      `<text x="${tx}" y="${y + 3}" font-size="10.5" fill="${c}">${esc(s.event)}</text>` +
      `<text x="${tx}" y="${y + 15}" font-size="10" fill="${c}" font-style="italic">→ ${esc(s.result)}</text>` +
      (failed ? `<text x="${tx + 8 + 6 * Math.min(s.result.length + 2, 60)}" y="${y + 15}" font-size="12" fill="#c1121f" font-weight="bold" class="failure-marker">✗ ${esc(p.failure!.title)}</text>` : "") + `</g>`
  })
  const side = p.failure === null ? `<p id="verdict" class="pass">Replayed ${p.steps.length} events: the impl refined the spec and every invariant held after every step.</p>`
    : `<p id="verdict" class="fail">Step ${p.failure.step}: ${esc(p.failure.title)}</p><pre id="diff">${esc(p.failure.details.join("\n"))}</pre>`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kspec replay ${esc(p.file)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 20px; color: #223 } .wrap { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start } svg { flex: none }
pre { background: #f6f6fa; padding: 10px; font-size: 12px; max-width: 640px; overflow: auto } .pass { color: #1d6b34; font-weight: bold } .fail { color: #9b1c1c; font-weight: bold }
</style></head><body>
<h1>kspec replay <code>${esc(p.file)}</code></h1>
<p>${p.steps.length} kernel entries, spec and impl side by side from the trace's boot configuration. Objects: ${esc(p.legend.join(", ") || "none")}.</p>
<div class="wrap"><svg id="sequence" xmlns="http://www.w3.org/2000/svg" width="${kx + 780}" height="${H + 10}" data-steps="${p.steps.length}">${heads.join("")}${rows.join("")}</svg>
<div id="side">${side}</div></div>
</body></html>
`
}
