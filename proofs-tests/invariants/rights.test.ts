/**
 * The rights word of an endpoint or notification cap, across every value and one past: seL4's
 * endpoint caps carry any of Read, Write, Grant and GrantReply, its notification caps only Read
 * and Write (maskCapRights keeps no Grant bit on them). `valid_objs.wellformed_cap` must flag
 * exactly the words seL4 cannot build, each bit on its own as well as together (the corpus's
 * corruptions move a word to its limits, 0 and 15, where both Grant bits are set at once).
 */
import { describe, expect, it } from "vitest"
import type { Cap } from "../../model/index.ts"
import { RightG, RightGR } from "../../model/index.ts"
import { invariants } from "../../spec/invariants/index.ts"
import { getCap, setCap } from "../../spec/state.ts"
import { PingPongSlots as S, pingPongSetup } from "../../harness/scenarios/pingpong.ts"
import { rootSlot, specRun } from "../refinement/scenario.ts"

const wellformed = invariants.find((i) => i.name === "valid_objs.wellformed_cap")!

describe("wellformed_cap on rights words", () => {
  const s0 = specRun(pingPongSetup()).state
  it.each([
    { kind: "endpoint", slot: S.ep, bad: (r: number) => r > 15 },
    { kind: "notification", slot: S.ntfn, bad: (r: number) => r > 15 || (r & (RightG | RightGR)) !== 0 },
  ])("flags exactly the words seL4 cannot put on an $kind cap", ({ slot, bad }) => {
    const at = rootSlot(s0, slot)
    const cap = getCap(s0, at)
    expect(cap.tag === "EndpointCap" || cap.tag === "NotificationCap").toBe(true)
    expect(wellformed.check(s0)).toEqual([])
    const flagged = Array.from({ length: 17 }, (_, r) => wellformed.check(setCap(s0, at, { ...cap, rights: r } as Cap)).length > 0)
    expect(flagged).toEqual(Array.from({ length: 17 }, (_, r) => bad(r)))
  })
})
