import { attr } from '../../graph/ir.js'
import { windowsOverlap } from '../convGeometry.js'
import type { GradRule } from '../rule.js'

/**
 * MaxPool: exact gradient through the Indices output (added to the forward node when absent): dY is
 * scattered into zeros at the argmax positions, so ties send the gradient to the single index ORT
 * picked, like torch. Overlapping windows need scatter-add (ScatterElements reduction='add', opset
 * 16; the builder bumps the model's opset when that is safe); non-overlapping ones use a plain scatter.
 */
export const MaxPool: GradRule = {
  opType: 'MaxPool',
  domain: '',
  opsets: [8, 10, 11, 12, 22],
  build: (g) => {
    const x = g.input(0)
    if (g.attrInt('storage_order', 0) !== 0) g.fail('MaxPool with storage_order=1 is not supported')
    if (g.opset < 11) g.fail('MaxPool gradients need opset >= 11 (ScatterElements)')
    const kernel = g.attrInts('kernel_shape') ?? g.fail('kernel_shape missing')
    const overlapping = windowsOverlap(g, kernel)
    const indices = g.output(1)
    const flat = g.node('Reshape', [g.zerosLike(x), g.int64([-1])])
    const upd = g.node('Reshape', [g.gradOfOutput(0), g.int64([-1])])
    const ind = g.node('Reshape', [indices, g.int64([-1])])
    if (overlapping) g.requireOpset(16)
    const attrs = overlapping ? [attr.int('axis', 0), attr.string('reduction', 'add')] : [attr.int('axis', 0)]
    const scattered = g.node('ScatterElements', [flat, ind, upd], attrs)
    return { 0: g.node('Reshape', [scattered, g.node('Shape', [x])]) }
  },
}
