import type { GradRule } from '../rule.js'

/** Flatten: dx = Reshape(dy, Shape(x)). */
export const Flatten: GradRule = {
  opType: 'Flatten',
  domain: '',
  opsets: [1, 9, 11, 13, 21],
  stopInputs: [],
  build: (g) => ({ 0: g.node('Reshape', [g.gradOfOutput(0), g.node('Shape', [g.input(0)])]) }),
}
