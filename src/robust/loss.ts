/**
 * The loss an attack climbs (or, targeted, descends), given as the gradient it seeds on the model
 * output: every loss here is a function of the output row, so d loss / d x is one VJP of the model
 * with the seed d loss / d output (a linear seed on the logits gives the exact input gradient).
 *
 * - `crossEntropy`: torch's `CrossEntropyLoss` on the logits, ℓᵢ = −log softmax(zᵢ)[yᵢ]; seed
 *   softmax(zᵢ) − onehot(yᵢ). `reduction` `none` and `sum` differentiate Σᵢ ℓᵢ (Captum differentiates
 *   the sum of a per-example loss), `mean` differentiates Σᵢ ℓᵢ / N (only the zero threshold can tell).
 * - `negLogOutput`: Captum's default when `loss_func` is None: ℓᵢ = −log(outᵢ[yᵢ]), which assumes
 *   the outputs are probabilities; seed −1/outᵢ[yᵢ] at the label. On logits it still attacks (in the
 *   flipped direction where the selected logit is negative), as Captum does.
 * - `negOutput`: ℓᵢ = −outᵢ[yᵢ], i.e. the attack lowers the label's output (raises it when
 *   targeted); seed −onehot(yᵢ).
 * - a {@link LossGradientFn}: any loss, given as its gradient w.r.t. the output (the seed).
 *
 * Captum: `FGSM(forward_func, loss_func)`: `{ _tag: 'crossEntropy', reduction: 'none' }` is
 * `nn.CrossEntropyLoss(reduction='none')`, `negLogOutput` is `loss_func=None`. Captum fails on a
 * reduced (0-d) loss; clarus accepts `sum` and `mean`.
 *
 * @category robust
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../core/errors.js'
import type { HostTensor } from '../core/tensor.js'
import { f32, softmaxRows } from './hostMath.js'

export const LossReduction = t.union([t.literal('none'), t.literal('sum'), t.literal('mean')], 'LossReduction')
export type LossReduction = t.TypeOf<typeof LossReduction>

/** A loss as data (see the module doc). */
export const Loss = t.union(
  [
    t.readonly(t.type({ _tag: t.literal('crossEntropy'), reduction: LossReduction })),
    t.readonly(t.type({ _tag: t.literal('negLogOutput') })),
    t.readonly(t.type({ _tag: t.literal('negOutput') })),
  ],
  'Loss',
)
export type Loss = t.TypeOf<typeof Loss>

/**
 * Any loss, as the gradient of Σ (over this call's rows) loss w.r.t. the model output: gets the
 * output rows [rows, …] and their labels, returns a float32 tensor of the output's shape. It must
 * treat rows independently (attacks split big batches into chunks of rows).
 */
export type LossGradientFn = (output: HostTensor, labels: Int32Array) => HostTensor

/** Captum's FGSM/PGD `loss_func`: data, or a gradient function. */
export type LossOption = Loss | LossGradientFn
export const LossOption = t.union([Loss, t.Function], 'LossOption') as unknown as t.Type<LossOption, LossOption, unknown>

/** Cross-entropy with reduction 'none': what the fixtures use and the default of every attack here. */
export const defaultLoss: Loss = { _tag: 'crossEntropy', reduction: 'none' }

/**
 * The seed d loss / d output for these output rows and labels. `totalRows` is the size of the whole
 * batch (the divisor of a `mean` reduction when the batch is split into chunks).
 */
export const lossSeed = (loss: LossOption, output: HostTensor, labels: Int32Array, totalRows: number): E.Either<AttributionError, HostTensor> => {
  const rows = output.shape[0] ?? 0
  if (typeof loss === 'function') {
    const s = loss(output, labels)
    return s.shape.length === output.shape.length && s.shape.every((d, i) => d === output.shape[i]) && s.dtype === 'float32'
      ? E.right(s)
      : E.left(err('ShapeMismatch', `the loss gradient function returned a ${s.dtype} tensor of shape [${s.shape.join(', ')}]; it must return float32 d loss / d output, shaped like the output [${output.shape.join(', ')}]`, ['loss']))
  }
  if (output.shape.length !== 2) {
    return E.left(err('Unsupported', `the ${loss._tag} loss needs a 2-D output [rows, classes]; this model returns shape [${output.shape.join(', ')}]. Give the loss as a gradient function instead`, ['loss']))
  }
  const k = output.shape[1]!
  for (let r = 0; r < rows; r++) {
    const y = labels[r]!
    if (y < 0 || y >= k) return E.left(err('BadTarget', `label ${y} of example ${r} is out of range for ${k} classes (valid: 0..${k - 1})`, ['target']))
  }
  const seed = new Float32Array(rows * k)
  if (loss._tag === 'crossEntropy') {
    const p = softmaxRows(output)
    const scale = loss.reduction === 'mean' ? 1 / totalRows : 1
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < k; j++) seed[r * k + j] = (p[r * k + j]! - (j === labels[r] ? 1 : 0)) * scale
    }
  } else if (loss._tag === 'negLogOutput') {
    for (let r = 0; r < rows; r++) {
      const v = Number(output.data[r * k + labels[r]!])
      seed[r * k + labels[r]!] = -1 / v
    }
  } else {
    for (let r = 0; r < rows; r++) seed[r * k + labels[r]!] = -1
  }
  for (const v of seed) {
    if (!Number.isFinite(v)) return E.left(err('NonFinite', `the ${loss._tag} loss has a non-finite gradient on this output (e.g. −log of an output of 0); use crossEntropy on logits`, ['loss']))
  }
  return E.right(f32(output.shape, seed))
}
