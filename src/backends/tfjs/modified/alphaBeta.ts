/**
 * LRP-αβ on tfjs (see the ONNX rule `gradients/modified/alphaBeta.ts`): R_x = α·x ⊙ W⁺ᵀ(R_y / z⁺)
 * − β·x ⊙ W⁻ᵀ(R_y / z⁻), with z⁺ = f(x; W⁺) + b and z⁻ = f(x; W⁻) (each stabilised by 1e-9); α1β0
 * is Captum's `Alpha1_Beta0_Rule`. Matmuls with one constant operand, convolutions.
 *
 * @internal
 */
import * as tf from '@tensorflow/tfjs-core'
import { biasOf, forwardWith, linearProblem, linearSlots, LRP_STABILISER, negativePart, positivePart, relevanceOver, vjpWith, WEIGHTED_KERNELS } from './lrpLinear.js'
import type { TfjsModifiedRule } from './types.js'

export const alphaBeta: TfjsModifiedRule = {
  rule: 'alphaBeta',
  kernels: WEIGHTED_KERNELS,
  needsInputs: true,
  problem: linearProblem,
  grad: (c, dy, rule) => {
    const alpha = rule.rule === 'alphaBeta' ? rule.alpha ?? 1 : 1
    const beta = rule.rule === 'alphaBeta' ? rule.beta ?? 0 : 0
    const s = linearSlots(c)
    const w = c.inputs[s.w]!
    const wp = positivePart(w)
    const zp = tf.add(forwardWith(c, { [s.w]: wp }), biasOf(c))
    const pos = tf.mul(vjpWith(c, relevanceOver(c, dy, zp, LRP_STABILISER), { [s.w]: wp }, s.x), alpha)
    if (beta === 0) return pos
    const wn = negativePart(w)
    const neg = vjpWith(c, relevanceOver(c, dy, forwardWith(c, { [s.w]: wn }), LRP_STABILISER), { [s.w]: wn }, s.x)
    return tf.sub(pos, tf.mul(neg, beta))
  },
}
