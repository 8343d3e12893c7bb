/**
 * The word helpers' fast forms (shifts and masks) equal their definitions (powers and
 * remainders) on every input, in and out of the ranges the fast forms take.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { bit, isAligned, mask, maxWord } from "../../model/words.ts"

const bits = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: -3, max: 60 }), fc.double({ min: -2, max: 40, noNaN: true }))
const xs = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  fc.integer({ min: 0, max: 2 ** 16 }).map((x) => x * 16),
  fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -(2 ** 34), max: 2 ** 34 }),
  fc.constantFrom(0, -0, 2 ** 31, 2 ** 32, 2 ** 53),
)

describe("word helpers", () => {
  it("bit(b) is 2 ** b", () => {
    fc.assert(fc.property(bits, (b) => { expect(bit(b)).toBe(2 ** b) }), { seed: 5, numRuns: 2000 })
  })
  it("mask(b) is 2 ** b - 1, clamped to 0..32 bits", () => {
    fc.assert(fc.property(bits, (b) => { expect(mask(b)).toBe(b >= 32 ? maxWord : b <= 0 ? 0 : 2 ** b - 1) }), { seed: 5, numRuns: 2000 })
  })
  it("isAligned(x, b) is x % 2 ** b === 0", () => {
    fc.assert(fc.property(xs, bits, (x, b) => { expect(isAligned(x, b)).toBe(x % 2 ** b === 0) }), { seed: 5, numRuns: 5000 })
  })
})
