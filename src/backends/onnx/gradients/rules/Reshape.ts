import type { GradRule } from '../rule.js'

/** Reshape: dx = Reshape(dy, Shape(x)); the shape edge is cut. */
export const Reshape: GradRule = {
  opType: 'Reshape',
  domain: '',
  opsets: [5, 13, 14, 19, 21],
  stopInputs: [1],
  build: (g) => ({ 0: g.node('Reshape', [g.gradOfOutput(0), g.node('Shape', [g.input(0)])]) }),
}
