// Each server's protocol, from a client that asks what a well-behaved client never does: unknown
// names, a registration it has no right to, reads of files never written, oversized writes, bad
// labels; and the timer's timeout through the virtualiser's rings.
import { describe, expect, it } from "vitest"
import { seL4_Signal } from "../../index.ts"
import type { ReceivedMessage } from "../../index.ts"
import type { Program, StartContext } from "../../userland/lib.ts"
import { Ring, call, load, store, wait } from "../../userland/lib.ts"
import { ErrorLabel, Label, Name, Slot, fileServerMagic, fsBufferVA, maxFileWords, queueVA, requestRingVA, responseRingVA, ringCapacity } from "../../userland/layout.ts"
import { bootSystem } from "../../userland/system.ts"

type Seen = { what: string; label: number; mrs: readonly number[] }

const probe = (seen: Seen[]) => function* (ctx: StartContext): Program {
  if (ctx.arg !== 0) for (;;) yield* wait(Slot.notification)
  const note = (what: string, r: ReceivedMessage) => seen.push({ what, label: r.label, mrs: r.mrs })
  note("lookup unknown", yield* call(Slot.nameServer, { label: Label.lookup, mrs: [1, 0x1234] }))
  note("lookup fs", yield* call(Slot.nameServer, { label: Label.lookup, mrs: [2, Name.fileServer] }))
  note("register fs name", yield* call(Slot.nameServer, { label: Label.register, mrs: [3, Name.fileServer, 666] }))
  note("lookup fs again", yield* call(Slot.nameServer, { label: Label.lookup, mrs: [4, Name.fileServer] }))
  note("register own name", yield* call(Slot.nameServer, { label: Label.register, mrs: [5, 0x77, 99] }))
  note("lookup own name", yield* call(Slot.nameServer, { label: Label.lookup, mrs: [6, 0x77] }))
  note("ns bad label", yield* call(Slot.nameServer, { label: 77, mrs: [7] }))
  note("read unwritten", yield* call(Slot.fileServer, { label: Label.read, mrs: [8] }))
  note("write too long", yield* call(Slot.fileServer, { label: Label.write, mrs: [9, maxFileWords + 1] }))
  for (let w = 0; w < 3; w++) yield* store(fsBufferVA(0) + 4 * w, 0xabc0 + w)
  note("write", yield* call(Slot.fileServer, { label: Label.write, mrs: [10, 3] }))
  for (let w = 0; w < 3; w++) yield* store(fsBufferVA(0) + 4 * w, 0)
  const r = yield* call(Slot.fileServer, { label: Label.read, mrs: [11] })
  const words: number[] = []
  for (let w = 0; w < (r.mrs[1] ?? 0); w++) words.push(yield* load(fsBufferVA(0) + 4 * w))
  seen.push({ what: "read", label: r.label, mrs: [...r.mrs, ...words] })
  note("fs bad label", yield* call(Slot.fileServer, { label: 99, mrs: [12] }))
  // A timeout of 3 ticks: the response comes on the ring, with the request's number.
  yield* new Ring(requestRingVA(queueVA(0)), ringCapacity, 2).push([13, 3])
  yield seL4_Signal(Slot.virt)
  for (;;) {
    yield* wait(Slot.notification)
    const got = yield* new Ring(responseRingVA(queueVA(0)), ringCapacity, 2).drain()
    if (got.length > 0) { seen.push({ what: "timeout", label: 0, mrs: got.flat() }); break }
  }
  for (;;) yield* wait(Slot.notification)
}

describe("the servers' protocols", () => {
  const seen: Seen[] = []
  const rt = bootSystem({ clients: 1, clientProgram: probe(seen) })
  rt.run(8_000)
  const at = (what: string) => seen.find((s) => s.what === what)

  it("the run is clean and the probe got every answer", () => {
    expect(rt.failure).toBeNull()
    expect(seen.map((s) => s.what)).toEqual([
      "lookup unknown", "lookup fs", "register fs name", "lookup fs again", "register own name", "lookup own name", "ns bad label",
      "read unwritten", "write too long", "write", "read", "fs bad label", "timeout",
    ])
  })
  it("name server: unknown names are NOT_FOUND; only the file server may register its name (the badge says who calls)", () => {
    expect(at("lookup unknown")).toMatchObject({ label: ErrorLabel.notFound, mrs: [1] })
    expect(at("lookup fs")).toMatchObject({ label: 0, mrs: [2, fileServerMagic] })
    expect(at("register fs name")).toMatchObject({ label: ErrorLabel.badRequest, mrs: [3] })
    expect(at("lookup fs again")).toMatchObject({ label: 0, mrs: [4, fileServerMagic] })
    expect(at("register own name")).toMatchObject({ label: 0, mrs: [5] })
    expect(at("lookup own name")).toMatchObject({ label: 0, mrs: [6, 99] })
    expect(at("ns bad label")).toMatchObject({ label: ErrorLabel.badRequest, mrs: [7] })
  })
  it("file server: a file never written is NOT_FOUND, an oversized write is refused, written words come back through the shared buffer", () => {
    expect(at("read unwritten")).toMatchObject({ label: ErrorLabel.notFound, mrs: [8] })
    expect(at("write too long")).toMatchObject({ label: ErrorLabel.badRequest, mrs: [9] })
    expect(at("write")).toMatchObject({ label: 0, mrs: [10, 3] })
    expect(at("read")).toMatchObject({ label: 0, mrs: [11, 3, 0xabc0, 0xabc1, 0xabc2] })
    expect(at("fs bad label")).toMatchObject({ label: ErrorLabel.badRequest, mrs: [12] })
  })
  it("timer: the virtualiser answers a timeout on the client's response ring with its number and status ok", () => {
    expect(at("timeout")).toMatchObject({ mrs: [13, 0] })
  })
})
