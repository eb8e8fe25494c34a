import type { GradRule } from '../rule.js'

/** Where: the condition edge is cut; dX = dy where cond, dY = dy elsewhere (summed over broadcast axes). */
export const Where: GradRule = {
  opType: 'Where',
  domain: '',
  opsets: [9, 16],
  stopInputs: [0],
  build: (g) => {
    const c = g.input(0)
    const dy = g.gradOfOutput(0)
    const zero = g.constant(0, g.input(1))
    return {
      ...(g.isGradRequired(1) ? { 1: g.reduceBroadcast(g.node('Where', [c, dy, zero]), g.input(1)) } : {}),
      ...(g.isGradRequired(2) ? { 2: g.reduceBroadcast(g.node('Where', [c, zero, dy]), g.input(2)) } : {}),
    }
  },
}
