import type { GradRule } from '../rule.js'

/** Softplus: dx = dy·sigmoid(x). */
export const Softplus: GradRule = {
  opType: 'Softplus',
  domain: '',
  opsets: [1, 22],
  build: (g) => {
    const x = g.input(0)
    const dy = g.gradOfOutput(0)
    return { 0: g.node('Mul', [dy, g.node('Sigmoid', [x])]) }
  },
}
