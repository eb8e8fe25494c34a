/**
 * The training loss TracIn differentiates, as data, and its gradient w.r.t. the model output per
 * example. Every TracIn score is built from per-example gradients ∇θ L(zᵢ), whatever the loss's
 * reduction: Captum asks for `reduction='none'` (one loss per example), or `'sum'` / `'mean'` with
 * its sample-wise path, where it multiplies a `'mean'` loss's gradients by the batch size. All three
 * give the same per-example gradients, and so do they here; the reduction is kept so that a Captum
 * configuration reads the same.
 *
 * @category influence
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../core/errors.js'
import { sizeOf, type HostTensor } from '../core/tensor.js'

/** torch's loss reductions (Captum's conventions; see the module note: scores do not depend on them). */
const Reduction = t.union([t.literal('none'), t.literal('sum'), t.literal('mean')], 'InfluenceLossReduction')

/**
 * A training loss on the model output (the same tagged form as the attacks' `Loss`, src/robust):
 * - `crossEntropy`: torch's `CrossEntropyLoss`, on logits [rows, classes] with integer class labels [rows]:
 *   Lᵢ = logsumexp(zᵢ) − zᵢ[yᵢ], so ∂Lᵢ/∂zᵢ = softmax(zᵢ) − onehot(yᵢ);
 * - `mse`: torch's `MSELoss`, with float labels shaped like the output: Lᵢ = Σ (zᵢ − yᵢ)² over the row
 *   ('none' and 'sum'); with 'mean' torch divides by every element and Captum multiplies back by the
 *   rows, so each row's loss is divided by its element count.
 */
export const InfluenceLoss = t.readonly(
  t.type({
    _tag: t.union([t.literal('crossEntropy'), t.literal('mse')]),
    reduction: Reduction,
  }),
  'InfluenceLoss',
)
export type InfluenceLoss = t.TypeOf<typeof InfluenceLoss>

const labelAt = (labels: HostTensor, i: number): number => Number(labels.data[i])

/**
 * ∂Lᵢ/∂zᵢ for every row of `output` (float64, row-major, shaped like `output`): the cotangent that
 * seeds the model output so that one backward pass gives Σᵢ ∇θ Lᵢ, and, per row, the gradient at the
 * output layer. `path` locates the labels in error messages.
 */
export const lossGrad = (loss: InfluenceLoss, output: HostTensor, labels: HostTensor, path: readonly string[]): E.Either<AttributionError, Float64Array> => {
  const rows = output.shape[0] ?? 0
  const per = rows === 0 ? 0 : sizeOf(output.shape) / rows
  const z = output.data
  const out = new Float64Array(rows * per)
  if (loss._tag === 'crossEntropy') {
    if (output.shape.length !== 2) return E.left(err('ShapeMismatch', `the crossEntropy loss needs the model output to be logits [rows, classes]; got shape [${output.shape.join(', ')}]`, ['loss']))
    if (labels.dtype === 'float32' || labels.dtype === 'bool' || labels.shape.length !== 1 || labels.shape[0] !== rows) {
      return E.left(err('ShapeMismatch', `the crossEntropy loss needs one integer class label per row (shape [${rows}], int32 or int64); got ${labels.dtype} [${labels.shape.join(', ')}]`, path))
    }
    for (let i = 0; i < rows; i++) {
      const y = labelAt(labels, i)
      if (!Number.isInteger(y) || y < 0 || y >= per) {
        return E.left(err('BadTarget', `label ${i} is ${y}, but the model has ${per} classes (labels are 0 … ${per - 1})`, [...path, String(i)]))
      }
      let m = -Infinity
      for (let c = 0; c < per; c++) m = Math.max(m, Number(z[i * per + c]))
      let s = 0
      for (let c = 0; c < per; c++) s += Math.exp(Number(z[i * per + c]) - m)
      for (let c = 0; c < per; c++) out[i * per + c] = Math.exp(Number(z[i * per + c]) - m) / s - (c === y ? 1 : 0)
    }
    return E.right(out)
  }
  if (labels.dtype !== 'float32' || sizeOf(labels.shape) !== rows * per || labels.shape[0] !== rows) {
    return E.left(err('ShapeMismatch', `the mse loss needs float32 labels shaped like the model output [${output.shape.join(', ')}]; got ${labels.dtype} [${labels.shape.join(', ')}]`, path))
  }
  const k = loss.reduction === 'mean' ? 2 / per : 2
  for (let j = 0; j < rows * per; j++) out[j] = k * (Number(z[j]) - Number(labels.data[j]))
  return E.right(out)
}
