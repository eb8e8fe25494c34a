// The modified-backprop classes (DeepLift, DeepLiftShap, GuidedBackprop, Deconvolution,
// GuidedGradCam and their layer and neuron variants) end to end: Captum's known failures
// (an activation applied twice, a residual block reusing one ReLU, a fused tfjs ReLU, stock
// resnet18) give complete DeepLift; pairs are never split by chunking; a rule set that leaves a
// node without a rule is a typed error listing the nodes before anything runs; no tfjs tensor
// outlives a call.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import { fromOnnx } from '../../../src/backends/onnx/index.js'
import {
  DeepLift, DeepLiftShap, GuidedBackprop, GuidedGradCam, LayerGradCam, Saliency, decodePipeline, float32, layerGradCam, saliency,
  describeRuleSet, type HostTensor, type Model, type RuleSet,
} from '../../../src/index.js'
import { errorOf } from '../../helpers/errors.js'
import { floatInit, graphOf, onnxModelOf, onnxNode } from '../../helpers/onnxGraphs.js'

const REF = fileURLToPath(new URL('../../../../shared/reference', import.meta.url))

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const data = (t: HostTensor): number[] => Array.from(t.data as Float32Array)
const sumRows = (t: HostTensor): number[] => {
  const n = t.shape[0]!
  const k = t.data.length / n
  return Array.from({ length: n }, (_, i) => data(t).slice(i * k, (i + 1) * k).reduce((a, v) => a + v, 0))
}
const maxAbs = (xs: readonly number[]): number => xs.reduce((a, v) => Math.max(a, Math.abs(v)), 0)
/** Deterministic pseudo-random values in [−scale, scale]. */
const values = (n: number, seed: number, scale = 1): number[] => Array.from({ length: n }, (_, i) => scale * Math.sin(12.9898 * (i + 1) + 78.233 * seed))

const W1 = values(12, 1)
const W2 = values(8, 2)
const W3 = values(16, 3)

/** F(x) − F(x′) for target column `t`, from two forward passes of a tfjs function. */
const outputGap = (f: (x: tf.Tensor) => tf.Tensor, x: number[], b: number[], rows: number, nIn: number, t: number): number[] =>
  tf.tidy(() => {
    const d = tf.sub(f(tf.tensor2d(x, [rows, nIn])), f(tf.tensor2d(b, [rows, nIn])))
    return Array.from(d.slice([0, t], [rows, 1]).dataSync())
  })

describe("DeepLift where Captum's module hooks fail (tfjs functions, every kernel instance gets its rule)", () => {
  // a1 = relu(x·W1); h2 = a1·W3 + a1 (a1 used twice: a residual block); a2 = relu(h2) (the same
  // function applied again); y = a2·W2 — Captum treats functional relu as linear and rejects reuse
  const residual = (x: tf.Tensor): tf.Tensor =>
    tf.tidy(() => {
      const a1 = tf.relu(tf.matMul(x as tf.Tensor2D, tf.tensor2d(W1, [3, 4])))
      const a2 = tf.relu(tf.add(tf.matMul(a1, tf.tensor2d(W3, [4, 4])), a1))
      return tf.matMul(a2, tf.tensor2d(W2, [4, 2]))
    })
  // the same network with fused kernels: matMul + bias + ReLU in one _FusedMatMul
  const fused = (x: tf.Tensor): tf.Tensor =>
    tf.tidy(() => {
      const a1 = tf.fused.matMul({ a: x as tf.Tensor2D, b: tf.tensor2d(W1, [3, 4]), bias: tf.tensor1d([0.1, -0.2, 0.3, 0]), activation: 'relu' })
      return tf.fused.matMul({ a: a1, b: tf.tensor2d(W3.slice(0, 8).map(Math.abs), [4, 2]), bias: tf.tensor1d([-0.1, 0.2]), activation: 'relu' })
    })
  const x = values(12, 7, 2)
  const b = values(12, 8, 0.5)

  it.each([['residual block with a reused ReLU and relu applied twice', residual], ['fused _FusedMatMul kernels with ReLU', fused]] as const)('%s: complete (Σ attributions = F(x) − F(x′))', async (_name, f) => {
    const before = tf.memory().numTensors
    for (const t of [0, 1]) {
      const [a, d] = await new DeepLift(fromTfjs(f)).attribute(float32([4, 3], x), { baselines: float32([4, 3], b), target: t, returnConvergenceDelta: true })
      const gap = outputGap(f, x, b, 4, 3, t)
      expect(maxAbs(gap)).toBeGreaterThan(1e-2)
      expect(maxAbs(sumRows(a).map((s, i) => s - gap[i]!))).toBeLessThan(1e-4)
      expect(maxAbs(data(d))).toBeLessThan(1e-4)
      // negative control: gradient × (x − x′) is not complete on these nets
      const g = await new Saliency(fromTfjs(f)).attribute(float32([4, 3], x), { target: t, abs: false })
      const gx = Array.from({ length: 4 }, (_, i) => [0, 1, 2].reduce((s, k) => s + (x[3 * i + k]! - b[3 * i + k]!) * data(g)[3 * i + k]!, 0))
      expect(maxAbs(gx.map((s, i) => s - gap[i]!))).toBeGreaterThan(1e-3)
    }
    expect(tf.memory().numTensors).toBe(before)
  })

  it('DeepLiftShap averages DeepLift over the references, with the same result however the pairs are chunked', async () => {
    const before = tf.memory().numTensors
    const m = fromTfjs(residual)
    const dist = float32([3, 3], values(9, 9))
    const [whole, d] = await new DeepLiftShap(m).attribute(float32([4, 3], x), { baselines: dist, target: 1, returnConvergenceDelta: true })
    const [chunked, dc] = await new DeepLiftShap(m).attribute(float32([4, 3], x), { baselines: dist, target: 1, returnConvergenceDelta: true, internalBatchSize: 1 })
    expect(maxAbs(data(whole).map((v, i) => v - data(chunked)[i]!))).toBeLessThan(1e-6)
    expect(data(dc)).toEqual(data(d))
    // the mean over the references of DeepLift against each one, deltas example-major (i·B + b)
    const mean = new Array<number>(12).fill(0)
    const deltas: number[][] = []
    for (let k = 0; k < 3; k++) {
      const ref = data(dist).slice(3 * k, 3 * k + 3)
      const [a, dk] = await new DeepLift(m).attribute(float32([4, 3], x), { baselines: float32([4, 3], [...ref, ...ref, ...ref, ...ref]), target: 1, returnConvergenceDelta: true })
      data(a).forEach((v, i) => { mean[i]! += v / 3 })
      deltas.push(data(dk))
    }
    expect(maxAbs(data(whole).map((v, i) => v - mean[i]!))).toBeLessThan(1e-5)
    expect(data(d).length).toBe(12)
    data(d).forEach((v, q) => expect(Math.abs(v - deltas[q % 3]![Math.floor(q / 3)]!)).toBeLessThan(1e-5))
    expect(tf.memory().numTensors).toBe(before)
  })
})

