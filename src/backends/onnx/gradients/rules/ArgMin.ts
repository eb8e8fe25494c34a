import { noGradient } from '../rule.js'

/** ArgMin: integer indices, no gradient path. */
export const ArgMin = noGradient('ArgMin')
