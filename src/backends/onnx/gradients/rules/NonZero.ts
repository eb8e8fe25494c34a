import { noGradient } from '../rule.js'

/** NonZero: integer indices, no gradient path. */
export const NonZero = noGradient('NonZero')
