/** Timing for the benchmarks (never used by tests). */

/** The median of `reps` timings of `f`, in ns. */
export const medianNs = (f: () => void, reps: number): number => {
  const ts: number[] = []
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint()
    f()
    ts.push(Number(process.hrtime.bigint() - t0))
  }
  ts.sort((a, b) => a - b)
  return ts[Math.floor(ts.length / 2)]!
}
