/**
 * `kspec replay FILE`: re-run a saved trace step by step in the spec and the impl, printing each
 * event in seL4 terms and how it ended. At the first divergence, broken invariant, frame
 * violation or throw it prints the state diff and the invariant violations and exits 1; a clean
 * replay exits 0; a file that cannot be replayed gets one message and exit 2. It writes nothing.
 */
import { readFileSync } from "node:fs"
import type { Event, TraceFile } from "../model/index.ts"
import { SyscallKinds, UserFaultKinds, decodeTraceFile, traceFormatVersion } from "../model/index.ts"
import type { KernelState, Outcome } from "../spec/index.ts"
import { checkAll } from "../spec/invariants/index.ts"
import type { ImplUnderTest, RunResult } from "../harness/lockstep/runner.ts"
import { describeFailure, runLockstep } from "../harness/lockstep/runner.ts"
import { stateDiff } from "../harness/lockstep/diff.ts"
import { realImpl } from "../harness/lockstep/impls.ts"
import { TraceRenderer, formatStep } from "./render.ts"
import { UsageError } from "./args.ts"

/** A trace file that cannot be replayed: the message names the file and the problem. */
export class TraceFileError extends UsageError {}

const eventTags = ["Syscall", "TimerTick", "Interrupt", "UserFault"]

/**
 * Name the first event the schema would reject for an unknown tag, syscall or fault kind, in
 * words a user can act on (the schema's own message lists every union member).
 */
const unknownEventProblem = (json: unknown): string | null => {
  if (typeof json !== "object" || json === null || !Array.isArray((json as { events?: unknown }).events)) return null
  const events = (json as { events: unknown[] }).events
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as Record<string, unknown> | null
    if (typeof e !== "object" || e === null) return `event ${i + 1} is not an object`
    if (!eventTags.includes(e.tag as string)) return `event ${i + 1} has unknown tag ${JSON.stringify(e.tag)} (expected one of ${eventTags.join(", ")})`
    if (e.tag === "Syscall" && !(SyscallKinds as readonly unknown[]).includes(e.syscall)) {
      return `event ${i + 1} is an unknown syscall ${JSON.stringify(e.syscall)} (kspec models ${SyscallKinds.join(", ")})`
    }
    if (e.tag === "UserFault" && !(UserFaultKinds as readonly unknown[]).includes(e.kind)) {
      return `event ${i + 1} is an unknown fault kind ${JSON.stringify(e.kind)} (expected one of ${UserFaultKinds.join(", ")})`
    }
  }
  return null
}

/** Read and decode a trace file, or throw a TraceFileError naming the problem. */
export const loadTraceFile = (file: string): TraceFile => {
  let text: string
  try { text = readFileSync(file, "utf8") } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    throw new TraceFileError(`cannot read ${file}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (e as Error).message}`)
  }
  let json: unknown
  try { json = JSON.parse(text) } catch (e) { throw new TraceFileError(`${file} is not a trace file: not valid JSON (${(e as Error).message})`) }
  if (typeof json !== "object" || json === null || Array.isArray(json) || (json as { kspec?: unknown }).kspec !== "trace") {
    throw new TraceFileError(`${file} is not a trace file: it has no "kspec": "trace" field`)
  }
  const version = (json as { version?: unknown }).version
  if (version !== traceFormatVersion) {
    throw new TraceFileError(`${file} was written by an incompatible kspec model: trace format version ${JSON.stringify(version)}, this kspec reads version ${traceFormatVersion}`)
  }
  const unknown = unknownEventProblem(json)
  if (unknown !== null) throw new TraceFileError(`${file} is not a valid trace: ${unknown}`)
  const d = decodeTraceFile(text)
  if (!d.ok) throw new TraceFileError(`${file} is not a valid trace:\n  ${d.message.split("\n").join("\n  ")}`)
  return d.value
}

export interface ReplayOptions {
  /** The implementation to replay against (default: the real impl; tests pass a mutant). */
  readonly impl?: ImplUnderTest<unknown>
}

/**
 * Replay `file` and print the trace; returns the exit code (0 clean, 1 failure). A bad file
 * throws TraceFileError (exit 2 in `main`).
 */
export const runReplay = (file: string, log: (s: string) => void, opts: ReplayOptions = {}): number => {
  const trace = loadTraceFile(file)
  const impl = (opts.impl ?? realImpl) as ImplUnderTest<unknown>
  // Keep the impl's state, to diff and check it at a failure.
  let k: unknown = null
  const watched: ImplUnderTest<unknown> = { ...impl, boot: (c) => (k = impl.boot(c)) }

  const m = trace.config.memory
  log(`kspec replay ${file}: ${trace.events.length} events${trace.seed !== undefined ? `, seed ${trace.seed}` : ""}`)
  if (trace.note !== undefined && trace.note !== "") log(`note: ${trace.note}`)
  log(`boot: ${2 ** trace.config.rootCNodeBits}-slot root CNode, ${m.length} memory region${m.length === 1 ? "" : "s"} (${m.reduce((a, r) => a + r.size, 0)} bytes), ${trace.config.numIRQs} IRQs, ${trace.config.numDomains} domain${trace.config.numDomains === 1 ? "" : "s"}`)
  log("")

  const r = new TraceRenderer()
  const pres: KernelState[] = []
  const width = String(trace.events.length).length
  const result: RunResult = runLockstep(watched, trace.config, (s, i) => {
    pres.push(s)
    return trace.events[i]
  })
  // pres[i] is the state before event i; the state after the last step run is result.spec.
  const posts = [...pres.slice(1, result.events.length + 1)]
  if (posts.length < result.events.length) posts.push(result.spec)
  result.events.forEach((ev: Event, i) => {
    const pre = pres[i]!
    const o: Outcome | undefined = result.outcomes[i]
    const post = o === undefined ? null : posts[i] ?? null
    const caller = ev.tag === "Syscall" || ev.tag === "UserFault" ? r.thread(pre, pre.curThread) : "-"
    log(formatStep(i + 1, { caller, event: r.event(pre, ev), result: r.result(pre, ev, o, post) }, Math.max(3, width)))
  })

  const f = result.failure
  if (f === null) {
    log("")
    log(`replayed ${result.events.length} events: the impl refined the spec and every invariant held after every step`)
    return 0
  }
  log("")
  log(`FAILED at ${f.step === 0 ? "boot" : `step ${f.step}`}: ${describeFailure(f).split("\n")[0]!.replace(/^step \d+: /, "").replace(/:$/, "")}`)
  if (f.kind === "throw") {
    log(`  ${f.message}`)
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
  return 1
}
