// Neuron selectors beyond one element (dsl/neuron.ts): slices (the sum of a block, Python slice
// semantics), masks (a weighted sum, any backend) and functions (tfjs). Oracles: fc1 of the
// reference MLP is linear in the input, so ∂(Σ_j m_j fc1_j)/∂x = Σ_j m_j W1[j] (read from the
// weights file, independent of clarus); Captum's hard-coded neuron values on
// BasicModel_MultiLayer (captum-semantics.md, Fixture J); and cross-checks between forms.
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromOnnx } from '../../../src/backends/onnx/index.js'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import {
  attribute,
  float32,
  NeuronConductance,
  NeuronGradient,
  neuronGradient,
  NeuronIntegratedGradients,
  NoiseTunnel,
  Saliency,
  type HostTensor,
  type Model,
} from '../../../src/index.js'
import { errorOf } from '../../helpers/errors.js'
import { REFERENCE_DIR } from '../../helpers/reference.js'

const data = (t: HostTensor): number[] => Array.from(t.data as Float32Array)
const close = (got: readonly number[], want: readonly number[], tol: number): void => {
  expect(got).toHaveLength(want.length)
  got.forEach((v, i) => expect(Math.abs(v - want[i]!), `element ${i}: ${v} vs ${want[i]}`).toBeLessThanOrEqual(tol))
}

// ------------------------------------------------------------------------------------------------
// ONNX: the reference MLP (fc1: 12 → 32, linear before its ReLU)
// ------------------------------------------------------------------------------------------------

const FC1 = '/fc1/Gemm_output_0'
let mlp: Model<HostTensor>
let w1: number[][]
beforeAll(async () => {
  const m = await fromOnnx(path.join(REFERENCE_DIR, 'models/mlp.onnx'))
  if (E.isLeft(m)) throw new Error(m.left.message)
  mlp = m.right
  const json = JSON.parse(readFileSync(path.join(REFERENCE_DIR, 'models/mlp.weights.json'), 'utf8')) as { parameters: Record<string, { data: number[][] }> }
  w1 = json.parameters['fc1.weight']!.data
})
afterAll(async () => {
  await mlp.dispose()
})

const x = float32([2, 12], Array.from({ length: 24 }, (_, i) => Math.sin(i + 1)))
/** Σ_j m_j W1[j], repeated for both examples. */
const weighted = (m: (j: number) => number, examples = 2): number[] => {
  const row = Array.from({ length: 12 }, (_, i) => w1.reduce((s, w, j) => s + m(j) * w[i]!, 0))
  return Array.from({ length: examples }, () => row).flat()
}

describe('slices (Python slice semantics; the block is summed)', () => {
  it('NeuronGradient of a slice of a linear layer is the sum of its weight rows', async () => {
    const ng = new NeuronGradient(mlp, FC1)
    const cases: [unknown, (j: number) => boolean][] = [
      [[{ start: 0, stop: 3 }], (j) => j < 3],
      [[{ start: -2 }], (j) => j >= 30],
      [[{ stop: -29 }], (j) => j < 3],
      [[{ start: 1, stop: 9, step: 3 }], (j) => j === 1 || j === 4 || j === 7],
      [[{ start: null, stop: null, step: null }], () => true],
      [[{}], () => true],
      // Python clamps start/stop to the dimension
      [[{ start: -100, stop: 2 }], (j) => j < 2],
      [[{ start: 30, stop: 100 }], (j) => j >= 30],
    ]
    for (const [sel, inSlice] of cases) {
      const g = data(await ng.attribute(x, { neuronSelector: sel as never }))
      close(g, weighted((j) => (inSlice(j) ? 1 : 0)), 1e-5)
    }
  })

  it('a one-element slice equals the integer selector; a slice over a dimension the tuple leaves out sums it too', async () => {
    const ng = new NeuronGradient(mlp, FC1)
    const one = data(await ng.attribute(x, { neuronSelector: [{ start: 5, stop: 6 }] }))
    expect(one).toEqual(data(await ng.attribute(x, { neuronSelector: 5 })))
    // a slice makes a short tuple legal: here the tuple covers the only dim
    const all = data(await ng.attribute(x, { neuronSelector: [{ start: 0 }] }))
    close(all, weighted(() => 1), 1e-5)
  })

  it('bad slices are typed errors that name the selector', async () => {
    const ng = new NeuronGradient(mlp, FC1)
    const past = await errorOf(ng.attribute(x, { neuronSelector: [{ start: 32 }] }))
    expect(past._tag).toBe('BadTarget')
    expect(past.path).toEqual(['neuron'])
    expect(past.message).toContain(`neuron "${FC1}"[32:]`)
    expect(past.message).toMatch(/out of range for dimension 1 of size 32/)
    const before = await errorOf(ng.attribute(x, { neuronSelector: [{ stop: -40 }] }))
    expect(before.message).toMatch(/\[:-40\].*out of range/)
    const empty = await errorOf(ng.attribute(x, { neuronSelector: [{ start: 4, stop: 4 }] }))
    expect(empty._tag).toBe('BadTarget')
    expect(empty.path).toEqual(['neuron'])
    expect(empty.message).toContain(`neuron "${FC1}"[4:4]`)
    expect(empty.message).toMatch(/empty/)
    const long = await errorOf(ng.attribute(x, { neuronSelector: [{ start: 0 }, 1] }))
    expect(long.message).toMatch(/2 entries but the layer has 1 dimension/)
    for (const sel of [[{ step: 0 }], [{ start: 0, stop: 2, step: -1 }], [{ begin: 1 }], [{ start: 1.5 }]]) {
      const bad = await errorOf(ng.attribute(x, { neuronSelector: sel as never }))
      expect(bad._tag, JSON.stringify(sel)).toBe('InvalidSpec')
    }
  })
})

