import { attr } from '../../graph/ir.js'
import { cropToInput, windowGeometry } from '../convGeometry.js'
import type { GradRule } from '../rule.js'

/**
 * Conv: dX = ConvTranspose(dY, W) with the same group/strides/dilations, explicit pads and the
 * output_padding that restores X's spatial size; dB = dY summed over all but the channel axis.
 *
 * dW (one group): dW[m, c, k] = Σₙ Σₒ dY[n, m, o] · X̃[n, c, o·s + k·d] (X̃ = X padded) is itself a
 * convolution with batch and channel axes swapped: Conv(Xᵀ, dYᵀ) with X's pads, the forward
 * dilations as strides and the forward strides as dilations gives [C, M, ≥k…], cropped to the kernel
 * size and transposed back to [M, C, k…]. Grouped convolutions have no weight gradient here.
 *
 * Fast path for stride 1 and one group (most convolutions of a ResNet): the same gradient is a plain
 * Conv of dY with W's channel axes swapped and its kernel flipped, padded by (k_eff − 1 − pad).
 * ONNX Runtime's Conv kernels are about twice as fast as its ConvTranspose, and when W is an
 * initializer the Transpose and flip are folded into a constant when the session is created.
 */
export const Conv: GradRule = {
  opType: 'Conv',
  domain: '',
  opsets: [1, 11, 22],
  build: (g) => {
    const x = g.input(0)
    const w = g.input(1)
    const dy = g.gradOfOutput(0)
    const ws = g.shapeOf(w)
    const kernel = g.attrInts('kernel_shape') ?? ws?.slice(2).map((d) => (typeof d === 'number' ? d : g.fail('kernel shape unknown')))
    if (kernel === undefined) return g.fail('kernel shape unknown')
    const out: Partial<Record<number, string>> = {}
    if (g.isGradRequired(1)) {
      if (g.attrInt('group', 1) !== 1) g.fail('gradients w.r.t. the weights of a grouped Conv (group > 1) are not supported')
      const geo = windowGeometry(g, x, kernel)
      const sp = kernel.length
      const swap = [1, 0, ...kernel.map((_, i) => i + 2)]
      const full = g.node('Conv', [g.node('Transpose', [x], [attr.ints('perm', swap)]), g.node('Transpose', [dy], [attr.ints('perm', swap)])], [
        attr.ints('strides', geo.dilations.slice(0, sp)),
        attr.ints('dilations', geo.strides.slice(0, sp)),
        attr.ints('pads', geo.pads),
      ])
      const axes = kernel.map((_, i) => i + 2)
      const cropped = g.node('Slice', [full, g.int64(axes.map(() => 0)), g.int64([...kernel]), g.int64(axes)])
      out[1] = g.node('Transpose', [cropped], [attr.ints('perm', swap)])
    }
    if (g.isGradRequired(0)) {
      const geo = windowGeometry(g, x, kernel)
      const sp = kernel.length
      const eff = kernel.map((k, i) => (k - 1) * (geo.dilations[i] ?? 1) + 1)
      const convPads = [...eff.map((e, i) => e - 1 - (geo.pads[i] ?? 0)), ...eff.map((e, i) => e - 1 - (geo.pads[i + sp] ?? 0))]
      const plain = g.attrInt('group', 1) === 1 && geo.strides.every((s) => s === 1) &&
        geo.outputPadding.every((p) => p === 0) && convPads.every((p) => p >= 0) && g.opset >= 10
      if (plain) {
        const swapped = g.node('Transpose', [w], [attr.ints('perm', [1, 0, ...kernel.map((_, i) => i + 2)])])
        const axes = kernel.map((_, i) => i + 2)
        const flipped = g.node('Slice', [
          swapped,
          g.int64(axes.map(() => -1)),
          g.int64(kernel.map((k) => -(k + 1))),
          g.int64(axes),
          g.int64(axes.map(() => -1)),
        ])
        out[0] = g.node('Conv', [dy, flipped], [
          attr.ints('kernel_shape', kernel),
          attr.ints('dilations', geo.dilations),
          attr.ints('pads', convPads),
        ])
        if (g.isGradRequired(2) && g.inputCount > 2) out[2] = g.reduceSum(dy, [0, ...kernel.map((_, i) => i + 2)], false)
        return out
      }
      const dx = g.node('ConvTranspose', [dy, w], [
        attr.int('group', g.attrInt('group', 1)),
        attr.ints('kernel_shape', kernel),
        attr.ints('strides', geo.strides),
        attr.ints('dilations', geo.dilations),
        attr.ints('pads', geo.pads),
        attr.ints('output_padding', geo.outputPadding),
      ])
      out[0] = geo.crop ? cropToInput(g, dx, x) : dx
    }
    if (g.isGradRequired(2) && g.inputCount > 2) {
      out[2] = g.reduceSum(dy, [0, ...kernel.map((_, i) => i + 2)], false)
    }
    return out
  },
}
