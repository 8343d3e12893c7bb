/**
 * Machine words of kspec's 32-bit platform (seL4's aarch32 configuration).
 *
 * A word is a JS number in 0..2^32-1. Every argument word is untrusted, so every helper here is
 * total over all 32-bit words and keeps its result a word.
 * @category objects
 */

/** Bits in a machine word. Mirrors seL4 `wordBits` (aarch32: 32). */
export const wordBits = 32
/** log2 of wordBits. Mirrors seL4 `wordRadix`. */
export const wordRadix = 5
/** Bytes in a word, as a power of two. Mirrors `seL4_WordSizeBits`. */
export const wordSizeBits = 2
/** Largest word value. */
export const maxWord = 0xffff_ffff

/** Is `x` a valid machine word (an integer in 0..2^32-1)? */
export const isWord = (x: unknown): x is number =>
  typeof x === "number" && Number.isInteger(x) && x >= 0 && x <= maxWord

/** Truncate any integer to a word, as a register would. */
export const toWord = (x: number): number => x >>> 0

/** The low `bits` bits set, for 0 <= bits <= 32. Mirrors seL4 `MASK(bits)`. */
export const mask = (bits: number): number =>
  bits >= 32 ? maxWord : bits <= 0 ? 0 : (bits >>> 0) === bits && bits < 31 ? (1 << bits) - 1 : 2 ** bits - 1

/** 2^bits, as a plain number (exact for bits <= 52). Mirrors seL4 `BIT(bits)`. A shift when it can be (Math.pow is slow). */
export const bit = (bits: number): number => ((bits >>> 0) === bits && bits < 31 ? 1 << bits : 2 ** bits)

/** `w >> n` for a word, total for any shift: shifting by 32 or more gives 0 (unlike JS `>>>`). */
export const shiftRight = (w: number, n: number): number => (n >= 32 ? 0 : n <= 0 ? w : w >>> n)

/** `(w >> shift) & mask(bits)`, the field of `bits` bits at `shift`. */
export const getField = (w: number, shift: number, bits: number): number =>
  (shiftRight(w, shift) & mask(bits)) >>> 0

/** Round `x` up to a multiple of 2^bits. Mirrors seL4 `alignUp`. */
export const alignUp = (x: number, bits: number): number => {
  const b = bit(bits)
  return Math.ceil(x / b) * b
}

/**
 * Is `x` a multiple of 2^bits? Mirrors seL4 `IS_ALIGNED`. For an integer and bits < 31 a mask of
 * the low bits (a float remainder is ten times slower), else the remainder.
 */
export const isAligned = (x: number, bits: number): boolean =>
  (bits >>> 0) === bits && bits < 31 && Number.isInteger(x) ? (x & ((1 << bits) - 1)) === 0 : x % 2 ** bits === 0

/** Hex rendering used in traces and diffs. */
export const hex = (x: number): string => `0x${x.toString(16)}`
