/**
 * Shared pieces of the LRP rules on tfjs (the counterpart of the ONNX `gradients/modified/lrpLinear.ts`).
 * Relevance is read as R_t = t ⊙ g_t; a rule for a linear kernel y = f(x; W) turns its cotangent g_y
 * into the relevance R_y = y_out ⊙ g_y (y_out: the output with its bias, {@link NodeContext.yOut}),
 * divides by the rule's stabilised denominator and pulls the quotient back through the kernel with a
 * modified weight: the kernel's own vector-Jacobian product in x, run again with the weight replaced.
 *
 * @internal
 */
import * as tf from '@tensorflow/tfjs-core'
import type { NodeContext } from './types.js'

/** Captum's LRP stabiliser (`STABILITY_FACTOR`), used where a rule has no ε of its own. */
export const LRP_STABILISER = 1e-9

/** Kernels the weight-modifying rules (gamma, alphaBeta, zPlus) handle. */
export const WEIGHTED_KERNELS = ['BatchMatMul', 'Conv2D', 'DepthwiseConv2dNative'] as const

/** z + ε·sign(z), with sign(0) = +1 (Captum's convention), so the denominator is never 0. */
export const stabilise = (z: tf.Tensor, eps: number): tf.Tensor => tf.add(z, tf.where(tf.less(z, 0), tf.fill(z.shape, -eps), tf.fill(z.shape, eps)))

/** Which input is the variable one and which the weight, for a linear kernel. */
export interface LinearSlots {
  readonly x: string
  readonly w: string
}

const slotsOf = (kernel: string): readonly [string, string] => (kernel === 'BatchMatMul' ? ['a', 'b'] : ['x', 'filter'])

/** Why a weighted rule cannot apply: a weight on the gradient path (a product of two variables). */
export const linearProblem = (kernel: string, variable: readonly string[]): string | undefined => {
  const [a, b] = slotsOf(kernel)
  if (variable.includes(a) && variable.includes(b)) {
    return kernel === 'BatchMatMul'
      ? 'both matmul operands depend on the input, so it is not a linear layer; give it the \'uniform\' rule (AttnLRP)'
      : `the weight of this ${kernel} depends on the input, so it is not a linear layer`
  }
  return undefined
}

/** The variable input and the weight of a linear kernel (checked by {@link linearProblem} before). */
export const linearSlots = (c: NodeContext): LinearSlots => {
  const [a, b] = slotsOf(c.kernel)
  return c.variable.includes(b) ? { x: b, w: a } : { x: a, w: b }
}

/** The kernel run again with some inputs replaced (same attributes). */
export const forwardWith = (c: NodeContext, replace: Readonly<Record<string, tf.Tensor>>): tf.Tensor =>
  tf.engine().runKernel(c.kernel, { ...c.inputs, ...replace } as tf.NamedTensorMap, c.attrs as tf.NamedAttrMap) as tf.Tensor

/**
 * The kernel's vector-Jacobian product in input `wrt` for cotangent `dy`, with some inputs replaced:
 * the kernel's registered gradient function called directly (not `tf.grad`, which would start a
 * tape of its own in the middle of the caller's backward pass). Linear kernels save only inputs.
 */
export const vjpWith = (c: NodeContext, dy: tf.Tensor, replace: Readonly<Record<string, tf.Tensor>>, wrt: string): tf.Tensor => {
  const cfg = tf.getGradient(c.kernel)
  const merged: Record<string, tf.Tensor> = { ...c.inputs, ...replace }
  const saved = (cfg?.inputsToSave ?? []).map((k) => merged[k]!)
  const g = cfg?.gradFunc(dy, saved, c.attrs as tf.NamedAttrMap)[wrt]
  if (g === undefined) throw new Error(`tfjs has no gradient of ${c.kernel} in its input ${wrt}`)
  return g()
}

/** The bias a following Add contributes, in `y`'s shape (zero when none follows). */
export const biasOf = (c: NodeContext): tf.Tensor => tf.sub(c.yOut, c.y)

/** Relevance at the output over a denominator: y_out ⊙ dy / stabilise(z). */
export const relevanceOver = (c: NodeContext, dy: tf.Tensor, z: tf.Tensor, eps: number): tf.Tensor => tf.div(tf.mul(c.yOut, dy), stabilise(z, eps))

/** max(t, 0) and min(t, 0). */
export const positivePart = (t: tf.Tensor): tf.Tensor => tf.relu(t)
export const negativePart = (t: tf.Tensor): tf.Tensor => tf.minimum(t, 0)

/**
 * The input-layer rules that spread each output's relevance over its receptive field in proportion
 * to modified weights W′, whatever the input values (flat: W′ = 1; w²: W′ = W²): the relevance of
 * the kernel's input is J_{W′}ᵀ(R_y / f(1; W′)) with R_y = y_out ⊙ dy.
 */
export const spreadOverField = (c: NodeContext, dy: tf.Tensor, weightOf: (w: tf.Tensor) => tf.Tensor): tf.Tensor => {
  const s = linearSlots(c)
  const w = weightOf(c.inputs[s.w]!)
  const den = forwardWith(c, { [s.x]: tf.onesLike(c.inputs[s.x]!), [s.w]: w })
  return vjpWith(c, relevanceOver(c, dy, den, LRP_STABILISER), { [s.w]: w }, s.x)
}
