/**
 * The axis handling Softmax and LogSoftmax gradients share: opset < 13 coerces the input to 2-D at
 * `axis` (default 1), so the reduction runs over the flattened trailing block; opset ≥ 13 reduces
 * over the one axis (default −1).
 *
 * @internal
 */
import { attr } from '../graph/ir.js'
import type { GradContext } from './context.js'

/** Calls `vjp(y, dy, axis)` in the layout where `axis` is the reduction axis and maps dx back. */
export const alongSoftmaxAxis = (g: GradContext, vjp: (y: string, dy: string, axis: number) => string): string => {
  const old = g.opset < 13
  const axis = g.attrInt('axis', old ? 1 : -1)
  if (!old) return vjp(g.output(0), g.gradOfOutput(0), axis)
  const flat = (t: string): string => g.node('Flatten', [t], [attr.int('axis', axis)])
  const dx = vjp(flat(g.output(0)), flat(g.gradOfOutput(0)), 1)
  return g.node('Reshape', [dx, g.node('Shape', [g.input(0)])])
}
