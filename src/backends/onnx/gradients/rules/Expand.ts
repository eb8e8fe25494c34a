import type { GradRule } from '../rule.js'

/** Expand: dx = dy summed over the broadcast axes; the shape edge is cut. */
export const Expand: GradRule = {
  opType: 'Expand',
  domain: '',
  opsets: [8, 13],
  stopInputs: [1],
  build: (g) => ({ 0: g.reduceBroadcast(g.gradOfOutput(0), g.input(0)) }),
}
