import { attr } from '../../graph/ir.js'
import type { GradRule } from '../rule.js'

/** Relu: dx = dy where x > 0, else 0 (torch convention: 0 at x = 0), computed as dy · sign(relu(x)). */
export const Relu: GradRule = {
  opType: 'Relu',
  domain: '',
  opsets: [6, 13, 14],
  build: (g) => {
    // y = relu(x) ≥ 0, so sign(y) is exactly the 0/1 mask of x > 0; two elementwise ops that ORT
    // runs vectorised (a Where over a bool mask was ~10 % of a ResNet backward pass).
    const x = g.input(0)
    const mask = g.node('Cast', [g.node('Greater', [x, g.constant(0, x)])], [attr.int('to', 1)])
    return { 0: g.node('Mul', [g.gradOfOutput(0), mask]) }
  },
}
