// Small timing helpers for the benchmarks: medians of repeated runs, all inside one process so
// ratios compare like with like (these machines are noisy).
export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Median wall time in seconds of `repeats` runs of `f`, after `warmup` unmeasured runs. */
export const time = async (f: () => Promise<unknown>, repeats = 3, warmup = 1): Promise<number> => {
  for (let i = 0; i < warmup; i++) await f()
  const ts: number[] = []
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now()
    await f()
    ts.push((performance.now() - t0) / 1000)
  }
  return median(ts)
}

/**
 * `measured` timed against `reference` in interleaved pairs (reference, then measured), so machine
 * drift hits both alike: the medians of each (seconds) and the per-pair ratios measured ÷ reference.
 */
export const interleaved = async (
  reference: () => Promise<unknown>,
  measured: () => Promise<unknown>,
  pairs: number,
  warmups: number,
): Promise<{ readonly reference: number; readonly measured: number; readonly ratios: readonly number[] }> => {
  for (let i = 0; i < warmups; i++) {
    await reference()
    await measured()
  }
  const a: number[] = []
  const b: number[] = []
  for (let i = 0; i < pairs; i++) {
    let t0 = performance.now()
    await reference()
    a.push((performance.now() - t0) / 1000)
    t0 = performance.now()
    await measured()
    b.push((performance.now() - t0) / 1000)
  }
  return { reference: median(a), measured: median(b), ratios: b.map((v, i) => v / a[i]!) }
}

export const unwrap = <A>(e: { _tag: 'Left'; left: { _tag: string; message: string } } | { _tag: 'Right'; right: A }): A => {
  if (e._tag === 'Left') throw new Error(`${e.left._tag}: ${e.left.message}`)
  return e.right
}

export const row = (cells: readonly (string | number)[]): string =>
  '| ' + cells.map((c) => (typeof c === 'number' ? (Math.abs(c) >= 100 ? c.toFixed(0) : c.toPrecision(3)) : c)).join(' | ') + ' |'

/** ‖a − ref‖ / ‖ref‖ (relative L2 error), written with one significant digit. */
export const relativeError = (a: ArrayLike<number>, ref: ArrayLike<number>): string => {
  let e = 0
  let n = 0
  for (let i = 0; i < ref.length; i++) {
    e += (a[i]! - ref[i]!) ** 2
    n += ref[i]! ** 2
  }
  return Math.sqrt(e / n).toExponential(1)
}
