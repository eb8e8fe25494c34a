import { reduceGrad } from '../reduceGrad.js'
import type { GradRule } from '../rule.js'

/** ReduceMean: dx = Expand(dy with the reduced axes restored, Shape(x)) / (|x| / |y|); the axes edge (opset 18 input) is cut. */
export const ReduceMean: GradRule = {
  opType: 'ReduceMean',
  domain: '',
  opsets: [1, 11, 13, 18],
  stopInputs: [1],
  build: (g) => reduceGrad(g, 18, true),
}
