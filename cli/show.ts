/** Readable renderings of events for traces: `seL4_Call(cptr=2, CNodeCopy, len=5, [50, 32, ...], extra=[2])`. */
import type { Event, MemoryAccessEvent } from "../model/index.ts"
import { labelName, messageInfoFromWord } from "../model/index.ts"

export const showEvent = (e: Event): string => {
  if (e.tag === "TimerTick") return "TimerTick"
  if (e.tag === "Interrupt") return `Interrupt(${e.irq})`
  if (e.tag === "UserFault") return `UserFault(${e.kind}, [${e.words.join(", ")}])`
  if (e.tag === "MemoryAccess") return showMemoryAccess(e)
  const mi = messageInfoFromWord(e.msgInfo)
  const words = e.mrs.slice(0, mi.length).map((w) => (w > 0xffff ? `0x${w.toString(16)}` : String(w)))
  const extra = mi.extraCaps > 0 ? `, extra=[${e.extraCaps.slice(0, mi.extraCaps).join(", ")}]` : ""
  const irq = e.pendingIRQ !== undefined ? ` [IRQ ${e.pendingIRQ} pending]` : ""
  return `seL4_${e.syscall}(cptr=${e.cptr}, ${labelName(mi.label)}, len=${mi.length}, [${words.join(", ")}]${extra})${irq}`
}

/** `Read(0x801000)`, `Write(0x801000, 7)`, `Execute(0x10000)`. */
export const showMemoryAccess = (e: MemoryAccessEvent): string =>
  `${e.kind}(0x${(e.vaddr >>> 0).toString(16)}${e.kind === "Write" ? `, ${(e.value ?? 0) >>> 0}` : ""})`
