/**
 * The visited set of `kspec prove`: 64-bit fingerprints in a typed-array hash table (open
 * addressing, linear probing), so it holds as many states as memory allows. V8's Map and Set
 * stop at 2^24 entries (16.7 million) and spend about 80 bytes an entry; this table spends 8
 * bytes a slot at a load of at most 1/2, so 16 bytes a state: 10^8 states in 1.6 GB.
 *
 * A fingerprint is two 32-bit lanes (`lo`, `hi`) stored side by side in one Uint32Array. The
 * all-zero fingerprint marks an empty slot; a state whose fingerprint is zero is stored as 1
 * (one fingerprint in 2^64 shares a slot with it, which is below the collision figure anyway).
 * The table doubles and rehashes when it reaches half full.
 *
 * Two different states with the same fingerprint are one state to the table: the second is
 * taken as visited and never expanded. `collisionProbability` gives the chance that this
 * happened at all among `n` states, as TLC's "calculated (optimistic)" figure does.
 * @category prove
 */

const minCapacity = 1 << 10

export class FingerprintTable {
  private slots: Uint32Array
  private mask: number
  private count = 0

  constructor(capacity = minCapacity) {
    let c = minCapacity
    while (c < capacity) c *= 2
    this.slots = new Uint32Array(2 * c)
    this.mask = c - 1
  }

  /** Fingerprints stored. */
  get size(): number { return this.count }
  /** Slots allocated. */
  get capacity(): number { return this.mask + 1 }
  /** Bytes the table occupies. */
  get bytes(): number { return this.slots.byteLength }

  /** Add the fingerprint (lo, hi); true when it was not there. */
  add(lo: number, hi: number): boolean {
    lo >>>= 0
    hi >>>= 0
    if (lo === 0 && hi === 0) lo = 1
    if (2 * (this.count + 1) > this.mask + 1) this.grow()
    const s = this.slots
    // The lanes are already mixed: the low lane picks the slot.
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask
    for (;;) {
      const a = s[2 * i]!
      const b = s[2 * i + 1]!
      if (a === 0 && b === 0) {
        s[2 * i] = lo
        s[2 * i + 1] = hi
        this.count++
        return true
      }
      if (a === lo && b === hi) return false
      i = (i + 1) & this.mask
    }
  }

  /** Is the fingerprint (lo, hi) stored? */
  has(lo: number, hi: number): boolean {
    lo >>>= 0
    hi >>>= 0
    if (lo === 0 && hi === 0) lo = 1
    const s = this.slots
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask
    for (;;) {
      const a = s[2 * i]!
      const b = s[2 * i + 1]!
      if (a === 0 && b === 0) return false
      if (a === lo && b === hi) return true
      i = (i + 1) & this.mask
    }
  }

  private grow(): void {
    const old = this.slots
    this.slots = new Uint32Array(2 * old.length)
    this.mask = old.length - 1
    this.count = 0
    for (let i = 0; i < old.length; i += 2) {
      const lo = old[i]!
      const hi = old[i + 1]!
      if (lo !== 0 || hi !== 0) this.add(lo, hi)
    }
  }
}

/**
 * The chance that some two of `n` distinct states share a 64-bit fingerprint, assuming
 * fingerprints behave as uniform random values: n(n-1)/2 pairs, each colliding with
 * probability 2^-64, so about n^2 / 2^65 (TLC's "calculated (optimistic)" estimate).
 */
export const collisionProbability = (n: number): number => Math.min(1, (n * (n - 1)) / 2 / 2 ** 64)
