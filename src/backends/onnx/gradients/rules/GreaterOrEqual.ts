import { noGradient } from '../rule.js'

/** GreaterOrEqual: boolean output, no gradient path. */
export const GreaterOrEqual = noGradient('GreaterOrEqual')
