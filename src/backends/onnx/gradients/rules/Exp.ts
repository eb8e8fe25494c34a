import type { GradRule } from '../rule.js'

/** Exp: dx = dy·y. */
export const Exp: GradRule = {
  opType: 'Exp',
  domain: '',
  opsets: [6, 13],
  build: (g) => {
    const dy = g.gradOfOutput(0)
    return { 0: g.node('Mul', [dy, g.output(0)]) }
  },
}
