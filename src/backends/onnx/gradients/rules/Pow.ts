import { attr } from '../../graph/ir.js'
import type { GradRule } from '../rule.js'

/**
 * Pow: y = a^b. d/da = dy·b·a^(b−1); d/db = dy·y·ln a where a > 0 and 0 elsewhere (for a ≤ 0 the
 * power is not a differentiable function of a real exponent; 0 matches the a = 0, b > 0 limit). Both
 * are summed over broadcast axes. An integer exponent is not on any gradient path.
 */
export const Pow: GradRule = {
  opType: 'Pow',
  domain: '',
  opsets: [7, 12, 13, 15],
  build: (g) => {
    const a = g.input(0)
    const b0 = g.input(1)
    const dy = g.gradOfOutput(0)
    const out: Partial<Record<number, string>> = {}
    if (g.isGradRequired(0)) {
      const b = g.elemTypeOf(b0) === g.elemTypeOf(a) ? b0 : g.node('Cast', [b0], [attr.int('to', g.elemTypeOf(a))])
      const d = g.node('Mul', [b, g.node('Pow', [a, g.node('Sub', [b, g.constant(1, a)])])])
      out[0] = g.reduceBroadcast(g.node('Mul', [dy, d]), a)
    }
    if (g.isGradRequired(1)) {
      const positive = g.node('Greater', [a, g.constant(0, a)])
      // ln of a clamped to a positive value, so that the masked-out lanes hold no NaN or −∞
      const safeA = g.node('Where', [positive, a, g.constant(1, a)])
      const d = g.node('Where', [positive, g.node('Mul', [g.output(0), g.node('Log', [safeA])]), g.constant(0, a)])
      const db = g.reduceBroadcast(g.node('Mul', [dy, d]), b0)
      out[1] = g.elemTypeOf(b0) === g.elemTypeOf(a) ? db : g.node('Cast', [db], [attr.int('to', g.elemTypeOf(b0))])
    }
    return out
  },
}
