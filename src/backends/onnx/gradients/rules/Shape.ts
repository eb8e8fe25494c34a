import { noGradient } from '../rule.js'

/** Shape: integer output, no gradient path. */
export const Shape = noGradient('Shape')
