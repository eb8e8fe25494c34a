import type { GradRule } from '../rule.js'

/** Sqrt: dx = dy / (2·y). */
export const Sqrt: GradRule = {
  opType: 'Sqrt',
  domain: '',
  opsets: [6, 13],
  build: (g) => {
    const dy = g.gradOfOutput(0)
    const y = g.output(0)
    return { 0: g.node('Div', [dy, g.node('Mul', [y, g.constant(2, y)])]) }
  },
}
