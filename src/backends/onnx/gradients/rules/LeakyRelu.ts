import type { GradRule } from '../rule.js'

/** LeakyRelu: dx = dy where x > 0, else alpha·dy. */
export const LeakyRelu: GradRule = {
  opType: 'LeakyRelu',
  domain: '',
  opsets: [6, 16],
  build: (g) => {
    const x = g.input(0)
    const dy = g.gradOfOutput(0)
    const alpha = g.constant(g.attrFloat('alpha', 0.01), x)
    return { 0: g.node('Where', [g.node('Greater', [x, g.constant(0, x)]), dy, g.node('Mul', [dy, alpha])]) }
  },
}
