/**
 * `correlationScore`: closes faithfulness correlation's `sample` axis (Bhatt, Weller & Moura
 * 2020, arXiv:2005.00631). Per example, the Pearson correlation over the samples between Σ a over
 * each random subset (from `subsetPerturb`) and the output drop F(x) − F(x̃) when the subset is set
 * to the baseline. NaN when either has no variance over the samples (as Quantus's Pearson gives).
 *
 * The partial result of a chunk is its (Σ a, drop) pairs (host rows, [samples, examples, 2]);
 * pieces concatenate in order, so the score does not depend on chunking.
 *
 * @category stages
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import { firstProblem, wrongKind } from '../abstract.js'
import type { Flow, RunContext } from '../flow.js'
import { combineByConcat, f64, type PartialResult } from '../partial.js'
import { pearson } from '../perturbation/correlation.js'
import type { ChunkInfo, ExpansionInfo, ReduceStageDef, Reduced } from '../stage.js'
import { isSubsetChunk, type SubsetChunk } from './subsetPerturb.js'

export const CorrelationScoreParams = t.readonly(t.type({}))
export type CorrelationScoreParams = t.TypeOf<typeof CorrelationScoreParams>

/** Pearson's r of the pairs (u_i, v_i); NaN when either has zero variance. */
export { pearson }

const bad = (): AttributionError => err('BadPipeline', 'correlationScore: this partial result was not made by correlationScore', ['stages'])

export const correlationScore: ReduceStageDef<'correlationScore', CorrelationScoreParams, SubsetChunk> = {
  tag: 'correlationScore',
  kind: 'reduce',
  axis: 'sample',
  params: CorrelationScoreParams,
  meta: isSubsetChunk,
  abstract: (_p, f) =>
    firstProblem([wrongKind(f, ['outputs'], 'correlationScore compares F(x) − F(x̃) with the attributions: put forward before it')],
      () => ({ ...f, kind: 'values', slots: new Set() })),
  summary: () => 'Pearson correlation over samples of Σ_subset a and F(x) − F(x̃)',
  lift: <T>(_p: CorrelationScoreParams, chunk: Flow<T>, info: ChunkInfo<SubsetChunk>, ctx: RunContext<T>): TE.TaskEither<AttributionError, PartialResult> => async () => {
    const ref = chunk.reference
    if (ref === undefined) return E.left(err('BadPipeline', 'correlationScore needs F(x): put the reference stage first', ['stages']))
    const R = info.rowsIn
    const nOut = ref.selected.length
    if (nOut !== R) {
      return E.left(err('BadTarget', `faithfulness correlation compares one model output per example, but the target selects ${nOut} value(s) for ${R} example(s): give a target that picks one output (an index, or one per example)`, ['target']))
    }
    const out = (await ctx.backend.toHost(chunk.value[0]!)).data
    const K = info.end - info.start
    const pairs = new Float64Array(K * R * 2)
    for (let q = 0; q < K * R; q++) {
      pairs[2 * q] = info.meta.attrSum[q]!
      pairs[2 * q + 1] = ref.selected[q % R]! - Number(out[q]!)
    }
    return E.right({ start: info.start, end: info.end, tensors: [f64([K, R, 2], pairs)] })
  },
  combine: (_p, a, b) => combineByConcat(a, b),
  finalize: <T>(_p: CorrelationScoreParams, partial: PartialResult, info: ExpansionInfo, ctx: RunContext<T>): TE.TaskEither<AttributionError, Reduced<T>> => {
    const c = partial.tensors[0]
    const R = info.rowsIn
    const S = info.count
    if (partial.tensors.length !== 1 || c === undefined || c.data.length !== S * R * 2) return TE.left(bad())
    const scores = new Float32Array(R)
    const u = new Float64Array(S)
    const v = new Float64Array(S)
    for (let r = 0; r < R; r++) {
      for (let s = 0; s < S; s++) {
        u[s] = Number(c.data[2 * (s * R + r)]!)
        v[s] = Number(c.data[2 * (s * R + r) + 1]!)
      }
      scores[r] = pearson(u, v)
    }
    return TE.right({ value: [ctx.track(ctx.backend.fromHost({ dtype: 'float32', shape: [R], data: scores }))] })
  },
}
