import type { GradRule } from '../rule.js'

/**
 * LayerNormalization (opset 17): with x̂ = (x − μ)·r, r = 1/√(σ² + ε) over the axes [axis, rank),
 * dx = r·(g − mean(g) − x̂·mean(g·x̂)) where g = dy·scale; dscale = Σ dy·x̂ and dbias = Σ dy over the
 * leading axes. μ and r are recomputed from x. The optional Mean/InvStdDev outputs are not
 * differentiated: when they are used on the gradient path the builder reports the node.
 */
export const LayerNormalization: GradRule = {
  opType: 'LayerNormalization',
  domain: '',
  opsets: [17],
  gradOutputs: [0],
  build: (g) => {
    const x = g.input(0)
    const scale = g.input(1)
    const dy = g.gradOfOutput(0)
    const a0 = g.attrInt('axis', -1)
    const axes = a0 < 0 ? Array.from({ length: -a0 }, (_, i) => a0 + i) : Array.from({ length: g.rankOf(x) - a0 }, (_, i) => a0 + i)
    const mu = g.reduceMean(x, axes, true)
    const xc = g.node('Sub', [x, mu])
    const v = g.reduceMean(g.node('Mul', [xc, xc]), axes, true)
    const r = g.node('Reciprocal', [g.node('Sqrt', [g.node('Add', [v, g.constant(g.attrFloat('epsilon', 1e-5), x)])])])
    const xhat = g.node('Mul', [xc, r])
    const out: Partial<Record<number, string>> = {}
    if (g.isGradRequired(0)) {
      const gs = g.node('Mul', [dy, scale])
      const m1 = g.reduceMean(gs, axes, true)
      const m2 = g.reduceMean(g.node('Mul', [gs, xhat]), axes, true)
      out[0] = g.node('Mul', [r, g.node('Sub', [g.node('Sub', [gs, m1]), g.node('Mul', [xhat, m2])])])
    }
    const ys = g.shapeOf(x)
    if (g.isGradRequired(1)) out[1] = g.reduceBroadcast(g.node('Mul', [dy, xhat]), scale, ys)
    if (g.isGradRequired(2) && g.inputCount > 2) out[2] = g.reduceBroadcast(dy, g.input(2), ys)
    return out
  },
}
