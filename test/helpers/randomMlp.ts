// Random small tfjs MLPs for property tests: weights come from fast-check, so every failure
// shrinks to a small counter-example.
import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'

export interface MlpSpec {
  readonly nIn: number
  readonly nHidden: number
  readonly nOut: number
  readonly w1: number[]
  readonly b1: number[]
  readonly w2: number[]
  readonly b2: number[]
  readonly activation: 'tanh' | 'relu' | 'sigmoid'
}

const vals = (n: number, scale = 1.5): fc.Arbitrary<number[]> =>
  fc.array(fc.double({ min: -scale, max: scale, noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n })

export const mlpArb = (activation: MlpSpec['activation'] = 'tanh'): fc.Arbitrary<MlpSpec> =>
  fc.record({ nIn: fc.integer({ min: 2, max: 5 }), nHidden: fc.integer({ min: 2, max: 6 }), nOut: fc.integer({ min: 1, max: 3 }) }).chain((d) =>
    fc.record({
      nIn: fc.constant(d.nIn),
      nHidden: fc.constant(d.nHidden),
      nOut: fc.constant(d.nOut),
      w1: vals(d.nIn * d.nHidden),
      b1: vals(d.nHidden, 0.5),
      w2: vals(d.nHidden * d.nOut),
      b2: vals(d.nOut, 0.5),
      activation: fc.constant(activation),
    }),
  )

export const inputArb = (n: number, rows = 2): fc.Arbitrary<number[]> => vals(n * rows, 2)

/** The MLP as a tfjs function; weights are created inside tidy from plain arrays on every call (no state to leak). */
export const mlpFn = (s: MlpSpec): ((x: tf.Tensor) => tf.Tensor) => (x) =>
  tf.tidy(() => {
    const h = tf.add(tf.matMul(x as tf.Tensor2D, tf.tensor2d(s.w1, [s.nIn, s.nHidden])), tf.tensor1d(s.b1))
    const a = s.activation === 'tanh' ? tf.tanh(h) : s.activation === 'relu' ? tf.relu(h) : tf.sigmoid(h)
    return tf.add(tf.matMul(a, tf.tensor2d(s.w2, [s.nHidden, s.nOut])), tf.tensor1d(s.b2))
  })
