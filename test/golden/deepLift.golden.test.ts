// Captum's own numbers for DeepLift, DeepLiftShap, their layer and neuron variants, GuidedBackprop
// and Deconvolution on its toy models (captum-semantics.md §10.4 Fixture F and §11), on tfjs-cpu
// with the models written as tapped functions. No tensor outlives a call.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { fromTfjs } from '../../src/backends/tfjs/index.js'
import {
  Deconvolution, DeepLift, DeepLiftShap, GuidedBackprop, LayerDeepLift, LayerDeepLiftShap, NeuronDeepLift, float32,
  type HostTensor,
} from '../../src/index.js'
import { basicMultiLayer } from '../helpers/basicModels.js'

const expectClose = (t: HostTensor, expected: number[][] | number[], tol = 2e-4): void => {
  const flat = (expected as unknown[]).flat() as number[]
  expect(t.data.length).toBe(flat.length)
  flat.forEach((e, i) => expect(Math.abs(Number(t.data[i]) - e), `element ${i}: ${Number(t.data[i])} vs ${e}`).toBeLessThanOrEqual(tol + 1e-5 * Math.abs(e)))
}

beforeAll(async () => {
  await tf.setBackend('cpu')
})
let before = 0
beforeEach(() => {
  before = tf.memory().numTensors
})
afterEach(() => {
  expect(tf.memory().numTensors).toBe(before)
})

/** ReLUDeepLiftModel: f(x1, x2, x3 = 2) = 2·relu(x1) + x3·relu(x2 − 1.5). */
const reluDeepLiftModel = fromTfjs((x1: tf.Tensor, x2: tf.Tensor) =>
  tf.tidy(() => tf.add(tf.mul(2, tf.relu(x1)), tf.mul(2, tf.relu(tf.sub(x2, 1.5))))))

/** TanhDeepLiftModel: f(x1, x2) = 2·tanh(x1) + 2·tanh(x2 − 1.5). */
const tanhDeepLiftModel = fromTfjs((x1: tf.Tensor, x2: tf.Tensor) =>
  tf.tidy(() => tf.add(tf.mul(2, tf.tanh(x1)), tf.mul(2, tf.tanh(tf.sub(x2, 1.5))))))

/**
 * ReLULinearModel: h = relu(cat[x1·[3,1,0]ᵀ, x3·(x2·[2,3,0]ᵀ)]) (x3 default 1), out = h·[1,1]ᵀ, no
 * biases; the ReLU's input tapped as 'relu_in', its output as 'relu', the output as 'l3'.
 */
const reluLinearModel = fromTfjs({
  layers: ['relu_in', 'relu', 'l3'],
  fn: (tap, x1, x2, x3) => {
    const l1 = tf.matMul(x1 as tf.Tensor2D, tf.tensor2d([3, 1, 0], [3, 1]))
    const l2 = tf.matMul(x2 as tf.Tensor2D, tf.tensor2d([2, 3, 0], [3, 1]))
    const h = tap('relu_in', tf.concat([l1, x3 === undefined ? l2 : tf.mul(l2, x3)], 1))
    const r = tap('relu', tf.relu(h))
    return tap('l3', tf.matMul(r, tf.tensor2d([1, 1], [2, 1])))
  },
})

/** BasicModel_MultiLayer with linear1 tapped (see helpers/basicModels.ts). */
const multiLayer = fromTfjs({
  layers: ['linear1'],
  fn: (tap, x) => {
    const l1 = tap('linear1', tf.add(tf.matMul(x as tf.Tensor2D, tf.ones([3, 4])), tf.tensor1d([-10, 1, 1, 1])))
    return tf.add(tf.matMul(tf.relu(l1), tf.ones([4, 2])), tf.tensor1d([-1, 1]))
  },
})

