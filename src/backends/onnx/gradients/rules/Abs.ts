import type { GradRule } from '../rule.js'

/** Abs: dx = dy·sign(x) (0 at x = 0, like torch). */
export const Abs: GradRule = {
  opType: 'Abs',
  domain: '',
  opsets: [6, 13],
  build: (g) => {
    const x = g.input(0)
    const dy = g.gradOfOutput(0)
    return { 0: g.node('Mul', [dy, g.node('Sign', [x])]) }
  },
}
