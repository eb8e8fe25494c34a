/**
 * LRP-αβ (Bach et al. 2015; Montavon et al. 2019): positive and negative contributions get their
 * relevance separately, R_x = α·x ⊙ W⁺ᵀ(R_y / z⁺) − β·x ⊙ W⁻ᵀ(R_y / z⁻), with W⁺ = max(W, 0),
 * W⁻ = min(W, 0), z⁺ = f(x; W⁺) + b and z⁻ = f(x; W⁻) (each stabilised by Captum's 1e-9). With
 * α = 1, β = 0 (the default) this is exactly Captum's `Alpha1_Beta0_Rule` (weights clamped at 0,
 * bias kept). Relevance is conserved when α − β = 1, the inputs are non-negative (post-ReLU
 * activations) and the layer has no bias (a bias absorbs its share, as in every LRP rule). Gemm,
 * MatMul (a constant operand) and Conv.
 *
 * @internal
 */
import type { ModifiedRule } from './types.js'
import { forwardWith, linearSlots, LRP_STABILISER, negativePart, positivePart, relevanceOver, vjpWith, WEIGHTED_OPS } from './lrpLinear.js'

export const alphaBeta: ModifiedRule = {
  rule: 'alphaBeta',
  opTypes: WEIGHTED_OPS,
  build: (g, rule) => {
    const alpha = rule.rule === 'alphaBeta' ? rule.alpha ?? 1 : 1
    const beta = rule.rule === 'alphaBeta' ? rule.beta ?? 0 : 0
    const s = linearSlots(g)
    const w = g.input(s.w)
    const wp = positivePart(g, w)
    const pos = vjpWith(g, relevanceOver(g, forwardWith(g, { [s.w]: wp }, false), LRP_STABILISER), { [s.w]: wp }, [s.x])[s.x] as string
    const scaledPos = alpha === 1 ? pos : g.node('Mul', [pos, g.constant(alpha, pos)])
    if (beta === 0) return { [s.x]: scaledPos }
    const wn = negativePart(g, w)
    const neg = vjpWith(g, relevanceOver(g, forwardWith(g, { [s.w]: wn }, true), LRP_STABILISER), { [s.w]: wn }, [s.x])[s.x] as string
    return { [s.x]: g.node('Sub', [scaledPos, g.node('Mul', [neg, g.constant(beta, neg)])]) }
  },
}
