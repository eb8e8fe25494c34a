/**
 * DeepLift's Rescale rule (Shrikumar et al. 2017), as Captum 0.8 applies it (captum-semantics §4.6).
 * The batch holds the inputs and their references (`referenceRows: 'halves'`); with
 * Δin = in(x) − in(x_ref) and Δout = out(x) − out(x_ref) per pair, the same value for both halves:
 * - Relu, LeakyRelu, Elu, Sigmoid, Tanh, Softplus: dx = dy · Δout / Δin where |Δin| ≥ 1e-10, else the
 *   ordinary gradient (at each row's own input);
 * - Softmax: the same multiplier, then minus its mean over the whole tensor, batch included (Captum's
 *   normalisation: it subtracts sum/numel of the 2n-row gradient);
 * - MaxPool: with m = max(out(x), out(x_ref)), (m − out(x_ref))·dy of the input half is routed back
 *   through the input rows' argmax positions and (out(x) − m)·dy of the reference half through the
 *   reference rows' argmax positions; their sum per pair divided by Δin is the gradient of both
 *   halves. Where |Δin| < 1e-10 Captum takes `grad_input[0]`, the first row of the ordinary gradient,
 *   for every row; so does this rule. Overlapping windows add the routed values (torch's unpooling,
 *   which Captum calls, keeps one of them; the sum is the exact Rescale value).
 *
 * Captum's hook order, reproduced for MaxPool only: the dy in the multipliers above is the output
 * gradient as Captum's hook records it (`hookGradOfOutput`). When this node's output feeds a MaxPool
 * directly (a ReLU followed by a MaxPool), Captum records it before the MaxPool's hook replaces it,
 * so the multiplier uses the MaxPool's *ordinary* gradient, while the fallback (the ordinary gradient
 * of this node) sees the replaced one. With a reference that is constant over each pooling window (a
 * zero baseline) this changes nothing in total; otherwise it is Captum's value, not the textbook
 * one. Between two elementwise activations the textbook value is kept (Captum's quirk there would
 * break completeness), as on the tfjs backend.
 *
 * @internal
 */
import { attr } from '../../graph/ir.js'
import { routeToArgmax } from '../maxPoolRoute.js'
import { elementCount } from '../context.js'
import type { ModifiedContext, ModifiedRule } from './types.js'
import type { ReferenceHelpers } from './reference.js'

/** Captum's DeepLift eps: below this |Δin| the ordinary gradient is used. */
export const RESCALE_EPS = 1e-10

/** Where |Δin| ≥ eps: num / Δin; elsewhere `fallback`. The division never sees a zero (its denominator is 1 there). */
const divideOrFallback = (g: ModifiedContext, num: string, deltaIn: string, fallback: string): string => {
  const small = g.node('Less', [g.node('Abs', [deltaIn]), g.constant(RESCALE_EPS, deltaIn)])
  const safe = g.node('Where', [small, g.constant(1, deltaIn), deltaIn])
  return g.node('Where', [small, fallback, g.node('Div', [num, safe])])
}

const ordinary0 = (g: ModifiedContext): string => g.ordinary()[0] ?? g.fail('its ordinary gradient rule gave no gradient for input 0')

/**
 * Relu: the multiplier m = Δout/Δin per pair (where |Δin| ≥ eps; the ordinary derivative [x > 0] of
 * each row elsewhere), then dy · m — four passes over the doubled batch instead of six. The product
 * is rounded in the order dy · (Δout/Δin) rather than (dy · Δout)/Δin: within one float32 ulp.
 */
const relu = (g: ModifiedContext, ref: ReferenceHelpers): string => {
  const x = g.input(0)
  const dIn = ref.pairDelta(x)
  const small = g.node('Less', [g.node('Abs', [dIn]), g.constant(RESCALE_EPS, dIn)])
  const ratio = g.node('Div', [ref.pairDelta(g.output(0)), g.node('Where', [small, g.constant(1, dIn), dIn])])
  const hookDy = g.hookGradOfOutput(0)
  if (hookDy !== g.gradOfOutput(0)) {
    // a MaxPool consumer shadows this node (Captum's hook order): the fallback sees the replaced gradient
    return ref.back(g.node('Where', [small, ref.rows(ordinary0(g)), g.node('Mul', [ref.rows(hookDy), ratio])]), x)
  }
  const derivative = g.node('Cast', [g.node('Greater', [ref.rows(x), g.constant(0, x)])], [attr.int('to', g.elemTypeOf(x))])
  return ref.back(g.node('Mul', [ref.rows(hookDy), g.node('Where', [small, derivative, ratio])]), x)
}

const elementwise = (g: ModifiedContext, ref: ReferenceHelpers): string => {
  // Per pair on [1, M] (the flattened half-batch), broadcast over the two rows of [2, M]: the same
  // arithmetic as tiling Δ to 2n rows ((dy · Δout) / Δin, Captum's order), without the copies.
  const x = g.input(0)
  const num = g.node('Mul', [ref.rows(g.hookGradOfOutput(0)), ref.pairDelta(g.output(0))])
  return ref.back(divideOrFallback(g, num, ref.pairDelta(x), ref.rows(ordinary0(g))), x)
}

const softmax = (g: ModifiedContext, ref: ReferenceHelpers): string => {
  const r = elementwise(g, ref)
  // sum over every axis (no axes given), keepdims so it broadcasts back
  const total = g.node('ReduceSum', [r], [attr.int('keepdims', 1)])
  const count = g.node('Cast', [elementCount(g, r)], [attr.int('to', g.elemTypeOf(g.input(0)))])
  return g.node('Sub', [r, g.node('Div', [total, count])])
}

const maxPool = (g: ModifiedContext, ref: ReferenceHelpers): string => {
  const x = g.input(0)
  const y = ref.halves(g.output(0))
  const m = g.node('Max', [y.input, y.reference])
  const deltaOut = ref.stack(g.node('Sub', [m, y.reference]), g.node('Sub', [y.input, m]))
  const routed = g.node('Mul', [g.hookGradOfOutput(0), deltaOut])
  // route through each row's own argmax positions
  const scattered = routeToArgmax(g, x, routed)
  const unpooled = ref.halves(scattered)
  const num = ref.tile(g.node('Add', [unpooled.input, unpooled.reference]))
  const firstRow = g.node('Slice', [ordinary0(g), g.int64([0]), g.int64([1]), g.int64([0])])
  return divideOrFallback(g, num, ref.delta(x), firstRow)
}

export const rescale: ModifiedRule = {
  rule: 'rescale',
  opTypes: ['Relu', 'LeakyRelu', 'Elu', 'Sigmoid', 'Tanh', 'Softplus', 'Softmax', 'MaxPool'],
  needsReference: true,
  shadowsProducer: ['MaxPool'],
  build: (g, _rule, ref) => {
    if (ref === undefined) return g.fail('the DeepLift rescale rule needs the references in the same batch (referenceRows: \'halves\')')
    switch (g.fwd.opType) {
      case 'Softmax': return { 0: softmax(g, ref) }
      case 'MaxPool': return { 0: maxPool(g, ref) }
      case 'Relu': return { 0: relu(g, ref) }
      default: return { 0: elementwise(g, ref) }
    }
  },
}
