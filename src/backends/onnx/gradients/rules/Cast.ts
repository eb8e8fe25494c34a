import { attr } from '../../graph/ir.js'
import type { GradRule } from '../rule.js'

/** Cast: float → float passes the gradient back (cast to the input type); edges to or from integer/bool tensors are cut by dtype. */
export const Cast: GradRule = {
  opType: 'Cast',
  domain: '',
  opsets: [6, 9, 13, 19, 21],
  build: (g) => ({ 0: g.node('Cast', [g.gradOfOutput(0)], [attr.int('to', g.elemTypeOf(g.input(0)))]) }),
}
