// One non-finite policy on every backend: NaN/Infinity is a NonFinite error naming where it
// appeared (input, baseline, target, output, gradient), or comes back when the call opts in.
import * as path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromOnnx } from '../../../src/backends/onnx/index.js'
import { attr, ElemType, toProto } from '../../../src/backends/onnx/graph/ir.js'
import { encodeModel } from '../../../src/backends/onnx/graph/proto.js'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import { fromFunction } from '../../../src/backends/host/index.js'
import { attribute, featureAblation, float32, integratedGradients, saliency, type HostTensor, type Model } from '../../../src/index.js'
import { REFERENCE_DIR } from '../../helpers/reference.js'

const load = async (src: string | Uint8Array): Promise<Model<HostTensor>> => {
  const m = await fromOnnx(src)
  if (E.isLeft(m)) throw new Error(m.left.message)
  return m.right
}

/** y = Σ sqrt(relu(x)) over the features, an (N, 1) output: its gradient is infinite at x = 0. */
const sqrtRelu = (): Uint8Array =>
  encodeModel(toProto({
    name: 'sqrtrelu',
    nodes: [
      { name: 'r', opType: 'Relu', domain: '', inputs: ['x'], outputs: ['a'], attributes: [] },
      { name: 's', opType: 'Sqrt', domain: '', inputs: ['a'], outputs: ['b'], attributes: [] },
      { name: 'm', opType: 'ReduceSum', domain: '', inputs: ['b', 'axes'], outputs: ['y'], attributes: [attr.int('keepdims', 1)] },
    ],
    inputs: [{ name: 'x', elemType: ElemType.FLOAT, shape: ['batch', 3] }],
    outputs: [{ name: 'y', elemType: ElemType.FLOAT, shape: ['batch', 1] }],
    initializers: new Map([['axes', { name: 'axes', dims: [1], dataType: ElemType.INT64, int64Data: ['1'] }]]),
    valueInfo: [],
    opsetImports: [{ domain: '', version: 17 }],
    irVersion: 8,
    modelExtras: {},
  }))

let mlp: Model<HostTensor>
let root: Model<HostTensor>
beforeAll(async () => {
  await tf.setBackend('cpu')
  mlp = await load(path.join(REFERENCE_DIR, 'models/mlp.onnx'))
  root = await load(sqrtRelu())
})
afterAll(async () => {
  await mlp.dispose()
  await root.dispose()
})

const x = float32([2, 12], Array.from({ length: 24 }, (_, i) => Math.sin(i + 1)))
const withNaN = float32([2, 12], Array.from({ length: 24 }, (_, i) => (i === 13 ? Number.NaN : Math.sin(i + 1))))
const tfRoot = fromTfjs((t: tf.Tensor) => tf.tidy(() => tf.sum(tf.sqrt(tf.relu(t)), 1, true)))
const atZero = float32([2, 3], [0, 1, 4, 1, 0, 9])

