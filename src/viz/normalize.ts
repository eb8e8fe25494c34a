/**
 * Captum's attribution normalisation for pictures (`visualize_image_attr`), on one map of values
 * (already summed over channels):
 *
 * - sign `all`: threshold = T(|v|), values keep their sign → [−1, 1];
 * - `positive`: v ← v·[v > 0], threshold = T(v) → [0, 1];
 * - `negative`: v ← v·[v < 0], threshold = −T(|v|), so the result is positive → [0, 1];
 * - `absolute_value`: v ← |v|, threshold = T(v) → [0, 1];
 *
 * then clip(v / threshold, −1, 1). T(values) is the cumulative-sum threshold for an outlier
 * percentage p: sort the values ascending, take running sums, and return the first sorted value
 * whose running sum reaches (100 − p)% of the total. The largest values that together make up the
 * top p% of the attribution mass are thus clipped to full colour.
 *
 * Captum: `_normalize_attr` / `_cumulative_sum_threshold` in `captum.attr.visualization`. Same
 * rule; one difference: Captum stops with an assertion when the threshold is 0 (an all-zero map),
 * here the map normalises to all zeros (a blank picture) and `threshold` says 0.
 *
 * @category viz
 * @since 0.2.0
 */
import * as t from 'io-ts'

/** Which part of the attribution a picture shows (Captum's `sign` argument). */
export type Sign = 'all' | 'positive' | 'negative' | 'absolute_value'

/** io-ts codec for {@link Sign}. */
export const SignCodec = t.keyof({ all: null, positive: null, negative: null, absolute_value: null }, 'Sign')

/**
 * The value v in sorted `values` at which the running sum first reaches `percentile`% of the
 * total (Captum's `_cumulative_sum_threshold`). `values` are expected non-negative (magnitudes).
 * Throws a RangeError for an empty array or a percentile outside [0, 100].
 */
export const cumulativeSumThreshold = (values: ArrayLike<number>, percentile: number): number => {
  if (values.length === 0) throw new RangeError('cumulativeSumThreshold: no values')
  if (!(percentile >= 0 && percentile <= 100)) throw new RangeError(`cumulativeSumThreshold: percentile must lie in [0, 100], got ${String(percentile)}`)
  const sorted = Float64Array.from(values).sort()
  const sums = new Float64Array(sorted.length)
  let acc = 0
  for (let i = 0; i < sorted.length; i++) sums[i] = acc += sorted[i]!
  const goal = acc * 0.01 * percentile
  for (let i = 0; i < sums.length; i++) if (sums[i]! >= goal) return sorted[i]!
  // Only reachable through floating-point rounding of the goal: the last value then.
  return sorted[sorted.length - 1]!
}

/** `values` with Captum's sign transform applied (`positive` / `negative` keep one sign, `absolute_value` takes |v|). */
export const signed = (values: ArrayLike<number>, sign: Sign): Float64Array =>
  Float64Array.from(values, (v) => (sign === 'all' ? v : sign === 'positive' ? (v > 0 ? v : 0) : sign === 'negative' ? (v < 0 ? v : 0) : Math.abs(v)))

/** The normalisation threshold of one map for a sign and outlier percentage (the divisor of {@link normalizeAttr}). */
export const thresholdFor = (values: ArrayLike<number>, sign: Sign, outlierPerc: number): number => {
  const v = signed(values, sign)
  const magnitudes = sign === 'all' || sign === 'negative' ? Float64Array.from(v, Math.abs) : v
  const th = cumulativeSumThreshold(magnitudes, 100 - outlierPerc)
  return sign === 'negative' ? -th : th
}

/** A map normalised for display, and the threshold it was divided by. */
export interface Normalized {
  /** In [−1, 1] for sign `all`, in [0, 1] otherwise. */
  readonly values: Float64Array
  readonly threshold: number
}

/** Divides by `threshold` and clips to [−1, 1]; a zero threshold gives zeros (see the module note). */
export const normalizeBy = (values: ArrayLike<number>, sign: Sign, threshold: number): Normalized => {
  const v = signed(values, sign)
  const out = new Float64Array(v.length)
  // `+ 0` turns −0 (0 / a negative threshold) into 0.
  if (threshold !== 0) for (let i = 0; i < v.length; i++) out[i] = Math.max(-1, Math.min(1, v[i]! / threshold)) + 0
  return { values: out, threshold }
}

/**
 * Captum's normalisation of one map: sign transform, cumulative-sum threshold with `outlierPerc`
 * (default 2), division and clipping.
 */
export const normalizeAttr = (values: ArrayLike<number>, sign: Sign = 'absolute_value', outlierPerc = 2): Normalized =>
  normalizeBy(values, sign, thresholdFor(values, sign, outlierPerc))

/**
 * A map normalised linearly from a fixed range: sign `all` maps [min, max] onto [−1, 1], the other
 * signs (after their sign transform) map [min, max] onto [0, 1]; values outside are clipped. For a
 * diverging picture with white at zero, give a symmetric range. Throws a RangeError unless min < max.
 */
export const normalizeRange = (values: ArrayLike<number>, sign: Sign, range: { readonly min: number; readonly max: number }): Normalized => {
  const { min, max } = range
  if (!(Number.isFinite(min) && Number.isFinite(max) && min < max)) throw new RangeError(`scale: need finite min < max, got min ${String(min)}, max ${String(max)}`)
  const v = signed(values, sign)
  const magnitude = sign === 'negative' ? Float64Array.from(v, Math.abs) : v
  const out = Float64Array.from(magnitude, (x) => {
    const f = (x - min) / (max - min)
    return sign === 'all' ? Math.max(-1, Math.min(1, 2 * f - 1)) : Math.max(0, Math.min(1, f))
  })
  return { values: out, threshold: max }
}
