/**
 * LRP-ε on tfjs (see the ONNX rule `gradients/modified/epsilon.ts`): the kernel's ordinary gradient
 * applied to dy ⊙ y / (y + ε·sign(y)), sign(0) = +1, with y the kernel's output. Kernels whose main
 * input is `x` and whose output is (piecewise) linear in it: pooling, convolutions, batch norm.
 *
 * @internal
 */
import * as tf from '@tensorflow/tfjs-core'
import type { TfjsModifiedRule } from './types.js'

export const epsilon: TfjsModifiedRule = {
  rule: 'epsilon',
  kernels: ['MaxPool', 'AvgPool', 'Conv2D', 'DepthwiseConv2dNative', 'FusedBatchNorm', 'FusedBatchNormV3', 'Mean', 'Sum'],
  grad: (c, dy, rule) => {
    const eps = rule.rule === 'epsilon' ? rule.epsilon ?? 1e-9 : 1e-9
    const stab = tf.add(c.y, tf.where(tf.less(c.y, 0), tf.fill(c.y.shape, -eps), tf.fill(c.y.shape, eps)))
    return c.ordinary(tf.mul(dy, tf.div(c.y, stab)))
  },
}

/**
 * LRP-ε on kernels with two tensor operands (tfjs names them `a`, `b`): a matmul with one constant
 * operand (a linear layer), and a division whose divisor is held constant (AttnLRP's LayerNorm: no
 * relevance reaches the divisor, a zero cotangent stated explicitly), as the ONNX ε-rule does.
 */
export const epsilonOperands: TfjsModifiedRule = {
  rule: 'epsilon',
  kernels: ['BatchMatMul', 'RealDiv'],
  needsInputs: true,
  problem: (kernel, variable) =>
    kernel === 'BatchMatMul' && variable.length > 1
      ? 'both matmul operands depend on the input, so the ε-rule does not apply; give it the \'uniform\' rule (AttnLRP)'
      : undefined,
  grads: (c, dy, rule) => {
    const eps = rule.rule === 'epsilon' ? rule.epsilon ?? 1e-9 : 1e-9
    const stab = tf.add(c.y, tf.where(tf.less(c.y, 0), tf.fill(c.y.shape, -eps), tf.fill(c.y.shape, eps)))
    const g = c.ordinaryAll(tf.mul(dy, tf.div(c.y, stab)))
    return c.kernel === 'RealDiv' && c.variable.includes('b') ? { ...g, b: tf.zerosLike(c.inputs['b']!) } : g
  },
}
