import { noGradient } from '../rule.js'

/** Size: integer output, no gradient path. */
export const Size = noGradient('Size')