describe('masks (Σ mask ⊙ layer)', () => {
  const weights = (j: number): number => Math.cos(j) * (j % 3)
  it('NeuronGradient of a mask on a linear layer is the mask-weighted sum of weight rows; every mask form agrees', async () => {
    const ng = new NeuronGradient(mlp, FC1)
    const m = float32([32], Array.from({ length: 32 }, (_, j) => weights(j)))
    const want = weighted(weights)
    close(data(await ng.attribute(x, { neuronSelector: { mask: m } })), want, 1e-5)
    close(data(await ng.attribute(x, { neuronSelector: { mask: float32([1, 32], m.data) } })), want, 1e-5)
    close(data(await ng.attribute(x, { neuronSelector: { mask: { shape: [32], data: Array.from(m.data) } } })), want, 1e-5)
  })

  it('a mask with one row per example weights each example by its own row', async () => {
    const rowA = (j: number): number => (j === 2 ? 1 : 0)
    const rowB = (j: number): number => (j < 4 ? 0.5 : 0)
    const m = float32([2, 32], [...Array.from({ length: 32 }, (_, j) => rowA(j)), ...Array.from({ length: 32 }, (_, j) => rowB(j))])
    const g = data(await new NeuronGradient(mlp, FC1).attribute(x, { neuronSelector: { mask: m } }))
    close(g, [...weighted(rowA, 1), ...weighted(rowB, 1)], 1e-5)
    // inside NoiseTunnel each noisy copy still takes its own example's row (σ = 0: the same gradients)
    const nt = await new NoiseTunnel(new NeuronGradient(mlp, FC1)).attribute(x, { neuronSelector: { mask: m }, nSamples: 3, stdevs: 0 })
    close(data(nt as HostTensor), g, 1e-5)
  })

  it('a one-hot mask equals the integer selector, for NeuronIntegratedGradients and NeuronConductance', async () => {
    const relu = '/relu1/Relu_output_0'
    const oneHot = float32([32], Array.from({ length: 32 }, (_, j) => (j === 7 ? 1 : 0)))
    const opts = { nSteps: 8 }
    close(
      data(await new NeuronIntegratedGradients(mlp, relu).attribute(x, { ...opts, neuronSelector: { mask: oneHot } })),
      data(await new NeuronIntegratedGradients(mlp, relu).attribute(x, { ...opts, neuronSelector: 7 })),
      1e-6,
    )
    close(
      data(await new NeuronConductance(mlp, relu).attribute(x, { ...opts, target: 1, neuronSelector: { mask: oneHot } })),
      data(await new NeuronConductance(mlp, relu).attribute(x, { ...opts, target: 1, neuronSelector: 7 })),
      1e-6,
    )
  })

  it('NeuronConductance of a slice is the ones-mask over it: Captum applies the selector to ∂F/∂y and to y alike', async () => {
    const relu = '/relu1/Relu_output_0'
    const opts = { nSteps: 8, target: 2 }
    const slice = data(await new NeuronConductance(mlp, relu).attribute(x, { ...opts, neuronSelector: [{ start: 3, stop: 9, step: 2 }] }))
    const mask = float32([32], Array.from({ length: 32 }, (_, j) => (j === 3 || j === 5 || j === 7 ? 1 : 0)))
    close(slice, data(await new NeuronConductance(mlp, relu).attribute(x, { ...opts, neuronSelector: { mask } })), 1e-6)
  })

  it('a mask of the wrong shape, or with non-finite values, is a typed error naming the selector', async () => {
    const ng = new NeuronGradient(mlp, FC1)
    const wrong = await errorOf(ng.attribute(x, { neuronSelector: { mask: float32([31], new Float32Array(31)) } }))
    expect(wrong._tag).toBe('BadTarget')
    expect(wrong.path).toEqual(['neuron'])
    expect(wrong.message).toContain(`neuron Σ mask[31] ⊙ "${FC1}"`)
    expect(wrong.message).toMatch(/must match the layer without its batch dimension \[32\]/)
    const rows = await errorOf(ng.attribute(x, { neuronSelector: { mask: float32([3, 32], new Float32Array(96)) } }))
    expect(rows.message).toMatch(/one row per example \(\[2, 32\]\)/)
    const nan = await errorOf(ng.attribute(x, { neuronSelector: { mask: float32([32], new Float32Array(32).fill(Number.NaN)) } }))
    expect(nan._tag).toBe('InvalidSpec')
    expect(nan.message).toMatch(/must be finite/)
  })
})

