/** Timing for the benchmarks (never used by tests). */

/** The median of `reps` timings of `run`, in ns; `setup` runs before each timing, untimed. */
export const medianWithSetupNs = <T>(setup: () => T, run: (x: T) => void, reps: number): number => {
  const ts: number[] = []
  for (let i = 0; i < reps; i++) {
    const x = setup()
    const t0 = process.hrtime.bigint()
    run(x)
    ts.push(Number(process.hrtime.bigint() - t0))
  }
  ts.sort((a, b) => a - b)
  return ts[Math.floor(ts.length / 2)]!
}

/** The median of `reps` timings of `f`, in ns. */
export const medianNs = (f: () => void, reps: number): number => medianWithSetupNs(() => undefined, f, reps)

/** Run `run` (each time after an untimed `setup`) until `ms` have passed, at least once. */
export const warmUp = <T>(setup: () => T, run: (x: T) => void, ms: number): void => {
  const end = performance.now() + ms
  do run(setup()); while (performance.now() < end)
}
