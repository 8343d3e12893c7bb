/**
 * Message info word (libsel4 shared_types.bf, 32-bit): label 20 bits, capsUnwrapped 3,
 * extraCaps 2, length 7.
 * @category decoding
 */
import { msgMaxLength } from "./constants.ts"

export interface MessageInfo {
  readonly label: number
  readonly capsUnwrapped: number
  readonly extraCaps: number
  readonly length: number
}

/** Pack a message info word. Fields are masked to their widths. */
export const wordFromMessageInfo = (mi: MessageInfo): number =>
  (((mi.label & 0xfffff) << 12) | ((mi.capsUnwrapped & 7) << 9) | ((mi.extraCaps & 3) << 7) | (mi.length & 0x7f)) >>> 0

/** Unpack a message info word, clamping the length to `seL4_MsgMaxLength`. Mirrors seL4 `messageInfoFromWord`. */
export const messageInfoFromWord = (w: number): MessageInfo => {
  const length = w & 0x7f
  return {
    label: (w >>> 12) & 0xfffff,
    capsUnwrapped: (w >>> 9) & 7,
    extraCaps: (w >>> 7) & 3,
    length: length > msgMaxLength ? msgMaxLength : length,
  }
}

export const messageInfo = (label: number, length: number, extraCaps = 0, capsUnwrapped = 0): number =>
  wordFromMessageInfo({ label, length, extraCaps, capsUnwrapped })
