/**
 * The purity guard: spec states are deep-frozen in tests, so a spec function that mutates its
 * input throws at once instead of silently corrupting an older state. Maps and Sets are frozen
 * by replacing their mutators on the instance.
 */
const refuse = (): never => { throw new TypeError("spec purity: attempt to mutate a frozen spec state") }

export const deepFreeze = <T>(x: T): T => {
  if (x === null || typeof x !== "object" || Object.isFrozen(x)) return x
  if (x instanceof Map) {
    for (const [k, v] of x) { deepFreeze(k); deepFreeze(v) }
    Object.defineProperties(x, { set: { value: refuse }, delete: { value: refuse }, clear: { value: refuse } })
  } else if (x instanceof Set) {
    for (const v of x) deepFreeze(v)
    Object.defineProperties(x, { add: { value: refuse }, delete: { value: refuse }, clear: { value: refuse } })
  } else {
    for (const v of Object.values(x)) deepFreeze(v)
  }
  return Object.freeze(x)
}
