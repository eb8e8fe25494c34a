import { noGradient } from '../rule.js'

/** And: boolean, no gradient path. */
export const And = noGradient('And')
