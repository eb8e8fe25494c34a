import type { GradRule } from '../rule.js'

/** Squeeze: dx = Reshape(dy, Shape(x)); the axes edge is cut. */
export const Squeeze: GradRule = {
  opType: 'Squeeze',
  domain: '',
  opsets: [1, 11, 13, 21],
  stopInputs: [1],
  build: (g) => ({ 0: g.node('Reshape', [g.gradOfOutput(0), g.node('Shape', [g.input(0)])]) }),
}
