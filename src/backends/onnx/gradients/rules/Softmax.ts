import { attr } from '../../graph/ir.js'
import type { GradRule } from '../rule.js'

/**
 * Softmax: dx = y·(dy − Σ_axis dy·y). Opset < 13 coerces the input to 2-D at `axis` (default 1), so
 * the reduction runs over the flattened trailing block; opset ≥ 13 reduces over the single axis.
 */
export const Softmax: GradRule = {
  opType: 'Softmax',
  domain: '',
  opsets: [1, 11, 13],
  build: (g) => {
    const x = g.input(0)
    let y = g.output(0)
    let dy = g.gradOfOutput(0)
    const old = g.opset < 13
    const axis = g.attrInt('axis', old ? 1 : -1)
    if (old) {
      y = g.node('Flatten', [y], [attr.int('axis', axis)])
      dy = g.node('Flatten', [dy], [attr.int('axis', axis)])
    }
    const s = g.reduceSum(g.node('Mul', [dy, y]), [old ? 1 : axis], true)
    const dx = g.node('Mul', [y, g.node('Sub', [dy, s])])
    return { 0: old ? g.node('Reshape', [dx, g.node('Shape', [x])]) : dx }
  },
}
