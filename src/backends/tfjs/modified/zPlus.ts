/**
 * LRP-z⁺ on tfjs (see the ONNX rule `gradients/modified/zPlus.ts`): z = f(x⁺; W⁺) + f(x⁻; W⁻), the
 * bias left out; g_x = W⁺ᵀ(R_y / z) where x > 0 and W⁻ᵀ(R_y / z) elsewhere, so R_x = x ⊙ g_x keeps
 * the sign of R_y. Matmuls with one constant operand, convolutions.
 *
 * @internal
 */
import * as tf from '@tensorflow/tfjs-core'
import { forwardWith, linearProblem, linearSlots, LRP_STABILISER, negativePart, positivePart, relevanceOver, vjpWith, WEIGHTED_KERNELS } from './lrpLinear.js'
import type { TfjsModifiedRule } from './types.js'

export const zPlus: TfjsModifiedRule = {
  rule: 'zPlus',
  kernels: WEIGHTED_KERNELS,
  needsInputs: true,
  problem: linearProblem,
  grad: (c, dy) => {
    const s = linearSlots(c)
    const x = c.inputs[s.x]!
    const w = c.inputs[s.w]!
    const wp = positivePart(w)
    const wn = negativePart(w)
    const z = tf.add(forwardWith(c, { [s.x]: positivePart(x), [s.w]: wp }), forwardWith(c, { [s.x]: negativePart(x), [s.w]: wn }))
    const r = relevanceOver(c, dy, z, LRP_STABILISER)
    return tf.where(tf.greater(x, 0), vjpWith(c, r, { [s.w]: wp }, s.x), vjpWith(c, r, { [s.w]: wn }, s.x))
  },
}
