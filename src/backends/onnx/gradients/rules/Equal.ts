import { noGradient } from '../rule.js'

/** Equal: boolean output, no gradient path. */
export const Equal = noGradient('Equal')
