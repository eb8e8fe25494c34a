/**
 * Random logit test (Sixt, Granz & Landgraf 2020, "When explanations lie: why many modified BP
 * attributions fail", arXiv:1912.09818): the similarity between the explanation of the predicted
 * class ĉ = argmax F(x) and that of another class c ≠ ĉ drawn uniformly (seeded, per example),
 *
 *   RL(x) = sim(|e(x; ĉ)|, |e(x; c)|),
 *
 * with Spearman's rank correlation (default) or Pearson's; lower is better (an explanation that
 * does not depend on the class explained is not explaining the class).
 *
 * Quantus: `quantus.RandomLogit` (not in Captum). The model's output must be `[N, C]` with C ≥ 2;
 * the call's own `target` is not used (the test chooses both targets).
 *
 * @category metrics
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { attribute, type CallOptions } from '../../api/attribute.js'
import { toBackend, type Owned, type TensorLike } from '../../api/callData.js'
import { disposeAll, type Model } from '../../core/backend.js'
import { Integer, decodeWith, isHostTensor } from '../../core/codecs.js'
import { err, type AttributionError } from '../../core/errors.js'
import { foldIn, keyOf, uniforms } from '../../core/random.js'
import type { HostTensor } from '../../core/tensor.js'
import type { Pipeline } from '../../dsl/spec.js'
import { SimilarityName, similarityPerExample } from './similarity.js'

export const RandomLogitOptions = t.readonly(
  t.partial({ seed: Integer, similarity: SimilarityName, absolute: t.boolean }),
  'RandomLogitOptions',
)
export type RandomLogitOptions = t.TypeOf<typeof RandomLogitOptions>

export const randomLogitDefaults = { seed: 0, similarity: 'spearman', absolute: true } as const

export interface RandomLogitResult {
  /** One similarity per example, float32 `[N]` (lower is better). */
  readonly scores: HostTensor<'float32'>
  /** The predicted class per example. */
  readonly predicted: readonly number[]
  /** The randomly chosen other class per example. */
  readonly other: readonly number[]
}

/** The other class for example `i`: uniform over the C − 1 classes other than `predicted`. */
export const otherClass = (seed: number, i: number, predicted: number, classes: number): number => {
  const j = Math.min(classes - 2, Math.floor(uniforms(foldIn(keyOf(seed), i), 1)[0]! * (classes - 1)))
  return j >= predicted ? j + 1 : j
}

const asList = <T>(x: TensorLike<T> | readonly TensorLike<T>[] | undefined, isOne: (u: unknown) => boolean): readonly TensorLike<T>[] =>
  x === undefined ? [] : Array.isArray(x) && !isOne(x) ? (x as readonly TensorLike<T>[]) : [x as TensorLike<T>]

/** Runs the random logit test of `method` on `model` at `inputs`. Never throws: errors are in the Left. */
export const randomLogit = <T>(
  method: Pipeline,
  model: Model<T>,
  inputs: TensorLike<T> | readonly TensorLike<T>[],
  options: RandomLogitOptions = {},
  call: Omit<CallOptions<T>, 'target'> = {},
): TE.TaskEither<AttributionError, RandomLogitResult> => async () => {
  const decoded = decodeWith(RandomLogitOptions, options)
  if (E.isLeft(decoded)) return decoded
  const o = { ...randomLogitDefaults, ...decoded.right }
  if ((call as CallOptions<T>).target !== undefined) {
    return E.left(err('BadTarget', 'the random logit test chooses its own targets (the predicted class and a random other one): leave target out', ['target']))
  }
  const backend = model.backend
  const isOne = (u: unknown): boolean => backend.isTensor(u) || isHostTensor(u)
  const owned: Owned<T> = { list: [] }
  let output: HostTensor
  try {
    const xs = [...asList(inputs, isOne), ...asList(call.additionalForwardArgs, isOne)]
    if (xs.some((x) => !isOne(x))) return E.left(err('ShapeMismatch', 'inputs and additionalForwardArgs must be tensors (backend tensors or host tensors {dtype, shape, data})', ['inputs']))
    const f = await model.forward(xs.map((x) => toBackend(backend, owned, x)))()
    if (E.isLeft(f)) return f
    try {
      output = await backend.toHost(f.right.output)
    } finally {
      disposeAll(backend, [f.right.output, ...Object.values(f.right.captured)])
    }
  } finally {
    disposeAll(backend, owned.list)
  }
  if (output.shape.length !== 2 || (output.shape[1] ?? 0) < 2) {
    return E.left(err('BadTarget', `the random logit test needs class scores of shape [N, C] with C ≥ 2; this model's output has shape [${output.shape.join(', ')}]`, ['model']))
  }
  const [n, c] = output.shape as [number, number]
  const predicted: number[] = []
  for (let i = 0; i < n; i++) {
    let best = 0
    for (let j = 1; j < c; j++) if (Number(output.data[i * c + j]) > Number(output.data[i * c + best])) best = j
    predicted.push(best)
  }
  const other = predicted.map((p, i) => otherClass(o.seed, i, p, c))
  const a = await attribute(method, model, inputs, { ...call, target: predicted })()
  if (E.isLeft(a)) return a
  const b = await attribute(method, model, inputs, { ...call, target: other })()
  if (E.isLeft(b)) return b
  const s = similarityPerExample(a.right.attributions, b.right.attributions, o.similarity, o.absolute)
  if (E.isLeft(s)) return s
  return E.right({ scores: { dtype: 'float32', shape: [n], data: s.right }, predicted, other })
}
