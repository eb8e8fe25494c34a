import { alongSoftmaxAxis } from '../softmaxAxis.js'
import type { GradRule } from '../rule.js'

/** LogSoftmax: dx = dy − exp(y)·Σ_axis dy (see `softmaxAxis.ts` for the opset < 13 2-D coercion). */
export const LogSoftmax: GradRule = {
  opType: 'LogSoftmax',
  domain: '',
  opsets: [1, 11, 13],
  build: (g) => ({
    0: alongSoftmaxAxis(g, (y, dy, axis) => g.node('Sub', [dy, g.node('Mul', [g.node('Exp', [y]), g.reduceSum(dy, [axis], true)])])),
  }),
}
