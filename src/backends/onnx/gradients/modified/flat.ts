/**
 * The flat rule (Montavon et al. 2019, an input-layer rule): the relevance of each output is spread
 * uniformly over its receptive field, whatever the input values and weights:
 * R_i = Σ_j R_j / |{i′ → j}|. As a linear map: R_x = J₁ᵀ(R_y / f(1; 1)), with J₁ the node's
 * Jacobian with every weight set to 1 and f(1; 1) the number of inputs each output reads (the bias
 * plays no part). An *input-layer* rule: it gives the relevance itself, not a gradient
 * ({@link ModifiedRule.givesRelevance}), so it also reaches inputs that are zero. Gemm, MatMul (a
 * constant operand) and Conv.
 *
 * @internal
 */
import type { ModifiedRule } from './types.js'
import { onesLike, spreadOverField, WEIGHTED_OPS } from './lrpLinear.js'

export const flat: ModifiedRule = {
  rule: 'flat',
  opTypes: WEIGHTED_OPS,
  givesRelevance: true,
  build: (g) => spreadOverField(g, (w) => onesLike(g, w)),
}
