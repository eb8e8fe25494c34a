import { attr } from '../../graph/ir.js'
import type { GradRule } from '../rule.js'

/**
 * Gather (w.r.t. data): a one-hot MatMul, exact for repeated indices and valid from opset 11 without
 * scatter-add. With P = ∏ data.shape[:axis], M = |indices|, N = data.shape[axis]:
 * dx[P, N, Q] = OneHot(indices)[M, N]ᵀ · dy[P, M, Q]. Negative indices are handled by OneHot. The
 * indices edge is cut.
 */
export const Gather: GradRule = {
  opType: 'Gather',
  domain: '',
  opsets: [1, 11, 13],
  stopInputs: [1],
  build: (g) => {
    if (g.opset < 11) g.fail('Gather gradients need opset >= 11 (OneHot with negative indices)')
    const x = g.input(0)
    const ind = g.input(1)
    const rank = g.rankOf(x)
    const a0 = g.attrInt('axis', 0)
    const axis = a0 < 0 ? a0 + rank : a0
    const shape = g.node('Shape', [x])
    const depth = g.node('Slice', [shape, g.int64([axis]), g.int64([axis + 1])])
    const onehot = g.node('OneHot', [g.node('Reshape', [ind, g.int64([-1])]), depth, g.constant([0, 1], x)], [attr.int('axis', -1)])
    const p = axis === 0 ? g.int64([1]) : g.node('ReduceProd', [g.node('Slice', [shape, g.int64([0]), g.int64([axis])])], [attr.int('keepdims', 1)])
    const m = g.node('Reshape', [g.node('Size', [ind]), g.int64([1])])
    const dy3 = g.node('Reshape', [g.gradOfOutput(0), g.node('Concat', [p, m, g.int64([-1])], [attr.int('axis', 0)])])
    const dx3 = g.node('MatMul', [g.node('Transpose', [onehot], [attr.ints('perm', [1, 0])]), dy3])
    return { 0: g.node('Reshape', [dx3, shape]) }
  },
}
