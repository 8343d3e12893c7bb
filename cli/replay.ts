/**
 * `kspec replay FILE`: re-run a saved trace step by step in the spec and the impl, printing each
 * event in seL4 terms and how it ended. At the first divergence, broken invariant, frame
 * violation or throw it prints the state diff and the invariant violations and exits 1; a clean
 * replay exits 0; a file that cannot be replayed gets one message and exit 2. It writes nothing.
 */
import type { Event } from "../model/index.ts"
import type { KernelState, Outcome } from "../spec/index.ts"
import { checkAll } from "../spec/invariants/index.ts"
import type { ImplUnderTest, RunResult } from "../harness/lockstep/runner.ts"
import { defaultDeadlineMs, describeFailure, runLockstep } from "../harness/lockstep/runner.ts"
import { stateDiff } from "../harness/lockstep/diff.ts"
import { realImpl } from "../harness/lockstep/impls.ts"
import { loadTraceFile } from "../harness/trace.ts"
import { TraceRenderer, formatStep } from "./render.ts"
import type { RenderedStep } from "./render.ts"
import { writeFileAtomic } from "../harness/files.ts"
import { replayPage } from "./replayHtml.ts"

export interface ReplayOptions {
  /** The implementation to replay against (default: the real impl; tests pass a mutant). */
  readonly impl?: ImplUnderTest<unknown>
  /** Also write the trace as an HTML sequence diagram here (cli/replayHtml.ts). */
  readonly html?: string | undefined
}

/**
 * Replay `file` and print the trace; returns the exit code (0 clean, 1 failure). The file is read
 * once, before the first step: the replay uses that snapshot. A bad file throws a TraceFileError
 * (harness/trace.ts; exit 2 in `main`).
 */
export const runReplay = (file: string, print: (s: string) => void, opts: ReplayOptions = {}): number => {
  const trace = loadTraceFile(file)
  // What the replay prints after the failing step is also the page's side panel.
  const steps: RenderedStep[] = []
  let failureTitle: string | null = null
  const details: string[] = []
  const log = (s: string) => { if (failureTitle !== null) details.push(s); print(s) }
  const picture = (code: number): number => {
    if (opts.html !== undefined) {
      const f = result.failure
      writeFileAtomic(opts.html, replayPage({ file, steps, legend: r.legend(), failure: f === null ? null : { step: f.step, title: failureTitle ?? "", details: details.filter((d) => d !== "") } }))
      print(`page: ${opts.html}`)
    }
    return code
  }
  const impl = (opts.impl ?? realImpl) as ImplUnderTest<unknown>
  // Keep the impl's state, to diff and check it at a failure.
  let k: unknown = null
  const watched: ImplUnderTest<unknown> = { ...impl, boot: (c) => (k = impl.boot(c)) }

  const m = trace.config.memory
  log(`kspec replay ${file}: ${trace.events.length} events${trace.seed !== undefined ? `, seed ${trace.seed}` : ""}`)
  if (trace.note !== undefined && trace.note !== "") log(`note: ${trace.note}`)
  log(`boot: ${2 ** trace.config.rootCNodeBits}-slot root CNode, ${m.length} memory region${m.length === 1 ? "" : "s"} (${m.reduce((a, r) => a + r.size, 0)} bytes), ${trace.config.numIRQs} IRQs, ${trace.config.numDomains} domain${trace.config.numDomains === 1 ? "" : "s"}` +
    `${trace.config.domainSchedule === undefined ? "" : `, domain schedule ${trace.config.domainSchedule.map((e) => `${e.domain}:${e.length}`).join(" ")}`}`)
  log("")

  const r = new TraceRenderer()
  const pres: KernelState[] = []
  const width = String(trace.events.length).length
  const result: RunResult = runLockstep(watched, trace.config, (s, i) => {
    pres.push(s)
    return trace.events[i]
  }, { deadlineMs: defaultDeadlineMs })
  // pres[i] is the state before event i; the state after the last step run is result.spec.
  const posts = [...pres.slice(1, result.events.length + 1)]
  if (posts.length < result.events.length) posts.push(result.spec)
  result.events.forEach((ev: Event, i) => {
    const pre = pres[i]!
    const o: Outcome | undefined = result.outcomes[i]
    const post = o === undefined ? null : posts[i] ?? null
    const caller = ev.tag === "Syscall" || ev.tag === "UserFault" ? r.thread(pre, pre.curThread) : "-"
    const step = { caller, event: r.event(pre, ev), result: r.result(pre, ev, o, post) }
    steps.push(step)
    log(formatStep(i + 1, step, Math.max(3, width)))
  })

  const f = result.failure
  if (f === null) {
    log("")
    log(`replayed ${result.events.length} events: the impl refined the spec and every invariant held after every step`)
    return picture(0)
  }
  log("")
  failureTitle = describeFailure(f).split("\n")[0]!.replace(/^step \d+: /, "").replace(/:$/, "")
  log(`FAILED at ${f.step === 0 ? "boot" : `step ${f.step}`}: ${describeFailure(f).split("\n")[0]!.replace(/^step \d+: /, "").replace(/:$/, "")}`)
  if (f.kind === "throw") {
    log(`  ${f.message}`)
  } else if (f.kind === "nontermination") {
    log(`  the watchdog stopped the run in the ${f.phase === "check" ? "checker" : f.phase === "generator" ? "event source" : f.phase} (KSPEC_DEADLINE_MS sets its limit)`)
  } else if (f.kind === "frame") {
    log("the failed invocation changed (spec state before | after, caller's registers excepted):")
    for (const d of f.diff) log(`  ${d.replace(": spec ", ": before ").replace(" | impl ", " | after ")}`)
  } else {
    const implAbs = k === null ? null : impl.abs(k)
    if (implAbs !== null) {
      const diff = stateDiff(result.spec, implAbs, 40)
      log("")
      log(diff.length === 0 ? "abstract states: equal" : `abstract states differ (spec | impl), ${diff.length}${diff.length === 40 ? "+" : ""} paths:`)
      for (const d of diff) log(`  ${d}`)
    }
    const specV = checkAll(result.spec)
    const implV = f.kind === "invariant" ? f.violations.filter((v) => !specV.some((w) => w.invariant === v.invariant && w.message === v.message)) : implAbs === null ? [] : [...checkAll(implAbs), ...(impl.implChecks?.(k) ?? [])]
    log("")
    log(specV.length === 0 ? "invariants: all hold in the spec state" : `invariants broken in the spec state (${specV.length}):`)
    for (const v of specV.slice(0, 20)) log(`  ${v.invariant}: ${v.message}`)
    if (implV.length > 0) {
      log(`invariants broken on the impl side (${implV.length}):`)
      for (const v of implV.slice(0, 20)) log(`  ${v.invariant}: ${v.message}`)
    } else if (f.kind === "divergence") {
      log("invariants: all hold in the impl's abstract state")
    }
  }
  const legend = r.legend()
  if (legend.length > 0) {
    log("")
    log(`objects: ${legend.join(", ")}`)
  }
  return picture(1)
}
