import type { GradRule } from '../rule.js'

/** Tanh: dx = dy·(1 − y²). */
export const Tanh: GradRule = {
  opType: 'Tanh',
  domain: '',
  opsets: [6, 13],
  build: (g) => {
    const dy = g.gradOfOutput(0)
    const y = g.output(0)
    return { 0: g.node('Mul', [dy, g.node('Sub', [g.constant(1, y), g.node('Mul', [y, y])])]) }
  },
}
