import type { GradRule } from '../rule.js'

/** Gelu (opset 20): exact ('none') dx = dy·(Φ(x) + x·φ(x)); 'tanh' differentiates the tanh approximation. */
export const Gelu: GradRule = {
  opType: 'Gelu',
  domain: '',
  opsets: [20],
  build: (g) => {
    const x = g.input(0)
    const dy = g.gradOfOutput(0)
    const c = (v: number): string => g.constant(v, x)
    if (g.attrString('approximate', 'none') === 'tanh') {
      const k = Math.sqrt(2 / Math.PI)
      const x2 = g.node('Mul', [x, x])
      const u = g.node('Mul', [g.node('Mul', [x, g.node('Add', [c(1), g.node('Mul', [x2, c(0.044715)])])]), c(k)])
      const t = g.node('Tanh', [u])
      const du = g.node('Mul', [g.node('Add', [c(1), g.node('Mul', [x2, c(3 * 0.044715)])]), c(k)])
      const sech2 = g.node('Sub', [c(1), g.node('Mul', [t, t])])
      const d = g.node('Add', [g.node('Mul', [c(0.5), g.node('Add', [c(1), t])]), g.node('Mul', [g.node('Mul', [c(0.5), x]), g.node('Mul', [sech2, du])])])
      return { 0: g.node('Mul', [dy, d]) }
    }
    const cdf = g.node('Mul', [c(0.5), g.node('Add', [c(1), g.node('Erf', [g.node('Mul', [x, c(Math.SQRT1_2)])])])])
    const pdf = g.node('Mul', [g.node('Exp', [g.node('Mul', [g.node('Mul', [x, x]), c(-0.5)])]), c(1 / Math.sqrt(2 * Math.PI))])
    return { 0: g.node('Mul', [dy, g.node('Add', [cdf, g.node('Mul', [x, pdf])])]) }
  },
}
