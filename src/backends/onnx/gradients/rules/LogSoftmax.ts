import { attr } from '../../graph/ir.js'
import type { GradRule } from '../rule.js'

/** LogSoftmax: dx = dy − exp(y)·Σ_axis dy, with the same opset < 13 2-D coercion as Softmax. */
export const LogSoftmax: GradRule = {
  opType: 'LogSoftmax',
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
    const s = g.reduceSum(dy, [old ? 1 : axis], true)
    const dx = g.node('Sub', [dy, g.node('Mul', [g.node('Exp', [y]), s])])
    return { 0: old ? g.node('Reshape', [dx, g.node('Shape', [x])]) : dx }
  },
}
