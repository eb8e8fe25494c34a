import { noGradient } from '../rule.js'

/** ConstantOfShape: output does not depend differentiably on the shape input. */
export const ConstantOfShape = noGradient('ConstantOfShape')
