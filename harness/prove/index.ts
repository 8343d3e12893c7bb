/**
 * `kspec prove` as a library: bounded exhaustive checking. For a scope (a small boot
 * configuration with a set-up, and a finite event alphabet) and a depth, visit every state
 * reachable in at most that many events, run the spec and the impl in lockstep on every edge,
 * and check the refinement relation, every invariant and your own properties on every state and
 * edge. When it returns `status: "proved"`, then in that scope the impl refines the spec and the
 * invariants hold on every trace of at most `depth` events over the alphabet: proved, not sampled
 * (up to the fingerprint collision figure it reports).
 *
 * ```ts
 * import { prove } from "kspec"
 * const r = await prove({ scope: "tiny", depth: 4, properties: { state: (s) => s.curDomain === 0 } })
 * expect(r.status).toBe("proved")
 * ```
 * @category prove
 */
import type { ImplState } from "../../impl/index.ts"
import type { ImplUnderTest } from "../lockstep/runner.ts"
import { defaultDeadlineMs } from "../lockstep/runner.ts"
import { realImpl } from "../lockstep/impls.ts"
import type { UserProperties } from "./expand.ts"
import { Expander } from "./expand.ts"
import type { Scope, ScopeSpec } from "./scope.ts"
import { buildScope, resolveScope } from "./scope.ts"
import type { ChunkRunner, SearchOptions, SearchResult } from "./search.ts"
import { search } from "./search.ts"
import { workerPool } from "./workers.ts"
import { loadImplEntry } from "./implEntry.ts"
import { invariants } from "../../spec/invariants/index.ts"
import { implInvariants } from "../relation/implInvariants.ts"

export type { ProveFailure, UserProperties, StateProperty, EdgeProperty, Chunk, ChunkResult } from "./expand.ts"
export type { SearchResult, SearchStats, SearchProgress, SearchStatus } from "./search.ts"
export type { ScopeSpec, Scope, AlphabetSpec, Family, ScopeCap, ScopeThread, ScopeObject, ScopeIrq } from "./scope.ts"
export { scopes, scopeNames, buildScope, resolveScope, parseScopeFile, ScopeFileError, ScopeError } from "./scope.ts"
export { alphabet, describeAlphabet } from "./alphabet.ts"
export { canonicalRenaming, applyRenaming, specHash, implHash } from "./canonical.ts"
export { FingerprintTable, collisionProbability } from "./table.ts"
export { cloneKernel, cloneProblems } from "./clone.ts"

export interface ProveOptions<K extends ImplState = ImplState> {
  /** A named scope, a scope file, or a scope spec (default "tiny"). */
  readonly scope?: string | ScopeSpec
  /** The depth bound (default: the scope's). */
  readonly depth?: number
  readonly maxStates?: number
  /** Symmetry reduction (default false: see canonical.ts for what it merges, and the README for what it saves). */
  readonly symmetry?: boolean
  /** Key states by (spec state, impl state) (default false: by spec state; see expand.ts). */
  readonly implState?: boolean
  /** The implementation under test (default: the impl), in this thread only: workers load the impl or `implEntry` themselves. */
  readonly impl?: ImplUnderTest<K>
  /** An impl entry file to test instead (a mutant's patched impl/index.ts), in this thread or the workers. */
  readonly implEntry?: string
  /** What `implEntry` patches: impl (default; its Kernel is tested) or spec (a patched spec/index.ts: the real impl is checked against it). */
  readonly implEntryLayer?: "impl" | "spec"
  /**
   * The watchdog, as the lockstep runner's `deadlineMs`: a kernel entry (of either layer) that
   * runs longer is a `nontermination` counterexample (default `defaultDeadlineMs`, 10 s; 0: none).
   * The search watches each chunk of states as a whole, so it costs next to nothing.
   */
  readonly deadlineMs?: number
  /** Worker threads (default 1: the search runs in this thread). Your own properties and `impl` need this thread. */
  readonly workers?: number
  /** Your own properties, checked on every state and edge (in this thread only). */
  readonly properties?: UserProperties
  readonly shard?: SearchOptions["shard"]
  readonly onProgress?: SearchOptions["onProgress"]
  readonly onState?: SearchOptions["onState"]
  readonly stop?: SearchOptions["stop"]
}

export interface ProveResult extends SearchResult {
  readonly scope: Scope
  readonly depth: number
  readonly symmetry: boolean
  readonly implState: boolean
  /** The sentence of what was proved (or checked so far, or refuted). */
  readonly statement: string
  /** Events of the counterexample from boot (set-up, then the path): a trace `kspec replay` runs. */
  readonly counterexampleEvents: readonly import("../../model/index.ts").Event[] | null
}

