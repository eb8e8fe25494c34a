/**
 * Integration rules for path methods, with Captum's exact nodes and weights
 * (`captum/attr/_utils/approximation_methods.py`):
 *
 * | rule | nodes α_k | weights w_k |
 * |---|---|---|
 * | riemann_left | k/n | 1/n |
 * | riemann_right | (k+1)/n | 1/n |
 * | riemann_middle | (k+½)/n | 1/n |
 * | riemann_trapezoid | k/(n−1) | 1/(2n) at both ends, 1/n inside (sum (n−1)/n: Captum's quirk, kept) |
 * | gausslegendre | ½(1+x_k), x_k the Legendre roots | ½ w_k |
 *
 * Riemann nodes are produced as float32 `linspace` values, as torch does.
 *
 * A spec may ask for at most {@link MAX_STEPS} points: the bound is checked by the `nSteps` codec
 * ({@link StepCount}) before anything is allocated, so an absurd request (2³¹ steps) is an
 * `InvalidSpec` naming the field rather than a multi-gigabyte allocation or a frozen event loop.
 * Built rules are memoised per (rule, n), so a run that splits its steps into many chunks computes
 * the nodes once.
 *
 * @category dsl
 * @since 0.1.0
 */
import * as t from 'io-ts'

/**
 * The most integration points a spec may ask for (`nSteps`). Captum's default is 50 and path
 * integrals converge long before this; at the limit a run is already thousands of model passes
 * per example, and the Gauss–Legendre rule (whose nodes cost O(n²) to compute) takes a fraction of a
 * second.
 */
export const MAX_STEPS = 10_000

