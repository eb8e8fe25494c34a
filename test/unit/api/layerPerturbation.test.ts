// LayerFeatureAblation, LayerFeaturePermutation, NeuronFeatureAblation and NeuronGradientShap through
// the public API on the reference mlp (ONNX): exact values where the model is affine (an oracle
// built from the weights file, not from clarus), independence from perturbationsPerEval, the
// NeuronGradientShap limit and its seeding, and typed errors for bad calls.
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromOnnx } from '../../../src/backends/onnx/index.js'
import {
  attribute, float32, int32, LayerActivation, LayerFeatureAblation, LayerFeaturePermutation, layerFeatureAblation, NeuronFeatureAblation, NeuronGradientShap,
  neuronFeatureAblation, neuronIntegratedGradients, pipeline, stage, type HostTensor, type Model,
} from '../../../src/index.js'
import { errorOf } from '../../helpers/errors.js'
import { REFERENCE_DIR } from '../../helpers/reference.js'

type Matrix = { readonly shape: readonly number[]; readonly data: readonly number[] }
let mlp: Model<HostTensor>
let weights: Record<string, Matrix>
beforeAll(async () => {
  const m = await fromOnnx(path.join(REFERENCE_DIR, 'models/mlp.onnx'))
  if (E.isLeft(m)) throw new Error(m.left.message)
  mlp = m.right
  const json = JSON.parse(readFileSync(path.join(REFERENCE_DIR, 'models/mlp.weights.json'), 'utf8')) as { parameters: Record<string, { shape: number[]; data: number[] | number[][] }> }
  weights = Object.fromEntries(Object.entries(json.parameters).map(([k, v]) => [k, { shape: v.shape, data: (v.data as (number | number[])[]).flat() }]))
})
afterAll(async () => {
  await mlp.dispose()
})

const RELU2 = '/relu2/Relu_output_0'
const RELU1 = '/relu1/Relu_output_0'
const FC1 = '/fc1/Gemm_output_0'
const values = (t: HostTensor): number[] => Array.from(t.data as Float32Array)
const inputs = (seed: number, n = 2): HostTensor => float32([n, 12], Array.from({ length: 12 * n }, (_, i) => Math.sin(seed * 7.1 + i * 1.3)))

