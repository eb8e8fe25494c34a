import { alongSoftmaxAxis } from '../softmaxAxis.js'
import type { GradRule } from '../rule.js'

/** Softmax: dx = y·(dy − Σ_axis dy·y) (see `softmaxAxis.ts` for the opset < 13 2-D coercion). */
export const Softmax: GradRule = {
  opType: 'Softmax',
  domain: '',
  opsets: [1, 11, 13],
  build: (g) => ({
    0: alongSoftmaxAxis(g, (y, dy, axis) => g.node('Mul', [y, g.node('Sub', [dy, g.reduceSum(g.node('Mul', [dy, y]), [axis], true)])])),
  }),
}
