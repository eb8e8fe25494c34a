import type { GradRule } from '../rule.js'
import { routeToArgmax } from '../maxPoolRoute.js'

/**
 * MaxPool: dY goes back to each window's maximal element (the first in the window's row-major
 * order on ties, like torch), added up where windows overlap. On CPU it is scattered through the
 * Indices output (added to the forward node when absent); on WebGPU, whose MaxPool has no Indices
 * output, the argmax is recomputed from the input with standard ops (see `maxPoolRoute.ts`).
 */
export const MaxPool: GradRule = {
  opType: 'MaxPool',
  domain: '',
  opsets: [8, 10, 11, 12, 22],
  build: (g) => ({ 0: routeToArgmax(g, g.input(0), g.gradOfOutput(0)) }),
}
