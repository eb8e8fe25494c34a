/**
 * Guided backpropagation (Springenberg et al. 2014) on ReLU: the ordinary ReLU gradient (zero where
 * the forward input ≤ 0), then only its positive part: grad_in = relu(ordinary grad_in).
 *
 * @internal
 */
import * as tf from '@tensorflow/tfjs-core'
import type { TfjsModifiedRule } from './types.js'

export const guided: TfjsModifiedRule = {
  rule: 'guided',
  kernels: ['Relu'],
  grad: (c, dy) => tf.relu(c.ordinary(dy)),
}
