// diff, marginals and linearFit on a linear model, where every method has the same closed form:
// attr_i = w_i (x_i − x′_i). Plus the solvers against known answers.
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { fromFunction } from '../../../../src/backends/host/index.js'
import { fitLinear } from '../../../../src/dsl/perturbation/linearModels.js'
import { attribute, featureAblation, kernelShap, lime, shapleyValues, shapleyValueSampling, float32, type Pipeline } from '../../../../src/index.js'

const w = [2, -1, 0.5, 3]
const model = fromFunction(([v]) => {
  const n = v!.shape[0]!
  const d = v!.data as Float32Array
  return float32([n], Array.from({ length: n }, (_, i) => w.reduce((a, c, j) => a + c * d[4 * i + j]!, 1)))
})
const x = float32([2, 4], [1, 2, 3, 4, -1, 0, 2, 1])
const b = float32([1, 4], [0.5, 0.5, 0.5, 0.5])
const expected = [0, 1].flatMap((i) => w.map((c, j) => c * ((x.data as Float32Array)[4 * i + j]! - 0.5)))

describe('perturbation reducers on a linear model', () => {
  const methods: [string, Pipeline][] = [
    ['diff (FeatureAblation)', featureAblation()],
    ['marginals exact (ShapleyValues)', shapleyValues()],
    ['marginals sampled (ShapleyValueSampling, 2 orders)', shapleyValueSampling({ nSamples: 2 })],
    ['linearFit, Shapley kernel (KernelShap exact)', kernelShap({ exact: true })],
    ['linearFit, least squares on every coalition (Lime)', lime({ sampler: 'enumerate', nSamples: 16, interpretableModel: { _tag: 'linearRegression' } })],
  ]
  it.each(methods)('%s', async (_name, p) => {
    for (const ppe of [1, 3, undefined]) {
      const r = await attribute(p, model, x, { baselines: b, ...(ppe ? { perturbationsPerEval: ppe } : {}) })()
      if (E.isLeft(r)) throw new Error(r.left.message)
      Array.from(r.right.attributions[0]!.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 4))
    }
  })
})

describe('interpretable models', () => {
  // z ∈ {0,1}², y = 1 + 2 z0 − 3 z1, equal weights.
  const Z = Float64Array.of(0, 0, 1, 0, 0, 1, 1, 1)
  const y = Float64Array.from([0, 1, 2, 3], (k) => 1 + 2 * Z[2 * k]! - 3 * Z[2 * k + 1]!)
  const w1 = new Float64Array(4).fill(1)
  it('least squares and a tiny ridge recover the coefficients', () => {
    expect(Array.from(fitLinear({ _tag: 'linearRegression' }, Z, 4, 2, [y], w1))).toEqual([expect.closeTo(2, 9), expect.closeTo(-3, 9)])
    expect(Array.from(fitLinear({ _tag: 'ridge', alpha: 1e-9 }, Z, 4, 2, [y], w1)).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([2, -3])
  })
  it('lasso shrinks by α/var (orthogonal design) and zeroes a large α', () => {
    // centred columns have variance 1/4 under equal weights: β = S(β_ols·¼, α)/¼
    const beta = fitLinear({ _tag: 'lasso', alpha: 0.1 }, Z, 4, 2, [y], w1)
    expect(beta[0]).toBeCloseTo(2 - 0.4, 9)
    expect(beta[1]).toBeCloseTo(-3 + 0.4, 9)
    expect(Array.from(fitLinear({ _tag: 'lasso', alpha: 10 }, Z, 4, 2, [y], w1))).toEqual([0, 0])
  })
})
