/**
 * LRP-γ on tfjs (see the ONNX rule `gradients/modified/gamma.ts`; Captum's `GammaRule`): positive
 * weights boosted, W′ = W + γ·max(W, 0), the bias kept; R_x = x ⊙ W′ᵀ(R_y / (z′ + ε·sign(z′))) with
 * z′ = f(x; W′) + b and ε 1e-9. Matmuls with one constant operand, convolutions.
 *
 * @internal
 */
import * as tf from '@tensorflow/tfjs-core'
import { biasOf, forwardWith, linearProblem, linearSlots, LRP_STABILISER, positivePart, relevanceOver, vjpWith, WEIGHTED_KERNELS } from './lrpLinear.js'
import type { TfjsModifiedRule } from './types.js'

export const gamma: TfjsModifiedRule = {
  rule: 'gamma',
  kernels: WEIGHTED_KERNELS,
  needsInputs: true,
  problem: linearProblem,
  grad: (c, dy, rule) => {
    const gm = rule.rule === 'gamma' ? rule.gamma ?? 0.25 : 0.25
    const s = linearSlots(c)
    const w = c.inputs[s.w]!
    const w2 = tf.add(w, tf.mul(positivePart(w), gm))
    const z2 = tf.add(forwardWith(c, { [s.w]: w2 }), biasOf(c))
    return vjpWith(c, relevanceOver(c, dy, z2, LRP_STABILISER), { [s.w]: w2 }, s.x)
  },
}
