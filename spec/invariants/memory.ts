/**
 * User memory: the words frames hold (spec/machine/memory.ts).
 * @category invariants
 */
import { bit } from "../../model/index.ts"
import { hex } from "./internal.ts"
import { changedObjects, defineInvariant } from "./types.ts"

/**
 * Every word a frame holds lies inside the frame and is a non-zero 32-bit word: memory outside
 * the frames, and every frame word never written, reads 0.
 *
 * Why: a word off the end of its frame would be memory of the object after it, which a user
 * could then read through the frame; a stored 0 would make two equal memories look different.
 *
 * Mirrors: l4v Invariants_AI `valid_machine_state` (memory outside user frames is 0); kspec keeps
 * the memory in the frames, so it asks that each frame keeps to its own words.
 */
export const validMachineState = defineInvariant({
  name: "valid_machine_state",
  statement: "Every word a frame holds has an index inside the frame (below 2^(size bits - 2)) and is a non-zero 32-bit word.",
  mirrors: "l4v Invariants_AI valid_machine_state (kspec keeps memory per frame)",
  threatenedBy: ["MemoryAccess", "Syscall (IPC-buffer stores)", "doIPCTransfer", "replyFromKernel_error", "setMRs_fault", "TCB_ReadRegisters"],
  // Per frame: a changed one (its words, usually an IPC buffer's few).
  scope: (_s, _prev, d) => changedObjects(d),
  find: (s, report) => {
    for (const [p, o] of s.kheap) {
      if (o.tag !== "Frame") continue
      const words = bit(o.sizeBits - 2)
      for (const [i, w] of o.words) {
        if (!Number.isInteger(i) || i < 0 || i >= words) report(`frame ${hex(p)} holds a word at index ${i}, outside its ${words} words`)
        else if (!Number.isInteger(w) || w <= 0 || w > 0xffff_ffff) report(`frame ${hex(p)} word ${i} is ${w}, not a non-zero 32-bit word`)
      }
    }
  },
})
