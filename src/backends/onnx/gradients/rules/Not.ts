import { noGradient } from '../rule.js'

/** Not: boolean, no gradient path. */
export const Not = noGradient('Not')
