/**
 * `infidelityScore`: closes infidelity's `sample` axis (Yeh et al. 2019, arXiv:1901.09392;
 * captum-semantics.md §8.1). Per example, over its n samples, with s = Σ I ⊙ a (from
 * `infidelityPerturb`) and d = F(x) − F(x̃) (from `forward` and the `reference` stage):
 *
 *   INFD = (1/n) Σ (s − d)²,
 *
 * or with `normalize` the infidelity of the optimally rescaled explanation βa, where
 * β = Σ s·d / Σ s² (a zero denominator read as 1):
 *
 *   INFD = (β² Σ s² − 2β Σ s·d + Σ d²) / n.
 *
 * The partial result of a chunk is, per example, the exact sums (`exactSum.ts`) of s², s·d, d² and
 * (s − d)² over its samples, so partials add exactly and any chunking gives the same bits. The
 * explained target must select one model output per example.
 *
 * @category stages
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import { firstProblem, wrongKind } from '../abstract.js'
import { addExact, exactSums } from '../exactSum.js'
import type { Flow, RunContext } from '../flow.js'
import { combineBySum, roundedSums, sumsTensor, type PartialResult } from '../partial.js'
import type { ChunkInfo, ExpansionInfo, ReduceStageDef, Reduced } from '../stage.js'
import { isInfidelityChunk, type InfidelityChunk } from './infidelityPerturb.js'

export const InfidelityScoreParams = t.readonly(t.type({ normalize: t.boolean }))
export type InfidelityScoreParams = t.TypeOf<typeof InfidelityScoreParams>

/** Sums per example, in this order. */
const TERMS = 4

export const infidelityScore: ReduceStageDef<'infidelityScore', InfidelityScoreParams, InfidelityChunk> = {
  tag: 'infidelityScore',
  kind: 'reduce',
  axis: 'sample',
  params: InfidelityScoreParams,
  meta: isInfidelityChunk,
  abstract: (_p, f) =>
    firstProblem([wrongKind(f, ['outputs'], 'infidelityScore compares F(x) − F(x̃) with the attributions: put forward before it')],
      () => ({ ...f, kind: 'values', slots: new Set() })),
  summary: (p) => (p.normalize ? 'E[(βs − d)²] with the best β' : 'E[(s − d)²]') + ', s = Σ I ⊙ a, d = F(x) − F(x̃)',
  lift: <T>(_p: InfidelityScoreParams, chunk: Flow<T>, info: ChunkInfo<InfidelityChunk>, ctx: RunContext<T>): TE.TaskEither<AttributionError, PartialResult> => async () => {
    const ref = chunk.reference
    if (ref === undefined) return E.left(err('BadPipeline', 'infidelityScore needs F(x): put the reference stage first', ['stages']))
    const R = info.rowsIn
    const nOut = ref.selected.length
    if (nOut !== R) {
      return E.left(err('BadTarget', `infidelity compares one model output per example, but the target selects ${nOut} value(s) for ${R} example(s): give a target that picks one output (an index, or one per example)`, ['target']))
    }
    const out = (await ctx.backend.toHost(chunk.value[0]!)).data as Float32Array
    const s = info.meta.attrTimesPerturbation
    const K = info.end - info.start
    const sums = exactSums(R * TERMS)
    for (let k = 0; k < K; k++) {
      for (let r = 0; r < R; r++) {
        const q = k * R + r
        const si = s[q]!
        const d = ref.selected[r]! - out[k * nOut + r]!
        addExact(sums, r * TERMS, si * si)
        addExact(sums, r * TERMS + 1, si * d)
        addExact(sums, r * TERMS + 2, d * d)
        addExact(sums, r * TERMS + 3, (si - d) * (si - d))
      }
    }
    return E.right({ start: info.start, end: info.end, tensors: [sumsTensor([R, TERMS], sums)] })
  },
  combine: (_p, a, b) => combineBySum(a, b),
  finalize: <T>(p: InfidelityScoreParams, partial: PartialResult, info: ExpansionInfo, ctx: RunContext<T>): TE.TaskEither<AttributionError, Reduced<T>> => {
    const sums = partial.tensors.length === 1 ? roundedSums(partial.tensors[0]!) : E.left(err('BadPipeline', 'infidelityScore: this partial result was not made by infidelityScore', ['stages']))
    if (E.isLeft(sums)) return TE.left(sums.left)
    const R = info.rowsIn
    const v = sums.right.values
    if (v.length !== R * TERMS) return TE.left(err('BadPipeline', 'infidelityScore: this partial result was not made by infidelityScore', ['stages']))
    const n = info.count
    const scores = new Float32Array(R)
    for (let r = 0; r < R; r++) {
      const ss = v[r * TERMS]!
      const sd = v[r * TERMS + 1]!
      const dd = v[r * TERMS + 2]!
      if (p.normalize) {
        const beta = sd / (ss === 0 ? 1 : ss)
        scores[r] = (beta * beta * ss - 2 * beta * sd + dd) / n
      } else scores[r] = v[r * TERMS + 3]! / n
    }
    return TE.right({ value: [ctx.track(ctx.backend.fromHost({ dtype: 'float32', shape: [R], data: scores }))] })
  },
}
