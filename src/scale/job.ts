/**
 * A dataset job as data: which method, which model, which call options, how to split it. Jobs,
 * the units and tasks they are split into, and the partial results tasks return are plain data, so
 * they travel between threads (structured clone) and machines (JSON, {@link encodeWire}).
 *
 * A job is split into **units**, consecutive runs of examples (`examplesPerTask` each), and a unit
 * whose method expands a long axis (IG's steps, Shapley sampling's permutations, occlusion windows)
 * can be split further into **spans** of that axis (`entriesPerTask`): each span is a task that
 * returns its reducer's partial result, and one finishing task combines them in order and runs the
 * rest of the pipeline. Row keys follow the examples' indices in the dataset and partial sums are
 * exact, so a job's results do not depend on where its tasks ran.
 *
 * @category scale
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { decodeWith, HostTensorCodec, Integer, PositiveInt } from '../core/codecs.js'
import { err, invalidSpec, type AttributionError } from '../core/errors.js'
import { Target } from '../core/target.js'
import type { HostTensor } from '../core/tensor.js'
import { buildMethod } from '../cli/spec.js'
import { CliError } from '../cli/args.js'
import { decodePipeline, isBatchDependent, type Pipeline } from '../dsl/spec.js'
import type { SpanPartial } from '../dsl/run.js'

/** What a job explains and how (validated with io-ts; every field but `spec` and `model` optional). */
export const JobSpec = t.readonly(
  t.intersection([
    t.type({
      /** The method: `{ method, options }` (a registered method) or a whole pipeline (`{ _tag: 'Pipeline', … }`). */
      spec: t.unknown,
      /** The model file (`.onnx`, or a tfjs `model.json` with its weights), as every worker sees it. */
      model: t.string,
    }),
    t.partial({
      /** The output to explain for examples that carry no target of their own (default: `null`, a single-output model). */
      target: Target,
      /** A constant baseline for every input element (methods with baselines; default 0). */
      baselines: t.number,
      /** Feature mask shared by every example (`[1, …]` per input; perturbation methods). */
      featureMask: t.readonlyArray(HostTensorCodec),
      /** Seed of the stochastic methods (default 0); draws are keyed by example index, not by task. */
      seed: Integer,
      /** Examples per unit of work (default 16). */
      examplesPerTask: PositiveInt,
      /** Split each unit's first expansion (steps, samples, perturbations) into spans of this many entries. */
      entriesPerTask: PositiveInt,
      internalBatchSize: PositiveInt,
      memoryBudgetBytes: PositiveInt,
      perturbationsPerEval: PositiveInt,
    }),
  ]),
  'JobSpec',
)
export type JobSpec = t.TypeOf<typeof JobSpec>

export const DEFAULT_EXAMPLES_PER_TASK = 16

/** A decoded job: its pipeline resolved and checked once. */
export interface Job {
  readonly id: string
  readonly spec: JobSpec
  readonly pipeline: Pipeline
  /** Whether the method's result for an example depends on the other examples of its batch (FeaturePermutation). */
  readonly batchDependent: boolean
}

/** One example of a dataset: one row per model input (`[1, …]` each), and optionally its own target. */
export interface Example {
  readonly inputs: readonly HostTensor[]
  readonly target?: number | readonly number[]
  /** A name carried into the results (a file name, a row number). */
  readonly id?: string
}

/** Consecutive examples `[start, start + n)` of a dataset, stacked, to be explained together. */
export interface Unit {
  readonly jobId: string
  /** The unit's number in the job (0, 1, …). */
  readonly index: number
  /** Dataset index of the first example. */
  readonly start: number
  readonly n: number
  /** One tensor per model input, `[n, …]`. */
  readonly inputs: readonly HostTensor[]
  /** Per-example targets (when examples carry their own), else absent (the job's target). */
  readonly targets?: readonly (number | readonly number[])[]
  readonly ids?: readonly (string | undefined)[]
}

/** A piece of work an executor runs: a whole unit, one span of its expansion, or a unit's finish from its spans. */
export type Task =
  | { readonly kind: 'whole'; readonly unit: Unit }
  | { readonly kind: 'span'; readonly unit: Unit; readonly start: number; readonly end: number }
  | { readonly kind: 'finish'; readonly unit: Unit; readonly spans: readonly SpanPartial[] }

/** The explanation of one unit: attributions `[n, …]` per input, and the convergence delta where the method has one. */
export interface UnitAttributions {
  readonly attributions: readonly HostTensor[]
  readonly delta?: HostTensor
  readonly modelRows: number
}

/** What a task returns: its result, or the error that failed it (a failed task is reported, never dropped). */
export type TaskOutcome =
  | { readonly ok: true; readonly kind: 'span'; readonly span: SpanPartial }
  | { readonly ok: true; readonly kind: 'unit'; readonly result: UnitAttributions }
  | { readonly ok: false; readonly error: AttributionError }

/** Resolves `spec.spec` to a pipeline: a registered method with options, or a pipeline given whole. */
export const resolvePipeline = (u: unknown): E.Either<AttributionError, Pipeline> => {
  if (typeof u === 'object' && u !== null && !Array.isArray(u) && (u as { _tag?: unknown })._tag === 'Pipeline') {
    return decodePipeline(u)
  }
  if (typeof u !== 'object' || u === null || Array.isArray(u) || typeof (u as { method?: unknown }).method !== 'string') {
    return E.left(invalidSpec([{ path: ['spec'], message: 'give { "method": <name>, "options": {…} } or a whole pipeline ({ "_tag": "Pipeline", … })' }]))
  }
  const { method, options } = u as { method: string; options?: unknown }
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    return E.left(invalidSpec([{ path: ['spec', 'options'], message: 'must be an object of the method\'s options' }]))
  }
  try {
    return E.right(buildMethod(method, (options ?? {}) as Record<string, unknown>, ['spec', 'options']).pipeline)
  } catch (e) {
    if (e instanceof CliError) return E.left(invalidSpec([{ path: ['spec'], message: e.message }]))
    throw e
  }
}

/** Decodes and checks a job spec (every bad field named), resolving its method once. */
export const decodeJob = (u: unknown, id?: string): E.Either<AttributionError, Job> => {
  const d = decodeWith(JobSpec, u)
  if (E.isLeft(d)) return d
  const p = resolvePipeline(d.right.spec)
  if (E.isLeft(p)) return p
  const batchDependent = isBatchDependent(p.right)
  if (batchDependent && d.right.examplesPerTask === undefined) {
    return E.left(err('BadPipeline', `${p.right.name} permutes features across the examples of a batch, so an example's result depends on which examples share its batch: ` +
      'set examplesPerTask to the batch size you mean (each unit is then one batch, as one call would be); its expansion may still be split with entriesPerTask, which is exact', ['examplesPerTask']))
  }
  return E.right({ id: id ?? `job-${globalThis.crypto.randomUUID()}`, spec: d.right, pipeline: p.right, batchDependent })
}
