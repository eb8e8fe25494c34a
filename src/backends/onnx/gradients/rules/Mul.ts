import type { GradRule } from '../rule.js'

/** Mul: dA = dy·B, dB = dy·A, each summed over its broadcast axes. */
export const Mul: GradRule = {
  opType: 'Mul',
  domain: '',
  opsets: [7, 13, 14],
  build: (g) => {
    const dy = g.gradOfOutput(0)
    const a = g.input(0)
    const b = g.input(1)
    return {
      ...(g.isGradRequired(0) ? { 0: g.reduceBroadcast(g.node('Mul', [dy, b]), a) } : {}),
      ...(g.isGradRequired(1) ? { 1: g.reduceBroadcast(g.node('Mul', [dy, a]), b) } : {}),
    }
  },
}
