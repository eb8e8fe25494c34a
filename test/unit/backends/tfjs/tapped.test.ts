// Function models that tap named internal tensors get every layer method, without leaks.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromTfjs } from '../../../../src/backends/tfjs/index.js'
import { ClarusError, LayerActivation, LayerGradientXActivation, LayerIntegratedGradients, float32 } from '../../../../src/index.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const w1 = tf.tensor2d([[1, -1], [2, 0.5], [0, 1]])
const w2 = tf.tensor2d([[1], [3]])
// y = relu(x·W1)·W2, with the hidden activation tapped as 'hidden'
const model = fromTfjs({ layers: ['hidden'], fn: (tap, x) => tf.matMul(tap('hidden', tf.relu(tf.matMul(x!, w1))), w2) })

describe('tapped function models', () => {
  it('capture, gradient w.r.t. the layer, and injection (LayerIG) match the closed forms', async () => {
    const x = float32([2, 3], [1, 2, 3, -1, 0.5, 2])
    const before = tf.memory().numTensors
    // hidden = relu(x·W1) = [[5, 3], [0, 3.25]]
    const act = await new LayerActivation(model, 'hidden').attribute(x)
    expect(Array.from(act.data as Float32Array)).toEqual([5, 3, 0, 3.25])
    // ∂y/∂hidden = W2ᵀ = [1, 3]; ⊙ hidden
    const gxa = await new LayerGradientXActivation(model, 'hidden').attribute(x, { target: 0 })
    expect(Array.from(gxa.data as Float32Array)).toEqual([5, 9, 0, 9.75])
    // y is linear in hidden, so LayerIG from a zero baseline (hidden 0) equals grad × activation
    const [lig, delta] = await new LayerIntegratedGradients(model, 'hidden').attribute(x, { target: 0, nSteps: 4, returnConvergenceDelta: true })
    Array.from(lig.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(Number(gxa.data[i]), 5))
    Array.from(delta.data as Float32Array).forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-5))
    expect(tf.memory().numTensors).toBe(before)
  })

  it('an unknown or never-tapped layer is a typed error', async () => {
    const x = float32([1, 3], [1, 2, 3])
    const e = await new LayerActivation(model, 'nope').attribute(x).catch((u: unknown) => u)
    expect((e as ClarusError).error._tag).toBe('UnknownTensor')
    const lazy = fromTfjs({ layers: ['declared'], fn: (_tap, x) => tf.matMul(x!, w1) })
    const e2 = await new LayerActivation(lazy, 'declared').attribute(x).catch((u: unknown) => u)
    expect((e2 as ClarusError).error.message).toMatch(/never tapped "declared"/)
  })
})
