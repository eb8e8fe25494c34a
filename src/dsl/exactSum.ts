/**
 * Exact sums of float64 values, one per element of an array, so that a reduction gives the same
 * bits whatever the order and grouping of its terms (the partial results of `partial.ts`).
 *
 * Each sum is held as a nonoverlapping expansion: a few float64 components, increasing in magnitude,
 * whose exact sum is the exact sum of every term added (Shewchuk 1997, "Adaptive precision
 * floating-point arithmetic"; the `msum` of Python's `math.fsum`). Adding a term and merging two
 * sums are error-free, and {@link roundSums} returns each sum correctly rounded to float64 (the
 * final step of `math.fsum`), a function of the exact value alone. Most sums need one or two
 * components. Terms that are not finite are summed apart, in plain IEEE arithmetic (±Infinity
 * absorbs every finite term; Infinity + −Infinity and NaN give NaN), which is order-independent too.
 *
 * Layout: `n` sums of `width` components each, sum e at `data[e·width …]`, its nonzero components
 * first (increasing magnitude), zeros after (±0 alike). {@link canonicalSums} rewrites a sum in the one form its
 * exact value has (each component the correctly rounded rest), so equal sums are equal bits.
 *
 * @category dsl
 * @since 0.3.0
 */

/** `n` exact sums under construction. */
export interface ExactSums {
  readonly n: number
  width: number
  data: Float64Array
}

/** Sums to read: float32 data holds one term per sum (width 1), exactly as float64 would. */
export interface SumsView {
  readonly n: number
  readonly width: number
  readonly data: Float64Array | Float32Array
}

/** `n` sums, all zero. */
export const exactSums = (n: number): ExactSums => ({ n, width: 1, data: new Float64Array(n) })

/** Sums laid out as `exactSums` does (a copy, so the original is never changed). */
export const exactSumsOf = (n: number, width: number, data: Float64Array): ExactSums => ({ n, width, data: data.slice() })

const widen = (s: ExactSums): void => {
  const w = s.width
  const out = new Float64Array(s.n * (w + 1))
  const d = s.data
  for (let e = 0, from = 0, to = 0; e < s.n; e++, to++) for (let k = 0; k < w; k++) out[to++] = d[from++]!
  s.width = w + 1
  s.data = out
}

const lengthAt = (d: Float64Array | Float32Array, at: number, width: number): number => {
  let k = 0
  while (k < width && d[at + k] !== 0) k++
  return k
}

/**
 * Adds `x` to sum `e`, exactly. The common case, a sum of at most one component that takes `x`
 * without rounding (checked with TwoSum's error term), is one float64 addition; the sums widen
 * only when a sum needs one more component than they have room for.
 */
export const addExact = (s: ExactSums, e: number, x: number): void => {
  if (x === 0) return
  let d = s.data
  let at = e * s.width
  if (s.width === 1 || d[at + 1] === 0) {
    const u = d[at]!
    const t = u + x
    const z = t - u
    if (u - (t - z) + (x - z) === 0 && Number.isFinite(t)) {
      d[at] = t === 0 ? 0 : t
      return
    }
  }
  const top = lengthAt(d, at, s.width)
  const last = top > 0 ? d[at + top - 1]! : 0
  if (!Number.isFinite(x) || !Number.isFinite(last)) {
    // a non-finite sum absorbs every finite term: one component, summed in plain arithmetic
    d.fill(0, at, at + top)
    d[at] = (Number.isFinite(last) ? 0 : last) + (Number.isFinite(x) ? 0 : x)
    return
  }
  // the result has at most one component more than the sum: make room first
  if (top === s.width) {
    widen(s)
    d = s.data
    at = e * s.width
  }
  // msum: fold x through the components, keeping every nonzero rounding error (i ≤ j: in place)
  let i = 0
  for (let j = 0; j < top; j++) {
    let y = d[at + j]!
    if (Math.abs(x) < Math.abs(y)) {
      const t = x
      x = y
      y = t
    }
    const hi = x + y
    const lo = y - (hi - x)
    if (lo !== 0) d[at + i++] = lo
    x = hi
  }
  if (x !== 0) d[at + i++] = x
  d.fill(0, at + i, at + top)
}

