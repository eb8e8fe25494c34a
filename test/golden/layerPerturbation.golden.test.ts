// LayerFeatureAblation, LayerFeaturePermutation, NeuronFeatureAblation and NeuronGradientShap against
// Captum's hard-coded test values (captum-semantics.md, Fixtures A, G, I and J) on Captum's toy
// models written as tapped tfjs functions, with tfjs tensor-leak checks.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromTfjs } from '../../src/backends/tfjs/index.js'
import { float32, int32, LayerFeatureAblation, LayerFeaturePermutation, NeuronFeatureAblation, NeuronGradientShap, type HostTensor } from '../../src/index.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

// BasicModel_MultiLayer: linear0 = identity, linear1 (W = ones, b = [−10, 1, 1, 1]), relu, linear2 (W = ones, b = [−1, 1]).
const multiLayerOf = (tap: (name: string, t: tf.Tensor) => tf.Tensor, u: tf.Tensor): tf.Tensor => {
  const l0 = tap('linear0', tf.add(u, 0))
  const l1 = tap('linear1', tf.add(tf.matMul(l0 as tf.Tensor2D, tf.ones([3, 4])), tf.tensor1d([-10, 1, 1, 1])))
  const r = tap('relu', tf.relu(l1))
  return tap('linear2', tf.add(tf.matMul(r as tf.Tensor2D, tf.ones([4, 2])), tf.tensor1d([-1, 1])))
}
const multiLayer = fromTfjs({ layers: ['linear0', 'linear1', 'relu', 'linear2'], fn: (tap, x) => multiLayerOf(tap, x!) })
// BasicModel_MultiLayer_MultiInput: the same network on scale·(x1 + x2 + x3); scale is an additional forward argument.
const multiInput = fromTfjs({ layers: ['linear0', 'linear1', 'relu', 'linear2'], fn: (tap, x1, x2, x3, scale) => multiLayerOf(tap, tf.mul(tf.add(tf.add(x1!, x2!), x3!), scale!)) })

// BasicModel_ConvNet_One_Conv: conv1 (1→2 channels, 3×3 ones, bias [−50, −75]) on x + x2, relu1, flatten
// channel-major, fc1 (8→4, +1 on the first 5 features, −1 on the last 3), relu2. Written in NCHW like torch.
const convNet = fromTfjs({
  layers: ['conv1', 'relu1'],
  fn: (tap, x, x2) => {
    const nhwc = tf.transpose(tf.add(x!, x2!), [0, 2, 3, 1]) as tf.Tensor4D
    const conv = tf.add(tf.conv2d(nhwc, tf.ones([3, 3, 1, 2]) as tf.Tensor4D, 1, 'valid'), tf.tensor1d([-50, -75]))
    const c = tap('conv1', tf.transpose(conv, [0, 3, 1, 2]))
    const r = tap('relu1', tf.relu(c))
    const flat = tf.reshape(r, [-1, 8]) as tf.Tensor2D
    const w = tf.concat([tf.ones([5, 4]), tf.fill([3, 4], -1)], 0) as tf.Tensor2D
    return tf.relu(tf.matMul(flat, w))
  },
})

const close = (got: HostTensor, want: readonly number[], tol = 1e-4): void => {
  const g = Array.from(got.data as Float32Array)
  expect(g).toHaveLength(want.length)
  g.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(tol))
}

/** Runs `f` and checks that no tfjs tensor outlives it. */
const noLeak = async <A>(f: () => Promise<A>): Promise<A> => {
  const before = tf.memory().numTensors
  const a = await f()
  expect(tf.memory().numTensors).toBe(before)
  return a
}

describe('LayerFeatureAblation (Captum Fixtures G and I)', () => {
  it('MultiLayer linear0, x = [[20, 50, 30]], layer_mask [[0, 0, 1]], target 0 → [[280, 280, 120]]', async () => {
    const attr = await noLeak(() => new LayerFeatureAblation(multiLayer, 'linear0').attribute(float32([1, 3], [20, 50, 30]), { target: 0, layerMask: int32([1, 3], [0, 0, 1]) }))
    expect(attr.shape).toEqual([1, 3])
    close(attr, [280, 280, 120])
  })

  it('MultiInput linear0 (the input of linear1), layer_baselines [[1, 2, 3]] → [[168, 992, 148], [84, 632, 120]]; per-example layer_mask → [[316, 992, 316], [84, 632, 120]]', async () => {
    const inp1 = float32([2, 3], [23, 100, 0, 20, 50, 30])
    const inp2 = float32([2, 3], [20, 50, 30, 0, 100, 0])
    const inp3 = float32([2, 3], [0, 100, 10, 2, 10, 3])
    const base = { target: 0, additionalForwardArgs: [float32([], [1])], layerBaselines: float32([1, 3], [1, 2, 3]) }
    for (const ppe of [1, 2, 3]) {
      close(await noLeak(() => new LayerFeatureAblation(multiInput, 'linear0').attribute([inp1, inp2, inp3], { ...base, perturbationsPerEval: ppe })), [168, 992, 148, 84, 632, 120])
      close(await noLeak(() => new LayerFeatureAblation(multiInput, 'linear0').attribute([inp1, inp2, inp3], { ...base, perturbationsPerEval: ppe, layerMask: int32([2, 3], [0, 1, 0, 0, 1, 2]) })), [316, 992, 316, 84, 632, 120])
    }
  })

  it('ConvNet relu1 with inputs (arange(16), ones), a 4-D layer: default → [[[[4, 13], [40, 49]], [[0, 0], [−15, −24]]]]; layer_mask by rows → [[[[17, 17], [67, 67]], [[0, 0], [−39, −39]]]]', async () => {
    const x = float32([1, 1, 4, 4], Array.from({ length: 16 }, (_, i) => i))
    const ones = float32([1, 1, 4, 4], new Float32Array(16).fill(1))
    const attr = await noLeak(() => new LayerFeatureAblation(convNet, 'relu1').attribute([x, ones], { target: 0 }))
    expect(attr.shape).toEqual([1, 2, 2, 2])
    close(attr, [4, 13, 40, 49, 0, 0, -15, -24])
    const mask = int32([1, 2, 2, 2], [0, 0, 1, 1, 2, 2, 3, 3])
    close(await noLeak(() => new LayerFeatureAblation(convNet, 'relu1').attribute([x, ones], { target: 0, layerMask: mask, perturbationsPerEval: 4 })), [17, 17, 67, 67, 0, 0, -39, -39])
  })
})