describe('functions on ONNX, and the call data they travel in', () => {
  it('a selector function on an ONNX model is Unsupported, pointing to masks', async () => {
    const e = await errorOf(new NeuronGradient(mlp, FC1).attribute(x, { neuronSelector: (y: HostTensor) => y }))
    expect(e._tag).toBe('Unsupported')
    expect(e.path).toEqual(['neuron'])
    expect(e.message).toMatch(/neuron selector function/)
    expect(e.message).toMatch(/\{ mask \}/)
    const c = await errorOf(new NeuronConductance(mlp, FC1).attribute(x, { target: 0, nSteps: 2, neuronSelector: (y: HostTensor) => y }))
    expect(c._tag).toBe('Unsupported')
  })

  it('a pipeline that refers to the call\'s function, called without one, or a function given to a method that reads none, is a typed error', async () => {
    const missing = await attribute(neuronGradient({ layer: FC1, neuronSelector: { fromCall: 'neuronFn' } }), mlp, x)()
    expect(E.isLeft(missing) && missing.left._tag).toBe('BadPipeline')
    expect(E.isLeft(missing) && missing.left.message).toMatch(/pass options\.neuronFn/)
    const unused = await errorOf(new Saliency(mlp).attribute(x, { target: 0, neuronFn: (y: HostTensor) => y } as never))
    expect(unused._tag).toBe('InvalidSpec')
  })
})

// ------------------------------------------------------------------------------------------------
// tfjs: Captum's BasicModel_MultiLayer as a tapped function (linear0 = identity, linear1 (W = ones,
// b = [−10, 1, 1, 1]), relu, linear2 (W = ones, b = [−1, 1]))
// ------------------------------------------------------------------------------------------------

const multiLayer = fromTfjs({
  layers: ['linear0', 'linear1', 'relu', 'linear2'],
  fn: (tap, xx) => {
    const l0 = tap('linear0', tf.add(xx!, 0))
    const l1 = tap('linear1', tf.add(tf.matMul(l0, tf.ones([3, 4])), tf.tensor1d([-10, 1, 1, 1])))
    const r = tap('relu', tf.relu(l1))
    return tap('linear2', tf.add(tf.matMul(r, tf.ones([4, 2])), tf.tensor1d([-1, 1])))
  },
})

describe('tfjs: Captum\'s neuron values with slices and functions (Fixture J)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu')
  })
  const x1 = float32([1, 3], [0, 5, 4])

  it('NeuronGradient(relu), x = [[0, 5, 4]]: (slice(0, 2),) → [[1, 1, 1]]; lambda x: sum(x) → [[3, 3, 3]]', async () => {
    const ng = new NeuronGradient(multiLayer, 'relu')
    close(data(await ng.attribute(x1, { neuronSelector: [{ start: 0, stop: 2 }] })), [1, 1, 1], 1e-6)
    // a function may return one scalar for the whole batch, as Captum allows
    close(data(await ng.attribute(x1, { neuronSelector: (y: tf.Tensor) => tf.sum(y) })), [3, 3, 3], 1e-6)
  })

  it('NeuronIntegratedGradients(relu), x = [[0, 5, 4]]: (slice(0, 2),) → [[0, 5, 4]]; lambda x: sum(x[:, 2:]) → [[0, 10, 8]]', async () => {
    const nig = new NeuronIntegratedGradients(multiLayer, 'relu')
    close(data(await nig.attribute(x1, { neuronSelector: [{ start: 0, stop: 2 }] })), [0, 5, 4], 1e-3)
    close(data(await nig.attribute(x1, { neuronSelector: (y: tf.Tensor) => tf.sum(tf.slice(y, [0, 2], [-1, -1]), 1) })), [0, 10, 8], 1e-3)
    close(data(await nig.attribute(x1, { neuronSelector: [{ start: 2 }] })), [0, 10, 8], 1e-3)
  })

  it('NeuronConductance(linear1), x = [[0, 100, 0]], target 0: 0 or lambda x: x[:, 0] → [0, 90, 0]', async () => {
    const nc = new NeuronConductance(multiLayer, 'linear1')
    const opts = { target: 0, nSteps: 500, method: 'gausslegendre' as const }
    const x100 = float32([1, 3], [0, 100, 0])
    const byIndex = data(await nc.attribute(x100, { ...opts, neuronSelector: 0 }))
    const byFn = data(await nc.attribute(x100, { ...opts, neuronSelector: (y: tf.Tensor) => tf.squeeze(tf.slice(y, [0, 0], [-1, 1]), [1]) }))
    close(byIndex, [0, 90, 0], 0.1)
    close(byFn, byIndex, 1e-4)
  })
})

