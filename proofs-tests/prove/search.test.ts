/**
 * `kspec prove` in the suite: the CI scope is searched exhaustively (the queue empties at a
 * fixpoint, so every reachable state of it is checked), and the search's machinery keeps its
 * promises: workers and shards find what one thread finds, a run stopped early says it proved
 * nothing, the user's own properties are checked, a counterexample is the shortest and replays.
 */
import { describe, expect, it } from "vitest"
import type { KernelState } from "../../spec/index.ts"
import { realImpl } from "../../harness/lockstep/impls.ts"
import { runEvents } from "../../harness/lockstep/runner.ts"
import { endpointQueue } from "../../harness/query.ts"
import { prove } from "../../harness/prove/index.ts"
import { buildScope, resolveScope } from "../../harness/prove/scope.ts"

describe("the CI scope, exhausted", () => {
  it("tiny: every reachable state is checked (a fixpoint), refinement and every invariant hold", async () => {
    const r = await prove({ scope: "tiny" })
    expect(r.status).toBe("proved")
    expect(r.exhausted).toBe(true)
    expect(r.stats.queue).toBe(0)
    expect(r.stats.checked).toBe(r.stats.distinct)
    expect(r.stats.levels.reduce((a, b) => a + b, 0)).toBe(r.stats.distinct)
    expect(r.stats.distinct).toBeGreaterThan(1000)
    expect(r.depthChecked).toBeLessThan(r.depth)
    expect(r.statement).toMatch(/^for configuration tiny, every reachable state \(a fixpoint at depth \d+\), so every trace of any depth over alphabet tiny \(at most \d+ events a state\): refinement and \d+ invariants hold/)
    // Every outcome a two-thread IPC system has, reached: blocking, rendezvous, polls, replies with no caller.
    for (const o of ["EndpointCap|Blocked", "EndpointCap|Success", "NotificationCap|Empty", "NotificationCap|Success", "ReplyCap|NoCaller"]) {
      expect(r.outcomes.has(o), o).toBe(true)
    }
  })
})

describe("the search", () => {
  it("finds the same states on worker threads as in this thread", async () => {
    const one = await prove({ scope: "tiny", depth: 3 })
    const two = await prove({ scope: "tiny", depth: 3, workers: 2 })
    expect(two.stats.levels).toEqual(one.stats.levels)
    expect(two.stats.generated).toBe(one.stats.generated)
    expect(two.status).toBe("proved")
  }, 60_000)

  it("splits into shards that together check every state, and say what they lose", async () => {
    const keys = async (shard?: { index: number; count: number }) => {
      const seen = new Set<string>()
      const r = await prove({ scope: "tiny", depth: 4, ...(shard !== undefined ? { shard } : {}), onState: (lo, hi) => { seen.add(`${lo}:${hi}`) } })
      expect(r.status).toBe("proved")
      return { seen, r }
    }
    const whole = await keys()
    const parts = await Promise.all([0, 1].map((index) => keys({ index, count: 2 })))
    const union = new Set(parts.flatMap((p) => [...p.seen]))
    expect([...whole.seen].filter((k) => !union.has(k))).toEqual([])
    // Each shard split at the same level and kept a third or so of it; together they checked more than one search (no cross-shard dedup).
    const split = parts[0]!.r.split!
    expect(parts.every((p) => p.r.split?.level === split.level)).toBe(true)
    expect(parts.reduce((a, p) => a + p.r.split!.kept, 0)).toBe(split.of)
    expect(parts.reduce((a, p) => a + p.r.stats.checked, 0)).toBeGreaterThanOrEqual(whole.r.stats.checked)
    expect(parts[0]!.r.statement).toContain("in this shard's part")
  })

  it("stopped by maxStates, it proves nothing and says so", async () => {
    const r = await prove({ scope: "tiny", maxStates: 100 })
    expect(r.status).toBe("incomplete")
    expect(r.stats.distinct).toBe(100)
    expect(r.statement).toMatch(/^for configuration tiny: not proved, stopped after 100 states; every trace of depth <= \d+/)
  })

  it("keyed by (spec state, impl state), finds the impl's own variants of the same spec states", async () => {
    const spec = await prove({ scope: "tiny", depth: 3 })
    const pairs = await prove({ scope: "tiny", depth: 3, implState: true })
    expect(pairs.stats.specDistinct).toBe(spec.stats.distinct)
    expect(pairs.stats.distinct).toBeGreaterThanOrEqual(spec.stats.distinct)
    expect(pairs.status).toBe("proved")
    expect(pairs.statement).toContain("states identified by spec and impl state")
  })
})

describe("your own properties", () => {
  const blockedOnNotification = (s: KernelState) => [...s.kheap.values()].some((o) => o.tag === "TCB" && o.tcbState.tag === "BlockedOnNotification")

  it("a state property that holds everywhere is proved with the rest", async () => {
    const r = await prove({
      scope: "tiny", depth: 4,
      properties: {
        name: "endpoint queues hold blocked threads only",
        state: (s) => [...s.kheap].every(([p, o]) => o.tag !== "Endpoint" || (endpointQueue(s, p)?.queue ?? []).every((t) => {
          const st = s.kheap.get(t)
          return st?.tag === "TCB" && (st.tcbState.tag === "BlockedOnSend" || st.tcbState.tag === "BlockedOnReceive")
        })),
      },
    })
    expect(r.status).toBe("proved")
    expect(r.statement).toContain("and endpoint queues hold blocked threads only hold")
  })

  it("a state property that fails gives the shortest path to a state where it fails", async () => {
    const r = await prove({ scope: "tiny", properties: { name: "nobody waits on the notification", state: (s) => !blockedOnNotification(s) } })
    expect(r.status).toBe("counterexample")
    const f = r.failure!
    expect(f.failure.kind).toBe("invariant")
    expect(f.depth).toBe(1)
    // The path leads there, and lockstep agrees all the way.
    const scope = buildScope(resolveScope("tiny"))
    const run = runEvents(realImpl, scope.config, r.counterexampleEvents!)
    expect(run.failure).toBeNull()
    expect(blockedOnNotification(run.spec)).toBe(true)
  })

  it("an edge property sees the state before and after each event", async () => {
    const r = await prove({
      scope: "tiny",
      properties: { name: "after a Yield no thread is blocked sending", edge: (_pre, ev, post) => ev.tag !== "Syscall" || ev.syscall !== "Yield" || [...post.kheap.values()].every((o) => o.tag !== "TCB" || o.tcbState.tag !== "BlockedOnSend") },
    })
    // Threads do block on send in tiny, and a Yield by the other thread keeps them so: the shortest such trace.
    expect(r.status).toBe("counterexample")
    expect(r.failure!.events.at(-1)).toMatchObject({ tag: "Syscall", syscall: "Yield" })
    expect(r.failure!.depth).toBe(2)
  })
})
