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
 * @category dsl
 * @since 0.1.0
 */
import * as t from 'io-ts'

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

/** Gauss–Legendre nodes and weights on [−1, 1] by Newton's method on P_n (double precision). */
export const legendreGauss = (n: number): { x: Float64Array; w: Float64Array } => {
  const x = new Float64Array(n)
  const w = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    // Tricomi's initial guess for the i-th root (descending), refined by Newton.
    let z = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5))
    let dp = 0
    for (let iter = 0; iter < 100; iter++) {
      let p0 = 1
      let p1 = z
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k
        p0 = p1
        p1 = p2
      }
      const pn = n === 0 ? 1 : n === 1 ? z : p1
      const pnm1 = n === 1 ? 1 : p0
      dp = (n * (z * pn - pnm1)) / (z * z - 1)
      const dz = pn / dp
      z -= dz
      if (Math.abs(dz) < 1e-16) break
    }
    // ascending order, like numpy.polynomial.legendre.leggauss
    x[n - 1 - i] = z
    w[n - 1 - i] = 2 / ((1 - z * z) * dp * dp)
  }
  return { x, w }
}

/** Nodes and weights of `rule` with `n` points, or an error message when `n` is too small. */
export const quadrature = (rule: QuadratureRule, n: number): Quadrature | string => {
  if (!Number.isInteger(n) || n < 1) return `nSteps must be a positive integer, got ${n}`
  if (rule === 'gausslegendre') {
    const { x, w } = legendreGauss(n)
    return { alphas: x.map((v) => 0.5 * (1 + v)), weights: w.map((v) => 0.5 * v) }
  }
  if (n < 2) return `the ${rule} rule needs nSteps ≥ 2 (Captum asserts the same), got ${n}`
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
