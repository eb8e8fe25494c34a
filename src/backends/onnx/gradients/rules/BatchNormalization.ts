import type { GradRule } from '../rule.js'

/**
 * BatchNormalization in inference mode, y = scale·x̂ + bias with x̂ = (x − mean) / √(var + ε), all
 * per channel (axis 1): dx = dy·scale / √(var + ε), dscale = Σ dy·x̂ and dbias = Σ dy, summed over
 * every axis but the channel axis. The running mean and variance are statistics, not trained
 * parameters: they are not differentiated, and when one depends on the differentiated tensor the
 * builder reports the node; training mode fails.
 */
export const BatchNormalization: GradRule = {
  opType: 'BatchNormalization',
  domain: '',
  opsets: [7, 9, 14, 15],
  gradInputs: [0, 1, 2],
  gradOutputs: [0],
  build: (g) => {
    if (g.attrInt('training_mode', 0) !== 0 || g.fwd.outputs.filter((o) => o !== '').length > 1) {
      g.fail('only inference-mode BatchNormalization is differentiable')
    }
    const x = g.input(0)
    const dy = g.gradOfOutput(0)
    const rank = g.rankOf(x)
    const perChannel = (v: string): string => g.node('Reshape', [v, g.int64([-1, ...new Array<number>(Math.max(0, rank - 2)).fill(1)])])
    const invStd = g.node('Div', [g.constant(1, x), g.node('Sqrt', [g.node('Add', [g.input(4), g.constant(g.attrFloat('epsilon', 1e-5), x)])])])
    const notChannel = [0, ...Array.from({ length: Math.max(0, rank - 2) }, (_, i) => i + 2)]
    const out: Partial<Record<number, string>> = {}
    if (g.isGradRequired(0)) out[0] = g.node('Mul', [dy, perChannel(g.node('Mul', [g.input(1), invStd]))])
    if (g.isGradRequired(1)) {
      const xhat = g.node('Mul', [g.node('Sub', [x, perChannel(g.input(3))]), perChannel(invStd)])
      out[1] = g.reduceSum(g.node('Mul', [dy, xhat]), notChannel, false)
    }
    if (g.isGradRequired(2)) out[2] = g.reduceSum(dy, notChannel, false)
    return out
  },
}
