/** Timing for the benchmarks (never used by tests). */

/** One timing of `f`, in ns. */
const timeNs = (f: () => void): number => {
  const t0 = process.hrtime.bigint()
  f()
  return Number(process.hrtime.bigint() - t0)
}

/** The median of timings (sorts them in place). */
const median = (ts: number[]): number => ts.sort((x, y) => x - y)[Math.floor(ts.length / 2)]!

/** The median of `reps` timings of `run`, in ns; `setup` runs before each timing, untimed. */
export const medianWithSetupNs = <T>(setup: () => T, run: (x: T) => void, reps: number): number => {
  const ts: number[] = []
  for (let i = 0; i < reps; i++) {
    const x = setup()
    ts.push(timeNs(() => run(x)))
  }
  return median(ts)
}

/** The median of `reps` timings of `f`, in ns. */
export const medianNs = (f: () => void, reps: number): number => medianWithSetupNs(() => undefined, f, reps)

/** Run `run` (each time after an untimed `setup`) until `ms` have passed, at least once. */
export const warmUp = <T>(setup: () => T, run: (x: T) => void, ms: number): void => {
  const end = performance.now() + ms
  do run(setup()); while (performance.now() < end)
}

/**
 * The medians of two contestants' timings in ns, taken in turns (`ratio` timings of `a` to each of
 * `b`, `reps` rounds): both are measured over the same seconds, so a machine whose speed drifts
 * moves both alike and their ratio holds. `setupA` runs before each timing of `a`, untimed.
 */
export const interleavedMediansNs = <T>(setupA: () => T, a: (x: T) => void, b: () => void, reps: number, ratio = 1): { a: number; b: number } => {
  const ta: number[] = []
  const tb: number[] = []
  for (let i = 0; i < reps; i++) {
    for (let j = 0; j < ratio; j++) {
      const x = setupA()
      ta.push(timeNs(() => a(x)))
    }
    tb.push(timeNs(b))
  }
  return { a: median(ta), b: median(tb) }
}

/**
 * The median timing in ns of each of `fs`, timed in turns (one timing of each per round, `reps`
 * rounds): all measured over the same seconds, so a machine whose speed drifts moves them alike
 * and their ratios hold.
 */
export const roundRobinMediansNs = (fs: readonly (() => void)[], reps: number): number[] => {
  const ts = fs.map((): number[] => [])
  for (let i = 0; i < reps; i++) fs.forEach((f, j) => ts[j]!.push(timeNs(f)))
  return ts.map(median)
}
