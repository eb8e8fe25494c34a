/**
 * `sensitivityStat`: closes the `sample` axis of `sensitivityPerturb ∘ apply(method)` with a
 * statistic other than sensitivityScore's maximum, per example:
 *
 * - `mean` (Avg-Sensitivity; Yeh et al. 2019, arXiv:1901.09392): the mean over the samples of
 *   ‖e(x) − e(x̃)‖ / ‖e(x)‖ (a zero ‖e(x)‖ read as 1, as sensitivityScore reads it);
 * - `lipschitz` (local Lipschitz estimate; Alvarez-Melis & Jaakkola 2018, arXiv:1806.08049): the
 *   maximum over the samples of ‖e(x) − e(x̃)‖ / ‖x − x̃‖ (NaN for a sample with x̃ = x).
 *
 * Every input's explanation (and displacement) is flattened and concatenated; ‖·‖ is `norm`
 * (`fro`, `inf` or p ≥ 1), as sensitivityScore's. The partial result of a chunk is its per-sample
 * ratios (host rows, [samples, examples]); pieces concatenate in order, so the score does not
 * depend on chunking.
 *
 * @category stages
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import type { Flow, RunContext } from '../flow.js'
import { combineByConcat, f64, type PartialResult } from '../partial.js'
import type { ChunkInfo, ExpansionInfo, ReduceStageDef, Reduced } from '../stage.js'
import { isSensitivityChunk, type SensitivityChunk } from './sensitivityPerturb.js'
import { changeNorm, NormOrd, normOf, perturbedExplanations, perturbedExplanationsTransfer } from './sensitivityScore.js'

export const SensitivityStat = t.keyof({ mean: null, lipschitz: null }, 'SensitivityStat')
export type SensitivityStat = t.TypeOf<typeof SensitivityStat>

export const SensitivityStatParams = t.readonly(t.type({ norm: NormOrd, stat: SensitivityStat }))
export type SensitivityStatParams = t.TypeOf<typeof SensitivityStatParams>

const bad = (): AttributionError => err('BadPipeline', 'sensitivityStat: this partial result was not made by sensitivityStat', ['stages'])

export const sensitivityStat: ReduceStageDef<'sensitivityStat', SensitivityStatParams, SensitivityChunk> = {
  tag: 'sensitivityStat',
  kind: 'reduce',
  axis: 'sample',
  params: SensitivityStatParams,
  meta: isSensitivityChunk,
  abstract: (_p, f) => perturbedExplanationsTransfer(f, 'sensitivityStat'),
  summary: (p) => (p.stat === 'mean' ? `mean over samples of ‖e(x) − e(x̃)‖ / ‖e(x)‖, norm ${p.norm}` : `max over samples of ‖e(x) − e(x̃)‖ / ‖x − x̃‖, norm ${p.norm}`),
  lift: <T>(p: SensitivityStatParams, chunk: Flow<T>, info: ChunkInfo<SensitivityChunk>, ctx: RunContext<T>): TE.TaskEither<AttributionError, PartialResult> => async () => {
    const read = await perturbedExplanations(chunk, info, ctx)
    if (E.isLeft(read)) return read
    const { R, K, ex, pert } = read.right
    const disp = ex.displacement
    if (p.stat === 'lipschitz' && disp === undefined) return E.left(err('BadPipeline', 'sensitivityStat(lipschitz) needs the displacements sensitivityPerturb records: put sensitivityPerturb before it', ['stages']))
    const W = ex.width
    const DW = disp === undefined ? 0 : disp.length / (K * R)
    const ratios = new Float64Array(K * R)
    for (let r = 0; r < R; r++) {
      const base = p.stat === 'mean' ? normOf(p.norm, W, (i) => ex.explanation[r * W + i]!) : 1
      for (let k = 0; k < K; k++) {
        const q = k * R + r
        const num = changeNorm(p.norm, ex, pert, r, q)
        const den = p.stat === 'mean' ? (base === 0 ? 1 : base) : normOf(p.norm, DW, (i) => disp![q * DW + i]!)
        ratios[q] = p.stat === 'lipschitz' && den === 0 ? NaN : num / den
      }
    }
    return E.right({ start: info.start, end: info.end, tensors: [f64([K, R], ratios)] })
  },
  combine: (_p, a, b) => combineByConcat(a, b),
  finalize: <T>(p: SensitivityStatParams, partial: PartialResult, info: ExpansionInfo, ctx: RunContext<T>): TE.TaskEither<AttributionError, Reduced<T>> => {
    const c = partial.tensors[0]
    const R = info.rowsIn
    const S = info.count
    if (partial.tensors.length !== 1 || c === undefined || c.data.length !== S * R) return TE.left(bad())
    const scores = new Float32Array(R)
    for (let r = 0; r < R; r++) {
      let acc = p.stat === 'mean' ? 0 : -Infinity
      for (let s = 0; s < S; s++) {
        const v = Number(c.data[s * R + r]!)
        // NaN propagates, as torch.max and numpy's mean do
        acc = Number.isNaN(v) || Number.isNaN(acc) ? NaN : p.stat === 'mean' ? acc + v : Math.max(acc, v)
      }
      scores[r] = p.stat === 'mean' ? acc / S : acc
    }
    return TE.right({ value: [ctx.track(ctx.backend.fromHost({ dtype: 'float32', shape: [R], data: scores }))] })
  },
}
