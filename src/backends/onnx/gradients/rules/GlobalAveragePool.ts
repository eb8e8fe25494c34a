import { attr } from '../../graph/ir.js'
import type { GradRule } from '../rule.js'
import { elementCount } from '../context.js'

/**
 * GlobalAveragePool: dX = Expand(dY, Shape(X)) / n, n = |X| / |Y| = the spatial size: a constant
 * when the spatial dims are static (no int64 Size and Cast on the data path, which ONNX Runtime's
 * WebGPU provider would run on the CPU), else computed at run time.
 */
export const GlobalAveragePool: GradRule = {
  opType: 'GlobalAveragePool',
  domain: '',
  opsets: [1, 22],
  build: (g) => {
    const x = g.input(0)
    const y = g.output(0)
    const et = g.elemTypeOf(x)
    const spatial = g.shapeOf(x)?.slice(2)
    const n = spatial !== undefined && spatial.length > 0 && spatial.every((d): d is number => typeof d === 'number')
      ? g.constant(spatial.reduce((a, b) => a * b, 1), x)
      : g.node('Div', [g.node('Cast', [elementCount(g, x)], [attr.int('to', et)]), g.node('Cast', [elementCount(g, y)], [attr.int('to', et)])])
    return { 0: g.node('Div', [g.node('Expand', [g.gradOfOutput(0), g.node('Shape', [x])]), n]) }
  },
}
