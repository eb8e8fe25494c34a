/**
 * The z^B-rule (Montavon et al. 2017/2019, an input-layer rule for inputs bounded by [low, high],
 * e.g. pixels): R_i = Σ_j (x_i w_ij − l·w_ij⁺ − h·w_ij⁻) / z_j · R_j with
 * z_j = y_j − Σ_i (l·w_ij⁺ + h·w_ij⁻), y the node's output (bias included, as Zennit's `ZBox` keeps
 * it in the first term) and z stabilised by Captum's 1e-9. As linear maps, with s = R_y / z:
 * R_x = x ⊙ Wᵀs − l·W⁺ᵀs − h·W⁻ᵀs. An *input-layer* rule: it gives the relevance itself, not a
 * gradient ({@link ModifiedRule.givesRelevance}), since the bound terms reach inputs that are zero.
 * With low = high = 0 it is the ε-rule with ε 1e-9. Gemm, MatMul (a constant operand) and Conv.
 *
 * @internal
 */
import type { ModifiedRule } from './types.js'
import { forwardWith, linearSlots, LRP_STABILISER, negativePart, onesLike, positivePart, stabilise, vjpWith, WEIGHTED_OPS } from './lrpLinear.js'

export const zBox: ModifiedRule = {
  rule: 'zBox',
  opTypes: WEIGHTED_OPS,
  givesRelevance: true,
  build: (g, rule) => {
    const low = rule.rule === 'zBox' ? rule.low : 0
    const high = rule.rule === 'zBox' ? rule.high : 0
    const s = linearSlots(g)
    const x = g.input(s.x)
    const w = g.input(s.w)
    const wp = positivePart(g, w)
    const wn = negativePart(g, w)
    const ones = onesLike(g, x)
    const lx = g.node('Mul', [ones, g.constant(low, x)])
    const hx = g.node('Mul', [ones, g.constant(high, x)])
    const z = g.node('Sub', [g.node('Sub', [g.output(0), forwardWith(g, { [s.x]: lx, [s.w]: wp }, true)]), forwardWith(g, { [s.x]: hx, [s.w]: wn }, true)])
    const sv = g.node('Div', [g.node('Mul', [g.output(0), g.gradOfOutput(0)]), stabilise(g, z, LRP_STABILISER)])
    const plain = vjpWith(g, sv, {}, [s.x])[s.x] as string
    const up = vjpWith(g, sv, { [s.w]: wp }, [s.x])[s.x] as string
    const down = vjpWith(g, sv, { [s.w]: wn }, [s.x])[s.x] as string
    const r = g.node('Sub', [g.node('Sub', [g.node('Mul', [x, plain]), g.node('Mul', [lx, up])]), g.node('Mul', [hx, down])])
    return { [s.x]: r }
  },
}
