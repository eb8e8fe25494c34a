// The model combinators verify builds its axioms from: each checked against the function it must
// compute, with gradients from tfjs's own autodiff of that function as the independent oracle, on
// tfjs-cpu (no tensor leaks) and on the ONNX reference mlp.
import { fileURLToPath } from 'node:url'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromOnnx } from '../../../src/backends/onnx/index.js'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import { combineModels, float32, withConstantFeature, withConstantNeuron, withSwappedFeatures, type HostTensor, type Model, type Selector } from '../../../src/index.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const REF = fileURLToPath(new URL('../../../../shared/reference', import.meta.url))
const RELU1 = '/relu1/Relu_output_0'
let onnx: Model<HostTensor>
beforeAll(async () => {
  const m = await fromOnnx(`${REF}/models/mlp.onnx`)
  if (E.isLeft(m)) throw new Error(m.left.message)
  onnx = m.right
})
afterAll(async () => {
  await onnx.dispose()
})

/** Two outputs per row: [Σ x², Σ sin(x)·(k + 1)]. */
const f = (x: tf.Tensor): tf.Tensor => tf.tidy(() => tf.stack([tf.sum(tf.square(x), 1), tf.sum(tf.mul(tf.sin(x), tf.range(1, x.shape[1]! + 1)), 1)], 1))
const X = [[0.3, -1.2, 0.8, 2], [1.5, 0.1, -0.4, 0.7]]

/** Seeds output column `col` of a (rows, k) output. */
const column = <T>(col: number): Selector<T> => ({
  kind: 'linear',
  seed: (shape) => E.right(float32(shape, Float32Array.from({ length: shape[0]! * shape[1]! }, (_, i) => (i % shape[1]! === col ? 1 : 0)))),
})
const values = async (t: tf.Tensor): Promise<number[]> => Array.from(await t.data())
const close = (a: readonly number[], b: readonly number[], tol = 1e-5): void => {
  expect(a.length).toBe(b.length)
  a.forEach((v, i) => expect(Math.abs(v - b[i]!)).toBeLessThan(tol * (1 + Math.abs(b[i]!))))
}
const right = <A>(r: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(r)) throw new Error(r.left.message)
  return r.right
}

describe('combineModels', () => {
  it('computes a·F[:, 0] + b·G[:, 1] and its gradient, leaking nothing', async () => {
    const before = tf.memory().numTensors
    const m = fromTfjs(f)
    const c = combineModels([{ model: m, weight: 1.5, output: 0 }, { model: m, weight: -0.5, output: 1 }])
    const x = tf.tensor2d(X)
    const oracle = (t: tf.Tensor): tf.Tensor => tf.tidy(() => tf.sub(tf.mul(tf.slice(f(t), [0, 0], [-1, 1]), 1.5), tf.mul(tf.slice(f(t), [0, 1], [-1, 1]), 0.5)))
    const fw = right(await c.forward([x])())
    const want = oracle(x)
    close(await values(fw.output), await values(want))
    const v = right(await c.vjp([x], column(0), { wrt: { kind: 'inputs' } })())
    const g = tf.grad((t: tf.Tensor) => tf.sum(oracle(t)))(x)
    close(await values(v.grads[0]!), await values(g))
    close(await values(v.value), await values(want))
    for (const t of [fw.output, want, v.output, v.value, ...v.grads, g, x]) t.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })

  it('refuses a target function and a column the output lacks, with typed errors', async () => {
    const m = fromTfjs(f)
    const x = tf.tensor2d(X)
    const c = combineModels([{ model: m, weight: 1, output: 0 }])
    const r = await c.vjp([x], { kind: 'fn', fn: (o) => tf.sum(o, 1) }, { wrt: { kind: 'inputs' } })()
    expect(E.isLeft(r) && r.left._tag).toBe('Unsupported')
    const bad = await combineModels([{ model: m, weight: 1, output: 5 }]).forward([x])()
    expect(E.isLeft(bad) && bad.left._tag).toBe('BadTarget')
    x.dispose()
  })

  it('on ONNX: the combination of two outputs of the mlp matches the weighted outputs, and layer gradients add up', async () => {
    const x = float32([2, 12], Array.from({ length: 24 }, (_, i) => Math.cos(i)))
    const out = right(await onnx.forward([x])()).output
    const c = combineModels([{ model: onnx, weight: 2, output: 1 }, { model: onnx, weight: -3, output: 2 }])
    const fw = right(await c.forward([x])())
    close(Array.from(fw.output.data as Float32Array), [0, 1].map((r) => 2 * Number(out.data[3 * r + 1]) - 3 * Number(out.data[3 * r + 2])))
    const layer = { kind: 'layer', name: RELU1 } as const
    const g1 = right(await onnx.vjp([x], column(1), { wrt: layer })()).grads[0]!
    const g2 = right(await onnx.vjp([x], column(2), { wrt: layer })()).grads[0]!
    const gc = right(await c.vjp([x], column(0), { wrt: layer })()).grads[0]!
    close(Array.from(gc.data as Float32Array), Array.from(g1.data as Float32Array, (v, i) => 2 * v - 3 * Number(g2.data[i])))
  })
})

