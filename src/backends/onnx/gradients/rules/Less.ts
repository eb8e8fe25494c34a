import { noGradient } from '../rule.js'

/** Less: boolean output, no gradient path. */
export const Less = noGradient('Less')
