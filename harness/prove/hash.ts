/**
 * 64-bit hashing for state fingerprints, as two independent 32-bit lanes (JS has no fast 64-bit
 * integer arithmetic; `Math.imul` on two lanes is several times faster than BigInt).
 *
 * A fingerprint is a multiset hash: every entry of a state (an object, a slot, a global) is
 * hashed on its own into a 64-bit value, and the state's fingerprint is the lane-wise sum of its
 * entries' values. Entries carry their own key (an address, a slot), so the sum is a hash of a
 * set of keyed entries: the order in which a map is iterated does not matter, and no sort is
 * needed. An entry's words are mixed in order, so lists (queues, CDT children) keep their order.
 *
 * The lanes are written to module-level variables rather than returned as a pair: the hashers
 * run per edge of the search, and a tuple per entry would be most of their cost.
 * @category prove
 */

/** The running entry hash (two lanes). */
let ha = 0
let hb = 0

/** Start an entry whose first word is `tag` (a small constant naming the kind of entry). */
export const begin = (tag: number): void => {
  ha = Math.imul(tag ^ 0x3c6ef372, 0x9e3779b1)
  hb = Math.imul(tag ^ 0x7f4a7c15, 0x85ebca77)
}

/** Mix one 32-bit word (any JS number: it is truncated to 32 bits; use `word2` for larger values). */
export const word = (w: number): void => {
  ha = Math.imul(ha ^ w, 0x9e3779b1)
  ha = (ha << 13) | (ha >>> 19)
  hb = Math.imul(hb ^ w, 0xc2b2ae35)
  hb = (hb << 17) | (hb >>> 15)
}

/** Mix a number that may exceed 32 bits (an address past 4 GiB, a count): its low and high words. */
export const word2 = (w: number): void => {
  word(w | 0)
  word((w / 4294967296) | 0)
}

/** Mix a boolean. */
export const bool = (b: boolean): void => word(b ? 0x5bd1e995 : 0x1b873593)

/** Mix a short string (tags): its length and UTF-16 code units. */
export const str = (s: string): void => {
  word(s.length)
  for (let i = 0; i < s.length; i++) word(s.charCodeAt(i))
}

/**
 * Mix the words of `ws` up to its last non-zero word (and that count): trailing zeros do not
 * count, so equal arrays hash equally whatever their length (message registers are 120 words,
 * mostly zero). The loop keeps the lanes in locals (it is the hashers' hottest loop).
 */
export const words = (ws: ArrayLike<number>): void => {
  let n = ws.length
  while (n > 0 && ws[n - 1] === 0) n--
  let a = Math.imul(ha ^ n, 0x9e3779b1)
  let b = Math.imul(hb ^ n, 0xc2b2ae35)
  for (let i = 0; i < n; i++) {
    const w = ws[i]!
    a = Math.imul(a ^ w, 0x9e3779b1)
    a = (a << 13) | (a >>> 19)
    b = Math.imul(b ^ w, 0xc2b2ae35)
    b = (b << 17) | (b >>> 15)
  }
  ha = a
  hb = b
}

/** murmur3's 32-bit finaliser. */
const fmix = (h: number): number => {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/** A 64-bit accumulator: the lane-wise sum of finished entries. */
export class Acc {
  lo = 0
  hi = 0
  /** Finish the running entry and add it. */
  end(): void {
    const a = fmix(ha ^ Math.imul(hb, 0x27d4eb2f))
    const b = fmix(hb ^ Math.imul(a, 0x165667b1))
    this.lo = (this.lo + a) >>> 0
    this.hi = (this.hi + b) >>> 0
  }
  reset(): void { this.lo = 0; this.hi = 0 }
  /** Add a finished value (the lanes another accumulator summed, e.g. a cached entry's). */
  add(lo: number, hi: number): void {
    this.lo = (this.lo + lo) >>> 0
    this.hi = (this.hi + hi) >>> 0
  }
}

/** Combine two 64-bit values (as lane pairs) into one, order-sensitively: the search's key of a (spec, impl) pair. */
export const combine = (aLo: number, aHi: number, bLo: number, bHi: number): readonly [number, number] => {
  const lo = fmix((aLo ^ Math.imul(bLo, 0x9e3779b1) ^ Math.imul(bHi, 0x85ebca77)) >>> 0)
  const hi = fmix((aHi ^ Math.imul(bHi, 0xc2b2ae35) ^ Math.imul(lo, 0x27d4eb2f)) >>> 0)
  return [lo, hi]
}

/** A 64-bit value as 16 hex digits (for messages and tests). */
export const hex64 = (lo: number, hi: number): string => hi.toString(16).padStart(8, "0") + lo.toString(16).padStart(8, "0")