describe('LayerFeatureAblation', () => {
  it('one group per neuron at the input of the affine head: attr_j = W[c, j]·a_j exactly, whatever perturbationsPerEval', async () => {
    const W = weights['fc3.weight']!
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 20 }), async (seed, c, ppe) => {
        const x = inputs(seed)
        const a = values(await new LayerActivation(mlp, RELU2).attribute(x))
        const attr = await new LayerFeatureAblation(mlp, RELU2).attribute(x, { target: c, perturbationsPerEval: ppe })
        expect(attr.shape).toEqual([2, 16])
        const got = values(attr)
        for (let e = 0; e < 2; e++) for (let j = 0; j < 16; j++) expect(got[e * 16 + j]).toBeCloseTo(W.data[c * 16 + j]! * a[e * 16 + j]!, 5)
      }),
      { seed: 11, numRuns: 12 },
    )
  })

  it('layer baselines replace the ablated neurons: attr_j = W[c, j]·(a_j − a′_j) (and differs from the zero baseline)', async () => {
    const W = weights['fc3.weight']!
    const x = inputs(3)
    const a = values(await new LayerActivation(mlp, RELU2).attribute(x))
    const ref = float32([16], Array.from({ length: 16 }, (_, j) => j / 10))
    const got = values(await new LayerFeatureAblation(mlp, RELU2).attribute(x, { target: 1, layerBaselines: ref }))
    const zero = values(await new LayerFeatureAblation(mlp, RELU2).attribute(x, { target: 1 }))
    for (let e = 0; e < 2; e++) for (let j = 0; j < 16; j++) expect(got[e * 16 + j]).toBeCloseTo(W.data[16 + j]! * (a[e * 16 + j]! - j / 10), 5)
    expect(got).not.toEqual(zero)
    const scalar = values(await new LayerFeatureAblation(mlp, RELU2).attribute(x, { target: 1, layerBaselines: 0.5 }))
    for (let e = 0; e < 2; e++) for (let j = 0; j < 16; j++) expect(scalar[e * 16 + j]).toBeCloseTo(W.data[16 + j]! * (a[e * 16 + j]! - 0.5), 5)
  })

  it('a layer mask ablates groups together; every chunking gives the same bits', async () => {
    const x = inputs(5, 3)
    const mask = int32([1, 32], Array.from({ length: 32 }, (_, j) => Math.floor(j / 5)))
    const runs = await Promise.all([1, 2, 3, 7, undefined].map(async (ppe) => values(await new LayerFeatureAblation(mlp, RELU1).attribute(x, { target: 2, layerMask: mask, ...(ppe !== undefined ? { perturbationsPerEval: ppe } : {}) }))))
    for (const r of runs.slice(1)) expect(r).toEqual(runs[0])
    const r = runs[0]!
    for (let e = 0; e < 3; e++) for (let j = 0; j < 32; j++) expect(r[e * 32 + j]).toBe(r[e * 32 + 5 * Math.floor(j / 5)])
  })

  it('bad calls are typed errors: a mask that does not fit the layer, an unknown layer, baselines that do not broadcast, input-space data', async () => {
    const x = inputs(1)
    const misfit = await errorOf(new LayerFeatureAblation(mlp, RELU1).attribute(x, { target: 0, layerMask: int32([1, 31], new Int32Array(31)) }))
    expect(misfit._tag).toBe('ShapeMismatch')
    expect(misfit.path).toEqual(['layerMask'])
    expect(misfit.message).toMatch(/layerMask has shape \[1, 31\].*the layer \[2, 32\]/)
    const fractional = await errorOf(new LayerFeatureAblation(mlp, RELU1).attribute(x, { target: 0, layerMask: float32([1, 32], new Float32Array(32).fill(0.5)) }))
    expect(fractional.path).toEqual(['layerMask'])
    const unknown = await errorOf(new LayerFeatureAblation(mlp, 'no/such/tensor').attribute(x, { target: 0 }))
    expect(unknown._tag).toBe('UnknownTensor')
    const wide = await errorOf(new LayerFeatureAblation(mlp, RELU1).attribute(x, { target: 0, layerBaselines: float32([3], [1, 2, 3]) }))
    expect(wide._tag).toBe('BadBaseline')
    expect(wide.path).toEqual(['layerBaselines'])
    const nan = await errorOf(new LayerFeatureAblation(mlp, RELU1).attribute(x, { target: 0, layerBaselines: Number.NaN }))
    expect(nan.path).toEqual(['layerBaselines'])
    const inputData = await attribute(layerFeatureAblation({ layer: RELU1 }), mlp, x, { target: 0, featureMask: int32([1, 12], new Int32Array(12)), baselines: 1 })()
    expect(E.isLeft(inputData) && inputData.left._tag).toBe('InvalidSpec')
    expect(E.isLeft(inputData) && inputData.left.message).toMatch(/does not use baselines/)
  })

  it('attributeToLayerInput ablates the tensor the layer reads: fc2 with it is relu1', async () => {
    const x = inputs(9)
    const viaInput = values(await new LayerFeatureAblation(mlp, '/fc2/Gemm_output_0').attribute(x, { target: 0, attributeToLayerInput: true }))
    expect(viaInput).toEqual(values(await new LayerFeatureAblation(mlp, RELU1).attribute(x, { target: 0 })))
    expect(viaInput).toHaveLength(64)
  })

  it('a perturb over a layer mask needs a flow in layer space, and forward must inject it', () => {
    expect(() => pipeline('x', stage.reference(), stage.perturb({ features: { _tag: 'layerMask' }, design: { _tag: 'ablation', replaceWith: 'baseline' } }), stage.forward(), stage.diff({ average: false }))).toThrow(/layerPoints/)
    expect(() => pipeline('x', stage.reference(), stage.layerPoints({ layer: RELU1, baselines: true }), stage.perturb({ features: { _tag: 'layerMask' }, design: { _tag: 'ablation', replaceWith: 'baseline' } }), stage.forward(), stage.diff({ average: false }))).toThrow(/inject/)
    expect(() => pipeline('x', stage.reference(), stage.layerPoints({ layer: RELU1, baselines: false }), stage.perturb({ features: { _tag: 'layerMask' }, design: { _tag: 'ablation', replaceWith: 'baseline' } }), stage.forward({ inject: true }), stage.diff({ average: false }))).toThrow(/baseline/)
  })
})

describe('LayerFeaturePermutation', () => {
  it('is reproducible from the seed, 0 for one example, and equals F(x) − F(x | group permuted) on two examples', async () => {
    const x = inputs(2)
    const a = await new LayerFeaturePermutation(mlp, RELU2).attribute(x, { target: 0, seed: 4 })
    const b = await new LayerFeaturePermutation(mlp, RELU2).attribute(x, { target: 0, seed: 4, perturbationsPerEval: 1 })
    expect(values(a)).toEqual(values(b))
    // with two examples the only non-identity permutation swaps them: attr_j = W[0, j]·(a_j − a_j of the other example)
    const W = weights['fc3.weight']!
    const act = values(await new LayerActivation(mlp, RELU2).attribute(x))
    for (let e = 0; e < 2; e++) for (let j = 0; j < 16; j++) expect(values(a)[e * 16 + j]).toBeCloseTo(W.data[j]! * (act[e * 16 + j]! - act[(1 - e) * 16 + j]!), 5)
    const one = values(await new LayerFeaturePermutation(mlp, RELU2).attribute(inputs(2, 1), { target: 0 }))
    expect(one.every((v) => v === 0)).toBe(true)
    const withBaselines = await errorOf(new LayerFeaturePermutation(mlp, RELU2).attribute(x, { target: 0, layerBaselines: 1 } as never))
    expect(withBaselines._tag).toBe('InvalidSpec')
  })
})

