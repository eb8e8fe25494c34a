// LimeBase with your own sampler, similarity and interpretable model: together they can rebuild
// exact Shapley values (enumerate every coalition, Shapley-kernel weights, weighted least squares),
// which ShapleyValues computes independently.
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { fromFunction } from '../../../src/backends/host/index.js'
import { ClarusError, LimeBase, ShapleyValues, attribute, decodePipeline, float32, lime, type HostTensor, type InterpretableModelFn, type SimilarityFn } from '../../../src/index.js'

const f = (r: readonly number[]): number => r[0]! * r[1]! + Math.tanh(r[2]! - r[3]!) + r[3]! * r[3]!
const model = fromFunction(([x]: readonly HostTensor[]) => {
  const n = x!.shape[0]!
  return float32([n, 1], Array.from({ length: n }, (_, i) => f(Array.from(x!.data.subarray(4 * i, 4 * i + 4) as Float32Array))))
})
const x = float32([2, 4], [0.5, -1.2, 0.8, 0.3, 1, 2, -1, 0.5])

const binom = (n: number, k: number): number => (k === 0 || k === n ? 1 : binom(n - 1, k - 1) + binom(n - 1, k))
const shapleyKernel: SimilarityFn = ({ interpretable }) => {
  const M = interpretable.length
  const s = interpretable.reduce((a, v) => a + v, 0)
  return s === 0 || s === M ? 1e6 : (M - 1) / (binom(M, s) * s * (M - s))
}
/** Weighted least squares with an intercept, by the normal equations (Gauss–Jordan). */
const wls: InterpretableModelFn = (z, y, w, n, M) => {
  const P = M + 1
  const A = Array.from({ length: P }, () => new Float64Array(P + 1))
  for (let k = 0; k < n; k++) {
    const row = [1, ...Array.from(z.subarray(k * M, (k + 1) * M))]
    for (let i = 0; i < P; i++) {
      for (let j = 0; j < P; j++) A[i]![j]! += w[k]! * row[i]! * row[j]!
      A[i]![P]! += w[k]! * row[i]! * y[k]!
    }
  }
  for (let c = 0; c < P; c++) {
    const piv = A[c]![c]!
    for (let j = c; j <= P; j++) A[c]![j]! /= piv
    for (let r = 0; r < P; r++) if (r !== c) { const m = A[r]![c]!; for (let j = c; j <= P; j++) A[r]![j]! -= m * A[c]![j]! }
  }
  return Array.from({ length: M }, (_, i) => A[i + 1]![P]!)
}

describe('LimeBase plug-ins', () => {
  it('enumerating sampler + Shapley-kernel similarity + WLS reproduces ShapleyValues', async () => {
    const limeBase = new LimeBase(model, {
      sampler: (k, M) => Array.from({ length: M }, (_, j) => Math.floor(k / 2 ** j) % 2),
      similarity: shapleyKernel,
      interpretableModel: wls,
    })
    const phi = await limeBase.attribute(x, { nSamples: 16, target: 0, baselines: 0.1 })
    const exact = await new ShapleyValues(model).attribute(x, { target: 0, baselines: 0.1 })
    Array.from(phi.data as Float32Array).forEach((v, i) => expect(Math.abs(v - Number(exact.data[i]))).toBeLessThan(1e-4))
  })

  it('the pipeline stays JSON: it names the functions, the call supplies them', async () => {
    const spec = lime({ sampler: { _tag: 'custom', name: 'mine' }, nSamples: 8 })
    expect(E.isRight(decodePipeline(JSON.parse(JSON.stringify(spec))))).toBe(true)
    const missing = await attribute(spec, model, x, { target: 0 })()
    expect(E.isLeft(missing) && missing.left.message).toMatch(/custom sampler "mine".*options\.plugins\.samplers/)
    const ok = await attribute(spec, model, x, { target: 0, plugins: { samplers: { mine: (_k, M, u) => Array.from(u(M), (v) => (v < 0.5 ? 1 : 0)) } } })()
    expect(E.isRight(ok)).toBe(true)
  })

  it('bad plug-in output is a typed error', async () => {
    const bad = new LimeBase(model, { sampler: () => [2, 0, 1, 1] })
    const e = await bad.attribute(x, { target: 0 }).catch((u: unknown) => u)
    expect((e as ClarusError).error.message).toMatch(/expected 0 or 1/)
    const short = new LimeBase(model, { interpretableModel: () => [1] })
    const e2 = await short.attribute(x, { target: 0 }).catch((u: unknown) => u)
    expect((e2 as ClarusError).error.message).toMatch(/returned 1 values, expected 4/)
  })
})
