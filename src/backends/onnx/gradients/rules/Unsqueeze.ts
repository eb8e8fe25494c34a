import type { GradRule } from '../rule.js'

/** Unsqueeze: dx = Reshape(dy, Shape(x)); the axes edge (opset 13 input) is cut. */
export const Unsqueeze: GradRule = {
  opType: 'Unsqueeze',
  domain: '',
  opsets: [1, 11, 13, 21],
  stopInputs: [1],
  build: (g) => ({ 0: g.node('Reshape', [g.gradOfOutput(0), g.node('Shape', [g.input(0)])]) }),
}
