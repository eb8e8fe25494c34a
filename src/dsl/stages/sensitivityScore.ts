/**
 * `sensitivityScore`: closes sensitivityMax's `sample` axis (Yeh et al. 2019, arXiv:1901.09392;
 * captum-semantics.md §8.2). Per example, the largest relative change of its explanation over the
 * samples,
 *
 *   SENS_MAX = max_s ‖e(x) − e(x̃_s)‖ / ‖e(x)‖   (a zero ‖e(x)‖ read as 1),
 *
 * with every input's explanation flattened and concatenated, and ‖·‖ Captum's `norm_ord`: `fro`
 * (Euclidean), `inf` (largest magnitude) or a number p ≥ 1 (the p-norm). The partial result of a
 * chunk is the per-example maximum over its samples; maxima combine exactly in any bracketing.
 *
 * @category stages
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import { firstProblem, wrongKind, type AbstractFlow, type Transfer } from '../abstract.js'
import type { Flow, RunContext } from '../flow.js'
import { f64, spanOf, type PartialResult } from '../partial.js'
import type { ChunkInfo, ExpansionInfo, ReduceStageDef, Reduced } from '../stage.js'
import { flattenRows, isSensitivityChunk, type SensitivityChunk } from './sensitivityPerturb.js'

export const NormOrd = t.union([t.keyof({ fro: null, inf: null }), t.refinement(t.number, (p) => Number.isFinite(p) && p >= 1, 'NormOrder')], 'NormOrd')
export type NormOrd = t.TypeOf<typeof NormOrd>

export const SensitivityScoreParams = t.readonly(t.type({ norm: NormOrd }))
export type SensitivityScoreParams = t.TypeOf<typeof SensitivityScoreParams>

/** The `ord`-norm of `v[from..from+n)` (or of its difference with `w[wFrom..]`). */
export const normOf = (ord: NormOrd, n: number, at: (i: number) => number): number => {
  if (ord === 'inf') {
    let m = 0
    for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(at(i)))
    return m
  }
  const p = ord === 'fro' ? 2 : ord
  let s = 0
  for (let i = 0; i < n; i++) s += Math.abs(at(i)) ** p
  return p === 2 ? Math.sqrt(s) : s ** (1 / p)
}

/** The static check shared by the reducers of `sensitivityPerturb ∘ apply(method)` (`tag` names the stage). */
export const perturbedExplanationsTransfer = (f: AbstractFlow, tag: string): Transfer =>
  firstProblem([wrongKind(f, ['values'], `${tag} compares the explanations of the perturbed points: put apply(method) before it`)],
    () => ({ ...f, kind: 'values', slots: new Set() }))

/** A chunk of `sensitivityPerturb ∘ apply(method)`, on the host. */
export interface ChunkExplanations {
  /** Examples (incoming rows) and samples in the chunk. */
  readonly R: number
  readonly K: number
  /** e(x), one row per example (from sensitivityPerturb). */
  readonly ex: SensitivityChunk
  /** e(x̃), flattened as e(x) is, row q = k·R + r. */
  readonly pert: SensitivityChunk
}

/** The explanations of a chunk's inputs and perturbed points; a Left when e(x̃) has another width than e(x). */
export const perturbedExplanations = async <T>(chunk: Flow<T>, info: ChunkInfo<SensitivityChunk>, ctx: RunContext<T>): Promise<E.Either<AttributionError, ChunkExplanations>> => {
  const R = info.rowsIn
  const K = info.end - info.start
  const ex = info.meta
  const pert = flattenRows(await Promise.all(chunk.value.map((v) => ctx.backend.toHost(v))), K * R)
  if (pert.width !== ex.width) {
    return E.left(err('ShapeMismatch', `the explanations of the perturbed points have ${pert.width} values per example, those of the inputs ${ex.width}: the method must return attributions of the same shape`, ['stages']))
  }
  return E.right({ R, K, ex, pert })
}

/** ‖e(x) − e(x̃)‖ between example r's explanation `ex` and perturbed row q's `pert`. */
export const changeNorm = (ord: NormOrd, ex: SensitivityChunk, pert: SensitivityChunk, r: number, q: number): number => {
  const W = ex.width
  return normOf(ord, W, (i) => ex.explanation[r * W + i]! - pert.explanation[q * W + i]!)
}

const bad = (): AttributionError => err('BadPipeline', 'sensitivityScore: this partial result was not made by sensitivityScore', ['stages'])

export const sensitivityScore: ReduceStageDef<'sensitivityScore', SensitivityScoreParams, SensitivityChunk> = {
  tag: 'sensitivityScore',
  kind: 'reduce',
  axis: 'sample',
  params: SensitivityScoreParams,
  meta: isSensitivityChunk,
  abstract: (_p, f) => perturbedExplanationsTransfer(f, 'sensitivityScore'),
  summary: (p) => `max over samples of ‖e(x) − e(x̃)‖ / ‖e(x)‖, norm ${p.norm}`,
  lift: <T>(p: SensitivityScoreParams, chunk: Flow<T>, info: ChunkInfo<SensitivityChunk>, ctx: RunContext<T>): TE.TaskEither<AttributionError, PartialResult> => async () => {
    const read = await perturbedExplanations(chunk, info, ctx)
    if (E.isLeft(read)) return read
    const { R, K, ex, pert } = read.right
    const W = ex.width
    const max = new Float64Array(R).fill(-Infinity)
    for (let r = 0; r < R; r++) {
      const base = normOf(p.norm, W, (i) => ex.explanation[r * W + i]!)
      const den = base === 0 ? 1 : base
      for (let k = 0; k < K; k++) {
        const q = k * R + r
        const s = changeNorm(p.norm, ex, pert, r, q) / den
        // NaN propagates, as torch.max does
        max[r] = Number.isNaN(s) || Number.isNaN(max[r]!) ? NaN : Math.max(max[r]!, s)
      }
    }
    return E.right({ start: info.start, end: info.end, tensors: [f64([R], max)] })
  },
  combine: (_p, a, b) => {
    const span = spanOf(a, b)
    if (E.isLeft(span)) return span
    const x = a.tensors[0]
    const y = b.tensors[0]
    if (a.tensors.length !== 1 || b.tensors.length !== 1 || x?.dtype !== 'float64' || y?.dtype !== 'float64' || x.data.length !== y.data.length) return E.left(bad())
    const out = Float64Array.from(x.data, (v, i) => (Number.isNaN(v) || Number.isNaN(y.data[i]!) ? NaN : Math.max(v, y.data[i]!)))
    return E.right({ ...span.right, tensors: [f64(x.shape, out)] })
  },
  finalize: <T>(_p: SensitivityScoreParams, partial: PartialResult, info: ExpansionInfo, ctx: RunContext<T>): TE.TaskEither<AttributionError, Reduced<T>> => {
    const x = partial.tensors[0]
    if (partial.tensors.length !== 1 || x?.dtype !== 'float64' || x.data.length !== info.rowsIn) return TE.left(bad())
    return TE.right({ value: [ctx.track(ctx.backend.fromHost({ dtype: 'float32', shape: [info.rowsIn], data: new Float32Array(x.data) }))] })
  },
}
