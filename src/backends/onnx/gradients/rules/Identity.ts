import type { GradRule } from '../rule.js'

/** Identity: dx = dy. */
export const Identity: GradRule = {
  opType: 'Identity',
  domain: '',
  opsets: [1, 13, 14, 16, 19, 21],
  build: (g) => {
    const x = g.input(0)
    const dy = g.gradOfOutput(0)
    void x
    return { 0: dy }
  },
}