describe('non-finite values are NonFinite errors naming where they appeared', () => {
  it('a NaN input, on ONNX and on tfjs', async () => {
    const r = await attribute(saliency(), mlp, withNaN, { target: 0 })()
    expect(E.isLeft(r) && r.left._tag).toBe('NonFinite')
    expect(E.isLeft(r) && r.left.path).toEqual(['inputs', '0'])
    expect(E.isLeft(r) && r.left.message).toMatch(/inputs 0 holds NaN at \[1, 1\]/)
    const t = await attribute(saliency(), tfRoot, float32([1, 3], [1, Number.POSITIVE_INFINITY, 2]), { target: 0 })()
    expect(E.isLeft(t) && t.left.path).toEqual(['inputs', '0'])
  })

  it('a NaN baseline', async () => {
    const r = await attribute(integratedGradients({ nSteps: 4 }), mlp, x, { target: 0, baselines: Number.NaN })()
    expect(E.isLeft(r) && ['NonFinite', 'BadBaseline']).toContain(E.isLeft(r) && r.left._tag)
    const b = float32([2, 12], Array.from({ length: 24 }, (_, i) => (i === 2 ? Number.NEGATIVE_INFINITY : 0)))
    const r2 = await attribute(integratedGradients({ nSteps: 4 }), mlp, x, { target: 0, baselines: b })()
    expect(E.isLeft(r2) && r2.left._tag).toBe('NonFinite')
    expect(E.isLeft(r2) && r2.left.path).toEqual(['baselines', '0'])
  })

  it('a NaN in a target mask', async () => {
    const r = await attribute(integratedGradients({ nSteps: 4 }), mlp, x, { target: { mask: float32([1, 3], [1, Number.NaN, 0]) } })()
    expect(E.isLeft(r) && r.left._tag).toBe('NonFinite')
    expect(E.isLeft(r) && r.left.path).toEqual(['target', 'mask'])
  })

  it('an infinite gradient (sqrt at 0), on ONNX and on tfjs', async () => {
    for (const m of [root, tfRoot] as const) {
      const r = await attribute(saliency(), m as Model<unknown>, atZero, { target: 0 })()
      expect(E.isLeft(r) && r.left._tag).toBe('NonFinite')
      expect(E.isLeft(r) && r.left.path).toEqual(['gradient', '0'])
      expect(E.isLeft(r) && r.left.message).toMatch(/attribution 0 holds (NaN|Infinity) at \[0, 0\].*sqrt or log at 0/)
    }
  })

  it('allowNonFinite: true returns the values instead', async () => {
    const r = await attribute(saliency({ abs: false }), root, atZero, { target: 0, allowNonFinite: true })()
    if (E.isLeft(r)) throw new Error(r.left.message)
    const g = r.right.attributions[0]!.data as Float32Array
    expect(Number.isFinite(g[0]!)).toBe(false)
    expect(g[1]).toBeCloseTo(0.5, 6)
    const n = await attribute(saliency(), mlp, withNaN, { target: 0, allowNonFinite: true })()
    expect(E.isRight(n)).toBe(true)
  })

  it('finite calls are unaffected and leak nothing on tfjs', async () => {
    const before = tf.memory().numTensors
    const r = await attribute(saliency(), tfRoot, float32([1, 3], [1, 4, 9]), { target: 0 })()
    expect(E.isRight(r)).toBe(true)
    const bad = await attribute(saliency(), tfRoot, atZero, { target: 0 })()
    expect(E.isLeft(bad)).toBe(true)
    expect(tf.memory().numTensors).toBe(before)
  })

  it('a non-finite model output, on tfjs and from a plain function, unless allowed', async () => {
    const tfLog = fromTfjs((t: tf.Tensor) => tf.tidy(() => tf.sum(tf.log(t), 1, true)))
    const neg = float32([1, 3], [1, -1, 2])
    const r = await attribute(saliency(), tfLog, neg, { target: 0 })()
    expect(E.isLeft(r) && r.left._tag).toBe('NonFinite')
    expect(E.isLeft(r) && r.left.path).toEqual(['output'])
    expect(E.isLeft(r) && r.left.message).toMatch(/model output holds NaN at \[0, 0\]/)
    const ok = await attribute(saliency({ abs: false }), tfLog, neg, { target: 0, allowNonFinite: true })()
    expect(E.isRight(ok)).toBe(true)
    // ablating feature 0 to 0 gives log(0) = -Infinity
    const fn = fromFunction((xs) => {
      const d = xs[0]!.data as Float32Array
      return float32([xs[0]!.shape[0]!, 1], Array.from({ length: xs[0]!.shape[0]! }, (_, i) => Math.log(d[i * 3]!) + d[i * 3 + 1]!))
    })
    const p = float32([1, 3], [1, 2, 3])
    const f = await attribute(featureAblation(), fn, p, { target: 0 })()
    expect(E.isLeft(f) && f.left._tag).toBe('NonFinite')
    expect(E.isLeft(f) && f.left.message).toMatch(/forward function's output holds -Infinity/)
    const fOk = await attribute(featureAblation(), fn, p, { target: 0, allowNonFinite: true })()
    if (E.isLeft(fOk)) throw new Error(fOk.left.message)
    expect((fOk.right.attributions[0]!.data as Float32Array)[0]).toBe(Number.POSITIVE_INFINITY)
  })
})