/** A runner that expands chunks in this thread, yielding to the event loop between chunks. */
export const inProcessRunner = (expander: Expander): ChunkRunner => ({
  parallelism: 1,
  run: async (c) => {
    await new Promise((r) => setImmediate(r))
    return expander.expand(c)
  },
  rootKey: async () => expander.rootKey(),
  close: async () => {},
})

/** How many checks each state and edge gets: the spec invariants and the impl-only ones. */
export const invariantCount = (): number => invariants.length + implInvariants.length

/** What a statement says beyond the result: the scope, the bound and the options it was run with. */
export interface StatementContext {
  readonly scope: Scope
  readonly depth: number
  readonly symmetry: boolean
  readonly implState: boolean
  /** The user's own property, named, if any. */
  readonly property?: string
}

/**
 * The statement a result supports, in one sentence: "for configuration X, every trace of depth
 * <= d over alphabet A: refinement and N invariants hold" (or every reachable state, when the
 * search reached a fixpoint), with what limits it (a shard's part, a run stopped early, the
 * options). See the README section on `kspec prove` for what it does and does not mean.
 */
export const statementOf = (r: SearchResult, c: StatementContext): string => {
  const name = c.scope.spec.name
  const what = `refinement and ${invariantCount()} invariants${c.property !== undefined ? ` and ${c.property}` : ""} hold`
  const over = `over alphabet ${name} (at most ${r.stats.alphabetMax} events a state)`
  const notes = [
    ...(r.split === null ? [] : [`in this shard's part: ${r.split.kept} of the ${r.split.of} states at depth ${r.split.level} and what lies below them`]),
    ...(c.symmetry ? ["up to symmetry"] : []),
    `states identified by ${c.implState ? "spec and impl state" : "spec state"}`,
  ]
  const tail = ` (${notes.join("; ")})`
  switch (r.status) {
    case "counterexample":
      return `for configuration ${name}: a counterexample of depth ${r.failure!.depth} (${r.failure!.failure.kind}); every trace of depth <= ${r.depthChecked} ${over} passed`
    case "incomplete":
      return `for configuration ${name}: not proved, stopped after ${r.stats.distinct} states; every trace of depth <= ${r.depthChecked} ${over}: ${what}${tail}`
    case "proved":
      return r.exhausted
        ? `for configuration ${name}, every reachable state (a fixpoint at depth ${r.depthChecked}), so every trace of any depth ${over}: ${what}${tail}`
        : `for configuration ${name}, every trace of depth <= ${c.depth} ${over}: ${what}${tail}`
  }
}

/** Run the bounded exhaustive search (see the module comment). */
export const prove = async <K extends ImplState = ImplState>(o: ProveOptions<K> = {}): Promise<ProveResult> => {
  const spec = typeof o.scope === "object" ? o.scope : resolveScope(o.scope ?? "tiny")
  const scope = buildScope(spec)
  const depth = o.depth ?? spec.depth
  const symmetry = o.symmetry ?? false
  const implState = o.implState ?? false
  const workers = o.workers ?? 1
  const deadline = o.deadlineMs ?? defaultDeadlineMs
  const deadlineMs = deadline > 0 ? { deadlineMs: deadline } : {}
  const layer = o.implEntryLayer ?? "impl"
  if (workers > 1 && (o.impl !== undefined || o.properties !== undefined)) {
    throw new Error("prove: your own impl or properties run in this thread only (workers: 1)")
  }
  const runner = workers > 1
    ? await workerPool(workers, { scope: spec, symmetry, implState, ...deadlineMs, ...(o.implEntry !== undefined ? { mutantEntry: o.implEntry, mutantLayer: layer } : {}) })
    : inProcessRunner(new Expander({
      scope, symmetry, implState, ...deadlineMs,
      impl: (o.impl as ImplUnderTest<ImplState> | undefined) ?? (o.implEntry !== undefined ? await loadImplEntry(o.implEntry, layer) : realImpl as unknown as ImplUnderTest<ImplState>),
      ...(o.properties !== undefined ? { properties: o.properties } : {}),
    }))
  try {
    const r = await search(runner, {
      depth,
      ...(o.maxStates !== undefined ? { maxStates: o.maxStates } : {}),
      ...(o.shard !== undefined ? { shard: o.shard } : {}),
      ...(o.onProgress !== undefined ? { onProgress: o.onProgress } : {}),
      ...(o.onState !== undefined ? { onState: o.onState } : {}),
      ...(o.stop !== undefined ? { stop: o.stop } : {}),
    })
    const property = o.properties === undefined ? undefined : o.properties.name ?? "your property"
    return {
      ...r, scope, depth, symmetry, implState,
      statement: statementOf(r, { scope, depth, symmetry, implState, ...(property !== undefined ? { property } : {}) }),
      counterexampleEvents: r.failure === null ? null : [...scope.setup, ...r.failure.events],
    }
  } finally {
    await runner.close()
  }
}
