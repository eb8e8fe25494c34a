import { noGradient } from '../rule.js'

/** Or: boolean, no gradient path. */
export const Or = noGradient('Or')