describe('tfjs: a function selector equals the equivalent mask', () => {
  const x2 = float32([2, 3], [20, 50, 30, 2, 10, 3])
  const m = [0.5, -1, 2, 0.25]
  const asFn = (y: tf.Tensor): tf.Tensor => tf.sum(tf.mul(y, tf.tensor1d(m)), 1)
  const asMask = { mask: float32([4], m) }

  it('for NeuronGradient, NeuronIntegratedGradients and NeuronConductance (two examples)', async () => {
    for (const layer of ['linear1', 'relu']) {
      close(
        data(await new NeuronGradient(multiLayer, layer).attribute(x2, { neuronSelector: asFn })),
        data(await new NeuronGradient(multiLayer, layer).attribute(x2, { neuronSelector: asMask })),
        1e-4,
      )
      close(
        data(await new NeuronIntegratedGradients(multiLayer, layer).attribute(x2, { nSteps: 16, neuronSelector: asFn })),
        data(await new NeuronIntegratedGradients(multiLayer, layer).attribute(x2, { nSteps: 16, neuronSelector: asMask })),
        1e-3,
      )
      close(
        data(await new NeuronConductance(multiLayer, layer).attribute(x2, { target: 1, nSteps: 16, neuronSelector: asFn })),
        data(await new NeuronConductance(multiLayer, layer).attribute(x2, { target: 1, nSteps: 16, neuronSelector: asMask })),
        1e-3,
      )
    }
  })

  it('NoiseTunnel passes the function on: with σ = 0 SmoothGrad of NeuronGradient is NeuronGradient', async () => {
    const nt = await new NoiseTunnel(new NeuronGradient(multiLayer, 'relu')).attribute(x2, { neuronSelector: asFn, nSamples: 3, stdevs: 0 })
    close(data(nt as HostTensor), data(await new NeuronGradient(multiLayer, 'relu').attribute(x2, { neuronSelector: asMask })), 1e-4)
  })

  it('a function that does not return one scalar per row is a typed error naming it', async () => {
    const wide = await errorOf(new NeuronGradient(multiLayer, 'relu').attribute(x2, { neuronSelector: (y: tf.Tensor) => tf.mul(y, 2) }))
    expect(wide._tag).toBe('BadTarget')
    expect(wide.path).toEqual(['neuron'])
    expect(wide.message).toMatch(/neuronFn\("relu"\).*shape \[2, 4\].*one scalar per row/)
    // conductance multiplies per row, so a batch scalar cannot stand in for the rows there
    const scalar = await errorOf(new NeuronConductance(multiLayer, 'relu').attribute(x2, { target: 0, nSteps: 2, neuronSelector: (y: tf.Tensor) => tf.sum(y) }))
    expect(scalar._tag).toBe('BadTarget')
    const notTensor = await errorOf(new NeuronGradient(multiLayer, 'relu').attribute(x2, { neuronSelector: (() => 3) as never }))
    expect(notTensor.message).toMatch(/not a tfjs tensor/)
  })

  it('leaves no tensor behind: slices, masks and functions, including failed calls', async () => {
    const before = tf.memory().numTensors
    await new NeuronGradient(multiLayer, 'relu').attribute(x2, { neuronSelector: [{ start: 1, stop: 3 }] })
    await new NeuronIntegratedGradients(multiLayer, 'relu').attribute(x2, { nSteps: 4, neuronSelector: asMask })
    await new NeuronIntegratedGradients(multiLayer, 'relu').attribute(x2, { nSteps: 4, neuronSelector: asFn })
    await new NeuronConductance(multiLayer, 'linear1').attribute(x2, { target: 0, nSteps: 4, neuronSelector: asFn })
    await new NeuronConductance(multiLayer, 'linear1').attribute(x2, { target: 0, nSteps: 4, neuronSelector: [{}] })
    await errorOf(new NeuronGradient(multiLayer, 'relu').attribute(x2, { neuronSelector: (y: tf.Tensor) => tf.mul(y, 2) }))
    await errorOf(new NeuronConductance(multiLayer, 'relu').attribute(x2, { target: 0, nSteps: 2, neuronSelector: (y: tf.Tensor) => tf.sum(y) }))
    expect(tf.memory().numTensors).toBe(before)
  })
})
