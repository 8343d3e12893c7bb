/**
 * Rights probes: the security campaign's addition to the generator. A probe is either a syscall of
 * any kind (Send, NBSend, Call, Recv, NBRecv, Reply) or a Call of any method of the cap's object
 * (from the ABI table), made by the current thread on any cap it holds, whatever the cap's rights,
 * with a short message, caps it holds as the extra caps and a receive slot: the move a tester makes
 * to see what a cap lets through that it should not. The ordinary generator mostly uses caps the
 * way their rights allow, so a kernel that forgets a rights check on a rare path is seldom asked.
 * @category security
 */
import type { Cap, Event, SyscallKind } from "../../model/index.ts"
import { InvocationLabel, messageInfo } from "../../model/index.ts"
import { abi } from "../../model/abi.ts"
import type { KernelState } from "../../spec/index.ts"
import type { Choice } from "../gen/choices.ts"
import { resolveChoice } from "../gen/choices.ts"
import { addressBook } from "../gen/addressBook.ts"
import { freeSlotPreferRoot, pick, prefer, selectorCount, target } from "../gen/resolveUtil.ts"

const probeKinds: readonly SyscallKind[] = ["Send", "NBSend", "Call", "Recv", "NBRecv", "NBRecv", "Reply"]

/**
 * The probe a choice's words make for the current thread of `s` (the ordinary event while idle
 * runs). `crosses` says whether a cap names another label's object: probes aim at those three
 * times in four (as the invoked cap of a syscall, as the extra caps of a method).
 */
export const probe = (s: KernelState, c: Choice, crosses: (cap: Cap) => boolean = () => false): Event => {
  const t = s.curThread
  if (t === s.idleThread) return resolveChoice(s, { ...c, op: "Yield" })
  const book = addressBook(s, t)
  const w = (i: number) => c.w[i % Math.max(1, c.w.length)] ?? 0
  const crossing = book.direct.filter((d) => crosses(d.cap))
  const cap = prefer(crossing, book.direct, w(0))
  const syscall = probeKinds[w(1) % probeKinds.length]!
  const mrs = Array.from({ length: w(2) % 3 }, (_, i) => (w(3 + i) * 2_654_435_761) >>> 0)
  const extraCaps = Array.from({ length: w(4) % 3 }, (_, i) => prefer(crossing, book.direct, w(5 + i))?.cptr ?? 0)
  const x = { s, t, book, w: Array.from({ length: selectorCount }, (_, i) => w(i)) }
  const recvSlot = target(freeSlotPreferRoot(x, w(7)), w(7))
  // Two probes in five call a method of a held cap's object, with held caps as its cap arguments.
  const invoked = pick(book.direct, w(0) >>> 3)
  const methods = invoked === undefined ? [] : abi.filter((e) => e.cap === invoked.cap.tag && e.label !== undefined)
  const m = w(9) % 5 >= 3 ? pick(methods, w(10)) : undefined
  if (m !== undefined) {
    const args = m.args.map((_, i) => (i % 2 === 0 ? w(3 + i) % 64 : w(3 + i)) >>> 0)
    const caps = m.caps.map((_, i) => prefer(crossing, book.direct, w(5 + i))?.cptr ?? 0)
    return { tag: "Syscall", syscall: "Call", cptr: invoked!.cptr, msgInfo: messageInfo(InvocationLabel[m.label!], args.length, caps.length), mrs: args, extraCaps: caps }
  }
  return { tag: "Syscall", syscall, cptr: cap?.cptr ?? 0, msgInfo: messageInfo(w(8) % 8, mrs.length, extraCaps.length), mrs, extraCaps, recvSlot }
}

/** A security campaign's choice: a `Raw` choice is a probe, any other the ordinary generator's event. */
export const resolveSecurityChoice = (s: KernelState, c: Choice, crosses?: (cap: Cap) => boolean): Event =>
  (c.op === "Raw" ? probe(s, c, crosses) : resolveChoice(s, c))
