import { attr, ElemType } from '../../graph/ir.js'
import { cropToInput, windowGeometry } from '../convGeometry.js'
import type { GradRule } from '../rule.js'

/**
 * AveragePool: dX = ConvTranspose(dY / count, ones) per channel (group = C). With
 * count_include_pad=1 the count is the kernel size; with count_include_pad=0 it is the number of
 * non-pad elements of each window, computed as AveragePool(ones, count_include_pad=1)·|kernel|.
 */
export const AveragePool: GradRule = {
  opType: 'AveragePool',
  domain: '',
  opsets: [7, 10, 11, 19, 22],
  build: (g) => {
    const x = g.input(0)
    const kernel = g.attrInts('kernel_shape') ?? g.fail('kernel_shape missing')
    const geo = windowGeometry(g, x, kernel)
    const c = g.shapeOf(x)?.[1]
    if (typeof c !== 'number') return g.fail('the channel dim must be static for AveragePool gradients')
    const k = kernel.reduce((a, b) => a * b, 1)
    const includePad = g.attrInt('count_include_pad', 0) === 1
    const padded = geo.pads.some((p) => p !== 0) || g.attrString('auto_pad', 'NOTSET').startsWith('SAME')
    let dy = g.gradOfOutput(0)
    let wv = 1 / k
    if (!includePad && padded) {
      const ones = g.node('ConstantOfShape', [g.node('Shape', [x])], [attr.tensor('value', { dims: [1], dataType: ElemType.FLOAT, floatData: [1] })])
      const onesX = g.elemTypeOf(x) === ElemType.FLOAT ? ones : g.node('Cast', [ones], [attr.int('to', g.elemTypeOf(x))])
      const avg = g.node('AveragePool', [onesX], [...g.fwd.attributes.filter((a) => a.name !== 'count_include_pad'), attr.int('count_include_pad', 1)])
      dy = g.node('Div', [dy, g.node('Mul', [avg, g.constant(k, x)])])
      wv = 1
    }
    const w = g.constant(new Array<number>(c * k).fill(wv), x, [c, 1, ...kernel])
    const dx = g.node('ConvTranspose', [dy, w], [
      attr.int('group', c),
      attr.ints('kernel_shape', kernel),
      attr.ints('strides', geo.strides),
      attr.ints('dilations', geo.dilations),
      attr.ints('pads', geo.pads),
      attr.ints('output_padding', geo.outputPadding),
    ])
    return { 0: geo.crop ? cropToInput(g, dx, x) : dx }
  },
}
