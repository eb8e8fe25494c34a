import type { GradRule } from '../rule.js'

/**
 * Clip: dx = dy where min ≤ x ≤ max (inclusive, like torch.clamp). The min/max inputs are not
 * differentiated; when one depends on the differentiated tensor the builder reports the node.
 */
export const Clip: GradRule = {
  opType: 'Clip',
  domain: '',
  opsets: [6, 11, 12, 13],
  gradInputs: [0],
  build: (g) => {
    const x = g.input(0)
    const dy = g.gradOfOutput(0)
    const zero = g.constant(0, x)
    let out = dy
    const bound = (i: number, attrName: string, dflt: number): string | undefined => {
      if (g.opset < 11) return g.constant(g.attrFloat(attrName, dflt), x)
      return g.inputCount > i && g.fwd.inputs[i] !== '' ? g.input(i) : undefined
    }
    const lo = bound(1, 'min', -3.4028234663852886e38)
    const hi = bound(2, 'max', 3.4028234663852886e38)
    if (lo !== undefined) out = g.node('Where', [g.node('Less', [x, lo]), zero, out])
    if (hi !== undefined) out = g.node('Where', [g.node('Greater', [x, hi]), zero, out])
    return { 0: out }
  },
}
