/**
 * Model-parameter randomisation test (Adebayo, Gilmer, Muelly, Goodfellow, Hardt & Kim 2018,
 * "Sanity checks for saliency maps", arXiv:1810.03292), cascading form: for k = 0 … L the method
 * explains the model with its last k parameterised layers re-initialised (top layer first), and each
 * explanation is compared with the original one, per example,
 *
 *   s_k(x) = sim(|e_θ(x)|, |e_{θ_k}(x)|),   s_0 = 1,
 *
 * with Spearman's rank correlation (default) or Pearson's. An explanation that depends on the
 * model's parameters decorrelates as layers are randomised (lower is better); one that ignores the
 * model (an edge detector, the input itself) stays near 1 and fails the check. `passed` is true
 * when the mean similarity with every listed layer randomised is below `maxSimilarity` (default 0.5).
 *
 * The randomised models come from a backend through {@link ModelVariants}: `onnxModelVariants`
 * (initializers of Gemm/MatMul/Conv and their biases, graph order) or `tfjsModelVariants` (layers of
 * a LayersModel that have weights). Re-initialisation draws N(0, σ²) with each tensor's original σ
 * (see `core/reinit.ts`), seeded by `seed`.
 *
 * Quantus: `quantus.ModelParameterRandomisation` (not in Captum).
 *
 * @category metrics
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { attribute, type CallOptions } from '../../api/attribute.js'
import type { TensorLike } from '../../api/callData.js'
import type { Model } from '../../core/backend.js'
import { Integer, decodeWith } from '../../core/codecs.js'
import { err, type AttributionError } from '../../core/errors.js'
import type { HostTensor } from '../../core/tensor.js'
import type { Pipeline } from '../../dsl/spec.js'
import { SimilarityName, similarityPerExample } from './similarity.js'

/** What a backend gives the randomisation test: the model's parameterised layers and randomised copies. */
export interface ModelVariants<T> {
  /** The parameterised layers, in forward (graph) order. */
  readonly layers: readonly string[]
  /**
   * A copy of the model with the parameters of `layers` re-initialised from `seed` (the same
   * layer always gets the same values for one seed); the caller disposes it. An unknown layer is an
   * `UnknownTensor` error.
   */
  readonly randomized: (layers: readonly string[], seed: number) => Promise<E.Either<AttributionError, Model<T>>>
}

const Similarity = t.refinement(t.number, (n) => Number.isFinite(n) && n >= -1 && n <= 1, 'a number in [-1, 1]')

export const ModelParameterRandomisationOptions = t.readonly(
  t.partial({
    /** Seed of the re-initialisation (default 0). */
    seed: Integer,
    similarity: SimilarityName,
    /** Compare |attributions| (default true, as Adebayo et al.). */
    absolute: t.boolean,
    /** The layers to randomise, a subset of `variants.layers` (default all); randomised top-down in graph order. */
    layers: t.readonlyArray(t.string),
    /** The check passes when the mean similarity with every layer randomised is below this (default 0.5). */
    maxSimilarity: Similarity,
  }),
  'ModelParameterRandomisationOptions',
)
export type ModelParameterRandomisationOptions = t.TypeOf<typeof ModelParameterRandomisationOptions>

export const modelParameterRandomisationDefaults = { seed: 0, similarity: 'spearman', absolute: true, maxSimilarity: 0.5 } as const

export interface ModelParameterRandomisationResult {
  /** The layers in the order they are randomised: step k has `randomised.slice(0, k)` re-initialised (top layer first). */
  readonly randomised: readonly string[]
  /** Similarity to the original explanation, float32 `[L + 1, N]`: row k after k layers (row 0 is 1). */
  readonly similarity: HostTensor<'float32'>
  /** The mean over examples per step (length L + 1). */
  readonly meanSimilarity: readonly number[]
  /** Whether the explanation passed: the last step's mean similarity is below `maxSimilarity`. */
  readonly passed: boolean
}

/**
 * Runs the cascading randomisation test of `method` on `model` (whose randomised copies `variants`
 * makes) at `inputs`. `call` are the options of every `attribute` call (target, baselines, seed of
 * the method, …). Never throws: errors are in the Left.
 */
export const modelParameterRandomisation = <T>(
  method: Pipeline,
  model: Model<T>,
  variants: ModelVariants<T>,
  inputs: TensorLike<T> | readonly TensorLike<T>[],
  options: ModelParameterRandomisationOptions = {},
  call: CallOptions<T> = {},
): TE.TaskEither<AttributionError, ModelParameterRandomisationResult> => async () => {
  const decoded = decodeWith(ModelParameterRandomisationOptions, options)
  if (E.isLeft(decoded)) return decoded
  const o = { ...modelParameterRandomisationDefaults, ...decoded.right }
  if (variants.layers.length === 0) {
    return E.left(err('BadModel', 'the model has no parameterised layers (no weights to randomise), so the randomisation test cannot run', ['model']))
  }
  const chosen = o.layers ?? variants.layers
  const unknown = chosen.filter((l) => !variants.layers.includes(l))
  if (unknown.length > 0) {
    return E.left(err('UnknownTensor', `not parameterised layers of this model: ${unknown.map((l) => JSON.stringify(l)).join(', ')}; its parameterised layers: ${variants.layers.map((l) => JSON.stringify(l)).join(', ')}`, ['layers']))
  }
  if (chosen.length === 0) return E.left(err('BadModel', 'options.layers is empty: name at least one parameterised layer to randomise', ['layers']))
  // top-down: the last layer in graph order first
  const randomised = variants.layers.filter((l) => chosen.includes(l)).reverse()
  const original = await attribute(method, model, inputs, call)()
  if (E.isLeft(original)) return original
  const base = original.right.attributions
  const n = base[0]?.shape[0] ?? 0
  const rows: Float32Array[] = []
  const first = similarityPerExample(base, base, o.similarity, o.absolute)
  if (E.isLeft(first)) return first
  rows.push(first.right)
  for (let k = 1; k <= randomised.length; k++) {
    const variant = await variants.randomized(randomised.slice(0, k), o.seed)
    if (E.isLeft(variant)) return variant
    try {
      const r = await attribute(method, variant.right, inputs, call)()
      if (E.isLeft(r)) return r
      const s = similarityPerExample(base, r.right.attributions, o.similarity, o.absolute)
      if (E.isLeft(s)) return s
      rows.push(s.right)
    } finally {
      await variant.right.dispose()
    }
  }
  const data = new Float32Array(rows.length * n)
  rows.forEach((r, k) => data.set(r, k * n))
  const meanSimilarity = rows.map((r) => (n === 0 ? 1 : r.reduce((s, v) => s + v, 0) / n))
  return E.right({
    randomised,
    similarity: { dtype: 'float32', shape: [rows.length, n], data },
    meanSimilarity,
    passed: meanSimilarity[meanSimilarity.length - 1]! < o.maxSimilarity,
  })
}