/** `nSteps` in a spec: an integer from 1 to {@link MAX_STEPS}. */
export const StepCount = new t.Type<number, number, unknown>(
  'StepCount',
  (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= 1 && u <= MAX_STEPS,
  (u, c) =>
    typeof u === 'number' && Number.isInteger(u) && u >= 1 && u <= MAX_STEPS
      ? t.success(u)
      : t.failure(u, c, `expected an integer from 1 to MAX_STEPS (${MAX_STEPS}), got ${JSON.stringify(u)}`),
  t.identity,
)
export type StepCount = number

export const QuadratureRule = t.keyof({
  riemann_left: null,
  riemann_right: null,
  riemann_middle: null,
  riemann_trapezoid: null,
  gausslegendre: null,
})
export type QuadratureRule = t.TypeOf<typeof QuadratureRule>

export interface Quadrature {
  readonly alphas: Float64Array
  readonly weights: Float64Array
}

const f32 = Math.fround

/** torch.linspace in float32 (first half counted from the start, second half from the end). */
const linspace32 = (start: number, end: number, n: number): Float64Array => {
  const out = new Float64Array(n)
  if (n === 1) {
    out[0] = f32(start)
    return out
  }
  const s = f32(start)
  const e = f32(end)
  const step = f32((e - s) / (n - 1))
  const half = Math.floor(n / 2)
  for (let i = 0; i < n; i++) out[i] = i < half ? f32(s + f32(step * i)) : f32(e - f32(step * (n - i - 1)))
  return out
}

/**
 * Gauss–Legendre nodes (ascending) and weights on [−1, 1], like numpy's `leggauss`.
 *
 * Each root of P_n is found by Newton's method from an asymptotic first guess that is already
 * within O(n⁻⁴) of it, so two or three steps reach double precision; each step evaluates P_n and
 * P_n′ by the three-term recurrence (O(n)), and only the non-negative half of the roots is computed
 * since the rule is symmetric. Cost: O(n²) in all, about 0.1 s for n = 10 000. As numpy does, the
 * weights are finally rescaled to sum to exactly 2.
 */
export const legendreGauss = (n: number): { x: Float64Array; w: Float64Array } => {
  const x = new Float64Array(n)
  const w = new Float64Array(n)
  const half = Math.floor(n / 2)
  // P_n and P_n′ at z, by the recurrence P_k = a_k z P_{k−1} − b_k P_{k−2}, a_k = (2k−1)/k,
  // b_k = (k−1)/k (coefficients computed once, not per evaluation).
  const a = new Float64Array(n + 1)
  const b = new Float64Array(n + 1)
  for (let k = 2; k <= n; k++) {
    a[k] = (2 * k - 1) / k
    b[k] = (k - 1) / k
  }
  const evaluate = (z: number): { p: number; dp: number } => {
    let prev = 1
    let cur = z
    for (let k = 2; k <= n; k++) {
      const next = a[k]! * z * cur - b[k]! * prev
      prev = cur
      cur = next
    }
    // (1 − z²) P_n′ = n (P_{n−1} − z P_n); P_{n−1} is `prev` (P_0 = 1 when n = 1).
    return { p: cur, dp: (n * (prev - z * cur)) / ((1 - z) * (1 + z)) }
  }
  const shrink = 1 - 1 / (8 * n * n) + 1 / (8 * n * n * n)
  for (let i = 0; i < half; i++) {
    // the i-th largest root, θ-spacing guess (Tricomi) with its first correction
    let z = shrink * Math.cos((Math.PI * (i + 0.75)) / (n + 0.5))
    for (let iter = 0; iter < 10; iter++) {
      const e = evaluate(z)
      const step = e.p / e.dp
      z -= step
      if (Math.abs(step) <= 1e-15) break
    }
    // P_n′ at the converged root (near ±1 it changes fast, so not the previous iterate's)
    const { dp } = evaluate(z)
    const weight = 2 / ((1 - z) * (1 + z) * dp * dp)
    x[n - 1 - i] = z
    x[i] = -z
    w[n - 1 - i] = weight
    w[i] = weight
  }
  if (n % 2 === 1) {
    // the middle root is 0; P_n′(0) = n P_{n−1}(0)
    const { dp } = evaluate(0)
    x[half] = 0
    w[half] = 2 / (dp * dp)
  }
  let sum = 0
  for (let i = 0; i < n; i++) sum += w[i]!
  const scale = 2 / sum
  for (let i = 0; i < n; i++) w[i]! *= scale
  return { x, w }
}

/** A rule's nodes and weights as shared, read-only arrays (the memoised form). */
export interface SharedQuadrature {
  readonly alphas: ArrayLike<number>
  readonly weights: ArrayLike<number>
}

/**
 * Why `rule` cannot have `n` points, or `undefined` when it can. Allocates nothing, so it is safe
 * to call on any number a spec carries.
 */
export const checkSteps = (rule: QuadratureRule, n: number): string | undefined => {
  if (!Number.isInteger(n) || n < 1) return `nSteps must be a positive integer, got ${n}`
  if (n > MAX_STEPS) return `nSteps may be at most MAX_STEPS (${MAX_STEPS}), got ${n}`
  if (rule !== 'gausslegendre' && n < 2) return `the ${rule} rule needs nSteps ≥ 2 (Captum asserts the same), got ${n}`
  return undefined
}

// A small least-recently-used memo of built rules: a run asks for the same rule once per chunk.
const CACHE_SIZE = 8
const cache = new Map<string, Quadrature>()
let builds = 0

const build = (rule: QuadratureRule, n: number): Quadrature => {
  builds++
  if (rule === 'gausslegendre') {
    const { x, w } = legendreGauss(n)
    return { alphas: x.map((v) => 0.5 * (1 + v)), weights: w.map((v) => 0.5 * v) }
  }
  const weights = new Float64Array(n).fill(1 / n)
  switch (rule) {
    case 'riemann_left':
      return { alphas: linspace32(0, 1 - 1 / n, n), weights }
    case 'riemann_right':
      return { alphas: linspace32(1 / n, 1, n), weights }
    case 'riemann_middle':
      return { alphas: linspace32(1 / (2 * n), 1 - 1 / (2 * n), n), weights }
    case 'riemann_trapezoid':
      weights[0] = 1 / (2 * n)
      weights[n - 1] = 1 / (2 * n)
      return { alphas: linspace32(0, 1, n), weights }
  }
}

/**
 * How many rules have been built (cache misses) in this process.
 *
 * @internal for tests that check a run builds its rule once
 */
export const quadratureBuilds = (): number => builds

/**
 * The memoised nodes and weights of `rule` with `n` points, or why there are none. The arrays are
 * shared between callers: read them, never write them.
 *
 * @internal used by the `interpolate` stage
 */
export const sharedQuadrature = (rule: QuadratureRule, n: number): SharedQuadrature | string => {
  const bad = checkSteps(rule, n)
  if (bad !== undefined) return bad
  const key = `${rule}:${n}`
  const hit = cache.get(key)
  if (hit !== undefined) {
    cache.delete(key)
    cache.set(key, hit)
    return hit
  }
  const built = build(rule, n)
  cache.set(key, built)
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string)
  return built
}

/** Nodes and weights of `rule` with `n` points (fresh arrays, the caller's to keep), or an error message. */
export const quadrature = (rule: QuadratureRule, n: number): Quadrature | string => {
  const q = sharedQuadrature(rule, n)
  return typeof q === 'string' ? q : { alphas: Float64Array.from(q.alphas), weights: Float64Array.from(q.weights) }
}
