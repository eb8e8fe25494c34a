/**
 * `sampleMean`: closes a `sample` axis (opened by `noise`) with NoiseTunnel's statistics of the
 * per-sample attributions a_s (Smilkov et al. 2017; Adebayo et al. 2018):
 *
 * - `smoothgrad`: E[a] = (1/S) Σ_s a_s
 * - `smoothgrad_sq`: E[a²]
 * - `vargrad`: E[a²] − E[a]² (the population variance, ≥ 0 up to rounding)
 *
 * The partial result of a chunk is (Σ a_s, Σ a_s²) over its samples, and partials add, so any
 * chunking gives the same statistics. A completeness delta computed inside the axis is carried:
 * the outer delta holds every sample's delta (N·S values) in Captum's order, example-major within
 * each batch of `batchSize` samples (Captum's `nt_samples_batch_size`; default all samples), batches
 * one after the other.
 *
 * @category stages
 * @since 0.2.0
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { PositiveInt } from '../../core/codecs.js'
import { err, type AttributionError } from '../../core/errors.js'
import { firstProblem, wrongKind } from '../abstract.js'
import type { Flow, RunContext } from '../flow.js'
import type { ChunkInfo, ReduceStageDef } from '../stage.js'

export const SampleStatistic = t.keyof({ smoothgrad: null, smoothgrad_sq: null, vargrad: null }, 'SampleStatistic')
export type SampleStatistic = t.TypeOf<typeof SampleStatistic>

export const SampleMeanParams = t.readonly(t.intersection([t.type({ type: SampleStatistic }), t.partial({ batchSize: PositiveInt })]))
export type SampleMeanParams = t.TypeOf<typeof SampleMeanParams>

/** Σ over the chunk's samples of `v` (rows (k − start)·R + r), per incoming row r. */
const sumOverSamples = <T>(ctx: RunContext<T>, v: T, R: number): T => {
  const b = ctx.backend
  const shape = b.shapeOf(v)
  const K = (shape[0] ?? 0) / R
  return ctx.track(b.sum(ctx.track(b.reshape(v, [K, R, ...shape.slice(1)])), [0]))
}

/** Positions of our step-major deltas (k·R + r) in Captum's order. */
export const captumDeltaOrder = (S: number, R: number, batchSize: number): Int32Array => {
  const order = new Int32Array(S * R)
  let at = 0
  for (let ps = 0; ps < S; ps += batchSize) {
    const pe = Math.min(S, ps + batchSize)
    for (let r = 0; r < R; r++) for (let k = ps; k < pe; k++) order[at++] = k * R + r
  }
  return order
}

export const sampleMean: ReduceStageDef<'sampleMean', SampleMeanParams> = {
  tag: 'sampleMean',
  kind: 'reduce',
  axis: 'sample',
  params: SampleMeanParams,
  carries: ['delta'],
  abstract: (_p, f) =>
    firstProblem([wrongKind(f, ['values'], 'sampleMean averages computed values (attributions) over the samples: put a method (or apply) before it')],
      () => ({ ...f, slots: new Set([...f.slots].filter((s) => s === 'delta')) })),
  summary: (p) => ({ smoothgrad: 'E[a]', smoothgrad_sq: 'E[a²]', vargrad: 'E[a²] − E[a]²' })[p.type] + (p.batchSize !== undefined ? `, deltas in batches of ${p.batchSize}` : ''),
  fold: <T>(_p: SampleMeanParams, acc: readonly T[] | undefined, chunk: Flow<T>, info: ChunkInfo, ctx: RunContext<T>): TE.TaskEither<AttributionError, readonly T[]> => {
    const b = ctx.backend
    const R = info.rowsIn
    if (acc !== undefined && (acc.length % 2 === 1) !== (chunk.delta !== undefined)) {
      return TE.left(err('BadPipeline', 'sampleMean: some samples returned a completeness delta and others did not', ['stages']))
    }
    const sums = chunk.value.map((v) => sumOverSamples(ctx, v, R))
    const squares = chunk.value.map((v) => sumOverSamples(ctx, ctx.track(b.square(v)), R))
    const parts = [...sums, ...squares]
    const m = chunk.value.length
    const summed = acc === undefined ? parts : parts.map((x, i) => ctx.track(b.add(acc[i]!, x)))
    if (chunk.delta === undefined) return TE.right(summed)
    const delta = acc === undefined ? chunk.delta : ctx.track(b.concat([acc[2 * m]!, chunk.delta], 0))
    return TE.right([...summed, delta])
  },
  finalize: <T>(p: SampleMeanParams, acc: readonly T[], info: ChunkInfo, ctx: RunContext<T>): TE.TaskEither<AttributionError, readonly T[]> => {
    const b = ctx.backend
    const m = Math.floor(acc.length / 2)
    const S = info.count
    const mean = acc.slice(0, m).map((s) => ctx.track(b.scale(s, 1 / S)))
    if (p.type === 'smoothgrad') return TE.right(mean)
    const meanSq = acc.slice(m, 2 * m).map((s) => ctx.track(b.scale(s, 1 / S)))
    if (p.type === 'smoothgrad_sq') return TE.right(meanSq)
    return TE.right(meanSq.map((q, j) => ctx.track(b.sub(q, ctx.track(b.square(mean[j]!))))))
  },
  finalDelta: <T>(p: SampleMeanParams, acc: readonly T[], info: ChunkInfo, ctx: RunContext<T>): TE.TaskEither<AttributionError, T | undefined> => {
    if (acc.length % 2 === 0) return TE.right(undefined)
    const order = captumDeltaOrder(info.count, info.rowsIn, p.batchSize ?? info.count)
    return TE.right(ctx.track(ctx.backend.gatherRows(acc[acc.length - 1]!, order)))
  },
}
