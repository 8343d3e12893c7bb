// A property of your own, proved over a scope of your own: every state two threads can reach with
// an endpoint and a notification, whatever they do, in a few lines of vitest (`prove` is what
// `kspec prove` runs).
import { expect, test } from "vitest"
import { prove, scopes } from "kspec"
import type { KernelState, ScopeSpec } from "kspec"

// Start from a named scope and change what you need: here, tiny without its notification calls.
const tiny = scopes.find((s) => s.name === "tiny")!
const ipcOnly: ScopeSpec = { ...tiny, name: "ipc-only", alphabet: { ...tiny.alphabet, families: ["ipc", "yield"] } }

// A thread waiting to receive is never also the current thread.
const receiverNotRunning = (s: KernelState) => {
  const cur = s.kheap.get(s.curThread)
  return cur?.tag !== "TCB" || cur.tcbState.tag !== "BlockedOnReceive"
}

test("no receiver runs, in every state of the scope", async () => {
  const r = await prove({ scope: ipcOnly, properties: { name: "no receiver runs", state: receiverNotRunning } })
  expect(r.status).toBe("proved")
  expect(r.exhausted).toBe(true)
  expect(r.statement).toMatch(/^for configuration ipc-only, every reachable state .*: refinement and \d+ invariants and no receiver runs hold/)
})