/** Adds every term of `b` into `a` (the same number of sums), exactly. */
export const mergeExact = (a: ExactSums, b: SumsView): void => {
  for (let e = 0; e < b.n; e++) {
    const at = e * b.width
    for (let k = 0; k < b.width && b.data[at + k] !== 0; k++) addExact(a, e, b.data[at + k]!)
  }
}

/**
 * a + b as new exact sums; neither is changed. The common case, one component on each side whose
 * float64 sum is exact, is a plain addition (checked with TwoSum's error term).
 */
export const addSums = (a: SumsView, b: SumsView): ExactSums => {
  if (a.width !== 1 || b.width !== 1) {
    const acc: ExactSums = { n: a.n, width: a.width, data: a.data instanceof Float64Array ? a.data.slice() : new Float64Array(a.data) }
    mergeExact(acc, b)
    return acc
  }
  const out = new Float64Array(a.n)
  const slow: number[] = []
  const x = a.data
  const y = b.data
  for (let e = 0; e < a.n; e++) {
    const u = x[e]!
    const v = y[e]!
    const s = u + v
    const bv = s - u
    if ((u - (s - bv)) + (v - bv) === 0 && Number.isFinite(s)) out[e] = s === 0 ? 0 : s
    else {
      out[e] = u === 0 ? 0 : u
      slow.push(e)
    }
  }
  const acc: ExactSums = { n: a.n, width: 1, data: out }
  for (const e of slow) addExact(acc, e, y[e]!)
  return acc
}

/** Each sum correctly rounded to float64 (the last step of `math.fsum`). */
export const roundSums = (s: SumsView): Float64Array => {
  const out = new Float64Array(s.n)
  for (let e = 0; e < s.n; e++) {
    const at = e * s.width
    let n = lengthAt(s.data, at, s.width)
    if (n === 0) continue
    let hi = s.data[at + --n]!
    let lo = 0
    while (n > 0) {
      const x = hi
      const y = s.data[at + --n]!
      hi = x + y
      const yr = hi - x
      lo = y - yr
      if (lo !== 0) break
    }
    // round half to even across the remaining components
    if (n > 0 && ((lo < 0 && s.data[at + n - 1]! < 0) || (lo > 0 && s.data[at + n - 1]! > 0))) {
      const y = lo * 2
      const x = hi + y
      const yr = x - hi
      if (y === yr) hi = x
    }
    out[e] = hi
  }
  return out
}

/**
 * The same sums in canonical form: each sum as c₁ = round(S), c₂ = round(S − c₁), … (stored smallest
 * first), and the width the longest of them needs. Equal exact values give equal bits, whatever
 * order and grouping built them.
 */
export const canonicalSums = (s: ExactSums): ExactSums => {
  // one component (or none) is its own canonical form
  if (s.width === 1) return s
  const forms = new Map<number, readonly number[]>()
  let width = 1
  for (let e = 0; e < s.n; e++) {
    const at = e * s.width
    const len = lengthAt(s.data, at, s.width)
    if (len <= 1) continue
    const rest = exactSumsOf(1, len, s.data.subarray(at, at + len))
    const comps: number[] = []
    for (;;) {
      const c = roundSums(rest)[0]!
      // a nonzero exact sum of doubles rounds to a nonzero double, so 0 means nothing is left
      if (c === 0) break
      comps.push(c)
      if (!Number.isFinite(c)) break
      addExact(rest, 0, -c)
    }
    forms.set(e, comps.reverse())
    width = Math.max(width, comps.length)
  }
  const out = new Float64Array(s.n * width)
  for (let e = 0; e < s.n; e++) {
    const v = s.data[e * s.width]!
    if (v !== 0) out[e * width] = v
  }
  for (const [e, form] of forms) {
    out.fill(0, e * width, (e + 1) * width)
    out.set(form, e * width)
  }
  return { n: s.n, width, data: out }
}