describe('a rule set that leaves nodes without a rule', () => {
  const net = (x: tf.Tensor): tf.Tensor =>
    tf.tidy(() => tf.matMul(tf.sigmoid(tf.matMul(tf.tanh(tf.matMul(x as tf.Tensor2D, tf.tensor2d(W1, [3, 4]))), tf.tensor2d(W3, [4, 4]))), tf.tensor2d(W2, [4, 2])))
  const reluOnly: RuleSet = { name: 'ReLU only', entries: [{ match: { opType: 'Relu' }, rule: { rule: 'rescale' } }] }

  it('tfjs: one UnsupportedOps error naming every unmatched kernel, path [ruleSet, …], before anything runs; no tensor leaks', async () => {
    const before = tf.memory().numTensors
    const e = await errorOf(new DeepLift(fromTfjs(net), { ruleSet: reluOnly }).attribute(float32([2, 3], values(6, 4)), { target: 0 }))
    expect(e._tag).toBe('UnsupportedOps')
    expect(e.path[0]).toBe('ruleSet')
    if (e._tag === 'UnsupportedOps') expect(e.nodes.map((n) => n.opType).sort()).toEqual(['Sigmoid', 'Tanh'])
    expect(tf.memory().numTensors).toBe(before)
    // the composite covers them; the description says so
    expect(describeRuleSet(reluOnly)).toMatch(/an error for any other op/)
  })

  it('ONNX: the same error lists the graph nodes by name', async () => {
    const g = graphOf([
      onnxNode('mm1', 'MatMul', ['x', 'W1'], ['h']),
      onnxNode('tanh1', 'Tanh', ['h'], ['t']),
      onnxNode('mm3', 'MatMul', ['t', 'W3'], ['u']),
      onnxNode('sig1', 'Sigmoid', ['u'], ['s']),
      onnxNode('mm2', 'MatMul', ['s', 'W2'], ['y']),
    ], ['batch', 3], ['batch', 2], [floatInit('W1', [3, 4], W1), floatInit('W2', [4, 2], W2), floatInit('W3', [4, 4], W3)])
    const m = await onnxModelOf(g)
    try {
      const e = await errorOf(new DeepLift(m, { ruleSet: reluOnly }).attribute(float32([2, 3], values(6, 4)), { target: 0 }))
      expect(e._tag).toBe('UnsupportedOps')
      expect(e.path[0]).toBe('ruleSet')
      if (e._tag === 'UnsupportedOps') expect(e.nodes.map((n) => n.name).sort()).toEqual(['sig1', 'tanh1'])
      // negative control: the DeepLift composite has rules for both, and the result is complete
      const [, d] = await new DeepLift(m).attribute(float32([2, 3], values(6, 4)), { target: 0, returnConvergenceDelta: true })
      expect(maxAbs(data(d))).toBeLessThan(1e-5)
    } finally {
      await m.dispose()
    }
  })
})

