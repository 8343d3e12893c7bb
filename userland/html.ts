/**
 * The demo's page: one self-contained HTML file (no script, no server, no network) with the
 * campaign's table, a diagram of the system (processes as nodes, channels as edges, each
 * process's restarts marked), a timeline of the pictured run (faults injected, fault messages,
 * hangs and restarts per process), and a sequence diagram of a slice of it: the clients, the
 * servers and the kernel as lifelines, IPC as arrows, a fault, the supervisor's restart, and the
 * requests around it. All drawn as inline SVG.
 * @category library
 */
import type { Event } from "../model/index.ts"
import { messageInfoFromWord } from "../model/index.ts"
import type { CampaignReport } from "./campaign.ts"
import { recoveredShare } from "./campaign.ts"
import { Irq, Pid, Slot, processName, servers } from "./layout.ts"
import type { ConsoleRecord, Runtime, TraceEntry } from "./runtime.ts"

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")
const fmt = (n: number): string => n.toLocaleString("en-US")

/** The rows of the campaign's table: label, value. */
export const summaryRows = (r: CampaignReport): readonly (readonly [string, string])[] => [
  ["seed", String(r.seed)],
  ["runs (in lockstep with the spec)", `${fmt(r.runs)} (${fmt(r.lockstepRuns)})`],
  ["cycles (kernel entries and user memory accesses)", fmt(r.cycles)],
  ["steps checked against the spec (refinement + every invariant)", `${fmt(r.checkedSteps)} (${(100 * r.checkedSteps / Math.max(1, r.cycles)).toFixed(2)}% of cycles)`],
  ["faults injected", fmt(r.injected)],
  ...Object.entries(r.byKind).map(([k, n]) => [`  ${k}`, fmt(n)] as const),
  ["fault messages to the supervisor", fmt(r.faultMessages)],
  ["hung servers found by the watchdog", fmt(r.hangs)],
  ["restarts", fmt(r.restarts)],
  ["faults recovered (the server answered again)", `${fmt(r.recovered)} (${recoveredShare(r).toFixed(1)}%)`],
  ["faults no client noticed (no error, wrong answer or loss before the next)", `${fmt(r.unnoticed)} (${(100 * r.unnoticed / Math.max(1, r.injected)).toFixed(1)}%)`],
  ["client requests", fmt(r.requests)],
  ["  answered correctly", fmt(r.ok)],
  ["  failed with an error the client saw", fmt(r.errors)],
  ["  wrong answer caught by the client", fmt(r.wrong)],
  ["  duplicated replies", fmt(r.duplicates)],
  ["  lost (never answered)", fmt(r.lost)],
  ["  in flight at the end", fmt(r.inFlight)],
  ["memory-integrity violations", fmt(r.integrity.length)],
  ["kernel failures (divergence, broken invariant)", fmt(r.kernelFailures.length)],
  ["wall time", `${(r.ms / 1000).toFixed(1)} s (${fmt(Math.round(r.injected / Math.max(0.001, r.ms / 1000)))} faults/s)`],
]

/** The channels of the system, as the root task builds them: [from, to, label]. */
const channels = (clients: number): readonly (readonly [number, number, string])[] => {
  const cs = Array.from({ length: clients }, (_, i) => Pid.firstClient + i)
  return [
    ...servers.map((s) => [s, Pid.supervisor, "faults · status (RO)"] as const),
    [Pid.timerDriver, Pid.timerVirt, "ring + signal"],
    [Pid.fileServer, Pid.nameServer, "Call (register)"],
    ...cs.flatMap((c) => [[c, Pid.nameServer, "Call"], [c, Pid.fileServer, "Call + buffer"], [c, Pid.timerVirt, "rings + signals"]] as const),
  ]
}

const nodePositions = (clients: number): Map<number, readonly [number, number]> => {
  const m = new Map<number, readonly [number, number]>()
  const W = 900
  m.set(Pid.supervisor, [W / 2, 60])
  servers.forEach((s, i) => m.set(s, [W * (i + 0.5) / servers.length, 210]))
  for (let i = 0; i < clients; i++) m.set(Pid.firstClient + i, [W * (i + 0.5) / clients, 370])
  return m
}

