import { attr } from '../../graph/ir.js'
import type { GradContext } from '../context.js'
import type { GradRule } from '../rule.js'

const swapLast = (g: GradContext, t: string, rank: number): string =>
  g.node('Transpose', [t], [attr.ints('perm', [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2])])

/** Sums a tensor whose trailing dims equal `like`'s (1-D) shape over all leading dims. */
const sumToVector = (g: GradContext, t: string, like: string): string =>
  g.reduceSum(g.node('Reshape', [t, g.node('Concat', [g.int64([-1]), g.node('Shape', [like])], [attr.int('axis', 0)])]), [0], false)

/**
 * MatMul with numpy semantics: batched, broadcasting batch dims, and 1-D operands.
 * dA = dy·Bᵀ, dB = Aᵀ·dy, each summed over broadcast batch axes.
 */
export const MatMul: GradRule = {
  opType: 'MatMul',
  domain: '',
  opsets: [1, 9, 13],
  build: (g) => {
    const a = g.input(0)
    const b = g.input(1)
    const dy = g.gradOfOutput(0)
    const ra = g.rankOf(a)
    const rb = g.rankOf(b)
    const ys = g.shapeOf(g.fwd.outputs[0] ?? '')
    const out: Partial<Record<number, string>> = {}
    const need = (i: number): boolean => g.isGradRequired(i)
    if (ra === 1 && rb === 1) {
      if (need(0)) out[0] = g.node('Mul', [dy, b])
      if (need(1)) out[1] = g.node('Mul', [dy, a])
    } else if (ra === 1) {
      const dyr = g.unsqueeze(dy, [-2])
      if (need(0)) out[0] = sumToVector(g, g.node('MatMul', [dyr, swapLast(g, b, rb)]), a)
      if (need(1)) out[1] = g.reduceBroadcast(g.node('MatMul', [g.unsqueeze(a, [1]), dyr]), b, ys === null ? null : [...ys.slice(0, -1), null, null])
    } else if (rb === 1) {
      const dyc = g.unsqueeze(dy, [-1])
      if (need(0)) out[0] = g.reduceBroadcast(g.node('MatMul', [dyc, g.unsqueeze(b, [0])]), a, ys === null ? null : [...ys, null])
      if (need(1)) out[1] = sumToVector(g, g.node('MatMul', [swapLast(g, a, ra), dyc]), b)
    } else {
      const batch = ys === null ? null : ys.slice(0, -2)
      const as = g.shapeOf(a)
      const bs = g.shapeOf(b)
      if (need(0)) out[0] = g.reduceBroadcast(g.node('MatMul', [dy, swapLast(g, b, rb)]), a, batch === null || as === null ? null : [...batch, ...as.slice(-2)])
      if (need(1)) out[1] = g.reduceBroadcast(g.node('MatMul', [swapLast(g, a, ra), dy]), b, batch === null || bs === null ? null : [...batch, ...bs.slice(-2)])
    }
    return out
  },
}
