// Captum's toy models (captum/testing/helpers/basic_models.py, described in
// shared/spec/captum-semantics.md §10.2), written in tfjs for golden tests.
import * as tf from '@tensorflow/tfjs-core'

/**
 * BasicModel_MultiLayer: linear1 (W = ones(4,3), b = [−10, 1, 1, 1]) → relu → linear2
 * (W = ones(2,4), b = [−1, 1]). With s = x₁+x₂+x₃: out₀ = relu(s−10) + 3·relu(s+1) − 1, out₁ = out₀ + 2.
 */
export const basicMultiLayer = (x: tf.Tensor): tf.Tensor =>
  tf.tidy(() => {
    const h = tf.relu(tf.add(tf.matMul(x as tf.Tensor2D, tf.ones([3, 4])), tf.tensor1d([-10, 1, 1, 1])))
    return tf.add(tf.matMul(h, tf.ones([4, 2])), tf.tensor1d([-1, 1]))
  })

/** BasicModel2: f(x1, x2) = relu(relu(x1) − 1 − relu(x2)). */
export const basicModel2 = (x1: tf.Tensor, x2: tf.Tensor): tf.Tensor =>
  tf.tidy(() => tf.relu(tf.sub(tf.sub(tf.relu(x1), 1), tf.relu(x2))))
