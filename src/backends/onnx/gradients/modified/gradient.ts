/**
 * `gradient`: the ordinary gradient, stated explicitly in a rule set (for an op the rule set would
 * otherwise report, e.g. an Erf under DeepLift). Any op type with an ordinary gradient rule.
 *
 * @internal
 */
import { ANY_OP_WITH_GRADIENT, type ModifiedRule } from './types.js'

export const gradient: ModifiedRule = {
  rule: 'gradient',
  opTypes: [ANY_OP_WITH_GRADIENT],
  build: (g) => g.ordinary(),
}
