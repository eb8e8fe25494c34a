import type { GradRule } from '../rule.js'

/** Relu: dx = dy where x > 0, else 0 (torch convention: 0 at x = 0). */
export const Relu: GradRule = {
  opType: 'Relu',
  domain: '',
  opsets: [6, 13, 14],
  build: (g) => {
    const x = g.input(0)
    const dy = g.gradOfOutput(0)
    const zero = g.constant(0, x)
    return { 0: g.node('Where', [g.node('Greater', [x, zero]), dy, zero]) }
  },
}
