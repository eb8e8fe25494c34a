/**
 * `evaluate`: runs a metric (a pipeline from METRICS, or any pipeline that scores each example) on a
 * model, with the call options every method takes (target, baselines, extra forward arguments,
 * memory budget, seed, progress, cancellation, plug-ins) plus `attributions` for metrics over
 * precomputed explanations. Never throws: failures are typed errors in the Left.
 *
 * @category api
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { pipe } from 'fp-ts/lib/function.js'
import { attribute, type CallOptions } from './attribute.js'
import type { TensorLike } from './callData.js'
import type { Model } from '../core/backend.js'
import { err, type AttributionError } from '../core/errors.js'
import type { HostTensor } from '../core/tensor.js'
import type { AttributionMeta } from '../dsl/run.js'
import type { Pipeline } from '../dsl/spec.js'

/** A metric's result: one score per example (float32 `[N]`), and how it was computed. */
export interface MetricResult {
  readonly scores: HostTensor<'float32'>
  readonly meta: AttributionMeta
}

export const evaluate = <T>(
  metric: Pipeline,
  model: Model<T>,
  inputs: TensorLike<T> | readonly TensorLike<T>[],
  options: CallOptions<T> = {},
): TE.TaskEither<AttributionError, MetricResult> =>
  pipe(
    attribute(metric, model, inputs, options),
    TE.chainEitherK((r) => {
      const s = r.attributions[0]
      if (r.attributions.length !== 1 || s === undefined || s.shape.length !== 1 || s.dtype !== 'float32') {
        return E.left(err('BadPipeline', `${metric.name} is not a metric: it returned ${r.attributions.length} tensor(s) instead of one score per example (build metrics with METRICS; pipelines that return curves, such as deletionCurve, run with attribute)`, ['metric']))
      }
      return E.right({ scores: s as HostTensor<'float32'>, meta: r.meta })
    }),
  )
