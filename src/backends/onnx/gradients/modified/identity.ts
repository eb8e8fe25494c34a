/**
 * `identity`: relevance passes to the input unchanged, R_x = R_y (Captum's pass-through for ReLU,
 * Tanh and Dropout; AttnLRP's rule for activations). Relevance is read as R_t = t ⊙ g_t (see
 * lrpLinear.ts), so dx = dy ⊙ y / x, and dx = dy where x = 0 (there R_x = 0 whatever dx is, and
 * for x = y ops dx = dy everywhere). On a ReLU this is its ordinary gradient. Only for
 * single-input ops whose output has the input's shape (elementwise ops; Softmax, where AttnLRP
 * passes relevance from attention weights to their logits).
 *
 * @internal
 */
import type { ModifiedRule } from './types.js'

export const identity: ModifiedRule = {
  rule: 'identity',
  opTypes: ['Identity', 'Dropout', 'Cast', 'Softmax', 'Relu', 'LeakyRelu', 'Elu', 'Selu', 'Sigmoid', 'Tanh', 'Softplus', 'Gelu', 'Erf', 'HardSigmoid', 'HardSwish', 'Clip', 'Abs', 'Neg', 'Exp', 'Log', 'Sqrt'],
  build: (g) => {
    const x = g.input(0)
    const y = g.output(0)
    const dy = g.gradOfOutput(0)
    if (['Identity', 'Dropout', 'Cast'].includes(g.fwd.opType)) return { 0: dy }
    const zero = g.node('Equal', [x, g.constant(0, x)])
    const safe = g.node('Where', [zero, g.constant(1, x), x])
    return { 0: g.node('Where', [zero, dy, g.node('Div', [g.node('Mul', [dy, y]), safe])]) }
  },
}
