/**
 * What {@link llmGradientAttribution} needs around the gradient core: the prompt positions of a
 * TextTokenInput's features and the embedding output of a causal LM.
 *
 * @category llm
 * @since 0.5.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Model } from '../core/backend.js'
import { err, invalidSpec, type AttributionError } from '../core/errors.js'
import type { InterpretableInput } from './inputs.js'
import type { Tokenizer } from './types.js'

/** A TextTokenInput as model ids: the prompt, its baseline prompt, and each feature's position. */
export interface TokenPositions {
  readonly promptIds: readonly number[]
  readonly baselineIds: readonly number[]
  readonly positions: readonly number[]
}

/**
 * The prompt position of every feature of a TextTokenInput. Gradient methods attribute positions
 * of the embedding, so only inputs whose features are single prompt tokens qualify (Captum's
 * LLMGradientAttribution takes TextTokenInput only). Skipped tokens are skipped by id, so a token
 * string among the labels is a feature wherever it occurs; the positions that the baseline changes
 * must be among them.
 */
export const tokenPositions = (input: InterpretableInput, tokenizer: Tokenizer): E.Either<AttributionError, TokenPositions> => {
  if (input._tag !== 'TextTokenInput') {
    return E.left(err('Unsupported', `gradient attribution works on token features (a TextTokenInput); a ${input._tag} has features that are not single prompt positions: use llmAttribution (perturbation methods) for it`, ['input']))
  }
  const ones = new Array<number>(input.nFeatures).fill(1)
  const promptIds = input.toIds(ones, tokenizer)
  const baselineIds = input.toIds(new Array<number>(input.nFeatures).fill(0), tokenizer)
  const labels = new Set(input.labels)
  const positions = promptIds.flatMap((id, p) => (labels.has(tokenizer.idToToken(id) ?? '') ? [p] : []))
  const consistent =
    baselineIds.length === promptIds.length &&
    positions.length === input.nFeatures &&
    positions.every((p, f) => tokenizer.idToToken(promptIds[p]!) === input.labels[f]) &&
    promptIds.every((id, p) => id === baselineIds[p] || positions.includes(p))
  return consistent
    ? E.right({ promptIds, baselineIds, positions })
    : E.left(err('Unsupported', 'cannot place the features of this TextTokenInput on prompt positions (was it built with this tokenizer?)', ['input']))
}

const EMBEDDING_OPS = new Set(['Gather', 'GatherV2', 'ResourceGather', 'Embedding'])

/** The model's embedding output: the one Gather / Embedding layer that reads the token ids directly. */
export const embeddingLayerOf = <T>(model: Model<T>): E.Either<AttributionError, string> => {
  const ids = model.signature.inputs[0]?.name
  const found = (model.signature.layerInfo ?? []).filter((l) => EMBEDDING_OPS.has(l.opType) && ids !== undefined && l.inputs.includes(ids)).map((l) => l.name)
  if (found.length === 1) return E.right(found[0]!)
  return E.left(
    invalidSpec([{
      path: ['layer'],
      message: found.length === 0
        ? `found no embedding lookup (Gather / Embedding) reading the input ${JSON.stringify(ids)}: give the embedding output as options.layer` +
          (model.signature.layers.length === 0 ? ' (this model exposes no internal tensors at all: a forward-only model, e.g. fromFunction or fromTransformers without modelPath / onnxFile, runs perturbation methods only)' : '')
        : `several embedding lookups read the token ids (${found.map((n) => JSON.stringify(n)).join(', ')}): name the one to attribute at in options.layer`,
    }]),
  )
}