describe('input rewrites', () => {
  it('withConstantFeature: the output ignores the feature and its gradient there is exactly 0', async () => {
    const before = tf.memory().numTensors
    const m = withConstantFeature(fromTfjs(f), { input: 0, index: 2, value: 0.25 })
    const x = tf.tensor2d(X)
    const moved = tf.tensor2d(X.map((r) => r.map((v, i) => (i === 2 ? v + 3 : v))))
    const pinned = tf.tensor2d(X.map((r) => r.map((v, i) => (i === 2 ? 0.25 : v))))
    const a = right(await m.forward([x])()).output
    const b = right(await m.forward([moved])()).output
    expect(await values(a)).toEqual(await values(b))
    const v = right(await m.vjp([x], column(1), { wrt: { kind: 'inputs' } })())
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.slice(f(t), [0, 1], [-1, 1])))(pinned)
    const got = await values(v.grads[0]!)
    expect([got[2], got[6]]).toEqual([0, 0])
    close(got, (await values(g)).map((w, i) => (i % 4 === 2 ? 0 : w)))
    for (const t of [x, moved, pinned, a, b, v.output, v.value, ...v.grads, g]) t.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })

  it('withSwappedFeatures: F(P x), with the gradient swapped back', async () => {
    const before = tf.memory().numTensors
    const m = withSwappedFeatures(fromTfjs(f), { input: 0, i: 3, j: 0 })
    const x = tf.tensor2d(X)
    const px = tf.tensor2d(X.map((r) => [r[3]!, r[1]!, r[2]!, r[0]!]))
    const out = right(await m.forward([x])()).output
    const want = f(px)
    close(await values(out), await values(want))
    const v = right(await m.vjp([x], column(1), { wrt: { kind: 'inputs' } })())
    const gt = tf.grad((t: tf.Tensor) => tf.sum(tf.slice(f(t), [0, 1], [-1, 1])))(px)
    const g = await values(gt)
    gt.dispose()
    const swappedBack = [0, 1].flatMap((r) => [g[4 * r + 3]!, g[4 * r + 1]!, g[4 * r + 2]!, g[4 * r]!])
    close(await values(v.grads[0]!), swappedBack)
    for (const t of [x, px, out, want, v.output, v.value, ...v.grads]) t.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })
})

describe('withConstantNeuron (ONNX mlp)', () => {
  it('pins one neuron of a layer: the output stops depending on it, its layer gradient is 0, the layer read is unpinned', async () => {
    const x = float32([2, 12], Array.from({ length: 24 }, (_, i) => Math.sin(2 * i)))
    const h = right(await onnx.forward([x], { capture: [RELU1] })()).captured[RELU1]!
    const m = withConstantNeuron(onnx, { layer: RELU1, index: 5, value: 0.7 })
    const d = h.data.length / 2
    const pinnedH = float32(h.shape, Float32Array.from(h.data as Float32Array, (v, i) => (i % d === 5 ? 0.7 : v)))
    const movedH = float32(h.shape, Float32Array.from(h.data as Float32Array, (v, i) => (i % d === 5 ? v + 4 : v)))
    const want = right(await onnx.forward([x], { inject: { [RELU1]: pinnedH } })()).output
    const fw = right(await m.forward([x], { capture: [RELU1] })())
    close(Array.from(fw.output.data as Float32Array), Array.from(want.data as Float32Array))
    expect(Array.from(fw.captured[RELU1]!.data as Float32Array)).toEqual(Array.from(h.data as Float32Array))
    const viaInject = right(await m.forward([x], { inject: { [RELU1]: movedH } })()).output
    close(Array.from(viaInject.data as Float32Array), Array.from(want.data as Float32Array))
    const g = right(await m.vjp([x], column(0), { wrt: { kind: 'layer', name: RELU1 } })()).grads[0]!
    const g0 = right(await onnx.vjp([x], column(0), { wrt: { kind: 'layer', name: RELU1 }, inject: { [RELU1]: pinnedH } })()).grads[0]!
    close(Array.from(g.data as Float32Array), Array.from(g0.data as Float32Array, (v, i) => (i % d === 5 ? 0 : v)))
    const r = await m.vjp([x], column(0), { wrt: { kind: 'inputs' } })()
    expect(E.isLeft(r) && r.left._tag).toBe('Unsupported')
  })
})
