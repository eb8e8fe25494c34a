import type { GradRule } from '../rule.js'

/** Erf: dx = dy·(2/√π)·exp(−x²). */
export const Erf: GradRule = {
  opType: 'Erf',
  domain: '',
  opsets: [9, 13],
  build: (g) => {
    const x = g.input(0)
    const dy = g.gradOfOutput(0)
    const e = g.node('Exp', [g.node('Neg', [g.node('Mul', [x, x])])])
    return { 0: g.node('Mul', [dy, g.node('Mul', [e, g.constant(2 / Math.sqrt(Math.PI), x)])]) }
  },
}
