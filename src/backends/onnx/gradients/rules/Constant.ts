import { noGradient } from '../rule.js'

/** Constant: no inputs, no gradient path. */
export const Constant = noGradient('Constant')
