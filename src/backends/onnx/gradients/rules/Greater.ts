import { noGradient } from '../rule.js'

/** Greater: boolean output, no gradient path. */
export const Greater = noGradient('Greater')
