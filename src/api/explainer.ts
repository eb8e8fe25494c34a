/**
 * What every Captum-style class shares: the {@link Explainer} contract (a model plus the pipeline
 * its options describe, which is what NoiseTunnel wraps) and the helpers that run a pipeline and
 * shape its result like the inputs.
 *
 * @category api
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as t from 'io-ts'
import type { Model } from '../core/backend.js'
import { decodeWith } from '../core/codecs.js'
import { ClarusError } from '../core/errors.js'
import type { HostTensor } from '../core/tensor.js'
import { LayerSelection } from '../dsl/layers.js'
import type { Plugins } from '../dsl/perturbation/plugins.js'
import type { AttributionResult } from '../dsl/run.js'
import type { Pipeline } from '../dsl/spec.js'
import { attribute, type CallOptions } from './attribute.js'
import type { TensorLike } from './callData.js'

/** A result mirroring the inputs' container. */
export type Mirrored<I> = I extends readonly unknown[] ? HostTensor[] : HostTensor

/** One tensor or a list of tensors, as the classes take them. */
export type Inputs<T> = TensorLike<T> | readonly TensorLike<T>[]

/**
 * A configured attribution method: its model, and the pipeline it runs for a call's options.
 * Every class in `api/` is one, so wrappers such as {@link NoiseTunnel} take any of them.
 */
export interface Explainer<T> {
  readonly model: Model<T>
  /**
   * Type-level only (never set at run time): layer classes declare `'layer'`, so wrappers such as
   * {@link NoiseTunnel} type their results as the layer's (one tensor, or a list for a list of
   * layers); classes that declare nothing give results shaped like their inputs.
   */
  readonly resultKind?: 'inputs' | 'layer'
  /** The pipeline for these call options (method options such as `nSteps`; call data is ignored). */
  pipelineFor(options: object): Pipeline
  /** Call-time plug-ins the pipeline refers to by name (LimeBase's functions). */
  readonly plugins?: Plugins
}

/** Runs `method`; a failure throws a {@link ClarusError} carrying the typed error. */
export const runOrThrow = async <T>(method: Pipeline, model: Model<T>, inputs: Inputs<T>, options: CallOptions<T>): Promise<AttributionResult> => {
  const r = await attribute(method, model, inputs, options)()
  if (E.isLeft(r)) throw new ClarusError(r.left)
  return r.right
}

/** The attributions in the inputs' container: one tensor in → one tensor out; a list in → a list out. */
export const mirror = <I>(inputs: I, attrs: readonly HostTensor[]): Mirrored<I> =>
  (Array.isArray(inputs) ? [...attrs] : attrs[0]) as Mirrored<I>

/** A layer method's result: one tensor for one layer (a string), one per layer, in order, for a list. */
export type LayerResult<L> = L extends string ? HostTensor : HostTensor[]

/** The attributions shaped like the `layer` the caller gave: a string → one tensor, a list → a list. */
export const layerResult = <L extends LayerSelection>(layer: L, attrs: readonly HostTensor[]): LayerResult<L> =>
  (typeof layer === 'string' ? attrs[0] : [...attrs]) as LayerResult<L>

/** A class's `layer` argument, checked: an empty list, a duplicate or a non-string throws a {@link ClarusError} (InvalidSpec at `layer`). */
export const checkedLayer = <L extends LayerSelection>(layer: L): L => {
  const r = decodeWith(LayerSelection, layer, ['layer'])
  if (E.isLeft(r)) throw new ClarusError(r.left)
  return layer
}

/** Options decoded with their codec; bad options throw a {@link ClarusError} with the InvalidSpec. */
export const checked = <A>(codec: t.Decoder<unknown, A>, u: unknown): A => {
  const r = decodeWith(codec, u)
  if (E.isLeft(r)) throw new ClarusError(r.left)
  return r.right
}

/** The entries of `o` named in `keys` that are set. */
export const pick = (o: object, keys: readonly string[]): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).filter(([k, v]) => keys.includes(k) && v !== undefined))
