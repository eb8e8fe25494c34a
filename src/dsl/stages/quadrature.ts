/**
 * `quadrature`: closes the `path` axis with the weights its `interpolate` produced:
 * Σ_k w_k g_k. A weighted sum is a monoid: a chunk's partial is its steps' weighted sum (taken in
 * float32 on the backend), partials add exactly on the host (`exactSum.ts`), so any chunking of the
 * steps gives the same result up to the float32 rounding of each chunk's sum, and any grouping of
 * the same chunks the same bits. Afterwards the flow's anchor is the flow
 * before `interpolate` (x and x′).
 *
 * @category stages
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import type { HostTensor } from '../../core/tensor.js'
import type { Flow, RunContext } from '../flow.js'
import { firstProblem, wrongKind } from '../abstract.js'
import { combineBySum, narrowSums, sumsFrom, type PartialResult } from '../partial.js'
import type { ChunkInfo, ReduceStageDef, Reduced } from '../stage.js'

export const QuadratureParams = t.readonly(t.type({}))
export type QuadratureParams = t.TypeOf<typeof QuadratureParams>

/** Σ_k w_k x[k·R + r] over the chunk's steps, as a tensor of R rows. */
export const weightedStepSum = <T>(ctx: RunContext<T>, x: T, weights: Float64Array, rowsIn: number): T => {
  const b = ctx.backend
  const shape = b.shapeOf(x)
  const K = weights.length
  const inner = shape.slice(1)
  if (K === 1) return ctx.track(b.scale(x, Math.fround(weights[0]!)))
  const w = ctx.track(
    b.fromHost({ dtype: 'float32', shape: [K, 1, ...inner.map(() => 1)], data: Float32Array.from(weights, Math.fround) }),
  )
  const stacked = ctx.track(b.reshape(x, [K, rowsIn, ...inner]))
  return ctx.track(b.sum(ctx.track(b.mul(stacked, w)), [0]))
}

export const quadratureStage: ReduceStageDef<'quadrature', QuadratureParams> = {
  tag: 'quadrature',
  kind: 'reduce',
  axis: 'path',
  params: QuadratureParams,
  abstract: (_p, f) => firstProblem([wrongKind(f, ['values'], 'quadrature integrates computed values (e.g. gradients) along the path: put grad before it')], () => ({ ...f, slots: new Set() })),
  summary: () => 'Σ_k w_k · (…)_k',
  lift: <T>(_p: QuadratureParams, chunk: Flow<T>, info: ChunkInfo, ctx: RunContext<T>): TE.TaskEither<AttributionError, PartialResult> => async () => {
    const weights = info.weights
    if (weights === undefined) return E.left(err('BadPipeline', 'quadrature must close a path opened by interpolate (no weights found)', ['stages']))
    const sums = await Promise.all(chunk.value.map(async (g) => sumsFrom(await ctx.backend.toHost(weightedStepSum(ctx, g, weights, info.rowsIn)))))
    return E.right({ start: info.start, end: info.end, tensors: sums })
  },
  combine: (_p, a, b) => combineBySum(a, b),
  finalize: <T>(_p: QuadratureParams, partial: PartialResult, _info: unknown, ctx: RunContext<T>): TE.TaskEither<AttributionError, Reduced<T>> =>
    TE.fromEither(E.map((sums: readonly HostTensor[]): Reduced<T> => ({ value: sums.map((s) => ctx.track(ctx.backend.fromHost(s))) }))(E.traverseArray(narrowSums)(partial.tensors))),
}
