/**
 * Deconvolution (Zeiler & Fergus 2014) on ReLU: the positive part of the upstream gradient,
 * whatever the forward input: grad_in = relu(grad_out).
 *
 * @internal
 */
import * as tf from '@tensorflow/tfjs-core'
import type { TfjsModifiedRule } from './types.js'

export const deconv: TfjsModifiedRule = {
  rule: 'deconv',
  kernels: ['Relu'],
  grad: (_, dy) => tf.relu(dy),
}
