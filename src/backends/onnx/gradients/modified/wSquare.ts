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
import { spreadOverField, WEIGHTED_OPS } from './lrpLinear.js'

export const wSquare: ModifiedRule = {
  rule: 'wSquare',
  opTypes: WEIGHTED_OPS,
  givesRelevance: true,
  build: (g) => spreadOverField(g, (w) => g.node('Mul', [w, w])),
}