/** The system diagram: a node per process (restart count marked), an edge per channel, the interrupt lines. */
export const systemDiagram = (clients: number, restarts: ReadonlyMap<number, number>): string => {
  const pos = nodePositions(clients)
  const edges = channels(clients).map(([a, b, label]) => {
    const [x1, y1] = pos.get(a)!
    const [x2, y2] = pos.get(b)!
    return `<g class="channel" data-from="${processName(a)}" data-to="${processName(b)}"><line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="#9aa" stroke-width="1.5"/>` +
      `<text x="${(x1 + x2) / 2}" y="${(y1 + y2) / 2 - 3}" font-size="9" fill="#577" text-anchor="middle">${esc(label)}</text></g>`
  })
  const nodes = [...pos].map(([pid, [x, y]]) => {
    const n = restarts.get(pid) ?? 0
    const kind = pid === Pid.supervisor ? "supervisor" : pid >= Pid.firstClient ? "client" : "server"
    const fill = kind === "supervisor" ? "#e8e0ff" : kind === "client" ? "#e6f4ea" : "#e3f0ff"
    const marker = n > 0 ? `<g class="restart-marker" data-restarts="${n}"><circle cx="${x + 62}" cy="${y - 20}" r="13" fill="#2a9d4b"/>` +
      `<text x="${x + 62}" y="${y - 16}" font-size="10" fill="#fff" text-anchor="middle">↻${n}</text><title>${n} restarts</title></g>` : ""
    return `<g class="process" data-name="${processName(pid)}" data-kind="${kind}"><rect x="${x - 70}" y="${y - 20}" width="140" height="40" rx="8" fill="${fill}" stroke="#345"/>` +
      `<text x="${x}" y="${y + 4}" font-size="13" text-anchor="middle">${esc(processName(pid))}</text>${marker}</g>`
  })
  const irq = (pid: number, label: string): string => {
    const [x, y] = pos.get(pid)!
    return `<g class="irq"><line x1="${x - 70}" y1="${y}" x2="${x - 110}" y2="${y}" stroke="#c60" stroke-dasharray="4 2"/><text x="${x - 112}" y="${y + 4}" font-size="10" text-anchor="end" fill="#c60">${label}</text></g>`
  }
  return `<svg id="system" xmlns="http://www.w3.org/2000/svg" viewBox="-60 0 1000 410" width="1000" height="410" data-process-count="${pos.size}" data-channel-count="${edges.length}">` +
    `${edges.join("")}${irq(Pid.timerDriver, `IRQ ${Irq.timer}`)}${irq(Pid.supervisor, `IRQ ${Irq.watchdog} (watchdog)`)}${nodes.join("")}</svg>`
}

/** Markers on the timeline. */
const markerKinds = { injected: "#d62828", fault: "#f77f00", hang: "#f77f00", restart: "#2a9d4b" } as const

/** The pictured run's timeline: a row per process, its injected faults, fault messages and hangs (at the server), and restarts. */
export const timeline = (records: readonly ConsoleRecord[], clients: number): string => {
  const pids = [Pid.supervisor, ...servers, ...Array.from({ length: clients }, (_, i) => Pid.firstClient + i)]
  const marks = records.filter((r) => r.kind in markerKinds)
  const end = Math.max(1, ...records.map((r) => r.cycle))
  const W = 900
  const row = (pid: number) => 30 + 22 * pids.indexOf(pid)
  const x = (c: number) => 120 + (W - 130) * c / end
  const dots = marks.map((r) => {
    const pid = r.kind === "injected" ? r.pid : r.words[0]!
    if (!pids.includes(pid)) return ""
    const shape = r.kind === "restart" ? `<path d="M${x(r.cycle)},${row(pid) - 7} l5,9 h-10 z" fill="${markerKinds.restart}"/>` : `<circle cx="${x(r.cycle)}" cy="${row(pid)}" r="3.5" fill="${markerKinds[r.kind as keyof typeof markerKinds]}"/>`
    return `<g class="mark ${r.kind}" data-cycle="${r.cycle}">${shape}<title>${r.kind} ${processName(pid)} at cycle ${r.cycle}</title></g>`
  })
  const rows = pids.map((pid) => `<text x="0" y="${row(pid) + 4}" font-size="11">${esc(processName(pid))}</text><line x1="120" x2="${W}" y1="${row(pid)}" y2="${row(pid)}" stroke="#eee"/>`)
  return `<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="${W + 20}" height="${40 + 22 * pids.length}">${rows.join("")}${dots.join("")}` +
    `<text x="120" y="${30 + 22 * pids.length}" font-size="10" fill="#666">cycle 0</text><text x="${W}" y="${30 + 22 * pids.length}" font-size="10" fill="#666" text-anchor="end">cycle ${fmt(end)}</text></svg>`
}

