/**
 * The uniform rule of AttnLRP on tfjs (see the ONNX rule `gradients/modified/uniform.ts`): for a
 * product of N variable factors (BatchMatMul of two activations, Multiply), the stabilised relevance
 * of each output is split equally between the factors: g_i = (1/N)·J_iᵀ(g_y ⊙ y / (y + ε·sign(y))).
 * With one variable factor it is the ε-rule.
 *
 * @internal
 */
import * as tf from '@tensorflow/tfjs-core'
import { LRP_STABILISER, stabilise } from './lrpLinear.js'
import type { TfjsModifiedRule } from './types.js'

export const uniform: TfjsModifiedRule = {
  rule: 'uniform',
  kernels: ['BatchMatMul', 'Multiply'],
  needsInputs: true,
  grads: (c, dy) => {
    const n = c.variable.length
    const scaled = tf.mul(dy, tf.div(tf.mul(c.y, 1 / Math.max(n, 1)), stabilise(c.y, LRP_STABILISER)))
    return c.ordinaryAll(scaled)
  },
}
