/**
 * Shared backward of ReduceSum / ReduceMean: restore the reduced axes of dy (Unsqueeze when
 * keepdims=0) and Expand back to x's shape; the mean also divides by |x| / |y|.
 *
 * @internal
 */
import { attr } from '../graph/ir.js'
import { elementCount, type GradContext } from './context.js'

/** `axesFromInputSince`: the opset from which the op takes axes as input 1 (ReduceSum 13, ReduceMean 18). */
export const reduceGrad = (g: GradContext, axesFromInputSince: number, mean: boolean): Partial<Record<number, string>> => {
  const x = g.input(0)
  const y = g.output(0)
  let dy = g.gradOfOutput(0)
  const keep = g.attrInt('keepdims', 1) === 1
  const fromInput = g.opset >= axesFromInputSince
  const axesName = fromInput && g.inputCount > 1 && g.fwd.inputs[1] !== '' ? g.input(1) : undefined
  const axes = fromInput ? (axesName === undefined ? undefined : g.constValue(axesName)) : g.attrInts('axes')
  const noop = fromInput && g.attrInt('noop_with_empty_axes', 0) === 1
  if (noop && (axesName === undefined || (axes !== undefined && axes.length === 0))) return { 0: dy }
  if (!keep) {
    if (axes !== undefined && axes.length > 0) dy = g.unsqueeze(dy, axes)
    else if (axes === undefined && axesName !== undefined) {
      if (g.opset < 13) g.fail('dynamic reduction axes need opset >= 13')
      dy = g.node('Unsqueeze', [dy, axesName])
    }
  }
  let dx = g.node('Expand', [dy, g.node('Shape', [x])])
  if (mean) {
    const et = g.elemTypeOf(x)
    const n = g.node('Div', [g.node('Cast', [elementCount(g, x)], [attr.int('to', et)]), g.node('Cast', [elementCount(g, y)], [attr.int('to', et)])])
    dx = g.node('Div', [dx, n])
  }
  return { 0: dx }
}
