import { attr } from '../../graph/ir.js'
import type { GradRule } from '../rule.js'

/** Transpose: dx = Transpose(dy, inverse perm). */
export const Transpose: GradRule = {
  opType: 'Transpose',
  domain: '',
  opsets: [1, 13, 21],
  build: (g) => {
    const x = g.input(0)
    const perm = g.attrInts('perm') ?? ((r: number) => Array.from({ length: r }, (_, i) => r - 1 - i))(g.rankOf(x))
    const inv = new Array<number>(perm.length).fill(0)
    perm.forEach((p, i) => { inv[p] = i })
    return { 0: g.node('Transpose', [g.gradOfOutput(0)], [attr.ints('perm', inv)]) }
  },
}
