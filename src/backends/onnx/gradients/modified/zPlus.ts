/**
 * LRP-z⁺ (Montavon et al. 2017, as in Zennit's `ZPlus`): only contributions that raise the output
 * count, x⁺·w⁺ and x⁻·w⁻, the bias left out: z = f(x⁺; W⁺) + f(x⁻; W⁻) and
 * R_x = x⁺ ⊙ W⁺ᵀ(R_y / z) + x⁻ ⊙ W⁻ᵀ(R_y / z). Every contribution has the sign of R_y, so
 * relevance keeps its sign layer by layer. In the modified-gradient form, g_x takes W⁺ᵀ(R_y / z)
 * where x > 0 and W⁻ᵀ(R_y / z) where x < 0. Gemm, MatMul (a constant operand) and Conv.
 *
 * @internal
 */
import type { ModifiedRule } from './types.js'
import { forwardWith, linearSlots, LRP_STABILISER, negativePart, positivePart, relevanceOver, vjpWith, WEIGHTED_OPS } from './lrpLinear.js'

export const zPlus: ModifiedRule = {
  rule: 'zPlus',
  opTypes: WEIGHTED_OPS,
  build: (g) => {
    const s = linearSlots(g)
    const x = g.input(s.x)
    const w = g.input(s.w)
    const wp = positivePart(g, w)
    const wn = negativePart(g, w)
    const xp = positivePart(g, x)
    const xn = negativePart(g, x)
    const z = g.node('Add', [forwardWith(g, { [s.x]: xp, [s.w]: wp }, true), forwardWith(g, { [s.x]: xn, [s.w]: wn }, true)])
    const r = relevanceOver(g, z, LRP_STABILISER)
    const up = vjpWith(g, r, { [s.w]: wp }, [s.x])[s.x] as string
    const down = vjpWith(g, r, { [s.w]: wn }, [s.x])[s.x] as string
    return { [s.x]: g.node('Where', [g.node('Greater', [x, g.constant(0, x)]), up, down]) }
  },
}
