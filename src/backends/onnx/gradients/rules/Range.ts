import { noGradient } from '../rule.js'

/** Range: integer/float sequence from scalars; no gradient path (as in ORT). */
export const Range = noGradient('Range')