describe('NeuronFeatureAblation', () => {
  it('of a linear unit (fc1, before its ReLU) with one feature per scalar: attr_i = W1[n, i]·(x_i − x′_i) exactly, whatever perturbationsPerEval', async () => {
    const W = weights['fc1.weight']!
    for (const [n, ppe, baseline] of [[0, 1, 0], [7, 4, 0.25], [-1, 12, -1]] as const) {
      const x = inputs(n + 10)
      const got = values(await new NeuronFeatureAblation(mlp, FC1).attribute(x, { neuronSelector: n, perturbationsPerEval: ppe, baselines: baseline }))
      const row = (n + 32) % 32
      const xs = values(x)
      for (let e = 0; e < 2; e++) for (let i = 0; i < 12; i++) expect(got[e * 12 + i]).toBeCloseTo(W.data[row * 12 + i]! * (xs[e * 12 + i]! - baseline), 5)
    }
  })

  it('a feature mask groups inputs; the neuron, not the target, is explained; a neuron out of range is a typed error', async () => {
    const x = inputs(4)
    const mask = int32([1, 12], [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3])
    const grouped = values(await new NeuronFeatureAblation(mlp, RELU1).attribute(x, { neuronSelector: 3, featureMask: mask }))
    for (let e = 0; e < 2; e++) for (let i = 0; i < 12; i++) expect(grouped[e * 12 + i]).toBe(grouped[e * 12 + 3 * Math.floor(i / 3)])
    const far = await errorOf(new NeuronFeatureAblation(mlp, RELU1).attribute(x, { neuronSelector: 32 }))
    expect(far._tag).toBe('BadTarget')
    expect(far.path).toEqual(['neuron'])
    const unknown = await attribute(neuronFeatureAblation({ layer: 'nope', neuronSelector: 0 }), mlp, x)()
    expect(E.isLeft(unknown) && unknown.left._tag).toBe('UnknownTensor')
  })
})

describe('NeuronGradientShap', () => {
  const dist = float32([3, 12], Array.from({ length: 36 }, (_, i) => Math.cos(i) / 2))

  it('is reproducible from its seed, and another seed draws differently', async () => {
    const x = inputs(6)
    const opts = { neuronSelector: 5, baselines: dist, nSamples: 6 }
    const a = values(await new NeuronGradientShap(mlp, RELU2).attribute(x, { ...opts, seed: 3 }))
    const b = values(await new NeuronGradientShap(mlp, RELU2).attribute(x, { ...opts, seed: 3, memoryBudgetBytes: 4096 }))
    const c = values(await new NeuronGradientShap(mlp, RELU2).attribute(x, { ...opts, seed: 4 }))
    expect(a).toEqual(b)
    expect(a).not.toEqual(c)
  })

  it('with stdevs 0 it is an unbiased estimate of its limit, NeuronIntegratedGradients averaged over the baseline rows', async () => {
    const x = inputs(8)
    const neuronSelector = 5
    // the exact limit: every baseline row once (noise cycling through the distribution), IG of the neuron with a fine rule
    const limit = pipeline('NeuronGradientShap (limit)',
      stage.noise({ nSamples: 3, stdevs: 0, baselines: 'cycle' }),
      stage.apply(neuronIntegratedGradients({ layer: RELU2, neuronSelector, nSteps: 2048, method: 'riemann_middle' })),
      stage.sampleMean({ type: 'smoothgrad' }))
    const want = await attribute(limit, mlp, x, { baselines: dist })()
    if (E.isLeft(want)) throw new Error(want.left.message)
    const exact = values(want.right.attributions[0]!)
    // K independent runs (seeds 0..K−1): their mean is an unbiased estimate of the limit, and their
    // spread gives its standard error; every element must lie within 6 standard errors of the limit
    const K = 16
    const runs: number[][] = []
    for (let seed = 0; seed < K; seed++) runs.push(values(await new NeuronGradientShap(mlp, RELU2).attribute(x, { neuronSelector, baselines: dist, nSamples: 250, seed })))
    const mean = exact.map((_, i) => runs.reduce((s, r) => s + r[i]!, 0) / K)
    const se = exact.map((_, i) => Math.sqrt(runs.reduce((s, r) => s + (r[i]! - mean[i]!) ** 2, 0) / (K - 1) / K))
    const floor = 1e-5 * Math.max(...exact.map(Math.abs))
    const within = (target: readonly number[]): boolean => target.every((v, i) => Math.abs(mean[i]! - v) <= 6 * se[i]! + floor)
    expect(within(exact)).toBe(true)
    // negative control: the limit of a neighbouring neuron is rejected by the same test
    const other = await attribute(pipeline('other', stage.noise({ nSamples: 3, stdevs: 0, baselines: 'cycle' }),
      stage.apply(neuronIntegratedGradients({ layer: RELU2, neuronSelector: 6, nSteps: 256, method: 'riemann_middle' })), stage.sampleMean({ type: 'smoothgrad' })), mlp, x, { baselines: dist })()
    if (E.isLeft(other)) throw new Error(other.left.message)
    expect(within(values(other.right.attributions[0]!))).toBe(false)
  })
})
