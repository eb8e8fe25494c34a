/**
 * `attribute`: run any method (a {@link Pipeline}) on any model, with Captum's call options.
 * This is the one function the Captum-style classes call; it never throws: failures are typed
 * errors in the Left of the returned TaskEither.
 *
 * @category api
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import type { Model } from '../core/backend.js'
import { decodeWith, Integer, PositiveInt, PositiveNumber } from '../core/codecs.js'
import type { AttributionError } from '../core/errors.js'
import { Target, type TargetFn } from '../core/target.js'
import type { Progress } from '../dsl/flow.js'
import { runPipeline, type AttributionResult } from '../dsl/run.js'
import type { Pipeline } from '../dsl/spec.js'
import { prepareBaselines, prepareInputs, type Baseline, type Owned, type TensorLike } from './callData.js'

/** Options every method call accepts (validated with {@link CallOptionsCodec}). */
export interface CallOptions<T> {
  /** Which output scalar to explain (see `Target`), or a reducer function on tfjs models. */
  readonly target?: Target | TargetFn<T>
  /** Baselines x′ for methods that use them; default zeros. */
  readonly baselines?: Baseline<T> | readonly Baseline<T>[]
  /** Extra model inputs after the attributed ones (never attributed); expanded with the rows. */
  readonly additionalForwardArgs?: TensorLike<T> | readonly TensorLike<T>[]
  /** Captum's internal_batch_size: rows per model call (steps per chunk = max(1, ⌊this/N⌋)). */
  readonly internalBatchSize?: number
  /** Working-memory budget for one chunk in bytes (default 512 MiB); chunks are planned from it. */
  readonly memoryBudgetBytes?: number
  /** Seed for stochastic methods (default 0). */
  readonly seed?: number
  readonly signal?: AbortSignal
  readonly onProgress?: (p: Progress) => void
}

/** io-ts codec for the scalar call options (tensors and functions are checked when used). */
export const CallOptionsCodec = t.partial({
  target: t.union([Target, t.Function]),
  internalBatchSize: PositiveInt,
  memoryBudgetBytes: PositiveNumber,
  seed: Integer,
})

const asList = <A>(x: A | readonly A[] | undefined, isOne: (u: unknown) => boolean): readonly A[] =>
  x === undefined ? [] : Array.isArray(x) && !isOne(x) ? (x as readonly A[]) : [x as A]

/** Runs `method` on `model` for `inputs` (one tensor or a list). */
export const attribute = <T>(
  method: Pipeline,
  model: Model<T>,
  inputs: TensorLike<T> | readonly TensorLike<T>[],
  options: CallOptions<T> = {},
): TE.TaskEither<AttributionError, AttributionResult> => {
  const checked = decodeWith(CallOptionsCodec, options)
  if (E.isLeft(checked)) return TE.left(checked.left)
  const backend = model.backend
  const isOne = (u: unknown): boolean => backend.isTensor(u) || (typeof u === 'object' && u !== null && 'dtype' in u && 'shape' in u)
  const owned: Owned<T> = { list: [] }
  return async () => {
    try {
      const xs = prepareInputs(backend, owned, asList(inputs, isOne), 'inputs')
      if (E.isLeft(xs)) return xs
      const extras = prepareInputs(backend, owned, asList(options.additionalForwardArgs, isOne), 'additionalForwardArgs')
      if (E.isLeft(extras)) return extras
      const usesBaselines = method.stages.some((s) => s._tag === 'interpolate' || s._tag === 'completenessDelta' || s._tag === 'layerEndpoints')
      const bs = usesBaselines && xs.right.length > 0 && xs.right.every((x) => backend.shapeOf(x).length > 0)
        ? prepareBaselines(backend, owned, xs.right, options.baselines)
        : E.right(undefined)
      if (E.isLeft(bs)) return bs
      return await runPipeline(method, model, {
        inputs: xs.right,
        ...(bs.right ? { baselines: bs.right } : {}),
        extraArgs: extras.right,
        ...(options.target !== undefined ? { target: options.target } : {}),
        ...(options.seed !== undefined ? { seed: options.seed } : {}),
        chunk: {
          ...(options.internalBatchSize !== undefined ? { internalBatchSize: options.internalBatchSize } : {}),
          ...(options.memoryBudgetBytes !== undefined ? { memoryBudgetBytes: options.memoryBudgetBytes } : {}),
        },
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      })()
    } finally {
      for (const t of owned.list) backend.dispose(t)
    }
  }
}
