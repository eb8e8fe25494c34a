import type { GradRule } from '../rule.js'

/**
 * HardSigmoid: y = max(0, min(1, αx + β)); dx = α·dy where 0 < αx + β < 1 (open interval, like
 * torch's hardsigmoid backward), else 0. MobileNetV3-style models use it.
 */
export const HardSigmoid: GradRule = {
  opType: 'HardSigmoid',
  domain: '',
  opsets: [6],
  build: (g) => {
    const x = g.input(0)
    const dy = g.gradOfOutput(0)
    const alpha = g.attrFloat('alpha', 0.2)
    const z = g.node('Add', [g.node('Mul', [x, g.constant(alpha, x)]), g.constant(g.attrFloat('beta', 0.5), x)])
    const inside = g.node('And', [g.node('Greater', [z, g.constant(0, x)]), g.node('Less', [z, g.constant(1, x)])])
    return { 0: g.node('Where', [inside, g.node('Mul', [dy, g.constant(alpha, x)]), g.constant(0, x)]) }
  },
}
