/**
 * LRP-γ (Montavon et al. 2019), Captum's `GammaRule` (set_bias_to_zero = false): positive weights
 * are boosted, W′ = W + γ·max(W, 0), the bias kept; R_x = x ⊙ W′ᵀ(R_y / (z′ + ε·sign(z′))) with
 * z′ = f(x; W′) + b and ε Captum's 1e-9. Gemm, MatMul (a constant operand) and Conv.
 *
 * @internal
 */
import type { ModifiedRule } from './types.js'
import { forwardWith, linearSlots, LRP_STABILISER, positivePart, relevanceOver, vjpWith, WEIGHTED_OPS } from './lrpLinear.js'

export const gamma: ModifiedRule = {
  rule: 'gamma',
  opTypes: WEIGHTED_OPS,
  build: (g, rule) => {
    const gm = rule.rule === 'gamma' ? rule.gamma ?? 0.25 : 0.25
    const s = linearSlots(g)
    const w = g.input(s.w)
    const w2 = g.node('Add', [w, g.node('Mul', [positivePart(g, w), g.constant(gm, w)])])
    const z2 = forwardWith(g, { [s.w]: w2 }, false)
    return vjpWith(g, relevanceOver(g, z2, LRP_STABILISER), { [s.w]: w2 }, [s.x])
  },
}
