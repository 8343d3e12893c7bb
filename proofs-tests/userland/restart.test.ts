// A crash in the middle of a request and the restart, by policy: the client whose request died
// with the file server gets the "restarted" error from the new generation; then, with the state
// kept, its file is still there; started fresh, it is gone (NOT_FOUND). Either way the server
// answers again.
import { describe, expect, it } from "vitest"
import type { ReceivedMessage } from "../../index.ts"
import { FaultInjector, prng } from "../../userland/inject.ts"
import type { Program, StartContext } from "../../userland/lib.ts"
import { call, load, store, wait } from "../../userland/lib.ts"
import { ErrorLabel, Label, Pid, Slot, fsBufferVA } from "../../userland/layout.ts"
import type { RestartPolicy } from "../../userland/servers/supervisor.ts"
import { defaultPolicy } from "../../userland/servers/supervisor.ts"
import { bootSystem } from "../../userland/system.ts"

/** Write a file, then read it back over and over, noting each answer. */
const reader = (seen: ReceivedMessage[]) => function* (ctx: StartContext): Program {
  if (ctx.arg !== 0) for (;;) yield* wait(Slot.notification)
  for (let w = 0; w < 2; w++) yield* store(fsBufferVA(0) + 4 * w, 0x5150 + w)
  seen.push(yield* call(Slot.fileServer, { label: Label.write, mrs: [1, 2] }))
  for (let seq = 2; seq < 40; seq++) {
    const r = yield* call(Slot.fileServer, { label: Label.read, mrs: [seq] })
    if (r.label === 0) { yield* load(fsBufferVA(0)); yield* load(fsBufferVA(0) + 4) }
    seen.push(r)
  }
  for (;;) yield* wait(Slot.notification)
}

const crashOnce = (policy: RestartPolicy) => {
  const seen: ReceivedMessage[] = []
  // Armed once the root task is done and the file is written (about cycle 300).
  const injector = new FaultInjector({ rng: prng(3), gap: 100, kinds: ["crash-mid-request"], targets: [Pid.fileServer] }, 400)
  injector.limit = 1
  const rt = bootSystem({ clients: 1, clientProgram: reader(seen), policy, injector: injector.hook })
  rt.run(12_000)
  return { seen, rt, injector }
}

describe("a crash in the middle of a request, and the restart", () => {
  for (const keep of [true, false]) {
    it(`file server restarted with ${keep ? "its state kept" : "fresh state"}: the held request fails with "restarted", then the file is ${keep ? "still there" : "gone"}`, () => {
      const { seen, rt, injector } = crashOnce({ ...defaultPolicy, [Pid.fileServer]: keep ? "kept" : "fresh" })
      expect(rt.failure).toBeNull()
      expect(injector.injected).toBe(1)
      expect(rt.console.filter((c) => c.kind === "restart" && c.words[0] === Pid.fileServer)).toHaveLength(1)
      expect(seen).toHaveLength(39)
      const failed = seen.findIndex((r) => r.label === ErrorLabel.restarted)
      expect(failed).toBeGreaterThan(0)
      expect(seen.slice(0, failed).every((r) => r.label === 0)).toBe(true)
      const after = seen.slice(failed + 1)
      expect(after.length).toBeGreaterThan(0)
      if (keep) expect(after.every((r) => r.label === 0 && r.mrs[1] === 2)).toBe(true)
      else expect(after.every((r) => r.label === ErrorLabel.notFound)).toBe(true)
      expect(rt.audit()).toEqual([])
    })
  }
})
