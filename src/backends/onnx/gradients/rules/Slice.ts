import { attr } from '../../graph/ir.js'
import type { GradRule } from '../rule.js'

/**
 * Slice: scatters dy back into zeros shaped like x. The flat positions of the sliced elements come
 * from slicing an index tensor (Range over x's size, shaped like x) with the same starts/ends/axes/
 * steps, so any steps (negative included) are exact; each element is selected at most once. The
 * starts/ends/axes/steps edges are cut.
 */
export const Slice: GradRule = {
  opType: 'Slice',
  domain: '',
  opsets: [1, 10, 11, 13],
  stopInputs: [1, 2, 3, 4],
  build: (g) => {
    if (g.opset < 11) g.fail('Slice gradients need opset >= 11 (Range, ScatterElements)')
    const x = g.input(0)
    const dy = g.gradOfOutput(0)
    const shape = g.node('Shape', [x])
    const size = g.node('ReduceProd', [shape], [attr.int('keepdims', 0)])
    const idx = g.node('Reshape', [g.node('Range', [g.int64([0], []), size, g.int64([1], [])]), shape])
    const picked = g.node('Slice', [idx, ...g.fwd.inputs.slice(1)], [...g.fwd.attributes])
    const flat = g.node('Reshape', [g.zerosLike(x), g.int64([-1])])
    const scattered = g.node('ScatterElements', [flat, g.node('Reshape', [picked, g.int64([-1])]), g.node('Reshape', [dy, g.int64([-1])])], [attr.int('axis', 0)])
    return { 0: g.node('Reshape', [scattered, shape]) }
  },
}
