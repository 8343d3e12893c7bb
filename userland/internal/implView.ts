/**
 * The impl's hardware views the machine reads (the MMU walk and a frame's words), gathered so
 * machine.ts names them once.
 */
import { Kernel } from "../../impl/index.ts"
import type { ImplFrame, ImplPageDirectory, ImplState } from "../../impl/index.ts"
import { loadWord } from "../../impl/machine/memory.ts"
import { mmuResult, translate, userVSpaceRoot } from "../../impl/machine/mmu.ts"
import type { MemoryAccessKind } from "../../model/index.ts"

export { Kernel }
export const loadWordImpl = loadWord
export const userVSpaceRootImpl = userVSpaceRoot
/** The MMU: translate, then the word index of the last successful walk. */
export const translateImpl = {
  translate: (k: ImplState, pd: ImplPageDirectory, vaddr: number, kind: MemoryAccessKind): ImplFrame | null => translate(k, pd, vaddr, kind),
  word: (): number => mmuResult.word,
}