describe('LayerFeaturePermutation', () => {
  it('MultiLayer linear1 on two examples swaps them: attr_j = F(x) − F(x with neuron j of the other example); no tensor leaks', async () => {
    // out₀ = relu(h₀) + relu(h₁) + relu(h₂) + relu(h₃) − 1 with h = linear1(x); x = [[20, 50, 30], [2, 10, 3]]: h = [[90, 101, 101, 101], [5, 16, 16, 16]]
    const attr = await noLeak(() => new LayerFeaturePermutation(multiLayer, 'linear1').attribute(float32([2, 3], [20, 50, 30, 2, 10, 3]), { target: 0 }))
    close(attr, [85, 85, 85, 85, -85, -85, -85, -85])
  })
})

describe('NeuronFeatureAblation (Captum Fixture J)', () => {
  it('linear2, neuron 0: x = [[20, 50, 30]], mask [[0, 0, 1]] → [[280, 280, 120]]', async () => {
    close(await noLeak(() => new NeuronFeatureAblation(multiLayer, 'linear2').attribute(float32([1, 3], [20, 50, 30]), { neuronSelector: 0, featureMask: int32([1, 3], [0, 0, 1]) })), [280, 280, 120])
  })
  it('linear2, neuron 0: per-example mask [[0, 0, 1], [1, 1, 0]] → [[41, 41, 12], [280, 280, 120]]; default mask → [[80, 200, 120], [8, 35, 12]]', async () => {
    for (const ppe of [1, 2]) {
      close(await noLeak(() => new NeuronFeatureAblation(multiLayer, 'linear2').attribute(float32([2, 3], [2, 10, 3, 20, 50, 30]), { neuronSelector: 0, featureMask: int32([2, 3], [0, 0, 1, 1, 1, 0]), perturbationsPerEval: ppe })), [41, 41, 12, 280, 280, 120])
    }
    close(await noLeak(() => new NeuronFeatureAblation(multiLayer, 'linear2').attribute(float32([2, 3], [20, 50, 30, 2, 10, 3]), { neuronSelector: 0 })), [80, 200, 120, 8, 35, 12])
  })
  it('linear2, the sum of both neurons: selector (slice(0, 2),) or lambda x: sum(x, dim=1) → [[82, 82, 24], [560, 560, 240]]', async () => {
    const x = float32([2, 3], [2, 10, 3, 20, 50, 30])
    const featureMask = int32([2, 3], [0, 0, 1, 1, 1, 0])
    close(await noLeak(() => new NeuronFeatureAblation(multiLayer, 'linear2').attribute(x, { neuronSelector: [{ start: 0, stop: 2 }], featureMask })), [82, 82, 24, 560, 560, 240])
    close(await noLeak(() => new NeuronFeatureAblation(multiLayer, 'linear2').attribute(x, { neuronSelector: (y: tf.Tensor) => tf.sum(y, 1), featureMask, perturbationsPerEval: 2 })), [82, 82, 24, 560, 560, 240])
  })
})

describe('NeuronGradientShap (Captum Fixture J)', () => {
  it('linear1, neuron 0, multiply_by_inputs=False, baselines zeros(2, 3), stdevs 0, x = [[1, 20, 10]] → [[1, 1, 1]]; no tensor leaks', async () => {
    const attr = await noLeak(() => new NeuronGradientShap(multiLayer, 'linear1', { multiplyByInputs: false }).attribute(float32([1, 3], [1, 20, 10]), { neuronSelector: 0, baselines: float32([2, 3], new Float32Array(6)) }))
    close(attr, [1, 1, 1], 1e-6)
  })
  it('multiplied by the inputs: a linear neuron gives W ⊙ (x − b) averaged over the drawn baselines (one baseline row: exact)', async () => {
    const attr = await noLeak(() => new NeuronGradientShap(multiLayer, 'linear1').attribute(float32([1, 3], [1, 20, 10]), { neuronSelector: 2, baselines: float32([1, 3], [1, 2, 3]), nSamples: 7, seed: 5 }))
    close(attr, [0, 18, 7], 1e-5)
  })
})
