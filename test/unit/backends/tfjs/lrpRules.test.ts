// The LRP rules γ, αβ, z⁺ and uniform (and ε on two-operand kernels) on the tfjs backend (issue 10):
// hand-computed values on one-layer networks (with and without a bias, which tfjs computes as a
// separate Add), the same rules on the reference models mlp, cnn and textcls against the ONNX
// backend, no tensor left behind, and the coverage errors (a weighted rule on a product of two
// variables is reported before the backward pass).
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
import { ATTN_LRP, EPSILON_ALPHA2_BETA1, EPSILON_PLUS, type Rule, type RuleSet } from '../../../../src/core/ruleSet.js'
import { attribute, float32, int64, layerLrp, lrp, type HostTensor, type Pipeline } from '../../../../src/index.js'
import { REFERENCE_DIR, right } from '../../../helpers/reference.js'
import { modelPath } from '../onnx/fixtures.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const values = (t: HostTensor | undefined): number[] => Array.from(t?.data ?? [], Number)
const close = (a: readonly number[], e: readonly number[], tol = 1e-4): void => {
  expect(a.length).toBe(e.length)
  a.forEach((v, i) => expect(Math.abs(v - e[i]!), `element ${i}: ${v} vs ${e[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(e[i]!))))
}
const run = async <T>(p: Pipeline, m: Model<T>, x: HostTensor, target = 0): Promise<number[]> => {
  const r = await attribute(p, m, x, { target })()
  if (E.isLeft(r)) throw new Error(r.left.message)
  return values(r.right.attributions[0])
}
const on = (name: string, kernels: readonly string[], rule: Rule): RuleSet => ({
  name,
  entries: [{ match: { opType: kernels }, rule }, { match: { opClass: 'activation' }, rule: { rule: 'identity' } }],
})

/** One layer, x [1, 2] · W [[1], [−1]] (+ bias b): y = −1 (−0.5 with b = 0.5). */
const oneLayer = (b?: number) =>
  fromTfjs((x: tf.Tensor) => {
    const y = tf.matMul(x as tf.Tensor2D, tf.tensor2d([[1], [-1]]))
    return b === undefined ? y : tf.add(y, tf.tensor1d([b]))
  })
const x12 = float32([1, 2], [1, 2])

describe('weight-modifying LRP rules on tfjs: hand values', () => {
  // z⁺: only x₁·w₁ = 1 raises the output; R_y = y = −1 goes to x₁.
  it('zPlus: [−1, 0]', async () => {
    close(await run(lrp({ ruleSet: on('z+', ['BatchMatMul'], { rule: 'zPlus' }) }), oneLayer(), x12), [-1, 0])
  })
  // α2β1: 2·(x₁w₁⁺/z⁺)·R − 1·(x₂w₂⁻/z⁻)·R = 2·(−1, 0) − (0, −1).
  it('alphaBeta(2, 1): [−2, 1]', async () => {
    close(await run(lrp({ ruleSet: on('a2b1', ['BatchMatMul'], { rule: 'alphaBeta', alpha: 2, beta: 1 }) }), oneLayer(), x12), [-2, 1])
  })
  // γ = 0.25: W′ = [1.25, −1], z′ = −0.75, R_x = x ⊙ W′ · (−1 / −0.75).
  it('gamma(0.25): [5/3, −8/3]; conserves Σ R = y', async () => {
    const r = await run(lrp({ ruleSet: on('g', ['BatchMatMul'], { rule: 'gamma', gamma: 0.25 }) }), oneLayer(), x12)
    close(r, [5 / 3, -8 / 3])
    close([r[0]! + r[1]!], [-1])
  })
  // With the bias 0.5 (a separate Add in tfjs) the bias is kept in z′ as Captum keeps it:
  // y = −0.5, z′ = −0.75 + 0.5 = −0.25, R_x = x ⊙ W′ · (−0.5 / −0.25) = [2.5, −4].
  it('gamma with a bias reads the following Add: [2.5, −4]; no tensor left behind', async () => {
    const m = oneLayer(0.5)
    const rs = on('g', ['BatchMatMul'], { rule: 'gamma', gamma: 0.25 })
    await run(lrp({ ruleSet: rs }), m, x12)
    const before = tf.memory().numTensors
    close(await run(lrp({ ruleSet: rs }), m, x12), [2.5, -4])
    expect(tf.memory().numTensors).toBe(before)
  })
  it('negative control: without the bias the same rule gives other values', async () => {
    const r = await run(lrp({ ruleSet: on('g', ['BatchMatMul'], { rule: 'gamma', gamma: 0.25 }) }), oneLayer(), x12)
    expect(Math.abs(r[0]! - 2.5)).toBeGreaterThan(0.5)
  })
})

describe('depthwise convolution', () => {
  // With one channel, a depthwise convolution is a plain convolution: the weighted rules must agree.
  const k = [0.5, -1, 2, 0.25, -0.5, 1, 1.5, -2, 0.75]
  const viaConv = fromTfjs((x: tf.Tensor) => tf.sum(tf.conv2d(x as tf.Tensor4D, tf.tensor4d(k, [3, 3, 1, 1]), 1, 'same'), [1, 2, 3]).reshape([-1, 1]))
  const viaDepthwise = fromTfjs((x: tf.Tensor) => tf.sum(tf.depthwiseConv2d(x as tf.Tensor4D, tf.tensor4d(k, [3, 3, 1, 1]), 1, 'same'), [1, 2, 3]).reshape([-1, 1]))
  const x = float32([1, 4, 4, 1], Array.from({ length: 16 }, (_, i) => Math.sin(i) + 0.1))
  it.each([['zPlus', { rule: 'zPlus' }], ['alphaBeta(2, 1)', { rule: 'alphaBeta', alpha: 2, beta: 1 }], ['gamma', { rule: 'gamma' }]] as const)('%s: DepthwiseConv2dNative = Conv2D', async (_, rule) => {
    const rs = on('r', ['Conv2D', 'DepthwiseConv2dNative'], rule)
    const plain = await run(lrp({ ruleSet: rs }), viaConv, x)
    close(await run(lrp({ ruleSet: rs }), viaDepthwise, x), plain, 1e-5)
    const grad = await run(lrp({ ruleSet: { name: 'g', entries: [], unmatched: 'gradient' } }), viaConv, x)
    expect(plain.some((v, i) => Math.abs(v - grad[i]!) > 1e-3)).toBe(true)
  })
})

describe('uniform rule on tfjs', () => {
  // y = (x·A) ⊙ (x·B), x = [1, 2], A = [1, 1]ᵀ, B = [2, 0]ᵀ: u = 3, v = 2, y = 6; R_u = R_v = 3;
  // from u: x ⊙ A · 3/3 = [1, 2]; from v: x ⊙ B · 3/2 = [3, 0]; total [4, 2] (Σ = 6 = y).
  const gated = fromTfjs((x: tf.Tensor) => tf.mul(tf.matMul(x as tf.Tensor2D, tf.tensor2d([[1], [1]])), tf.matMul(x as tf.Tensor2D, tf.tensor2d([[2], [0]]))))
  const rs: RuleSet = { name: 'gated', entries: [{ match: { opType: 'Multiply' }, rule: { rule: 'uniform' } }, { match: { opType: 'BatchMatMul' }, rule: { rule: 'epsilon' } }] }
  it('splits a product\'s relevance equally: [4, 2]; no tensor left behind', async () => {
    await run(lrp({ ruleSet: rs }), gated, x12)
    const before = tf.memory().numTensors
    close(await run(lrp({ ruleSet: rs }), gated, x12), [4, 2])
    expect(tf.memory().numTensors).toBe(before)
  })
  it('negative control: the ordinary gradient of the product gives twice the relevance ([8, 4])', async () => {
    const plain: RuleSet = { name: 'plain', entries: [{ match: { opType: 'BatchMatMul' }, rule: { rule: 'epsilon' } }], unmatched: 'gradient' }
    close(await run(lrp({ ruleSet: plain }), gated, x12), [8, 4])
  })
  it('a weighted rule on a matmul of two variables is reported before the backward pass', async () => {
    const m = fromTfjs((x: tf.Tensor) => tf.sum(tf.matMul(x as tf.Tensor2D, x as tf.Tensor2D, false, true), 1, true))
    const r = await attribute(lrp({ ruleSet: on('g', ['BatchMatMul'], { rule: 'gamma' }) }), m, x12, { target: 0 })()
    expect(E.isLeft(r) && r.left.message).toMatch(/uniform/)
  })
})

describe('LRP rules on the reference models: tfjs agrees with ONNX', () => {
  const ref = right(loadReferenceDir(REFERENCE_DIR))
  const loaded: { dispose: () => unknown }[] = []
  const pair = async (name: string, layers: Record<string, string> = {}) => {
    const built = right(buildTfjsReferenceModel(right(loadModelWeights(ref, name))))
    loaded.push(built)
    const o = await fromOnnx(modelPath(name))
    if (E.isLeft(o)) throw new Error(o.left.message)
    loaded.push({ dispose: () => o.right.dispose() })
    return { tfjs: fromTfjs(built.tapped(layers)), onnx: o.right }
  }
  afterAll(async () => {
    for (const m of loaded) await m.dispose()
  })
  const mlpX = float32([2, 12], Float32Array.from({ length: 24 }, (_, i) => Math.cos(i * 0.9) * 1.3))

  it.each([
    ['gamma', { rule: 'gamma', gamma: 0.5 }],
    ['alphaBeta(2, 1)', { rule: 'alphaBeta', alpha: 2, beta: 1 }],
    ['alphaBeta(1, 0)', { rule: 'alphaBeta' }],
    ['zPlus', { rule: 'zPlus' }],
  ] as const)('mlp, %s on every linear layer', async (_, rule) => {
    const { tfjs, onnx } = await pair('mlp')
    const rs = on('r', ['Gemm', 'MatMul', 'BatchMatMul'], rule)
    for (const target of [0, 1]) {
      const a = await run(lrp({ ruleSet: rs }), onnx, mlpX, target)
      close(await run(lrp({ ruleSet: rs }), tfjs, mlpX, target), a, 1e-4)
    }
  })

  it.each([['EpsilonPlus', EPSILON_PLUS], ['EpsilonAlpha2Beta1', EPSILON_ALPHA2_BETA1]] as const)('cnn, %s', async (_, rs) => {
    const { tfjs, onnx } = await pair('cnn')
    const x = float32([2, 3, 32, 32], Float32Array.from({ length: 2 * 3 * 32 * 32 }, (_, i) => Math.sin(i * 0.37) + 0.2))
    const a = await run(lrp({ ruleSet: rs }), onnx, x, 1)
    const before = tf.memory().numTensors
    close(await run(lrp({ ruleSet: rs }), tfjs, x, 1), a, 1e-3)
    expect(tf.memory().numTensors).toBe(before)
  })

  it('textcls, AttnLRP at the embedding output', async () => {
    const EMB = '/embedding/Gather_output_0'
    const { tfjs, onnx } = await pair('textcls', { embedding: EMB })
    const ids = int64([2, 16], Array.from({ length: 32 }, (_, i) => (i * 37) % 500))
    const p = layerLrp({ layer: EMB, ruleSet: ATTN_LRP })
    const a = await run(p, onnx, ids, 1)
    close(await run(p, tfjs, ids, 1), a, 1e-3)
  })
})
