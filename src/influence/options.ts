/**
 * The options and result types of the TracIn functions (see `tracIn.ts`).
 *
 * @category influence
 * @since 0.6.0
 */
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import type { Model } from '../core/backend.js'
import { Integer, PositiveInt } from '../core/codecs.js'
import type { AttributionError } from '../core/errors.js'
import type { HostTensor } from '../core/tensor.js'
import { InfluenceLoss } from './loss.js'

/** One saved training state: the model at that checkpoint and the learning rate that followed it (Captum's default 1). */
export interface Checkpoint<T> {
  readonly model: Model<T>
  readonly learningRate: number
}

/** Examples for influence: the model inputs (one tensor, or all of them in order) and one label per row. */
export interface InfluenceData {
  readonly inputs: HostTensor | readonly HostTensor[]
  readonly labels: HostTensor
}

const common = {
  /** The training loss (default `{ _tag: 'crossEntropy', reduction: 'sum' }`); Captum: `loss_fn`. */
  loss: InfluenceLoss,
  /** The loss on test examples (default: `loss`); Captum: `test_loss_fn`. */
  testLoss: InfluenceLoss,
  /** Rows per model call (default 32); Captum: `batch_size` (default 1). Scores do not depend on it. */
  batchSize: PositiveInt,
  /** Return NaN/Infinity instead of a `NonFinite` error (default false). */
  allowNonFinite: t.boolean,
}

/** Options of {@link tracInCP}. */
export const TracInCPOptions = t.readonly(
  t.partial({
    ...common,
    /** Parameter names (from `signature.parameters`) whose gradients count; default all. Captum: `layers` (modules). */
    parameters: t.readonlyArray(t.string),
    /**
     * True (default): factorised per-example gradients from one batched backward pass where the layer
     * allows it (fully-connected weights and biases), one backward pass per example elsewhere.
     * False: one backward pass per example for every parameter. Same scores. Captum: `sample_wise_grads_per_batch`.
     */
    sampleWiseGradsPerBatch: t.boolean,
  }),
  'TracInCPOptions',
)
export type TracInCPOptions = t.TypeOf<typeof TracInCPOptions>

/** Options of {@link tracInCPFast}. */
export const TracInCPFastOptions = t.readonly(
  t.intersection([
    t.type({
      /** The final fully-connected layer: its weight parameter (e.g. `fc3.weight`) or its output tensor. Captum: `final_fc_layer`. */
      finalFcLayer: t.string,
    }),
    t.partial(common),
  ]),
  'TracInCPFastOptions',
)
export type TracInCPFastOptions = t.TypeOf<typeof TracInCPFastOptions>

/** Options of {@link tracInCPFastRandProj}. */
export const TracInCPFastRandProjOptions = t.readonly(
  t.intersection([
    t.type({ finalFcLayer: t.string }),
    t.partial({
      ...common,
      /** Numbers per training example's embedding over all checkpoints (default null: no projection, exact scores). */
      projectionDim: t.union([PositiveInt, t.null]),
      /** Seed of the projections (default 0). */
      seed: Integer,
    }),
  ]),
  'TracInCPFastRandProjOptions',
)
export type TracInCPFastRandProjOptions = t.TypeOf<typeof TracInCPFastRandProjOptions>

/** Options of `influence` (Captum: `aggregate`: sum the test examples' gradients first, giving one row). */
export const InfluenceOptions = t.readonly(t.partial({ aggregate: t.boolean }), 'InfluenceOptions')
export type InfluenceOptions = t.TypeOf<typeof InfluenceOptions>

/** Options of `topK`: `k` per test example; `proponents` (default true) the largest scores, else the smallest (opponents). */
export const TopKOptions = t.readonly(
  t.intersection([t.type({ k: PositiveInt }), t.partial({ proponents: t.boolean, aggregate: t.boolean })]),
  'TopKOptions',
)
export type TopKOptions = t.TypeOf<typeof TopKOptions>

/** The k most influential training examples per test example (Captum's `KMostInfluentialResults`). */
export interface KMostInfluential {
  /** Training-set row indices [n_test, k], most positive first (proponents) or most negative first (opponents). */
  readonly indices: HostTensor<'int64'>
  /** Their scores [n_test, k]. */
  readonly influenceScores: HostTensor<'float32'>
}

/** Influence queries against a fixed training set. */
export interface TracInRandProj {
  /** Scores [n_test, n_train] (or [1, n_train] with `aggregate`). */
  readonly influence: (test: InfluenceData, options?: InfluenceOptions) => TaskEither<AttributionError, HostTensor<'float32'>>
  /** The top `k` proponents (or opponents) per test example. */
  readonly topK: (test: InfluenceData, options: TopKOptions) => TaskEither<AttributionError, KMostInfluential>
}

export interface TracIn extends TracInRandProj {
  /** Σ_c η_c ‖∇θ L(z; θ_c)‖² for every row of `data` (default: the training set), shape [rows]. */
  readonly selfInfluence: (data?: InfluenceData) => TaskEither<AttributionError, HostTensor<'float32'>>
}
