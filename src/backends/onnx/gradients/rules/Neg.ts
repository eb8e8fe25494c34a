import type { GradRule } from '../rule.js'

/** Neg: dx = −dy. */
export const Neg: GradRule = {
  opType: 'Neg',
  domain: '',
  opsets: [6, 13],
  build: (g) => {
    const x = g.input(0)
    const dy = g.gradOfOutput(0)
    void x
    return { 0: g.node('Neg', [dy]) }
  },
}
