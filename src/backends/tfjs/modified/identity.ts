/**
 * `identity`: relevance passes through an elementwise op unchanged, R_x = R_y, with relevance read
 * as R = t ⊙ g (LRP's pass-through for activations): dx = dy ⊙ y / x (dy where x = 0; on a ReLU,
 * its ordinary gradient).
 *
 * @internal
 */
import * as tf from '@tensorflow/tfjs-core'
import { ELEMENTWISE_RESCALE } from './rescale.js'
import type { TfjsModifiedRule } from './types.js'

export const identity: TfjsModifiedRule = {
  rule: 'identity',
  kernels: [...ELEMENTWISE_RESCALE, 'Identity', 'Cast', 'Abs', 'Neg', 'Exp', 'Log', 'Sqrt', 'Square', 'Erf', 'ClipByValue', 'Softmax'],
  // relevance R = t ⊙ g passes unchanged (R_x = R_y): dx = dy ⊙ y / x, and dy where x = 0 (see the ONNX rule)
  grad: (c, dy) => {
    if (c.kernel === 'Identity' || c.kernel === 'Cast') return tf.clone(dy)
    const zero = tf.equal(c.x, 0)
    return tf.where(zero, dy, tf.div(tf.mul(dy, c.y), tf.where(zero, tf.onesLike(c.x), c.x)))
  },
}
