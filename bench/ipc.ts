/**
 * Benchmark: IPC ping-pong (the client's Call, the server's ReplyRecv) from a booted ping-pong
 * scenario, in ns per round trip for the impl with its fastpath, the impl forced down the slow
 * path, and the spec, beside a bare-JS floor loop that does only the unavoidable work of a round
 * trip (copy the message words each way, swap the current thread) and beside the fastpath's whole
 * work in its cheapest JavaScript (bench/specialised.ts, a bound on what data layout could gain).
 * All in one run.
 */
import type { Event } from "../model/index.ts"
import { defaultBootConfig } from "../model/index.ts"
import type { KernelState } from "../spec/index.ts"
import { boot, step } from "../spec/index.ts"
import { Kernel } from "../impl/index.ts"
import { PingPongSlots, clientCall, pingPongSetup, serverReplyRecv } from "../harness/scenarios/pingpong.ts"
import { SpecialisedKernel } from "./specialised.ts"
import { medianNs, roundRobinMediansNs, warmUp } from "./timing.ts"

export interface IpcBenchResult {
  /** Message words each way. */
  readonly length: number
  readonly floorNs: number
  /** The same round trip by bench/specialised.ts: the fastpath's work in its cheapest JavaScript (a bound, not a kernel). */
  readonly specialisedNs: number
  readonly fastpathNs: number
  readonly slowpathNs: number
  readonly specNs: number
}

/** A thread as the floor loop sees it: message registers and nothing else. */
interface FloorThread { readonly mrs: number[] }

/** Keeps the floor loop's work observable so it is not optimised away. */
let sink = 0

/**
 * The floor: per round trip, copy `len` words from client to server, make the server current,
 * copy `len` words back, make the client current.
 */
const floorRounds = (rounds: number, len: number): void => {
  const a: FloorThread = { mrs: new Array<number>(120).fill(1) }
  const b: FloorThread = { mrs: new Array<number>(120).fill(2) }
  let cur = a
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < len; i++) b.mrs[i] = a.mrs[i]!
    cur = b
    for (let i = 0; i < len; i++) a.mrs[i] = b.mrs[i]! + 1
    cur = a
  }
  sink += cur.mrs[0]!
}

export const runIpcBench = (length = 2, rounds = 20_000, specRounds = 2_000, reps = 15): IpcBenchResult => {
  const setup = pingPongSetup()
  const call: Event = clientCall(length)
  const replyRecv: Event = serverReplyRecv(length)

  const kernel = (fastpath: boolean): Kernel => {
    const k = Kernel.boot(defaultBootConfig, { fastpath })
    for (const e of setup) k.step(e)
    return k
  }
  const kFast = kernel(true)
  const kSlow = kernel(false)
  let s: KernelState = setup.reduce(step, boot(defaultBootConfig))

  const sk = new SpecialisedKernel(PingPongSlots.ep)
  let skRounds = 0
  const specialisedRounds = () => { for (let r = 0; r < rounds; r++) { sk.step(call); sk.step(replyRecv) } skRounds += rounds }
  const implRounds = (k: Kernel) => () => { for (let r = 0; r < rounds; r++) { k.step(call); k.step(replyRecv) } }
  const specRun = () => { for (let r = 0; r < specRounds; r++) { s = step(step(s, call), replyRecv) } }

  // Warm up and time the floor and the impl first, then the spec: the spec's garbage (and the
  // collections it brings) would otherwise land in the impl's short runs (about +12%).
  // Each runs for at least 200 ms first, so the figures are of JIT-warm code.
  const warm = (f: () => void) => warmUp(() => undefined, f, 200)
  warm(() => floorRounds(rounds, length)); warm(specialisedRounds); warm(implRounds(kFast)); warm(implRounds(kSlow))
  // In turns, so that their ratios to the floor hold while the machine's speed drifts.
  // The floor runs ten times the rounds, so that each timing lasts about as long as the others'.
  const [floorNs, specialisedNs, fastpathNs, slowpathNs] = roundRobinMediansNs(
    [() => floorRounds(10 * rounds, length), specialisedRounds, implRounds(kFast), implRounds(kSlow)], reps,
  ).map((ns, i) => ns / (i === 0 ? 10 * rounds : rounds)) as [number, number, number, number]
  // Every entry of the measuring stick took its fastpath, and the last reply carried the server's words.
  if (sk.hits !== 2 * skRounds || sk.currentMrs().slice(0, length).join() !== replyRecv.mrs.slice(0, length).join()) {
    throw new Error(`the specialised round trip did not run as the ping-pong: ${sk.hits} fastpath entries of ${2 * skRounds}`)
  }
  warm(specRun)
  const specNs = medianNs(specRun, reps) / specRounds
  if (sink === 0.5) console.log(sink)
  return { length, floorNs, specialisedNs, fastpathNs, slowpathNs, specNs }
}