/** Where a process's syscall on cap pointer `cptr` goes, by the layout (for the picture only). */
const targetOf = (pid: number, ev: Event, clients: number, injected: boolean): { to: number | "kernel" | "self"; label: string } | null => {
  if (ev.tag === "UserFault") return { to: "kernel", label: `${ev.kind}` }
  // Memory accesses are drawn only when injected (a wild one: the MMU sends it to the kernel).
  if (ev.tag === "MemoryAccess") return injected ? { to: "kernel", label: `${ev.kind.toLowerCase()} 0x${ev.vaddr.toString(16)}` } : null
  if (ev.tag !== "Syscall") return null
  const c = ev.cptr
  const named = (s: number): number | "kernel" =>
    s === Slot.nameServer ? Pid.nameServer : s === Slot.fileServer ? Pid.fileServer : s === Slot.virt ? Pid.timerVirt : s === Slot.faultEP ? Pid.supervisor
      : pid === Pid.timerVirt && s >= Slot.table && s < Slot.table + clients ? Pid.firstClient + s - Slot.table
        : pid === Pid.supervisor && servers.some((v) => v === s - Slot.table) ? s - Slot.table : "kernel"
  switch (ev.syscall) {
    case "Call": { const to = named(c); return { to, label: pid === Pid.supervisor && to !== "kernel" ? "restart (TCB_WriteRegisters)" : to === "kernel" ? "invoke" : "Call" } }
    case "Send": case "NBSend": { const to = named(c); return to === "kernel" ? null : { to, label: "Signal" } }
    case "Recv": case "NBRecv": return { to: "self", label: "wait" }
    case "Reply": case "ReplyRecv": return { to: "self", label: messageInfoFromWord(ev.msgInfo).label === 0 ? "reply" : "error reply" }
    case "Yield": return null
  }
}

/**
 * A sequence diagram of a slice of the run around the first fault the supervisor handled (in the
 * file server if there is one, else the name server, else any): from a
 * little before the fault was injected to a little after the restart.
 */
