import { test } from "@fast-check/vitest"
import fc from "fast-check"
import { expect } from "vitest"
import { choiceArbFor, clientServer, decodeMessage, lockstep, observe, seL4_Call, traceArb } from "kspec"

// Any trace, then a few TCB_SetTLSBase calls: the impl refines the spec, every invariant holds.
test.prop([traceArb(40), fc.array(choiceArbFor("TCB_SetTLSBase"), { minLength: 1, maxLength: 4 })], { seed: 42, numRuns: 30 })(
  "TCB_SetTLSBase after any trace", (trace, aimed) => {
    const h = lockstep()
    for (const c of [...trace, ...aimed]) expect(h.stepChoice(c).failure).toBeNull()
  })

// A Call's label and words reach the server waiting in Recv, with the badge of the client's cap.
test("the server receives the client's Call", () => {
  const { system, ep, server } = clientServer()
  const badged = system.mint(ep, 7)
  const h = lockstep()
  expect(h.run([...system.events, seL4_Call(badged, { label: 9, mrs: [1, 2, 3] })])).toBeNull()
  expect(decodeMessage(observe(h.spec, server.ptr))).toMatchObject({ label: 9, mrs: [1, 2, 3], badge: 7 })
})
