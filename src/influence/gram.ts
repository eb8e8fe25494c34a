/**
 * Dot products of per-example gradients ({@link ExampleGrads}) without materialising outer
 * products, squared norms, top-k selection and the seeded random projection of
 * TracInCPFastRandProj. Host float64 arithmetic throughout.
 *
 * @internal
 */
import { foldIn, normals, type Key } from '../core/random.js'
import { flatOf, type ExampleGrads, type GradTerm } from './exampleGrads.js'

/** X Yᵀ for row-major X [nx, d] and Y [ny, d]. */
const rowDots = (x: Float64Array, y: Float64Array, nx: number, ny: number, d: number): Float64Array => {
  const out = new Float64Array(nx * ny)
  for (let i = 0; i < nx; i++) {
    const xi = i * d
    for (let j = 0; j < ny; j++) {
      const yj = j * d
      let s = 0
      for (let e = 0; e < d; e++) s += x[xi + e]! * y[yj + e]!
      out[i * ny + j] = s
    }
  }
  return out
}

/** Adds w · ⟨xᵢ, yⱼ⟩ for one parameter's terms to `acc` [nx, ny]. */
const addTerm = (acc: Float64Array, x: GradTerm, y: GradTerm, nx: number, ny: number, w: number): void => {
  if (x.kind === 'outer' && y.kind === 'outer' && x.p === y.p && x.q === y.q && x.outputFirst === y.outputFirst) {
    const gg = rowDots(x.g, y.g, nx, ny, x.p)
    const aa = rowDots(x.a, y.a, nx, ny, x.q)
    for (let k = 0; k < acc.length; k++) acc[k]! += w * gg[k]! * aa[k]!
    return
  }
  const fx = flatOf(x, nx)
  const fy = flatOf(y, ny)
  const dots = rowDots(fx.v, fy.v, nx, ny, fx.d)
  for (let k = 0; k < acc.length; k++) acc[k]! += w * dots[k]!
}

/** acc[i, j] += w · ⟨∇xᵢ, ∇yⱼ⟩ summed over the parameters (same parameters, same order, in x and y). */
export const addGram = (acc: Float64Array, x: ExampleGrads, y: ExampleGrads, w: number): void => {
  x.terms.forEach((t, k) => addTerm(acc, t, y.terms[k]!, x.rows, y.rows, w))
}

/** acc[i] += w · ‖∇xᵢ‖² summed over the parameters. */
export const addSquaredNorms = (acc: Float64Array, x: ExampleGrads, w: number, offset = 0): void => {
  const sq = (v: Float64Array, i: number, d: number): number => {
    let s = 0
    for (let e = 0; e < d; e++) s += v[i * d + e]! * v[i * d + e]!
    return s
  }
  for (const t of x.terms) {
    for (let i = 0; i < x.rows; i++) {
      acc[offset + i]! += w * (t.kind === 'outer' ? sq(t.g, i, t.p) * sq(t.a, i, t.q) : sq(t.v, i, t.d))
    }
  }
}

/**
 * Per row of `scores` [rows, cols], the `k` largest (`largest`) or smallest entries: column indices
 * in order (descending for largest, ascending for smallest; ties by lower index) and their scores.
 */
export const topK = (scores: Float64Array, rows: number, cols: number, k: number, largest: boolean): { readonly indices: number[]; readonly values: number[] } => {
  const indices: number[] = []
  const values: number[] = []
  for (let i = 0; i < rows; i++) {
    const order = Array.from({ length: cols }, (_, j) => j)
    order.sort((p, q) => {
      const a = scores[i * cols + p]!
      const b = scores[i * cols + q]!
      return a === b ? p - q : largest ? b - a : a - b
    })
    for (const j of order.slice(0, k)) {
      indices.push(j)
      values.push(scores[i * cols + j]!)
    }
  }
  return { indices, values }
}

/** The factor dimensions of one checkpoint's projected embedding (Captum's split of projection_dim). */
export const projectionDims = (projectionDim: number, checkpoints: number, p: number, q: number): { readonly dp: number; readonly dq: number } => {
  const perCheckpoint = Math.max(1, Math.floor(projectionDim / checkpoints))
  const dq = Math.max(1, Math.min(q, Math.floor(Math.sqrt(perCheckpoint))))
  const dp = Math.max(1, Math.min(p, Math.floor(perCheckpoint / dq)))
  return { dp, dq }
}

/** A [d, k] Gaussian matrix with entries N(0, 1/k) from `key`, or undefined for k ≥ d (identity: no projection). */
export const projectionMatrix = (key: Key, d: number, k: number): Float64Array | undefined => {
  if (k >= d) return undefined
  const m = normals(key, d * k)
  const s = 1 / Math.sqrt(k)
  for (let e = 0; e < m.length; e++) m[e]! *= s
  return m
}

/** Rows of X [n, d] times M [d, k] (or X itself when M is undefined). */
const project = (x: Float64Array, n: number, d: number, m: Float64Array | undefined, k: number): Float64Array => {
  if (m === undefined) return x
  const out = new Float64Array(n * k)
  for (let i = 0; i < n; i++) {
    for (let e = 0; e < d; e++) {
      const xv = x[i * d + e]!
      if (xv === 0) continue
      for (let c = 0; c < k; c++) out[i * k + c]! += xv * m[e * k + c]!
    }
  }
  return out
}

/** An outer term with both factors projected: g by [p, dp], a by [q, dq] (keys from `key`). */
export const projectOuter = (t: Extract<GradTerm, { kind: 'outer' }>, rows: number, key: Key, dp: number, dq: number): GradTerm => {
  const mp = projectionMatrix(foldIn(key, 0), t.p, dp)
  const mq = projectionMatrix(foldIn(key, 1), t.q, dq)
  const kp = mp === undefined ? t.p : dp
  const kq = mq === undefined ? t.q : dq
  return { kind: 'outer', g: project(t.g, rows, t.p, mp, kp), a: project(t.a, rows, t.q, mq, kq), p: kp, q: kq, outputFirst: t.outputFirst }
}
