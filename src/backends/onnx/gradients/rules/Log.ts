import type { GradRule } from '../rule.js'

/** Log: dx = dy / x. */
export const Log: GradRule = {
  opType: 'Log',
  domain: '',
  opsets: [6, 13],
  build: (g) => {
    const x = g.input(0)
    const dy = g.gradOfOutput(0)
    return { 0: g.node('Div', [dy, x]) }
  },
}
