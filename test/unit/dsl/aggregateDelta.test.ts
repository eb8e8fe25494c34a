// A completeness delta needs one output row per example: a model that aggregates over the batch is
// a typed BadModel error, never a wrong per-example delta.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import { attribute, float32, integratedGradients, saliency } from '../../../src/index.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const w = tf.tensor2d([[1, -2], [0.5, 3], [-1, 1]])
const x = float32([4, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 0, 1])

describe('completeness delta with an aggregated output', () => {
  it('a [1, C] output for a batch of N is BadModel naming the output', async () => {
    const agg = fromTfjs((t: tf.Tensor) => tf.tidy(() => tf.sum(tf.matMul(t as tf.Tensor2D, w), 0, true)))
    const before = tf.memory().numTensors
    const r = await attribute(integratedGradients({ nSteps: 4, returnConvergenceDelta: true }), agg, x, { target: 0 })()
    expect(E.isLeft(r) && r.left._tag).toBe('BadModel')
    expect(E.isLeft(r) && r.left.message).toMatch(/shape \[1, 2\] for 4 input rows.*one row per example/)
    expect(E.isLeft(r) && r.left.path).toEqual(['output'])
    expect(tf.memory().numTensors).toBe(before)
  })

  it('the same model still gets gradients without a delta, and a per-example model gets a delta', async () => {
    const agg = fromTfjs((t: tf.Tensor) => tf.tidy(() => tf.sum(tf.matMul(t as tf.Tensor2D, w), 0, true)))
    expect(E.isRight(await attribute(saliency(), agg, x, { target: 0 })())).toBe(true)
    const lin = fromTfjs((t: tf.Tensor) => tf.matMul(t as tf.Tensor2D, w))
    const r = await attribute(integratedGradients({ nSteps: 4, returnConvergenceDelta: true }), lin, x, { target: 1 })()
    if (E.isLeft(r)) throw new Error(r.left.message)
    expect(r.right.delta?.shape).toEqual([4])
    for (const d of r.right.delta!.data as Float32Array) expect(Math.abs(d)).toBeLessThan(1e-4)
  })
})
