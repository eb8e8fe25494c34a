/**
 * `sampleMean`: closes a `sample` axis (opened by `noise`) with NoiseTunnel's statistics of the
 * per-sample attributions a_s (Smilkov et al. 2017; Adebayo et al. 2018):
 *
 * - `smoothgrad`: E[a] = (1/S) Σ_s a_s
 * - `smoothgrad_sq`: E[a²]
 * - `vargrad`: E[a²] − E[a]² (the population variance, ≥ 0 up to rounding)
 *
 * The partial result of a chunk is (Σ a_s, Σ a_s²) over its samples (summed in float32 on the
 * backend), partials add exactly on the host (`exactSum.ts`), so any chunking gives the same statistics. A completeness
 * delta computed inside the axis is carried: the partial also holds its samples' deltas in sample
 * order (row k·R + r), partials of adjacent chunks concatenate them, and the outer delta holds every
 * sample's delta (N·S values) in Captum's order, example-major within each batch of `batchSize`
 * samples (Captum's `nt_samples_batch_size`; default all samples), batches one after the other.
 *
 * @category stages
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { PositiveInt } from '../../core/codecs.js'
import { err, type AttributionError } from '../../core/errors.js'
import { firstProblem, wrongKind } from '../abstract.js'
import type { Flow, RunContext } from '../flow.js'
import { addTensors, concatTensors, narrow, narrowSums, spanOf, sumsFrom, zipTensors, type PartialResult } from '../partial.js'
import type { ChunkInfo, ExpansionInfo, ReduceStageDef, Reduced } from '../stage.js'

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

/** How a sampleMean partial is laid out: `values` sums, then as many sums of squares, then (when `delta`) the deltas. */
interface Layout {
  readonly values: number
  readonly delta: boolean
}

const layoutOf = (partial: PartialResult): E.Either<AttributionError, Layout> => {
  const d = partial.data
  const values = typeof d === 'object' && d !== null && 'values' in d ? d.values : undefined
  const delta = typeof d === 'object' && d !== null && 'delta' in d ? d.delta : undefined
  if (typeof values !== 'number' || typeof delta !== 'boolean' || partial.tensors.length !== 2 * values + (delta ? 1 : 0)) {
    return E.left(err('BadPipeline', 'sampleMean: this partial result was not made by sampleMean', ['stages']))
  }
  return E.right({ values, delta })
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
  lift: <T>(_p: SampleMeanParams, chunk: Flow<T>, info: ChunkInfo, ctx: RunContext<T>): TE.TaskEither<AttributionError, PartialResult> => async () => {
    const b = ctx.backend
    const R = info.rowsIn
    const sums = chunk.value.map((v) => sumOverSamples(ctx, v, R))
    const squares = chunk.value.map((v) => sumOverSamples(ctx, ctx.track(b.square(v)), R))
    const tensors = await Promise.all([...sums, ...squares].map(async (x) => sumsFrom(await b.toHost(x))))
    const delta = chunk.delta === undefined ? [] : [narrow(await b.toHost(chunk.delta))]
    return E.right({ start: info.start, end: info.end, tensors: [...tensors, ...delta], data: { values: chunk.value.length, delta: chunk.delta !== undefined } })
  },
  combine: (_p, a, b) => {
    const span = spanOf(a, b)
    if (E.isLeft(span)) return span
    const la = layoutOf(a)
    const lb = layoutOf(b)
    if (E.isLeft(la)) return la
    if (E.isLeft(lb)) return lb
    if (la.right.delta !== lb.right.delta) return E.left(err('BadPipeline', 'sampleMean: some samples returned a completeness delta and others did not', ['stages']))
    const m = la.right.values
    return E.map((tensors: PartialResult['tensors']): PartialResult => ({ ...span.right, tensors, data: { values: m, delta: la.right.delta } }))(
      zipTensors(a, b, (x, y, i) => (i < 2 * m ? addTensors(x, y) : concatTensors(x, y))),
    )
  },
  finalize: <T>(p: SampleMeanParams, partial: PartialResult, info: ExpansionInfo, ctx: RunContext<T>): TE.TaskEither<AttributionError, Reduced<T>> => {
    const layout = layoutOf(partial)
    if (E.isLeft(layout)) return TE.left(layout.left)
    const b = ctx.backend
    const m = layout.right.values
    const S = info.count
    // The statistics are taken in float32 on the backend, as Captum does, from the exact sums rounded to float32.
    const sums = E.traverseArray(narrowSums)(partial.tensors.slice(0, 2 * m))
    if (E.isLeft(sums)) return TE.left(sums.left)
    // sums k < m are Σ a, the others Σ a²
    const meanOf = (k: number): T => ctx.track(b.scale(ctx.track(b.fromHost(sums.right[k]!)), 1 / S))
    const value = Array.from({ length: m }, (_, j) =>
      p.type === 'smoothgrad' ? meanOf(j) : p.type === 'smoothgrad_sq' ? meanOf(m + j) : ctx.track(b.sub(meanOf(m + j), ctx.track(b.square(meanOf(j))))))
    if (!layout.right.delta) return TE.right({ value })
    const order = captumDeltaOrder(S, info.rowsIn, p.batchSize ?? S)
    const deltas = ctx.track(b.fromHost(narrow(partial.tensors[2 * m]!)))
    return TE.right({ value, delta: ctx.track(b.gatherRows(deltas, order)) })
  },
}
