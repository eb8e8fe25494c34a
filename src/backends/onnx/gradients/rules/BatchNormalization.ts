import type { GradRule } from '../rule.js'

/**
 * BatchNormalization in inference mode: dx = dy·scale / √(var + ε), broadcast over the channel axis
 * (1). Scale, bias, mean and variance are not differentiated: when one of them depends on the
 * differentiated tensor the builder reports the node; training mode fails.
 */
export const BatchNormalization: GradRule = {
  opType: 'BatchNormalization',
  domain: '',
  opsets: [7, 9, 14, 15],
  gradInputs: [0],
  gradOutputs: [0],
  build: (g) => {
    if (g.attrInt('training_mode', 0) !== 0 || g.fwd.outputs.filter((o) => o !== '').length > 1) {
      g.fail('only inference-mode BatchNormalization is differentiable')
    }
    const x = g.input(0)
    const rank = g.rankOf(x)
    const eps = g.constant(g.attrFloat('epsilon', 1e-5), x)
    const factor = g.node('Div', [g.input(1), g.node('Sqrt', [g.node('Add', [g.input(4), eps])])])
    const shaped = g.node('Reshape', [factor, g.int64([-1, ...new Array<number>(Math.max(0, rank - 2)).fill(1)])])
    return { 0: g.node('Mul', [g.gradOfOutput(0), shaped]) }
  },
}
