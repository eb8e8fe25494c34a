/**
 * The w²-rule on tfjs (see the ONNX rule `gradients/modified/wSquare.ts`; Montavon et al. 2019, an
 * input-layer rule): relevance is spread over the receptive field in proportion to the squared
 * weights, whatever the input values: R_x = J_{W²}ᵀ(R_y / f(1; W²)) with R_y = y_out ⊙ dy (the bias
 * plays no part in the shares). It gives the relevance of the kernel's input itself, not a gradient
 * ({@link TfjsModifiedRule.givesRelevance}). Matmuls with one constant operand, convolutions.
 *
 * @internal
 */
import * as tf from '@tensorflow/tfjs-core'
import { linearProblem, spreadOverField, WEIGHTED_KERNELS } from './lrpLinear.js'
import type { TfjsModifiedRule } from './types.js'

export const wSquare: TfjsModifiedRule = {
  rule: 'wSquare',
  kernels: WEIGHTED_KERNELS,
  needsInputs: true,
  givesRelevance: true,
  problem: linearProblem,
  grad: (c, dy) => spreadOverField(c, dy, tf.square),
}
