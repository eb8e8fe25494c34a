import { reduceGrad } from '../reduceGrad.js'
import type { GradRule } from '../rule.js'

/** ReduceSum: dx = Expand(dy with the reduced axes restored, Shape(x)); the axes edge (opset 13 input) is cut. */
export const ReduceSum: GradRule = {
  opType: 'ReduceSum',
  domain: '',
  opsets: [1, 11, 13],
  stopInputs: [1],
  build: (g) => reduceGrad(g, 13, false),
}
