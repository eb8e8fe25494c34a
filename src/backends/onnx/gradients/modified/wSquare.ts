/**
 * The w²-rule (Montavon et al. 2019, an input-layer rule): relevance is spread over the receptive
 * field in proportion to the squared weights, whatever the input values:
 * R_i = Σ_j w_ij² / (Σ_i′ w_i′j²) · R_j. As a linear map: R_x = J_{W²}ᵀ(R_y / f(1; W²)) (the bias
 * plays no part). An *input-layer* rule: it gives the relevance itself, not a gradient
 * ({@link ModifiedRule.givesRelevance}), so it also reaches inputs that are zero. Gemm, MatMul (a
 * constant operand) and Conv.
 *
 * @internal
 */
import type { ModifiedRule } from './types.js'
import { forwardWith, linearSlots, LRP_STABILISER, onesLike, stabilise, vjpWith, WEIGHTED_OPS } from './lrpLinear.js'

export const wSquare: ModifiedRule = {
  rule: 'wSquare',
  opTypes: WEIGHTED_OPS,
  givesRelevance: true,
  build: (g) => {
    const s = linearSlots(g)
    const w = g.input(s.w)
    const w2 = g.node('Mul', [w, w])
    const den = forwardWith(g, { [s.x]: onesLike(g, g.input(s.x)), [s.w]: w2 }, true)
    const r = g.node('Div', [g.node('Mul', [g.output(0), g.gradOfOutput(0)]), stabilise(g, den, LRP_STABILISER)])
    return vjpWith(g, r, { [s.w]: w2 }, [s.x])
  },
}
