/**
 * Per-token attributions for text models. A text model takes integer token ids, which cannot be
 * differentiated, so the attribution is taken at the embedding output instead (Layer Integrated
 * Gradients): the embedding of every token moves along a straight line from the embedding of a
 * reference sequence (padding, by default token id 0) to its own, and each token's score is the sum
 * of its embedding dimensions' attributions. This is the recipe of Captum's text tutorials, packaged
 * so that it is one call:
 *
 * ```ts
 * const [ex] = await attributeTokens(model, ids, { layer: '/embedding/Gather_output_0', target: 1 })
 * ex.tokens.forEach((tok, i) => console.log(tok, ex.scores[i]))
 * ```
 *
 * The scores are complete: Σ_tokens score = F(ids) − F(reference) − delta, where `delta` is the
 * quadrature error Captum reports as the convergence delta (it shrinks as `nSteps` grows).
 *
 * @category api
 * @since 0.2.0
 */
import * as t from 'io-ts'
import type { Model } from '../core/backend.js'
import { Integer, PositiveInt } from '../core/codecs.js'
import { ClarusError, err } from '../core/errors.js'
import { elementAt, int32, int64, type HostTensor } from '../core/tensor.js'
import { layerIntegratedGradients } from '../algorithms/layerIntegratedGradients.js'
import { QuadratureRule } from '../dsl/quadratureRules.js'
import type { CallOptions } from './attribute.js'
import { checked, runOrThrow } from './explainer.js'

/** Options of {@link attributeTokens} that shape the method (validated; call options come beside them). */
export const TokenAttributionOptions = t.readonly(
  t.intersection([
    t.type({
      /** The embedding output: the tensor (ONNX tensor name, tfjs layer or tap) holding one vector per token. */
      layer: t.string,
    }),
    t.partial({
      /** The token id the reference sequence is made of (default 0, usually padding). */
      baselineToken: Integer,
      /** Token ids kept as they are in the reference (e.g. [CLS], [SEP], BOS), so they get no credit for being there. */
      keepTokens: t.readonlyArray(Integer),
      nSteps: PositiveInt,
      method: QuadratureRule,
      /** Text of each token id, for display; ids without an entry are shown as `#id`. */
      vocabulary: t.readonlyArray(t.string),
    }),
  ]),
  'TokenAttributionOptions',
)
export type TokenAttributionOptions = t.TypeOf<typeof TokenAttributionOptions>

/** The call options {@link attributeTokens} passes on (baselines are built from `baselineToken`). */
export type TokenCallOptions<T> = Omit<CallOptions<T>, 'baselines' | 'featureMask' | 'perturbationsPerEval' | 'plugins'>

/** One example's explanation, token by token. */
export interface TokenExplanation {
  /** The token ids of the example, in order. */
  readonly ids: readonly number[]
  /** Display text per token (`vocabulary[id]`, or `#id`). */
  readonly tokens: readonly string[]
  /** Attribution per token: the layer attribution summed over the token's embedding dimensions. */
  readonly scores: readonly number[]
  /** Σ scores − (F(ids) − F(reference)) for this example: the quadrature error. */
  readonly delta: number
}

/** What {@link attributeTokens} returns: one explanation per example, and the raw layer attribution. */
export interface TokenAttributions extends ReadonlyArray<TokenExplanation> {
  /** The layer attribution itself, shaped like the layer (e.g. [N, L, d]). */
  readonly layerAttribution: HostTensor
}

const isInteger = (d: HostTensor['dtype']): boolean => d === 'int32' || d === 'int64'

const withDType = (ids: HostTensor, dtype: 'int32' | 'int64'): HostTensor => {
  const values = Array.from({ length: ids.data.length }, (_, i) => elementAt(ids, i))
  return dtype === 'int64' ? int64(ids.shape, values) : int32(ids.shape, values)
}

