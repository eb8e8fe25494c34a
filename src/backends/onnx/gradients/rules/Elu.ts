import type { GradRule } from '../rule.js'

/** Elu: dx = dy where x > 0, else dy·(y + alpha). */
export const Elu: GradRule = {
  opType: 'Elu',
  domain: '',
  opsets: [6, 22],
  build: (g) => {
    const x = g.input(0)
    const dy = g.gradOfOutput(0)
    const y = g.output(0)
    const alpha = g.constant(g.attrFloat('alpha', 1), x)
    return { 0: g.node('Where', [g.node('Greater', [x, g.constant(0, x)]), dy, g.node('Mul', [dy, g.node('Add', [y, alpha])])]) }
  },
}
