import { attr } from '../../graph/ir.js'
import type { GradRule } from '../rule.js'

/** Split: dx = Concat of the outputs' gradients along the axis (zeros for outputs nothing flows into). */
export const Split: GradRule = {
  opType: 'Split',
  domain: '',
  opsets: [2, 11, 13, 18],
  stopInputs: [1],
  build: (g) => {
    const parts = g.fwd.outputs.map((_, i) => g.gradOfOutput(i))
    return { 0: g.node('Concat', parts, [attr.int('axis', g.attrInt('axis', 0))]) }
  },
}
