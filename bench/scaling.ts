/**
 * Benchmark: the impl's cost per kernel entry as the number of live objects grows (10^3 .. 10^6).
 *
 * The big state is built the way a root task would build it, through kernel entries: boot with one
 * 512 MiB untyped and a 4096-slot root CNode, retype CNodes of 4096 slots, and fill them with
 * Untyped_Retype calls of 256 objects each (mostly endpoints, some notifications, TCBs, page tables
 * and 4 KiB frames; every object has a cap). Then a fixed mixed sequence of entries that touches a
 * bounded set of objects is timed: IPC ping-pong (fastpath Call + ReplyRecv), a CNode copy of a cap
 * out of a bulk CNode and its delete, two signals and a poll, a TCB register read, a Yield, and
 * address-space work in the root task's VSpace (map a frame through its page table, a directory
 * flush over it, unmap it). Every one of those operations is bounded, so the cost per entry should
 * not depend on the number of objects.
 *
 * Not bounded (and so not in the timed sequence): revoke (linear in the descendants it deletes),
 * Untyped_Retype of many objects (linear in num_objects), deleting the last cap to a CNode (linear in
 * its slots), and an untyped reset (min(live objects, untyped bytes / 16): it probes the region or scans the table). */
import { Kernel } from "../impl/index.ts"
import { pingPongSetup } from "../harness/scenarios/pingpong.ts"
import { bigBootConfig, bulkEvents, mixedRound } from "../harness/scenarios/bulk.ts"
import { medianNs } from "./timing.ts"

/** A kernel with the ping-pong pair set up and about `objects` more objects in bulk CNodes. */
export const bigKernel = (objects: number): Kernel => {
  const k = Kernel.boot(bigBootConfig)
  for (const e of pingPongSetup()) k.step(e)
  for (const e of bulkEvents(objects)) k.step(e)
  return k
}

export interface ScalingPoint {
  readonly objects: number
  /** Capability slots in use (MDB nodes). */
  readonly caps: number
  readonly buildMs: number
  readonly nsPerEntry: number
}

const countCaps = (k: Kernel): number => {
  let n = 0
  for (const o of k.objects.values()) {
    if (o.tag === "CNode") { for (const s of o.slots) if (s !== undefined && s.cap.tag !== "NullCap") n++ }
    else if (o.tag === "TCB") { for (const s of o.slots) if (s.cap.tag !== "NullCap") n++ }
  }
  return n
}

export const runScalingBench = (sizes: readonly number[] = [1e3, 1e4, 1e5, 1e6], rounds = 20_000, reps = 5): ScalingPoint[] => {
  const round = mixedRound()
  const out: ScalingPoint[] = []
  for (const n of sizes) {
    const t0 = performance.now()
    const k = bigKernel(n)
    const buildMs = performance.now() - t0
    const run = () => { for (let r = 0; r < rounds; r++) for (let i = 0; i < round.length; i++) k.step(round[i]!) }
    run()
    const ns = medianNs(run, reps) / (rounds * round.length)
    out.push({ objects: k.objects.size, caps: countCaps(k), buildMs, nsPerEntry: ns })
  }
  return out
}
