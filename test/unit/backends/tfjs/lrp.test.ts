// LRP on the tfjs backend (issue 10): Captum's defaults (ε on pooling and convolutions, identity on
// activations; matmuls keep their gradient, the ε → 0 limit) against Captum's written-out values
// for SimpleLRPModel and its Tanh variant (captum-semantics §10.4 Fixture H), a max-pooling
// network, no tensor left behind, and a rule tfjs does not implement (revealCancel) reported before anything runs.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromTfjs } from '../../../../src/backends/tfjs/index.js'
import { attribute, float32, LayerLRP, lrp, LRP, type HostTensor } from '../../../../src/index.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const values = (t: HostTensor | undefined): number[] => Array.from(t?.data ?? [], Number)
const close = (a: readonly number[], e: readonly number[], tol = 1e-4): void => {
  expect(a.length).toBe(e.length)
  a.forEach((v, i) => expect(Math.abs(v - e[i]!), `element ${i}: ${v} vs ${e[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(e[i]!))))
}

/** SimpleLRPModel: linear(3→3, weights 2) → ReLU → linear2(3→1, weights 3), no biases; Tanh variant with weights 0.1. */
const simple = (act: 'relu' | 'tanh', w1: number, w2: number) =>
  fromTfjs({
    layers: ['h'],
    fn: (tap, x) => {
      const h = tap('h', tf.matMul(x as tf.Tensor2D, tf.fill([3, 3], w1)))
      return tf.matMul(act === 'relu' ? tf.relu(h) : tf.tanh(h), tf.fill([3, 1], w2))
    },
  })

describe('LRP on tfjs', () => {
  it('SimpleLRPModel: [[18, 36, 54]] and delta 0; batched; no tensor left behind', async () => {
    const m = simple('relu', 2, 3)
    const before = tf.memory().numTensors
    const [rel, delta] = await new LRP(m).attribute(float32([2, 3], [1, 2, 3, 3, 6, 9]), { target: 0, returnConvergenceDelta: true })
    close(values(rel), [18, 36, 54, 54, 108, 162])
    close(values(delta), [0, 0])
    expect(tf.memory().numTensors).toBe(before)
  })

  it('linear → Tanh → linear (weights 0.1): [[0.0269, 0.0537, 0.0806]]; LayerLRP(linear) → [0.0537 ×3]', async () => {
    const m = simple('tanh', 0.1, 0.1)
    const x = float32([1, 3], [1, 2, 3])
    close(values(await new LRP(m).attribute(x, { target: 0 })), [0.0269, 0.0537, 0.0806], 2e-3)
    close(values(await new LayerLRP(m, 'h').attribute(x, { target: 0 })), [0.0537, 0.0537, 0.0537], 2e-3)
  })

  it('MaxPool2d(2) on [[[[1, 2], [5, 6]]]] (NHWC, the ε-rule on tfjs): relevance 6 at the maximum only, no tensor left behind', async () => {
    const m = fromTfjs((x: tf.Tensor) => tf.reshape(tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), [-1, 1]))
    const before = tf.memory().numTensors
    close(values(await new LRP(m).attribute(float32([1, 2, 2, 1], [1, 2, 5, 6]), { target: 0 })), [0, 0, 0, 6])
    expect(tf.memory().numTensors).toBe(before)
  })

  it('a rule tfjs does not implement (revealCancel) is reported before the model runs', async () => {
    let ran = false
    const m = fromTfjs((x: tf.Tensor) => {
      ran = true
      return tf.matMul(x, tf.fill([2, 1], 1))
    })
    const rs = { name: 'revealCancel first', entries: [{ match: { opType: 'BatchMatMul' }, rule: { rule: 'revealCancel' as const } }] }
    const r = await attribute(lrp({ ruleSet: rs }), m, float32([2, 2], [1, 2, 3, 4]), { target: 0 })()
    expect(E.isLeft(r) && r.left.message).toMatch(/revealCancel.*not implemented on the tfjs backend/)
    expect(ran).toBe(false)
  })
})
