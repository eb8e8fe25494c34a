import type { GradRule } from '../rule.js'

/** Add: dA = dy, dB = dy, each summed over its broadcast axes. */
export const Add: GradRule = {
  opType: 'Add',
  domain: '',
  opsets: [7, 13, 14],
  build: (g) => {
    const dy = g.gradOfOutput(0)
    return {
      ...(g.isGradRequired(0) ? { 0: g.reduceBroadcast(dy, g.input(0)) } : {}),
      ...(g.isGradRequired(1) ? { 1: g.reduceBroadcast(dy, g.input(1)) } : {}),
    }
  },
}