describe('ReLUDeepLiftModel and TanhDeepLiftModel (Fixture F)', () => {
  it('DeepLift, x1 = [1], x2 = [2], zero baselines: ([2], [1]), delta 0; not multiplied: ([2], [0.5])', async () => {
    const xs = [float32([1], [1]), float32([1], [2])]
    const [a, d] = await new DeepLift(reluDeepLiftModel).attribute(xs, { returnConvergenceDelta: true })
    expectClose(a[0]!, [2])
    expectClose(a[1]!, [1])
    expectClose(d, [0], 1e-5)
    const m = await new DeepLift(reluDeepLiftModel, { multiplyByInputs: false }).attribute(xs)
    expectClose(m[0]!, [2])
    expectClose(m[1]!, [0.5])
  })

  it('customAttributionFunc sees the multipliers ([2], [0.5]), the inputs and the baselines, and its result is the attribution (delta too)', async () => {
    const xs = [float32([1], [1]), float32([1], [2])]
    const seen: number[][][] = []
    const [a, d] = await new DeepLift(reluDeepLiftModel).attribute(xs, {
      returnConvergenceDelta: true,
      customAttributionFunc: ({ multipliers, inputs, baselines }) => {
        seen.push([multipliers, inputs, baselines].map((ts) => ts.map((t) => Number(t.data[0]))))
        return multipliers.map((m, j) => float32([...m.shape], [3 * Number(m.data[0]) * (Number(inputs[j]!.data[0]) - Number(baselines[j]!.data[0]))]))
      },
    })
    expect(seen).toEqual([[[2, 0.5], [1, 2], [0, 0]]])
    expectClose(a[0]!, [6])
    expectClose(a[1]!, [3])
    // Σ custom attributions − (F(x) − F(x′)) = 9 − 3
    expectClose(d, [6], 1e-5)
    const bad = await new DeepLift(reluDeepLiftModel).attribute(xs, { customAttributionFunc: () => [float32([2], [0, 0])] }).then(() => undefined, (e: unknown) => e)
    expect(String(bad)).toMatch(/custom attribution function .* must return 2 tensor/)
  })

  it('DeepLiftShap, 4 rows of ones and twos against zero baselines, not multiplied: 2 and 0.5', async () => {
    const xs = [float32([4, 1], [1, 1, 1, 1]), float32([4, 1], [2, 2, 2, 2])]
    const zeros = [float32([2, 1], [0, 0]), float32([2, 1], [0, 0])]
    const [a, d] = await new DeepLiftShap(reluDeepLiftModel, { multiplyByInputs: false }).attribute(xs, { baselines: zeros, returnConvergenceDelta: true })
    expectClose(a[0]!, [2, 2, 2, 2])
    expectClose(a[1]!, [0.5, 0.5, 0.5, 0.5])
    expect(d.shape).toEqual([8])
  })

  it('DeepLift on tanh: each input alone through its tanh, so the attribution is 2·(tanh(x) − tanh(x′)) exactly', async () => {
    const [a, d] = await new DeepLift(tanhDeepLiftModel).attribute([float32([2], [1, -0.5]), float32([2], [2, 0.3])], { baselines: [0, 1], returnConvergenceDelta: true })
    const t = Math.tanh
    expectClose(a[0]!, [2 * (t(1) - t(0)), 2 * (t(-0.5) - t(0))], 1e-5)
    expectClose(a[1]!, [2 * (t(0.5) - t(-0.5)), 2 * (t(-1.2) - t(-0.5))], 1e-5)
    expectClose(d, [0, 0], 1e-5)
  })
})

