/**
 * The MaxPool gradient with PyTorch's tie-breaking: each output's gradient goes to the *first*
 * maximum of its window (row-major), on every tfjs backend. tfjs's own MaxPool gradient breaks ties
 * differently per backend (cpu: first maximum; wasm: last), which matters wherever a rule lets
 * gradient reach positions the forward pass treats alike (a window of equal ReLU zeros under
 * Deconvolution, or DeepLift's reference rows): rule-set calls route through this instead.
 *
 * Built from strided slices (one per window offset): the offset's values equal to the window's
 * maximum and not yet claimed by an earlier offset receive that window's gradient.
 *
 * @internal
 */
import * as tf from '@tensorflow/tfjs-core'

/** MaxPool's attributes as tfjs's `MaxPool` kernel receives them. */
export interface MaxPoolAttrs {
  readonly filterSize: number | [number, number]
  readonly strides: number | [number, number]
  readonly pad: 'valid' | 'same' | number
  readonly dimRoundingMode?: 'floor' | 'round' | 'ceil'
}

/** dy (shape of y) routed to the first maximum of each window of x (NHWC). */
export const firstMaxRoute = (dy: tf.Tensor, x: tf.Tensor, y: tf.Tensor, attrs: MaxPoolAttrs): tf.Tensor => {
  const [n, h, w, c] = x.shape as [number, number, number, number]
  const info = tf.backend_util.computePool2DInfo([n, h, w, c], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode)
  const { top, left, bottom, right } = info.padInfo
  const [sh, sw, fh, fw, oh, ow] = [info.strideHeight, info.strideWidth, info.filterHeight, info.filterWidth, info.outHeight, info.outWidth]
  const hp = h + top + bottom
  const wp = w + left + right
  const xp = top + bottom + left + right > 0 ? tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]], Number.NEGATIVE_INFINITY) : x
  let taken = tf.zerosLike(y).cast('bool')
  let total: tf.Tensor = tf.zeros([n, hp, wp, c])
  for (let i = 0; i < fh; i++) {
    for (let j = 0; j < fw; j++) {
      const patch = tf.stridedSlice(xp, [0, i, j, 0], [n, i + sh * (oh - 1) + 1, j + sw * (ow - 1) + 1, c], [1, sh, sw, 1])
      const hit = tf.logicalAnd(tf.equal(patch, y), tf.logicalNot(taken))
      taken = tf.logicalOr(taken, hit)
      const part = tf.mul(dy, tf.cast(hit, 'float32'))
      // Spread to rows i + sh·r and columns j + sw·q of the padded input: columns first, then rows,
      // each a rank-4 pad (tfjs-backend-webgpu cannot compile a rank-6 pad: WGSL has no vec6).
      const cols = tf.reshape(tf.pad(tf.reshape(part, [n * oh, ow, 1, c]), [[0, 0], [0, 0], [0, sw - 1], [0, 0]]), [n, oh, 1, ow * sw * c])
      const spread = tf.reshape(tf.pad(cols, [[0, 0], [0, 0], [0, sh - 1], [0, 0]]), [n, oh * sh, ow * sw, c])
      const fitH = Math.min(oh * sh, hp - i)
      const fitW = Math.min(ow * sw, wp - j)
      const cropped = tf.slice(spread, [0, 0, 0, 0], [n, fitH, fitW, c])
      total = tf.add(total, tf.pad(cropped, [[0, 0], [i, hp - i - fitH], [j, wp - j - fitW], [0, 0]]))
    }
  }
  return tf.slice(total, [0, top, left, 0], [n, h, w, c])
}
