import type { GradRule } from '../rule.js'

/** Div: dA = dy / B, dB = −dy·y / B, each summed over its broadcast axes. */
export const Div: GradRule = {
  opType: 'Div',
  domain: '',
  opsets: [7, 13, 14],
  build: (g) => {
    const dy = g.gradOfOutput(0)
    const a = g.input(0)
    const b = g.input(1)
    return {
      ...(g.isGradRequired(0) ? { 0: g.reduceBroadcast(g.node('Div', [dy, b]), a) } : {}),
      ...(g.isGradRequired(1) ? { 1: g.reduceBroadcast(g.node('Neg', [g.node('Div', [g.node('Mul', [dy, g.output(0)]), b])]), b) } : {}),
    }
  },
}
