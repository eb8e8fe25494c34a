import { noGradient } from '../rule.js'

/** LessOrEqual: boolean output, no gradient path. */
export const LessOrEqual = noGradient('LessOrEqual')
