import { attr, ElemType } from '../../graph/ir.js'
import { cropToInput, windowGeometry } from '../convGeometry.js'
import type { GradRule } from '../rule.js'

/**
 * AveragePool: y[o] = Σ_{i ∈ window(o), i inside x} x[i] / d[o], so dX = ConvTranspose(dY / d, ones)
 * per channel (group = C). The divisor d[o] depends on pads, ceil_mode and count_include_pad (edge
 * windows of ceil_mode run past the padding and ONNX Runtime shortens them), so it is not recomputed
 * here from the spec but read off the runtime's own forward op: on a tensor of ones, the op returns
 * n[o] / d[o] where n[o] counts the window's elements inside x, and a Conv of ones with the same
 * geometry returns n[o]. Hence 1/d = AveragePool(ones) / Conv(ones) on one [1, 1, spatial…] plane.
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
    const et = g.elemTypeOf(x)
    const rank = g.rankOf(x)
    const oneValue = { dims: [1], dataType: ElemType.FLOAT, floatData: [1] }
    const planeShape = g.node('Concat', [g.int64([1, 1]), g.node('Slice', [g.node('Shape', [x]), g.int64([2]), g.int64([rank])])], [attr.int('axis', 0)])
    const plane0 = g.node('ConstantOfShape', [planeShape], [attr.tensor('value', oneValue)])
    const plane = et === ElemType.FLOAT ? plane0 : g.node('Cast', [plane0], [attr.int('to', et)])
    const fraction = g.node('AveragePool', [plane], g.fwd.attributes)
    const count = g.node('Conv', [plane, g.constant(new Array<number>(k).fill(1), x, [1, 1, ...kernel])], [
      attr.ints('kernel_shape', kernel),
      attr.ints('strides', geo.strides),
      attr.ints('dilations', geo.dilations),
      attr.ints('pads', geo.pads),
    ])
    // a window with no element inside x contributes to no input element; keep its weight finite
    const empty = g.node('Equal', [count, g.constant(0, x)])
    const inv = g.node('Where', [empty, g.constant(0, x), g.node('Div', [fraction, g.node('Where', [empty, g.constant(1, x), count])])])
    const dy = g.node('Mul', [g.gradOfOutput(0), inv])
    const w = g.constant(new Array<number>(c * k).fill(1), x, [c, 1, ...kernel])
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
