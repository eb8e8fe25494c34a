/**
 * DeepLift's Rescale rule (Shrikumar et al. 2017) with Captum 0.8.0's variants:
 * - elementwise nonlinearities: grad_in = grad_out · Δout/Δin where |Δin| ≥ 1e-10, else the
 *   ordinary gradient; Δ = row − its reference, the same multiplier for both halves;
 * - Softmax: the same, then minus its mean over the whole tensor (batch included, as Captum does);
 * - MaxPool: the output difference split at m = max(out, out_ref) into (m − out_ref), routed back
 *   through the input row's argmax positions, and (out − m), routed through the reference row's;
 *   their sum over Δin (where |Δin| < 1e-10: the ordinary gradient's *first row*, broadcast to all
 *   rows — Captum's quirk, kept for parity). Routing through a row's argmax is the
 *   ordinary MaxPool gradient of that row, so the kernel's own gradient does it.
 *
 * @internal
 */
import * as tf from '@tensorflow/tfjs-core'
import type { NodeContext, TfjsModifiedRule } from './types.js'

const EPS = 1e-10

export const ELEMENTWISE_RESCALE = ['Relu', 'LeakyRelu', 'Elu', 'Selu', 'Sigmoid', 'Tanh', 'Softplus', 'Relu6', 'Prelu'] as const

/** where(|Δin| < eps, fallback, num / Δin), without ever dividing by a tiny Δin. */
const overDelta = (fallback: tf.Tensor, num: tf.Tensor, dIn: tf.Tensor): tf.Tensor => {
  const small = tf.less(tf.abs(dIn), tf.scalar(EPS))
  const safe = tf.where(small, tf.onesLike(dIn), dIn)
  return tf.where(small, fallback, tf.div(num, safe))
}

const elementwise = (c: NodeContext, dy: tf.Tensor): tf.Tensor => {
  const h = c.halves!
  return overDelta(c.ordinary(dy), tf.mul(dy, h.delta(c.y)), h.delta(c.x))
}

const softmax = (c: NodeContext, dy: tf.Tensor): tf.Tensor => {
  const g = elementwise(c, dy)
  return tf.sub(g, tf.div(tf.sum(g), tf.scalar(g.size)))
}

const maxPool = (c: NodeContext, dy: tf.Tensor): tf.Tensor => {
  const h = c.halves!
  const [out, outRef] = h.split(c.y)
  const m = tf.maximum(out, outRef)
  const dOut = tf.concat([tf.sub(m, outRef), tf.sub(out, m)], 0)
  // Each row routed through its own argmax positions: input rows by the input's, reference rows by the reference's.
  const routed = c.ordinary(tf.mul(dy, dOut))
  // Captum's fallback here is the first row of the ordinary gradient, broadcast to every row.
  const ordinary = c.ordinary(dy)
  const firstRow = tf.broadcastTo(tf.slice(ordinary, 0, 1), ordinary.shape)
  return overDelta(firstRow, h.pairSum(routed), h.delta(c.x))
}

export const rescale: TfjsModifiedRule = {
  rule: 'rescale',
  kernels: [...ELEMENTWISE_RESCALE, 'Softmax', 'MaxPool'],
  needsReference: true,
  grad: (c, dy) => (c.kernel === 'MaxPool' ? maxPool(c, dy) : c.kernel === 'Softmax' ? softmax(c, dy) : elementwise(c, dy)),
}
