/**
 * The z^B-rule on tfjs (see the ONNX rule `gradients/modified/zBox.ts`; Montavon et al. 2017/2019,
 * an input-layer rule for inputs bounded by [low, high]): with z = y_out − f(l; W⁺) − f(h; W⁻)
 * (y_out the output with its bias, the bound terms without it), stabilised by Captum's 1e-9, and
 * s = y_out ⊙ dy / z: R_x = x ⊙ Wᵀs − l·W⁺ᵀs − h·W⁻ᵀs. It gives the relevance of the kernel's input
 * itself, not a gradient ({@link TfjsModifiedRule.givesRelevance}), since the bound terms reach
 * inputs that are zero. zBox(0, 0) is the ε-rule with ε 1e-9. Matmuls with one constant operand,
 * convolutions.
 *
 * @internal
 */
import * as tf from '@tensorflow/tfjs-core'
import { forwardWith, linearProblem, linearSlots, LRP_STABILISER, negativePart, positivePart, relevanceOver, vjpWith, WEIGHTED_KERNELS } from './lrpLinear.js'
import type { TfjsModifiedRule } from './types.js'

export const zBox: TfjsModifiedRule = {
  rule: 'zBox',
  kernels: WEIGHTED_KERNELS,
  needsInputs: true,
  givesRelevance: true,
  problem: linearProblem,
  grad: (c, dy, rule) => {
    const low = rule.rule === 'zBox' ? rule.low : 0
    const high = rule.rule === 'zBox' ? rule.high : 0
    const s = linearSlots(c)
    const x = c.inputs[s.x]!
    const w = c.inputs[s.w]!
    const wp = positivePart(w)
    const wn = negativePart(w)
    const lx = tf.fill(x.shape, low)
    const hx = tf.fill(x.shape, high)
    const z = tf.sub(tf.sub(c.yOut, forwardWith(c, { [s.x]: lx, [s.w]: wp })), forwardWith(c, { [s.x]: hx, [s.w]: wn }))
    const sv = relevanceOver(c, dy, z, LRP_STABILISER)
    const plain = tf.mul(x, vjpWith(c, sv, {}, s.x))
    const up = tf.mul(lx, vjpWith(c, sv, { [s.w]: wp }, s.x))
    const down = tf.mul(hx, vjpWith(c, sv, { [s.w]: wn }, s.x))
    return tf.sub(tf.sub(plain, up), down)
  },
}
