/**
 * The flat rule on tfjs (see the ONNX rule `gradients/modified/flat.ts`; Montavon et al. 2019, an
 * input-layer rule): each output's relevance is spread evenly over its receptive field, whatever the
 * input values and weights: R_x = J₁ᵀ(R_y / f(1; 1)), with J₁ the kernel's Jacobian with every weight
 * set to 1, f(1; 1) the number of inputs each output reads (padding excluded) and R_y = y_out ⊙ dy.
 * It gives the relevance of the kernel's input itself, not a gradient ({@link TfjsModifiedRule.givesRelevance}).
 * Matmuls with one constant operand, convolutions.
 *
 * @internal
 */
import * as tf from '@tensorflow/tfjs-core'
import { linearProblem, spreadOverField, WEIGHTED_KERNELS } from './lrpLinear.js'
import type { TfjsModifiedRule } from './types.js'

export const flat: TfjsModifiedRule = {
  rule: 'flat',
  kernels: WEIGHTED_KERNELS,
  needsInputs: true,
  givesRelevance: true,
  problem: linearProblem,
  grad: (c, dy) => spreadOverField(c, dy, tf.onesLike),
}
