/**
 * Random labelled systems, so the checks are not tuned to three examples: two to four partitions,
 * each in a domain of its own with one or two threads and an untyped of its own, joined by random
 * channels (a Call channel through an endpoint of its own label, a send-only endpoint of the
 * receiver's, a notification of the receiver's, bound to one of its threads or not, a frame the
 * owner shares read-only), with the policy made from the authority of the state after set-up,
 * closed as l4v's `policy_wellformed` asks. No channel carries Grant across labels (l4v's
 * well-formedness would then ask for Control between the two labels, which a partition that runs
 * may not have).
 * @category security
 */
import fc from "fast-check"
import type { SystemFile } from "./system.ts"

/** One channel between two partitions, by index. */
interface Channel {
  readonly kind: "call" | "send" | "signal" | "share"
  readonly from: number
  readonly to: number
  readonly badge: number
  readonly bind: boolean
}

const names = ["Red", "Green", "Blue", "Amber"] as const
/** A channel's letter in a random system's name: call, send, notification, frame. */
const kindLetter = { call: "c", send: "s", signal: "n", share: "f" } as const

const channelArb = (n: number): fc.Arbitrary<Channel> =>
  fc.record({
    kind: fc.constantFrom("call", "send", "signal", "share"),
    from: fc.nat({ max: n - 1 }),
    to: fc.nat({ max: n - 2 }),
    badge: fc.integer({ min: 1, max: 255 }),
    bind: fc.boolean(),
  }).map((c) => ({ ...c, to: c.to >= c.from ? c.to + 1 : c.to }))

/** A random system file (its policy: `"closure"`). */
export const randomSystemArb: fc.Arbitrary<SystemFile> = fc.integer({ min: 2, max: 4 }).chain((n) =>
  fc.record({
    threads: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: n, maxLength: n }),
    untyped: fc.array(fc.integer({ min: 12, max: 13 }), { minLength: n, maxLength: n }),
    channels: fc.array(channelArb(n), { maxLength: 4 }),
    length: fc.integer({ min: 2, max: 4 }),
  }).map(({ threads, untyped, channels, length }): SystemFile => {
    const partitions = names.slice(0, n).map((label, i) => ({ label, domain: i, threads: threads[i]!, untypedBits: untyped[i]! }))
    const objects: SystemFile["objects"][number][] = []
    const caps: SystemFile["caps"][number][] = []
    const bound = new Set<string>()
    channels.forEach((c, k) => {
      const from = names[c.from]!
      const to = names[c.to]!
      const name = `ch${k}`
      switch (c.kind) {
        case "call":
          objects.push({ name, type: "Endpoint", owner: `EP${k}` })
          caps.push({ partition: from, object: name, rights: "Wg", badge: c.badge }, { partition: to, object: name, rights: "R" })
          break
        case "send":
          objects.push({ name, type: "Endpoint", owner: to })
          caps.push({ partition: from, object: name, rights: "W", badge: c.badge }, { partition: to, object: name, rights: "RW" })
          break
        case "signal": {
          const bindTo = c.bind && !bound.has(to) ? 0 : undefined
          if (bindTo !== undefined) bound.add(to)
          objects.push({ name, type: "Notification", owner: to, ...(bindTo !== undefined ? { bindTo } : {}) })
          caps.push({ partition: from, object: name, rights: "W", badge: c.badge }, { partition: to, object: name, rights: "RW" })
          break
        }
        case "share":
          objects.push({ name, type: "Frame", owner: to })
          caps.push({ partition: from, object: name, rights: "R" }, { partition: to, object: name, rights: "RW" })
          break
      }
    })
    return {
      kspec: "security-system", version: 1, name: `random-${n}p-${channels.map((c) => kindLetter[c.kind]).join("") || "none"}`,
      summary: `${n} random partitions, ${channels.length} channel(s): ${channels.map((c) => `${names[c.from]} ${c.kind} ${names[c.to]}`).join(", ") || "none"}`,
      domainSchedule: partitions.map((p) => ({ domain: p.domain, length })),
      partitions, objects, caps, policy: "closure",
    }
  }),
)