describe('ReLULinearModel (Fixture F, §11)', () => {
  const x1 = float32([2, 3], [-10, 1, -5, 2, 3, 4])
  const x2 = float32([2, 3], [3, 3, 1, 2.3, 5, 4])

  it('DeepLift with zero baselines; DeepLiftShap over two references', async () => {
    const [a, d] = await new DeepLift(reluLinearModel).attribute([x1, x2], { returnConvergenceDelta: true })
    expectClose(a[0]!, [[0, 0, 0], [6, 3, 0]])
    expectClose(a[1]!, [[6, 9, 0], [4.6, 15, 0]])
    expectClose(d, [0, 0])
    const b = float32([2, 3], [0, 0, 0, 1, 1, 1])
    const [s, sd] = await new DeepLiftShap(reluLinearModel).attribute([x1, x2], { baselines: [b, b], returnConvergenceDelta: true })
    expectClose(s[0]!, [[-2, 0, 0], [4.5, 2.5, 0]])
    expectClose(s[1]!, [[5, 7.5, 0], [3.6, 13.5, 0]])
    expectClose(sd, [0, 0, 0, 0])
  })

  const one1 = float32([1, 3], [-10, 1, -5])
  const one2 = float32([1, 3], [3, 3, 1])

  it('LayerDeepLift at the ReLU input: [0, 15]; not multiplied [0, 1]; with x3 = 3, [0, 45]', async () => {
    const [a, d] = await new LayerDeepLift(reluLinearModel, 'relu_in').attribute([one1, one2], { returnConvergenceDelta: true })
    expectClose(a, [[0, 15]])
    expectClose(d, [0])
    expectClose(await new LayerDeepLift(reluLinearModel, 'relu_in', { multiplyByInputs: false }).attribute([one1, one2]), [[0, 1]])
    expectClose(await new LayerDeepLift(reluLinearModel, 'relu_in').attribute([one1, one2], { additionalForwardArgs: [float32([], [3])] }), [[0, 45]])
  })

  it('LayerDeepLift at l3 for three identical rows: 15 each; LayerDeepLiftShap over 3 zero references: [0, 15]', async () => {
    const r1 = float32([3, 3], [-10, 1, -5, -10, 1, -5, -10, 1, -5])
    const r2 = float32([3, 3], [3, 3, 1, 3, 3, 1, 3, 3, 1])
    expectClose(await new LayerDeepLift(reluLinearModel, 'l3').attribute([r1, r2]), [[15], [15], [15]])
    const zeros = float32([3, 3], new Array<number>(9).fill(0))
    expectClose(await new LayerDeepLiftShap(reluLinearModel, 'relu_in').attribute([one1, one2], { baselines: [zeros, zeros] }), [[0, 15]])
    expectClose(await new LayerDeepLiftShap(reluLinearModel, 'relu_in', { multiplyByInputs: false }).attribute([one1, one2], { baselines: [zeros, zeros] }), [[0, 1]])
  })

  it('NeuronDeepLift of l3[0]: ([0,0,0], [6,9,0]); not multiplied ([0,0,0], [2,3,0]); of relu[0]: zeros', async () => {
    const a = await new NeuronDeepLift(reluLinearModel, 'l3').attribute([one1, one2], { neuronSelector: 0 })
    expectClose(a[0]!, [[0, 0, 0]])
    expectClose(a[1]!, [[6, 9, 0]])
    const m = await new NeuronDeepLift(reluLinearModel, 'l3', { multiplyByInputs: false }).attribute([one1, one2], { neuronSelector: 0 })
    expectClose(m[0]!, [[0, 0, 0]])
    expectClose(m[1]!, [[2, 3, 0]])
    const z = await new NeuronDeepLift(reluLinearModel, 'relu').attribute([one1, one2], { neuronSelector: 0 })
    expectClose(z[0]!, [[0, 0, 0]])
    expectClose(z[1]!, [[0, 0, 0]])
  })
})

describe('BasicModel_MultiLayer, x = [[20,50,30],[2,10,3]], target 0 (§11)', () => {
  const x = float32([2, 3], [20, 50, 30, 2, 10, 3])

  it('DeepLift: [[78,195,117],[6.66667,33.33334,10]], delta [0, 0]', async () => {
    const [a, d] = await new DeepLift(fromTfjs(basicMultiLayer)).attribute(x, { target: 0, returnConvergenceDelta: true })
    expectClose(a, [[78, 195, 117], [6.66667, 33.33334, 10]])
    expectClose(d, [0, 0])
  })

  it('LayerDeepLift(linear1): [[90,100,100,100],[5,15,15,15]], delta [0, 0]', async () => {
    const [a, d] = await new LayerDeepLift(multiLayer, 'linear1').attribute(x, { target: 0, returnConvergenceDelta: true })
    expectClose(a, [[90, 100, 100, 100], [5, 15, 15, 15]])
    expectClose(d, [0, 0])
  })

  it('GuidedBackprop and Deconvolution: [[4,4,4],[4,4,4]]', async () => {
    expectClose(await new GuidedBackprop(fromTfjs(basicMultiLayer)).attribute(x, { target: 0 }), [[4, 4, 4], [4, 4, 4]])
    expectClose(await new Deconvolution(fromTfjs(basicMultiLayer)).attribute(x, { target: 0 }), [[4, 4, 4], [4, 4, 4]])
  })
})
