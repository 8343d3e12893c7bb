/**
 * Frame memory: each frame's words in a typed array per 4 KiB page, made the first time a word in
 * that page is written (the kernel's IPC-buffer stores, a user's write); reads of a page never
 * written see 0 and make nothing. The kernel reaches an IPC buffer through a 128-word view made
 * once per buffer position, as C reaches it through its kernel-window pointer; afterwards no
 * access allocates.
 * @category objects
 */
import { bit, ipcBufferWords } from "../../model/index.ts"
import { ImplFrame } from "../state.ts"

/** Words in one page of frame memory (4 KiB). */
const pageWords = 1024
const pageWordBits = 10

/** Page `page` of the frame's memory, made (zeroed) if it is not there yet. */
export function framePage(frame: ImplFrame, page: number): Uint32Array {
  let pages = frame.pages
  if (pages === null) {
    pages = new Array<Uint32Array | undefined>(bit(frame.sizeBits - 12))
    frame.pages = pages
  }
  let p = pages[page]
  if (p === undefined) {
    p = new Uint32Array(pageWords)
    pages[page] = p
  }
  return p
}

/**
 * Word `i` of the frame (0 if its page was never written).
 * @refines spec/machine/memory#loadWord
 */
export function loadWord(frame: ImplFrame, i: number): number {
  const p = frame.pages?.[i >>> pageWordBits]
  return p === undefined ? 0 : p[i & (pageWords - 1)]!
}

/**
 * Store word `i` of the frame.
 * @refines spec/machine/memory#storeWords
 */
export function storeWord(frame: ImplFrame, i: number, w: number): void {
  framePage(frame, i >>> pageWordBits)[i & (pageWords - 1)] = w >>> 0
}

/**
 * The 128 words of an IPC buffer starting at word `word` of the frame (512-byte aligned, so inside
 * one page), as a view on the frame's memory: element i is `seL4_IPCBuffer` word i. Made once per
 * position and kept in the frame.
 */
export function bufferView(frame: ImplFrame, word: number): Uint32Array {
  // The buffer is 512-byte aligned (valid_objs: an IPC buffer address with a buffer cap is aligned).
  const block = word >>> 7
  let views = frame.views
  if (views === null) {
    views = []
    frame.views = views
  }
  let v = views[block]
  if (v === undefined) {
    const offset = word & (pageWords - 1)
    v = framePage(frame, word >>> pageWordBits).subarray(offset, offset + ipcBufferWords)
    views[block] = v
  }
  return v
}
