import { attr } from '../../graph/ir.js'
import type { GradRule } from '../rule.js'

/** GlobalAveragePool: dX = Expand(dY, Shape(X)) / (|X| / |Y|). */
export const GlobalAveragePool: GradRule = {
  opType: 'GlobalAveragePool',
  domain: '',
  opsets: [1, 22],
  build: (g) => {
    const x = g.input(0)
    const y = g.output(0)
    const et = g.elemTypeOf(x)
    const n = g.node('Div', [g.node('Cast', [g.node('Size', [x])], [attr.int('to', et)]), g.node('Cast', [g.node('Size', [y])], [attr.int('to', et)])])
    return { 0: g.node('Div', [g.node('Expand', [g.gradOfOutput(0), g.node('Shape', [x])]), n]) }
  },
}
