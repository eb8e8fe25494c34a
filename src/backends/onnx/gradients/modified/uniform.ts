/**
 * The uniform rule of AttnLRP (Achtibat et al., ICML 2024) for a product of variable factors
 * (bilinear MatMul as Q·Kᵀ and A·V in attention, elementwise Mul as in gating): the relevance of
 * each output, stabilised as in the ε-rule, is split equally between the N factors on the gradient
 * path, each factor's share distributed over its entries in proportion to their contributions:
 * g_i = (1/N)·J_iᵀ(g_y ⊙ y / (y + ε·sign(y))). Since Σ_i x_i ⊙ J_iᵀ v = N·y ⊙ v for a product of
 * N factors, the factors together receive exactly R_y. With one variable factor it is the ε-rule.
 *
 * @internal
 */
import type { ModifiedRule } from './types.js'
import { LRP_STABILISER, onPath, stabilise, vjpWith } from './lrpLinear.js'

export const uniform: ModifiedRule = {
  rule: 'uniform',
  opTypes: ['MatMul', 'Mul', 'Gemm'],
  build: (g) => {
    const on = onPath(g).filter((i) => i < 2)
    if (on.length === 0) return {}
    const y = g.output(0)
    const ratio = g.node('Div', [y, stabilise(g, y, LRP_STABILISER)])
    const dy = g.node('Mul', [g.gradOfOutput(0), on.length === 1 ? ratio : g.node('Mul', [ratio, g.constant(1 / on.length, y)])])
    return vjpWith(g, dy, {}, onPath(g))
  },
}
