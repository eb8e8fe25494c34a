import type { GradRule } from '../rule.js'

/** Sigmoid: dx = dy·y·(1 − y) (ORT's standard-op form, not com.microsoft SigmoidGrad). */
export const Sigmoid: GradRule = {
  opType: 'Sigmoid',
  domain: '',
  opsets: [6, 13],
  build: (g) => {
    const dy = g.gradOfOutput(0)
    const y = g.output(0)
    return { 0: g.node('Mul', [dy, g.node('Mul', [y, g.node('Sub', [g.constant(1, y), y])])]) }
  },
}