export const sequenceDiagram = (trace: readonly TraceEntry[], records: readonly ConsoleRecord[], clients: number): string => {
  // The first fault in a server clients Call (the file server, else the name server) pictures
  // best: a request dies with it and the client sees the error; else the first fault of any kind.
  const faults = records.filter((r) => r.kind === "fault" || r.kind === "hang")
  const fault = faults.find((r) => r.words[0] === Pid.fileServer) ?? faults.find((r) => r.words[0] === Pid.nameServer) ?? faults[0]
  if (fault === undefined) return `<p id="sequence-missing">No fault was handled in the pictured run.</p>`
  const victim = fault.words[0]!
  const injected = [...records].reverse().find((r) => r.kind === "injected" && r.pid === victim && r.cycle <= fault.cycle)
  const from = (injected?.cycle ?? fault.cycle) - 60
  const restart = records.find((r) => r.kind === "restart" && r.cycle >= fault.cycle)
  const servedAfter = records.find((r) => r.kind === "served" && r.pid === victim && r.cycle > (restart?.cycle ?? fault.cycle))
  // Up to a client's first good answer after the restarted server served again.
  const okAfter = records.find((r) => r.kind === "ok" && r.cycle > (servedAfter?.cycle ?? fault.cycle))
  const to = Math.max((okAfter?.cycle ?? servedAfter?.cycle ?? fault.cycle) + 10, (restart?.cycle ?? fault.cycle) + 80)
  type Row = { cycle: number; from: number | "kernel"; to: number | "kernel" | "self"; label: string; cls: string }
  const rows: Row[] = []
  const callers = new Map<number, number[]>()
  const injectedAt = new Set(records.filter((r) => r.kind === "injected").map((r) => `${r.pid}@${r.cycle}`))
  for (const t of trace) {
    if (t.cycle < from || t.cycle > to) continue
    if (t.pid === -1) {
      if (t.event.tag === "Interrupt") rows.push({ cycle: t.cycle, from: "kernel", to: t.event.irq === Irq.watchdog ? Pid.supervisor : Pid.timerDriver, label: `IRQ ${t.event.irq}`, cls: "irq" })
      continue
    }
    const tg = targetOf(t.pid, t.event, clients, injectedAt.has(`${t.pid}@${t.cycle}`))
    if (tg === null) continue
    if (tg.label === "Call" && typeof tg.to === "number") callers.set(tg.to, [...(callers.get(tg.to) ?? []), t.pid])
    if (tg.label === "reply" || tg.label === "error reply") {
      const q = callers.get(t.pid) ?? []
      const c = q.shift()
      if (c !== undefined) rows.push({ cycle: t.cycle, from: t.pid, to: c, label: tg.label, cls: tg.label === "reply" ? "reply" : "error" })
      continue
    }
    if (tg.label === "wait") continue
    rows.push({ cycle: t.cycle, from: t.pid, to: tg.to, label: tg.label, cls: tg.label.startsWith("restart") ? "restart" : tg.to === "kernel" && tg.label !== "invoke" ? "fault" : "ipc" })
  }
  for (const r of records) {
    if (r.cycle < from || r.cycle > to) continue
    if (r.kind === "injected") rows.push({ cycle: r.cycle, from: r.pid, to: "self", label: "fault injected", cls: "injected" })
    if (r.kind === "fault") rows.push({ cycle: r.cycle, from: "kernel", to: Pid.supervisor, label: `fault message (${processName(r.words[0]!)})`, cls: "fault" })
    if (r.kind === "hang") rows.push({ cycle: r.cycle, from: Pid.supervisor, to: "self", label: `${processName(r.words[0]!)} hung`, cls: "fault" })
    if (r.kind === "ok" || r.kind === "error") rows.push({ cycle: r.cycle, from: r.pid, to: "self", label: r.kind === "ok" ? `request ${r.words[0]} ok` : `request ${r.words[0]} failed: error`, cls: r.kind === "ok" ? "ok" : "error" })
  }
  // At one cycle the injection comes first: it is what the event at that cycle is.
  const rank = (r: Row) => (r.cls === "injected" ? 0 : r.cls === "fault" ? 1 : 2)
  rows.sort((a, b) => a.cycle - b.cycle || rank(a) - rank(b))
  // Keep the fault and restart rows, thin the rest to at most 70 rows.
  const keep = rows.filter((r) => r.cls !== "ipc" && r.cls !== "reply" && r.cls !== "irq")
  const rest = rows.filter((r) => !keep.includes(r))
  const budget = Math.max(0, 70 - keep.length)
  const shown = [...keep, ...rest.filter((_, i) => rest.length <= budget || i % Math.ceil(rest.length / budget) === 0)].sort((a, b) => a.cycle - b.cycle || rank(a) - rank(b))
  const lanes: (number | "kernel")[] = ["kernel", Pid.supervisor, ...servers, ...[...new Set(shown.flatMap((r) => [r.from, r.to]).filter((p): p is number => typeof p === "number" && p >= Pid.firstClient))].sort()]
  const laneX = (l: number | "kernel") => 70 + 125 * lanes.indexOf(l)
  const H = 60 + 20 * shown.length
  const colors: Record<string, string> = { ipc: "#335", reply: "#669", irq: "#c60", fault: "#f77f00", restart: "#2a9d4b", injected: "#d62828", ok: "#2a9d4b", error: "#d62828" }
  const heads = lanes.map((l) => `<g class="lifeline" data-name="${l === "kernel" ? "kernel" : processName(l)}"><text x="${laneX(l)}" y="20" font-size="11" text-anchor="middle" font-weight="bold">${l === "kernel" ? "kernel" : esc(processName(l))}</text>` +
    `<line x1="${laneX(l)}" x2="${laneX(l)}" y1="28" y2="${H}" stroke="#bbb" stroke-dasharray="3 3"/></g>`)
  const arrows = shown.map((r, i) => {
    const y = 45 + 20 * i
    const x1 = laneX(r.from)
    const c = colors[r.cls] ?? "#333"
    if (r.to === "self") {
      return `<g class="step ${r.cls}" data-cycle="${r.cycle}"><circle cx="${x1}" cy="${y}" r="5" fill="${c}"/><text x="${x1 + 9}" y="${y + 4}" font-size="10" fill="${c}">${esc(r.label)}</text></g>`
    }
    const x2 = laneX(r.to)
    const dir = x2 >= x1 ? 1 : -1
    return `<g class="step ${r.cls}" data-cycle="${r.cycle}"><line x1="${x1}" y1="${y}" x2="${x2 - 6 * dir}" y2="${y}" stroke="${c}" stroke-width="1.5"/>` +
      `<path d="M${x2},${y} l${-7 * dir},-4 v8 z" fill="${c}"/><text x="${(x1 + x2) / 2}" y="${y - 3}" font-size="9.5" text-anchor="middle" fill="${c}">${esc(r.label)}</text>` +
      `<text x="4" y="${y + 3}" font-size="8" fill="#999">${r.cycle}</text></g>`
  })
  return `<svg id="sequence" xmlns="http://www.w3.org/2000/svg" width="${laneX(lanes[lanes.length - 1]!) + 140}" height="${H + 10}" data-victim="${processName(victim)}">${heads.join("")}${arrows.join("")}</svg>`
}