/** The reference sequence: `baselineToken` everywhere except at the ids in `keep`. */
const referenceOf = (ids: HostTensor, baselineToken: number, keep: ReadonlySet<number>): HostTensor => {
  const n = ids.data.length
  if (ids.dtype === 'int64') {
    const data = new BigInt64Array(n)
    for (let i = 0; i < n; i++) data[i] = keep.has(elementAt(ids, i)) ? (ids.data as BigInt64Array)[i]! : BigInt(baselineToken)
    return { dtype: 'int64', shape: [...ids.shape], data }
  }
  const data = new Int32Array(n)
  for (let i = 0; i < n; i++) data[i] = keep.has(elementAt(ids, i)) ? elementAt(ids, i) : baselineToken
  return { dtype: 'int32', shape: [...ids.shape], data }
}

/**
 * Explains a text model's prediction token by token: Layer Integrated Gradients at the embedding
 * output `layer`, with a reference sequence of `baselineToken` (default 0) except for `keepTokens`,
 * summed over each token's embedding dimensions. `ids` is an int32 or int64 host tensor [N, L]
 * (converted to the integer type the model's first input declares);
 * the layer must have the token axis at dimension 1 (shape [N, L, …]). Captum's defaults apply
 * (50 Gauss–Legendre steps). Bad options and shapes throw a {@link ClarusError}.
 */
export const attributeTokens = async <T>(
  model: Model<T>,
  ids: HostTensor,
  options: TokenAttributionOptions & TokenCallOptions<T>,
): Promise<TokenAttributions> => {
  const o = checked(TokenAttributionOptions, options)
  if (!isInteger(ids.dtype) || ids.shape.length !== 2) {
    throw new ClarusError(err('ShapeMismatch', `attributeTokens: ids must be an int32 or int64 tensor [N, L] of token ids, got ${ids.dtype} [${ids.shape.join(', ')}]`, ['inputs']))
  }
  // Token ids are often built as plain numbers (int32) while exported graphs take int64: follow the model.
  const declared = model.signature.inputs[0]?.dtype
  if (declared !== undefined && isInteger(declared) && declared !== ids.dtype) ids = withDType(ids, declared as 'int32' | 'int64')
  const [n, len] = [ids.shape[0]!, ids.shape[1]!]
  const reference = referenceOf(ids, o.baselineToken ?? 0, new Set(o.keepTokens ?? []))
  const { layer, baselineToken: _b, keepTokens: _k, nSteps, method, vocabulary, ...call } = { ...options, ...o }
  const r = await runOrThrow(
    layerIntegratedGradients({ layer: o.layer, returnConvergenceDelta: true, ...(nSteps !== undefined ? { nSteps } : {}), ...(method !== undefined ? { method } : {}) }),
    model,
    ids,
    { ...call, baselines: reference },
  )
  const attr = r.attributions[0]!
  if (attr.shape.length < 2 || attr.shape[0] !== n || attr.shape[1] !== len) {
    throw new ClarusError(err('ShapeMismatch', `attributeTokens: layer ${JSON.stringify(layer)} has shape [${attr.shape.join(', ')}], not one vector per token [${n}, ${len}, …]: name the embedding output`, ['layer']))
  }
  const width = attr.shape.slice(2).reduce((a, b) => a * b, 1)
  const examples: TokenExplanation[] = Array.from({ length: n }, (_, e) => {
    const tokenIds = Array.from({ length: len }, (_, i) => elementAt(ids, e * len + i))
    const scores = tokenIds.map((_, i) => {
      let s = 0
      for (let k = 0; k < width; k++) s += elementAt(attr, (e * len + i) * width + k)
      return s
    })
    return {
      ids: tokenIds,
      tokens: tokenIds.map((id) => vocabulary?.[id] ?? `#${id}`),
      scores,
      delta: r.delta !== undefined ? elementAt(r.delta, e) : Number.NaN,
    }
  })
  return Object.assign(examples, { layerAttribution: attr })
}
