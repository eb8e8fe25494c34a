// InternalInfluence and LayerGradCam against Captum's hard-coded test values (captum-semantics.md, Fixture I) on
// BasicModel_MultiLayer written as a tapped tfjs function: linear0 = identity, linear1 (W = ones,
// b = [−10, 1, 1, 1]), relu, linear2 (W = ones, b = [−1, 1]).
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromTfjs } from '../../src/backends/tfjs/index.js'
import { InternalInfluence, LayerGradCam, float32, type HostTensor } from '../../src/index.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const multiLayer = fromTfjs({
  layers: ['linear0', 'linear1', 'relu', 'linear2'],
  fn: (tap, x) => {
    const l0 = tap('linear0', tf.add(x!, 0))
    const l1 = tap('linear1', tf.add(tf.matMul(l0, tf.ones([3, 4])), tf.tensor1d([-10, 1, 1, 1])))
    const r = tap('relu', tf.relu(l1))
    return tap('linear2', tf.add(tf.matMul(r, tf.ones([4, 2])), tf.tensor1d([-1, 1])))
  },
})

const close = (got: HostTensor, want: readonly number[], tol: number): void => {
  const g = Array.from(got.data as Float32Array)
  expect(g).toHaveLength(want.length)
  g.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(tol))
}

describe('InternalInfluence (riemann_trapezoid, 500 steps), x = [[0, 100, 0]], target 0', () => {
  const x = float32([1, 3], [0, 100, 0])
  const opts = { target: 0, nSteps: 500, method: 'riemann_trapezoid' as const }
  it('linear0 → [[3.9, 3.9, 3.9]]', async () => {
    close(await new InternalInfluence(multiLayer, 'linear0').attribute(x, opts), [3.9, 3.9, 3.9], 0.01)
  })
  it('linear1 → [[0.9, 1, 1, 1]]; linear2 → [[1, 0]]', async () => {
    close(await new InternalInfluence(multiLayer, 'linear1').attribute(x, opts), [0.9, 1, 1, 1], 0.01)
    close(await new InternalInfluence(multiLayer, 'linear2').attribute(x, opts), [1, 0], 0.01)
  })
  it('relu, x = [[3, 4, 0]] → [[1, 1, 1, 1]]', async () => {
    close(await new InternalInfluence(multiLayer, 'relu').attribute(float32([1, 3], [3, 4, 0]), opts), [1, 1, 1, 1], 0.01)
  })
  it('linear1 with baselines: one example, and a batch of two', async () => {
    close(await new InternalInfluence(multiLayer, 'linear1').attribute(float32([1, 3], [0, 80, 0]), { ...opts, baselines: float32([1, 3], [0, -20, 0]) }), [0.7, 0.8, 0.8, 0.8], 0.01)
    const batch = await new InternalInfluence(multiLayer, 'linear1').attribute(float32([2, 3], [0, 80, 0, 30, 30, 0]), { ...opts, baselines: float32([2, 3], [0, -20, 0, -20, -20, 0]) })
    close(batch, [0.7, 0.8, 0.8, 0.8, 0.5, 0.6, 0.6, 0.6], 0.01)
  })
  it('leaves no tensor behind', async () => {
    const before = tf.memory().numTensors
    await new InternalInfluence(multiLayer, 'relu').attribute(x, { ...opts, nSteps: 20 })
    expect(tf.memory().numTensors).toBe(before)
  })
})

describe('InternalInfluence and LayerGradCam on two examples, x = [[20, 50, 30], [2, 10, 3]], target 0', () => {
  const x = float32([2, 3], [20, 50, 30, 2, 10, 3])
  it('InternalInfluence(linear1), Gauss–Legendre 50 steps → [[0.90179, 1, 1, 1], [0.34695, 1, 1, 1]]', async () => {
    close(await new InternalInfluence(multiLayer, 'linear1').attribute(x, { target: 0 }), [0.90179, 1, 1, 1, 0.34695, 1, 1, 1], 1e-4)
  })
  it('LayerGradCam(linear1), a 2-D layer: Σ_c ∂F/∂A_c · A_c → [[393], [53]]', async () => {
    const m = await new LayerGradCam(multiLayer, 'linear1').attribute(x, { target: 0 })
    expect(m.shape).toEqual([2, 1])
    close(m, [393, 53], 1e-3)
  })
  it('LayerGradCam(linear0), x = [[0, 100, 0]] → [[400]]; with ReLU a negative map is 0', async () => {
    close(await new LayerGradCam(multiLayer, 'linear0').attribute(float32([1, 3], [0, 100, 0]), { target: 0 }), [400], 1e-3)
    const neg = await new LayerGradCam(multiLayer, 'linear0').attribute(float32([1, 3], [0, -100, 0]), { target: 0 })
    const relu = await new LayerGradCam(multiLayer, 'linear0').attribute(float32([1, 3], [0, -100, 0]), { target: 0, reluAttributions: true })
    expect(Array.from(relu.data as Float32Array)).toEqual(Array.from(neg.data as Float32Array, (v) => Math.max(0, v)))
  })
})