/** The whole page. */
export const demoPage = (r: CampaignReport, run: Runtime | null, clients: number, replay: string): string => {
  const records = run?.console ?? []
  const restarts = new Map<number, number>()
  for (const c of records) if (c.kind === "restart") restarts.set(c.words[0]!, (restarts.get(c.words[0]!) ?? 0) + 1)
  const table = summaryRows(r).map(([k, v]) => `<tr><td>${esc(k).replace(/^ {2}/, "&nbsp;&nbsp;&nbsp;&nbsp;")}</td><td class="n">${esc(v)}</td></tr>`).join("\n")
  const verdict = r.lost === 0 && r.duplicates === 0 && r.integrity.length === 0 && r.kernelFailures.length === 0 && r.setupErrors.length === 0
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kspec demo: user-level servers and fault isolation</title>
<style>
body { font-family: system-ui, sans-serif; margin: 24px; color: #223; max-width: 1150px }
table { border-collapse: collapse; font-size: 14px } td { padding: 2px 10px; border-bottom: 1px solid #eee } td.n { text-align: right; font-variant-numeric: tabular-nums }
.verdict { font-weight: bold; padding: 6px 10px; display: inline-block; border-radius: 6px }
.pass { background: #e6f4ea; color: #1d6b34 } .fail { background: #fde2e2; color: #9b1c1c }
code { background: #f4f4f8; padding: 1px 4px } h2 { margin-top: 32px } .legend span { margin-right: 14px }
</style></head><body>
<h1>kspec demo: user-level servers on the kernel model, and fault isolation</h1>
<p>A root task built the system below from the boot caps; the servers run as user-level threads on kspec's kernel (the impl; ${r.lockstepRuns} of ${r.runs} runs in lockstep with the spec) and faults were injected into them at random moments. Replay: <code>${esc(replay)}</code></p>
<p id="verdict" class="verdict ${verdict ? "pass" : "fail"}">${verdict ? "Isolation held: no request lost or answered twice, no private word changed behind its owner, no kernel failure." : "Isolation failed: see the table."}</p>
<h2>The campaign</h2>
<table id="summary">${table}</table>
${r.kernelFailures.length + r.integrity.length + r.setupErrors.length > 0 ? `<pre id="failures">${esc([...r.setupErrors, ...r.kernelFailures, ...r.integrity.slice(0, 20)].join("\n"))}</pre>` : ""}
<h2>The system</h2>
<p>Processes and the channels the root task gave them; a green badge counts the restarts in the pictured run (run 1).</p>
${systemDiagram(clients, restarts)}
<h2>Timeline of run 1</h2>
<p class="legend"><span style="color:#d62828">● fault injected</span><span style="color:#f77f00">● fault message or hang (at the server)</span><span style="color:#2a9d4b">▲ restart</span></p>
${timeline(records, clients)}
<h2>A fault and its recovery</h2>
<p>A slice of run 1 around the first fault the supervisor handled in the file server (else the name server, else any): the fault injected, the kernel turning it into a fault message to the supervisor, the restart, the new generation's error reply to the client whose request died, and the requests answered after it.</p>
${run === null ? "" : sequenceDiagram(run.trace, records, clients)}
</body></html>
`
}