describe('stock torchvision resnet18 (ONNX): one ReLU module reused per block, which Captum rejects', () => {
  let m: Model<HostTensor>
  beforeAll(async () => {
    const r = await fromOnnx(`${REF}/models/resnet18.onnx`)
    if (E.isLeft(r)) throw new Error(r.left.message)
    m = r.right
  })
  afterAll(async () => {
    await m.dispose()
  })

  it('DeepLift runs and is complete: Σ attributions = F(x) − F(0) up to float32 rounding', async () => {
    const x = float32([1, 3, 224, 224], values(3 * 224 * 224, 5))
    const [a, d] = await new DeepLift(m).attribute(x, { target: 3, returnConvergenceDelta: true })
    const total = sumRows(a)[0]!
    const gap = total - data(d)[0]!
    expect(Math.abs(gap)).toBeGreaterThan(1e-3)
    expect(Math.abs(data(d)[0]!)).toBeLessThanOrEqual(1e-3 * Math.abs(gap) + 1e-4)
  }, 120_000)
})

describe('GuidedBackprop and GuidedGradCam on a tapped tfjs convnet', () => {
  const k1 = tf.tensor4d(values(3 * 3 * 2 * 4, 11), [3, 3, 2, 4])
  const dense = tf.tensor2d(values(4 * 3, 12), [4, 3])
  afterAll(() => {
    k1.dispose()
    dense.dispose()
  })
  // NHWC input (N, 6, 6, 2), the conv output (N, 6, 6, 4) tapped as tfjs lays it out
  const model = fromTfjs({
    layers: ['conv'],
    fn: (tap, x) => {
      const c = tap('conv', tf.conv2d(x as tf.Tensor4D, k1, 1, 'same'))
      return tf.matMul(tf.mean(tf.relu(c), [1, 2]) as tf.Tensor2D, dense)
    },
  })
  const x = float32([2, 6, 6, 2], values(144, 13, 2))

  it('GuidedGradCam = GuidedBackprop ⊙ the ReLU Grad-CAM map upsampled (nearest) to the input; no tensor leaks', async () => {
    const before = tf.memory().numTensors
    const guided = await new GuidedBackprop(model).attribute(x, { target: 2 })
    const cam = await new LayerGradCam(model, 'conv').attribute(x, { target: 2, reluAttributions: true, layout: 'NHWC' })
    expect(cam.shape).toEqual([2, 6, 6, 1])
    const ggc = await new GuidedGradCam(model, 'conv').attribute(x, { target: 2, layout: 'NHWC' })
    expect(ggc.shape).toEqual([2, 6, 6, 2])
    // same spatial size here, so nearest upsampling is the identity; the one-channel map spreads over the input's channels
    const expected = data(guided).map((g, i) => g * data(cam)[Math.floor(i / 2)]!)
    // negative control: the map is not constant, so weighting changes the guided gradients
    expect(maxAbs(data(ggc).map((v, i) => v - data(guided)[i]!))).toBeGreaterThan(1e-3)
    expect(maxAbs(data(ggc).map((v, i) => v - expected[i]!))).toBeLessThan(1e-5)
    expect(maxAbs(data(ggc))).toBeGreaterThan(0)
    expect(tf.memory().numTensors).toBe(before)
  })
})

describe('the new stages are checked before anything runs', () => {
  const spec = (...stages: object[]): unknown => ({ _tag: 'Pipeline', name: 'p', stages })
  const cases: [string, unknown, RegExp, string][] = [
    ['references cannot be paired with injected layer values', spec({ _tag: 'layerEndpoints', layer: 'h' }, { _tag: 'grad', layer: 'h', inject: true, referenceRows: 'halves' }), /cannot inject/, 'stages.1'],
    ['customAttribution needs x′ next to the multipliers', spec({ _tag: 'grad', layer: 'h' }, { _tag: 'customAttribution', fn: { _tag: 'custom', name: 'f' } }), /anchorBaseline/, 'stages.1'],
    ['weightBy runs on the call inputs, outside expansions', spec({ _tag: 'noise', nSamples: 2, stdevs: 0 }, { _tag: 'grad' }, { _tag: 'weightBy', pipeline: layerGradCam({ layer: 'h' }) }, { _tag: 'sampleMean', type: 'smoothgrad' }), /outside any expansion/, 'stages.2'],
    ['weightBy weighs computed attributions', spec({ _tag: 'weightBy', pipeline: saliency() }), /weightBy multiplies computed attributions/, 'stages.0'],
    ['eachBaseline pairs model inputs', spec({ _tag: 'grad', layer: 'h' }, { _tag: 'eachBaseline' }, { _tag: 'sampleMean', type: 'smoothgrad' }), /eachBaseline pairs model inputs/, 'stages.1'],
  ]
  it.each(cases)('%s', (_name, u, message, at) => {
    const d = decodePipeline(u)
    expect(E.isLeft(d) && d.left._tag).toBe('BadPipeline')
    expect(E.isLeft(d) && d.left.message).toMatch(message)
    expect(E.isLeft(d) && d.left.path.join('.')).toBe(at)
  })
})
