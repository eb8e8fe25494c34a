// The input-layer LRP rules flat, wSquare and zBox on the tfjs backend (issue 10): the same hand
// values as the ONNX backend's test on the same 2-layer network written as a tapped function (the
// vjp returns relevance at the input, so a zero input gets some), zBox(0, 0) = ε-rule, the
// negative controls, a deeper input-layer rule reported with the tape and registry left clean, no
// tensor left behind, and tfjs = ONNX on the reference cnn (whose tfjs version transposes NCHW →
// NHWC before its first convolution) for EpsilonGammaBox, flat and wSquare on the input layer.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromOnnx } from '../../../../src/backends/onnx/index.js'
import { fromTfjs } from '../../../../src/backends/tfjs/index.js'
import { loadModelWeights } from '../../../../src/conformance/load.js'
import { loadReferenceDir } from '../../../../src/conformance/files.js'
import { buildTfjsReferenceModel } from '../../../../src/conformance/tfjsModels.js'
import type { Model } from '../../../../src/core/backend.js'
import { EPSILON_GAMMA_BOX, type Rule, type RuleSet } from '../../../../src/core/ruleSet.js'
import { attribute, float32, layerLrp, lrp, type HostTensor, type Pipeline } from '../../../../src/index.js'
import { REFERENCE_DIR, right } from '../../../helpers/reference.js'
import { modelPath } from '../onnx/fixtures.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const values = (t: HostTensor | undefined): number[] => Array.from(t?.data ?? [], Number)
const close = (a: readonly number[], e: readonly number[], tol = 1e-5): void => {
  expect(a.length).toBe(e.length)
  a.forEach((v, i) => expect(Math.abs(v - e[i]!), `element ${i}: ${v} vs ${e[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(e[i]!))))
}
const run = async <T>(p: Pipeline, m: Model<T>, x: HostTensor, target = 0) => {
  const r = await attribute(p, m, x, { target })()
  if (E.isLeft(r)) throw new Error(r.left.message)
  return r.right
}
const engineState = () => tf.engine().state as unknown as { gradientDepth: number; activeTape: unknown }

/** x (2) → fc1: W1 = [[1, 2], [3, −1]] → ReLU → fc2: W2 = [1, 1]ᵀ, no biases. At x = [1, 0]: h = [1, 2], y = 3. */
const W1 = tf.keep(tf.tensor2d([[1, 2], [3, -1]]))
const W2 = tf.keep(tf.tensor2d([[1], [1]]))
const twoLayer = fromTfjs({
  layers: ['fc1', 'a', 'fc2'],
  fn: (tap, x) => {
    const h = tap('fc1', tf.matMul(x as tf.Tensor2D, W1))
    const a = tap('a', tf.relu(h))
    return tap('fc2', tf.matMul(a as tf.Tensor2D, W2))
  },
})
const first = (rule: Rule): RuleSet => ({
  name: `${rule.rule} first`,
  entries: [
    { match: { node: 'fc1' }, rule },
    { match: { node: 'fc2' }, rule: { rule: 'epsilon' } },
    { match: { opType: 'Relu' }, rule: { rule: 'identity' } },
  ],
})
const x10 = float32([1, 2], [1, 0])

describe('input-layer rules on tfjs, 2-layer network (R_h = [1, 2] from the ε-rule above)', () => {
  // flat: each output spreads its relevance evenly over its 2 inputs.
  it('flat: [1.5, 1.5], the zero input included; delta 0; no tensor left behind', async () => {
    const p = lrp({ ruleSet: first({ rule: 'flat' }), returnConvergenceDelta: true })
    await run(p, twoLayer, x10)
    const before = tf.memory().numTensors
    const r = await run(p, twoLayer, x10)
    close(values(r.attributions[0]), [1.5, 1.5])
    close(values(r.delta), [0])
    expect(tf.memory().numTensors).toBe(before)
  })
  // w²: column 0 has w² = [1, 9] (Σ 10), column 1 [4, 1] (Σ 5): [1/10 + 2·4/5, 9/10 + 2/5].
  it('wSquare: [1.7, 1.3]', async () => {
    close(values((await run(lrp({ ruleSet: first({ rule: 'wSquare' }) }), twoLayer, x10)).attributions[0]), [1.7, 1.3])
  })
  // z^B with [l, h] = [−1, 1]: z = [5, 5], s = [0.2, 0.4]; R = x ⊙ Ws − l·W⁺s − h·W⁻s = [2, 1].
  it('zBox(−1, 1): [2, 1]', async () => {
    close(values((await run(lrp({ ruleSet: first({ rule: 'zBox', low: -1, high: 1 }) }), twoLayer, x10)).attributions[0]), [2, 1])
  })
  it('zBox(0, 0) equals the ε-rule (ε 1e-9) on every input', async () => {
    const x = float32([3, 2], [1, 0, 0.5, 2, -0.3, 1.7])
    const a = await run(lrp({ ruleSet: first({ rule: 'zBox', low: 0, high: 0 }) }), twoLayer, x)
    const b = await run(lrp({ ruleSet: first({ rule: 'epsilon', epsilon: 1e-9 }) }), twoLayer, x)
    close(values(a.attributions[0]), values(b.attributions[0]))
  })
  it('negative control: the ε-rule gives the zero input no relevance ([3, 0])', async () => {
    close(values((await run(lrp({ ruleSet: first({ rule: 'epsilon' }) }), twoLayer, x10)).attributions[0]), [3, 0])
  })
  it('an input-layer rule on a kernel that does not read the input is reported, naming it; tape, registry and memory left clean', async () => {
    const rs: RuleSet = { name: 'flat deep', entries: [{ match: { node: 'fc2' }, rule: { rule: 'flat' } }, { match: { node: 'fc1' }, rule: { rule: 'epsilon' } }, { match: { opType: 'Relu' }, rule: { rule: 'identity' } }] }
    const registry = ['Identity', 'BatchMatMul', 'Relu'].map((k) => tf.getGradient(k))
    const before = tf.memory().numTensors
    const r = await attribute(lrp({ ruleSet: rs }), twoLayer, x10, { target: 0 })()
    expect(E.isLeft(r) && r.left.message).toMatch(/fc2.*input-layer rule/)
    expect(tf.memory().numTensors).toBe(before)
    expect(['Identity', 'BatchMatMul', 'Relu'].map((k) => tf.getGradient(k))).toEqual(registry)
    expect(engineState().gradientDepth).toBe(0)
    expect(engineState().activeTape).toBeNull()
    // and the next call is unaffected
    close(values((await run(lrp({ ruleSet: first({ rule: 'flat' }) }), twoLayer, x10)).attributions[0]), [1.5, 1.5])
  })
  it('LayerLRP: an input-layer rule on the kernel reading the layer gives relevance at that layer (flat at a → fc2: [1.5, 1.5])', async () => {
    const rs: RuleSet = { name: 'flat at fc2', entries: [{ match: { node: 'fc2' }, rule: { rule: 'flat' } }] }
    close(values((await run(layerLrp({ layer: 'a', ruleSet: rs }), twoLayer, x10)).attributions[0]), [1.5, 1.5])
  })
  it('differentiating an input and a layer together under an input-layer rule is Unsupported (not a wrong relevance)', async () => {
    const x = tf.tensor2d([[1, 0]])
    const r = await twoLayer.vjp([x], { kind: 'linear', seed: () => E.right(float32([1, 1], [1])) }, { wrt: [{ kind: 'input', index: 0 }, { kind: 'layer', name: 'a' }], ruleSet: first({ rule: 'flat' }) })()
    expect(E.isLeft(r) && r.left).toMatchObject({ _tag: 'Unsupported', path: ['wrt'] })
    x.dispose()
  })
})

describe('input-layer rules on tfjs: a bias and depthwise convolutions', () => {
  // y = x·[1, −1]ᵀ + 0.5 at x = [1, 2]: y = −0.5; flat gives each input half of it, whatever the bias.
  it('flat with a bias (a separate Add in tfjs): [−0.25, −0.25]', async () => {
    const m = fromTfjs((x: tf.Tensor) => tf.add(tf.matMul(x as tf.Tensor2D, tf.tensor2d([[1], [-1]])), tf.tensor1d([0.5])))
    const rs: RuleSet = { name: 'flat', entries: [{ match: { inputLayer: true }, rule: { rule: 'flat' } }] }
    close(values((await run(lrp({ ruleSet: rs }), m, float32([1, 2], [1, 2]))).attributions[0]), [-0.25, -0.25])
  })
  const k = [0.5, -1, 2, 0.25, -0.5, 1, 1.5, -2, 0.75]
  const viaConv = fromTfjs((x: tf.Tensor) => tf.sum(tf.conv2d(x as tf.Tensor4D, tf.tensor4d(k, [3, 3, 1, 1]), 1, 'same'), [1, 2, 3]).reshape([-1, 1]))
  const viaDepthwise = fromTfjs((x: tf.Tensor) => tf.sum(tf.depthwiseConv2d(x as tf.Tensor4D, tf.tensor4d(k, [3, 3, 1, 1]), 1, 'same'), [1, 2, 3]).reshape([-1, 1]))
  const x = float32([1, 4, 4, 1], Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 0 : Math.sin(i) + 0.1)))
  it.each([['flat', { rule: 'flat' }], ['wSquare', { rule: 'wSquare' }], ['zBox(−1, 2)', { rule: 'zBox', low: -1, high: 2 }]] as const)('%s: DepthwiseConv2dNative = Conv2D; conserves Σ R = y', async (_, rule) => {
    const rs: RuleSet = { name: 'r', entries: [{ match: { inputLayer: true }, rule }] }
    const plain = await run(lrp({ ruleSet: rs, returnConvergenceDelta: true }), viaConv, x)
    close(values(plain.delta), [0], 1e-5)
    close(values((await run(lrp({ ruleSet: rs }), viaDepthwise, x)).attributions[0]), values(plain.attributions[0]), 1e-5)
    // negative control: the zero inputs get relevance, which the ε-rule never gives them
    expect(values(plain.attributions[0]).some((v, i) => i % 5 === 0 && Math.abs(v) > 1e-4)).toBe(true)
  })
})

describe('input-layer rules on the reference cnn: tfjs agrees with ONNX', () => {
  const ref = right(loadReferenceDir(REFERENCE_DIR))
  const loaded: { dispose: () => unknown }[] = []
  const pair = async () => {
    const built = right(buildTfjsReferenceModel(right(loadModelWeights(ref, 'cnn'))))
    loaded.push(built)
    const o = await fromOnnx(modelPath('cnn'))
    if (E.isLeft(o)) throw new Error(o.left.message)
    loaded.push({ dispose: () => o.right.dispose() })
    return { tfjs: fromTfjs(built.tapped()), onnx: o.right }
  }
  afterAll(async () => {
    for (const m of loaded) await m.dispose()
    ;[W1, W2].forEach((t) => t.dispose())
  })
  const x = float32([2, 3, 32, 32], Float32Array.from({ length: 2 * 3 * 32 * 32 }, (_, i) => (i % 7 === 0 ? 0 : Math.sin(i * 0.37) + 0.3)))
  const rest: RuleSet['entries'] = [
    { match: { opType: ['Conv', 'Conv2D', 'Gemm', 'MatMul', 'BatchMatMul', 'MaxPool', 'GlobalAveragePool'] }, rule: { rule: 'epsilon' } },
    { match: { opClass: 'activation' }, rule: { rule: 'identity' } },
  ]
  it.each([
    ['EpsilonGammaBox(−1, 2)', EPSILON_GAMMA_BOX(-1, 2)],
    ['flat on the input layer', { name: 'flat', entries: [{ match: { inputLayer: true }, rule: { rule: 'flat' } }, ...rest] }],
    ['wSquare on the input layer', { name: 'w2', entries: [{ match: { inputLayer: true }, rule: { rule: 'wSquare' } }, ...rest] }],
  ] as const)('cnn, %s; no tensor left behind', async (_, rs) => {
    const { tfjs, onnx } = await pair()
    const a = values((await run(lrp({ ruleSet: rs }), onnx, x, 1)).attributions[0])
    await run(lrp({ ruleSet: rs }), tfjs, x, 1)
    const before = tf.memory().numTensors
    const b = values((await run(lrp({ ruleSet: rs }), tfjs, x, 1)).attributions[0])
    expect(tf.memory().numTensors).toBe(before)
    // Relevances per pixel are ~1e-3 here: compare against the largest one, and the row totals.
    const scale = Math.max(...a.map(Math.abs))
    expect(scale).toBeGreaterThan(1e-4)
    expect(b.length).toBe(a.length)
    b.forEach((v, i) => expect(Math.abs(v - a[i]!), `element ${i}: ${v} vs ${a[i]}`).toBeLessThanOrEqual(1e-4 * scale))
    const rowSums = (v: readonly number[]) => [0, 1].map((r) => v.slice((r * v.length) / 2, ((r + 1) * v.length) / 2).reduce((s, t) => s + t, 0))
    close(rowSums(b), rowSums(a), 1e-4)
  })
})
