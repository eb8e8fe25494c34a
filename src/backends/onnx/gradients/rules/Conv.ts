import { attr } from '../../graph/ir.js'
import { windowGeometry } from '../convGeometry.js'
import type { GradRule } from '../rule.js'

/**
 * Conv: dX = ConvTranspose(dY, W) with the same group/strides/dilations, explicit pads and the
 * output_padding that restores X's spatial size; dB = dY summed over all but the channel axis. The
 * weight gradient is not built (clarus differentiates w.r.t. inputs and activations).
 */
export const Conv: GradRule = {
  opType: 'Conv',
  domain: '',
  opsets: [1, 11, 22],
  build: (g) => {
    const x = g.input(0)
    const w = g.input(1)
    const dy = g.gradOfOutput(0)
    if (g.isGradRequired(1)) g.fail('gradients w.r.t. Conv weights are not supported')
    const ws = g.shapeOf(w)
    const kernel = g.attrInts('kernel_shape') ?? ws?.slice(2).map((d) => (typeof d === 'number' ? d : g.fail('kernel shape unknown')))
    if (kernel === undefined) return g.fail('kernel shape unknown')
    const out: Partial<Record<number, string>> = {}
    if (g.isGradRequired(0)) {
      const geo = windowGeometry(g, x, kernel)
      out[0] = g.node('ConvTranspose', [dy, w], [
        attr.int('group', g.attrInt('group', 1)),
        attr.ints('kernel_shape', kernel),
        attr.ints('strides', geo.strides),
        attr.ints('dilations', geo.dilations),
        attr.ints('pads', geo.pads),
        attr.ints('output_padding', geo.outputPadding),
      ])
    }
    if (g.isGradRequired(2) && g.inputCount > 2) {
      out[2] = g.reduceSum(dy, [0, ...kernel.map((_, i) => i + 2)], false)
    }
    return out
  },
}
