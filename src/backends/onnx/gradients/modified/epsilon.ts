/**
 * LRP-ε (Bach et al. 2015), Captum's `EpsilonRule` and its default for linear layers, pooling and
 * batch normalisation: R_x = x ⊙ Jᵀ(R_y / (y + ε·sign(y))), with y the node's own output (bias
 * included) and sign(0) = +1. In the modified-gradient form (R = t ⊙ g) that is the node's
 * ordinary vector-Jacobian product applied to g_y ⊙ y / (y + ε·sign(y)), exact for every op
 * whose output is linear (or piecewise linear, as MaxPool) in its variable input.
 *
 * Two variable operands: Add/Sub split relevance in proportion to each operand's contribution;
 * Div treats its divisor as a constant (AttnLRP's LayerNorm: the normalising factor is held fixed,
 * so relevance flows only through the numerator); Mul, MatMul and Gemm with two variable operands
 * are not linear layers and are reported (use `uniform`).
 *
 * @internal
 */
import type { ModifiedRule } from './types.js'
import { LRP_STABILISER, onPath, stabilise, vjpWith } from './lrpLinear.js'

export const epsilon: ModifiedRule = {
  rule: 'epsilon',
  opTypes: ['Gemm', 'MatMul', 'Conv', 'Add', 'Sub', 'Mul', 'Div', 'AveragePool', 'GlobalAveragePool', 'MaxPool', 'BatchNormalization', 'ReduceSum', 'ReduceMean'],
  build: (g, rule) => {
    const eps = rule.rule === 'epsilon' ? rule.epsilon ?? LRP_STABILISER : LRP_STABILISER
    const op = g.fwd.opType
    const on = onPath(g)
    const y = g.output(0)
    const dy = g.node('Mul', [g.gradOfOutput(0), g.node('Div', [y, stabilise(g, y, eps)])])
    if (op === 'Div' && on.includes(1)) {
      // the divisor is held constant: no relevance reaches it (a zero cotangent, stated explicitly)
      const num = on.includes(0) ? vjpWith(g, dy, {}, [0]) : {}
      return { ...num, 1: g.zerosLike(g.input(1)) }
    }
    if ((op === 'Mul' || op === 'MatMul' || op === 'Gemm') && on.filter((i) => i < 2).length > 1) {
      return g.fail(`both operands of this ${op} depend on the input, so the ε-rule does not apply; give it the 'uniform' rule (AttnLRP)`)
    }
    return vjpWith(g, dy, {}, on)
  },
}
