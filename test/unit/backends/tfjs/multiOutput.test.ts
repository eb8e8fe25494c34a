// A tfjs model function that returns several tensors, or no tensor (issue 8, items 12 and 14):
// a typed BadModel on every path (forward, gradient), and no tensor left behind.
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromTfjs, type TfjsFunction } from '../../../../src/backends/tfjs/index.js'
import { FeatureAblation, IntegratedGradients, Saliency, float32 } from '../../../../src/index.js'
import { errorOf } from '../../../helpers/errors.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const rowSum = (x: tf.Tensor): tf.Tensor => tf.sum(x, 1)
// The wrong return types are the point of these models, hence the casts.
const asArray = ((x: tf.Tensor) => [rowSum(x), tf.mul(rowSum(x), 2)]) as unknown as TfjsFunction
const asMap = ((x: tf.Tensor) => ({ logits: rowSum(x), probs: tf.sigmoid(rowSum(x)) })) as unknown as TfjsFunction
const asNumber = ((x: tf.Tensor) => (rowSum(x).size > 0 ? 3 : 0)) as unknown as TfjsFunction

const x = float32([2, 3], [1, 2, 3, 4, 5, 6])

describe('a model returning several tensors', () => {
  const calls = [
    ['FeatureAblation (forward)', (m: TfjsFunction) => new FeatureAblation(fromTfjs(m)).attribute(x, { target: 0 })],
    ['IntegratedGradients (vjp)', (m: TfjsFunction) => new IntegratedGradients(fromTfjs(m)).attribute(x, { target: 0 })],
    ['Saliency (vjp)', (m: TfjsFunction) => new Saliency(fromTfjs(m)).attribute(x, { target: 0 })],
  ] as const
  for (const [name, call] of calls) {
    for (const [kind, model] of [['an array', asArray], ['a map', asMap]] as const) {
      it(`${name}: ${kind} of 2 tensors is a BadModel and leaks nothing`, async () => {
        const before = tf.memory().numTensors
        const e = await errorOf(call(model))
        expect(tf.memory().numTensors).toBe(before)
        expect(e._tag).toBe('BadModel')
        expect(e.path).toEqual(['model'])
        expect(e.message).toMatch(/returned 2 tensors/)
        expect(e.message).toMatch(/one output/)
        expect(e.message).toMatch(/wrap the model/)
      })
    }
  }

  it('a number instead of a tensor (was "Cannot create property \'kept\' on number")', async () => {
    for (const call of [() => new IntegratedGradients(fromTfjs(asNumber)).attribute(x, { target: 0 }), () => new FeatureAblation(fromTfjs(asNumber)).attribute(x)]) {
      const before = tf.memory().numTensors
      const e = await errorOf(call())
      expect(tf.memory().numTensors).toBe(before)
      expect(e._tag).toBe('BadModel')
      expect(e.path).toEqual(['model'])
      expect(e.message).toMatch(/returned a number \(3\), not a tf\.Tensor/)
    }
  })
})
