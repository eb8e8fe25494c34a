/**
 * Interpretable models for Lime and KernelShap (captum-semantics.md §4.13–4.14), fitted in
 * float64 with an intercept and per-sample weights, as scikit-learn does for Captum:
 *
 * - `linearRegression` (sklearn `LinearRegression`): weighted least squares, minimum-norm solution
 *   via SVD (ml-matrix) when the design is rank-deficient.
 * - `lasso` (sklearn `Lasso(alpha)`): minimises Σ w_k r_k² / (2 Σ w) + α‖β‖₁ (sklearn rescales
 *   sample weights to sum to n); cyclic coordinate descent run to convergence (no package offers it).
 * - `ridge` (sklearn `Ridge(alpha)`): minimises Σ w_k r_k² + α‖β‖²; normal equations (ml-matrix).
 *
 * Columns are centred by their weighted means and the intercept is ȳ − x̄·β, so it is never
 * penalised.
 *
 * @category dsl
 * @since 0.1.0
 */
import { Matrix, SingularValueDecomposition, solve } from 'ml-matrix'
import * as t from 'io-ts'
import { PositiveNumber } from '../../core/codecs.js'
import { checkedVector, CustomRef, pluginOf, type Plugins } from './plugins.js'

export const InterpretableModel = t.union([
  t.readonly(t.type({ _tag: t.literal('lasso'), alpha: PositiveNumber })),
  t.readonly(t.type({ _tag: t.literal('linearRegression') })),
  t.readonly(t.type({ _tag: t.literal('ridge'), alpha: PositiveNumber })),
  CustomRef,
])
export type InterpretableModel = t.TypeOf<typeof InterpretableModel>

/** Weighted centring: Xc (n×M, row-major), the weighted column means and Σw. */
const centre = (Z: Float64Array, n: number, M: number, w: Float64Array) => {
  let S = 0
  for (let k = 0; k < n; k++) S += w[k]!
  const mean = new Float64Array(M)
  for (let k = 0; k < n; k++) for (let i = 0; i < M; i++) mean[i]! += (w[k]! * Z[k * M + i]!) / S
  const Xc = new Float64Array(n * M)
  for (let k = 0; k < n; k++) for (let i = 0; i < M; i++) Xc[k * M + i] = Z[k * M + i]! - mean[i]!
  return { Xc, mean, S }
}

const centredY = (y: Float64Array, w: Float64Array, S: number): Float64Array => {
  let m = 0
  for (let k = 0; k < y.length; k++) m += (w[k]! * y[k]!) / S
  return Float64Array.from(y, (v) => v - m)
}

const lasso = (Xc: Float64Array, yc: Float64Array, w: Float64Array, S: number, n: number, M: number, alpha: number): Float64Array => {
  const beta = new Float64Array(M)
  const norm = new Float64Array(M)
  for (let k = 0; k < n; k++) for (let i = 0; i < M; i++) norm[i]! += (w[k]! * Xc[k * M + i]! ** 2) / S
  const r = Float64Array.from(yc)
  let scale = 0
  for (const v of yc) scale = Math.max(scale, Math.abs(v))
  for (let sweep = 0; sweep < 20000; sweep++) {
    let maxDelta = 0
    for (let i = 0; i < M; i++) {
      if (norm[i]! <= 0) continue
      let rho = 0
      for (let k = 0; k < n; k++) rho += w[k]! * Xc[k * M + i]! * r[k]!
      rho = rho / S + norm[i]! * beta[i]!
      const next = (Math.sign(rho) * Math.max(Math.abs(rho) - alpha, 0)) / norm[i]!
      const delta = next - beta[i]!
      if (delta !== 0) {
        for (let k = 0; k < n; k++) r[k]! -= Xc[k * M + i]! * delta
        beta[i] = next
        maxDelta = Math.max(maxDelta, Math.abs(delta))
      }
    }
    if (maxDelta <= 1e-12 * Math.max(1, scale)) break
  }
  return beta
}

/**
 * Coefficients β (M per target column) of `model` fitted to `Y` (n × m targets sharing the weights
 * `w`) from the design `Z` (n × M). Returns m·M values, target-major.
 */
export const fitLinear = (model: InterpretableModel, Z: Float64Array, n: number, M: number, Y: readonly Float64Array[], w: Float64Array, plugins?: Plugins): Float64Array => {
  const out = new Float64Array(Y.length * M)
  if (model._tag === 'custom') {
    const fit = pluginOf(plugins, 'interpretableModels', model.name)
    Y.forEach((y, c) => out.set(checkedVector(fit(Z, y, w, n, M), M, `interpretable model ${JSON.stringify(model.name)}`), c * M))
    return out
  }
  const { Xc, S } = centre(Z, n, M, w)
  if (model._tag === 'lasso') {
    Y.forEach((y, c) => out.set(lasso(Xc, centredY(y, w, S), w, S, n, M, model.alpha), c * M))
    return out
  }
  const sw = Float64Array.from(w, Math.sqrt)
  const A = new Matrix(n, M)
  for (let k = 0; k < n; k++) for (let i = 0; i < M; i++) A.set(k, i, Xc[k * M + i]! * sw[k]!)
  const B = new Matrix(n, Y.length)
  Y.forEach((y, c) => {
    const yc = centredY(y, w, S)
    for (let k = 0; k < n; k++) B.set(k, c, yc[k]! * sw[k]!)
  })
  let beta: Matrix
  if (model._tag === 'ridge') {
    const AtA = A.transpose().mmul(A)
    for (let i = 0; i < M; i++) AtA.set(i, i, AtA.get(i, i) + model.alpha)
    beta = solve(AtA, A.transpose().mmul(B))
  } else {
    beta = new SingularValueDecomposition(A, { autoTranspose: true }).solve(B)
  }
  for (let c = 0; c < Y.length; c++) for (let i = 0; i < M; i++) out[c * M + i] = beta.get(i, c)
  return out
}
