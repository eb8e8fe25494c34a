import { attr } from '../../graph/ir.js'
import type { GradRule } from '../rule.js'

/** Pow: d/dbase = dy·e·x^(e−1) (summed over broadcast axes); the exponent edge is cut, as in ORT. */
export const Pow: GradRule = {
  opType: 'Pow',
  domain: '',
  opsets: [7, 12, 13, 15],
  stopInputs: [1],
  build: (g) => {
    const x = g.input(0)
    const e0 = g.input(1)
    const e = g.elemTypeOf(e0) === g.elemTypeOf(x) ? e0 : g.node('Cast', [e0], [attr.int('to', g.elemTypeOf(x))])
    const d = g.node('Mul', [e, g.node('Pow', [x, g.node('Sub', [e, g.constant(1, x)])])])
    return { 0: g.reduceBroadcast(g.node('Mul', [g.gradOfOutput(0), d]), x) }
  },
}
