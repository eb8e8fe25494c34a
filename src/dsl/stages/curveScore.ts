/**
 * `curveScore`: closes the `sample` axis of a deletion or insertion curve (after `flipPerturb`
 * and `forward`). The curve of an example is its target-selected output F at entries
 * s = 0 … S − 1; the score is the area under it by the trapezoid rule on the normalised axis
 * s / (S − 1) (the fraction of the way from the first to the last entry, as Petsiuk et al. plot
 * it), so it lies between the curve's minimum and maximum:
 *
 *   AUC = Σ_{s=1}^{S−1} (F_{s−1} + F_s) / (2 (S − 1)).
 *
 * With `score: 'monotonic'` (Monotonicity; Arya et al. 2019, arXiv:1909.03012, as Quantus's
 * `Monotonicity` scores it) the score is 1 when F never decreases from one entry to the next over
 * entries s = 1 … S − 1 (the first entry, before any feature is changed, is left out as Quantus
 * leaves it out), else 0.
 *
 * With `score: 'curve'` the stage returns the curves themselves next to their area: two tensors,
 * float32 `[examples, S]` (F at each entry) and `[examples]` (the trapezoid AUC above), so a plot and
 * its score come from one run.
 *
 * The partial result of a chunk is its piece of the curve (host rows, [entries, examples]); pieces
 * concatenate in order, so the area does not depend on chunking.
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
import type { ChunkInfo, ExpansionInfo, ReduceStageDef, Reduced } from '../stage.js'

export const CurveScoreParams = t.readonly(t.type({ score: t.keyof({ auc: null, monotonic: null, curve: null }, 'CurveScore') }))
export type CurveScoreParams = t.TypeOf<typeof CurveScoreParams>

const bad = (): AttributionError => err('BadPipeline', 'curveScore: this partial result was not made by curveScore', ['stages'])

/** The trapezoid area under `curve` on [0, 1] (entries evenly spaced); the one value for a single entry. */
export const trapezoidAuc = (curve: ArrayLike<number>): number => {
  const S = curve.length
  if (S === 1) return curve[0]!
  let s = 0
  for (let k = 1; k < S; k++) s += curve[k - 1]! + curve[k]!
  return s / (2 * (S - 1))
}

/** 1 when `curve` never decreases from entry 1 on, else 0 (NaN when an entry is NaN). */
export const monotonicFromFirstStep = (curve: ArrayLike<number>): number => {
  let ok = 1
  for (let k = 1; k < curve.length; k++) {
    if (Number.isNaN(curve[k]!)) return NaN
    if (k >= 2 && curve[k]! < curve[k - 1]!) ok = 0
  }
  return ok
}

export const curveScore: ReduceStageDef<'curveScore', CurveScoreParams> = {
  tag: 'curveScore',
  kind: 'reduce',
  axis: 'sample',
  params: CurveScoreParams,
  abstract: (_p, f) =>
    firstProblem([wrongKind(f, ['outputs'], 'curveScore reads the model output along the curve: put forward before it')],
      () => ({ ...f, kind: 'values', slots: new Set() })),
  summary: (p) =>
    p.score === 'auc' ? 'trapezoid area under F along the curve'
      : p.score === 'curve' ? 'F along the curve per example, and its trapezoid area'
        : '1 if F never decreases after the first step, else 0',
  lift: <T>(_p: CurveScoreParams, chunk: Flow<T>, info: ChunkInfo, ctx: RunContext<T>): TE.TaskEither<AttributionError, PartialResult> => async () => {
    const ref = chunk.reference
    if (ref === undefined) return E.left(err('BadPipeline', 'curveScore needs F(x): put the reference stage first', ['stages']))
    const R = info.rowsIn
    const nOut = ref.selected.length
    if (nOut !== R) {
      return E.left(err('BadTarget', `a deletion or insertion curve follows one model output per example, but the target selects ${nOut} value(s) for ${R} example(s): give a target that picks one output (an index, or one per example)`, ['target']))
    }
    const out = (await ctx.backend.toHost(chunk.value[0]!)).data
    const K = info.end - info.start
    const rows = new Float64Array(K * R)
    for (let q = 0; q < K * R; q++) rows[q] = Number(out[q]!)
    return E.right({ start: info.start, end: info.end, tensors: [f64([K, R], rows)] })
  },
  combine: (_p, a, b) => combineByConcat(a, b),
  finalize: <T>(p: CurveScoreParams, partial: PartialResult, info: ExpansionInfo, ctx: RunContext<T>): TE.TaskEither<AttributionError, Reduced<T>> => {
    const c = partial.tensors[0]
    const R = info.rowsIn
    const S = info.count
    if (partial.tensors.length !== 1 || c === undefined || c.data.length !== S * R) return TE.left(bad())
    const scores = new Float32Array(R)
    const curves = new Float32Array(p.score === 'curve' ? R * S : 0)
    const curve = new Float64Array(S)
    for (let r = 0; r < R; r++) {
      for (let s = 0; s < S; s++) curve[s] = Number(c.data[s * R + r]!)
      if (p.score === 'curve') curves.set(curve, r * S)
      scores[r] = p.score === 'monotonic' ? monotonicFromFirstStep(curve) : trapezoidAuc(curve)
    }
    const auc = ctx.track(ctx.backend.fromHost({ dtype: 'float32', shape: [R], data: scores }))
    if (p.score !== 'curve') return TE.right({ value: [auc] })
    return TE.right({ value: [ctx.track(ctx.backend.fromHost({ dtype: 'float32', shape: [R, S], data: curves })), auc] })
  },
}
