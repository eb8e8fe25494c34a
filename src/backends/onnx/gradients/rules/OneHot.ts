import { noGradient } from '../rule.js'

/** OneHot: output does not depend differentiably on indices/depth (values are constants in practice). */
export const OneHot = noGradient('OneHot')
