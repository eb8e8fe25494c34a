import { attr } from '../../graph/ir.js'
import type { GradRule } from '../rule.js'

/**
 * Gemm: Y = alpha·A'·B' + beta·C. dA' = alpha·dY·B'ᵀ and dB' = alpha·A'ᵀ·dY, written as Gemm nodes
 * with the transposes folded into transA/transB; dC = beta·dY summed over C's broadcast axes.
 */
export const Gemm: GradRule = {
  opType: 'Gemm',
  domain: '',
  opsets: [7, 9, 11, 13],
  build: (g) => {
    const a = g.input(0)
    const b = g.input(1)
    const dy = g.gradOfOutput(0)
    const alpha = g.attrFloat('alpha', 1)
    const beta = g.attrFloat('beta', 1)
    const ta = g.attrInt('transA', 0)
    const tb = g.attrInt('transB', 0)
    const gemm = (x: string, y: string, tx: number, ty: number): string => {
      const attrs = [attr.float('alpha', alpha), attr.int('transA', tx), attr.int('transB', ty)]
      return g.opset >= 11 ? g.node('Gemm', [x, y], attrs) : g.node('Gemm', [x, y, g.constant(0, a)], [...attrs, attr.float('beta', 0)])
    }
    const out: Partial<Record<number, string>> = {}
    if (g.isGradRequired(0)) out[0] = ta === 0 ? gemm(dy, b, 0, 1 - tb) : gemm(b, dy, tb, 1)
    if (g.isGradRequired(1)) out[1] = tb === 0 ? gemm(a, dy, 1 - ta, 0) : gemm(dy, a, 1, ta)
    if (g.isGradRequired(2) && g.inputCount > 2) {
      const scaled = beta === 1 ? dy : g.node('Mul', [dy, g.constant(beta, a)])
      out[2] = g.reduceBroadcast(scaled, g.input(2))
    }
    return out
  },
}
