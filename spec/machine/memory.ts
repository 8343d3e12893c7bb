/**
 * User memory: the words of frames. seL4's frames are physical memory the kernel reaches through
 * its window (the IPC buffer: `lookupIPCBuffer`'s pointer) and a user reaches through its VSpace;
 * l4v keeps it as the machine's `underlying_memory` (A/MachineOps `loadWord`, `storeWord`,
 * Ipc_A `load_word_offs`, `store_word_offs`). kspec keeps each frame's words in the frame object,
 * word by index, only the words that are not 0: frames never overlap, and their memory is wiped
 * when their region is reused (objects leave the heap with their words).
 * @category objects
 */
import type { PPtr } from "../../model/index.ts"
import type { KObject, KernelState } from "../state.ts"
import { KernelBug, mapDelete, mapSet, setObject } from "../state.ts"

export type Frame = Extract<KObject, { tag: "Frame" }>

/** A word of physical memory: a frame and the index of the word in it. */
export interface MemPtr { readonly frame: PPtr; readonly word: number }

/** The frame object at `p`. */
export const getFrame = (s: KernelState, p: PPtr): Frame => {
  const o = s.kheap.get(p)
  if (o?.tag !== "Frame") throw new KernelBug(`getFrame: no frame at 0x${p.toString(16)}`)
  return o
}

/** Word `i` of the frame at `frame` (0 if never written). Mirrors l4v `loadWord`. */
export const loadWord = (s: KernelState, frame: PPtr, i: number): number => getFrame(s, frame).words.get(i) ?? 0

/** Store `words` into the frame at `frame` from word `i` on (a 0 is kept as no entry). Mirrors l4v `storeWord`, word by word. */
export const storeWords = (s: KernelState, frame: PPtr, i: number, words: readonly number[]): KernelState => {
  if (words.length === 0) return s
  const f = getFrame(s, frame)
  let m = f.words
  for (let j = 0; j < words.length; j++) {
    const w = words[j]! >>> 0
    m = w === 0 ? mapDelete(m, i + j) : mapSet(m, i + j, w)
  }
  return m === f.words ? s : setObject(s, frame, { tag: "Frame", sizeBits: f.sizeBits, isDevice: f.isDevice, words: m })
}

/** Word `offs` from `p` (an IPC buffer: word `offs` of seL4_IPCBuffer). Mirrors l4v `load_word_offs`. */
export const loadWordOffs = (s: KernelState, p: MemPtr, offs: number): number => loadWord(s, p.frame, p.word + offs)

/** Store `words` from word `offs` of `p` on. Mirrors l4v `store_word_offs`, word by word. */
export const storeWordOffs = (s: KernelState, p: MemPtr, offs: number, words: readonly number[]): KernelState =>
  storeWords(s, p.frame, p.word + offs, words)
