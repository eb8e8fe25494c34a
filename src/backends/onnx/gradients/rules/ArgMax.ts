import { noGradient } from '../rule.js'

/** ArgMax: integer indices, no gradient path. */
export const ArgMax = noGradient('ArgMax')
