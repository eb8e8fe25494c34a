/**
 * `marginals`: closes a `perturbation` axis of coalitions with Shapley coefficients:
 * φ_i = Σ_S c_S,i · v(S), where v(S) = F(x on S, x′ elsewhere), the coefficients come with each
 * coalition (exact: s!(M−s−1)!/M! with sign; sampled permutations: ±1/n per marginal step) and the
 * full coalition v(all) = F(x) is the reference. A weighted sum is a monoid: a chunk's partial is
 * Σ_{S in chunk} c_S · v(S) as exact sums of the float64 terms (`exactSum.ts`), partials add
 * exactly, and `finalize` adds the reference's term c_all · F(x) once, so chunking changes no bit.
 * Attributions have shape `y.shape + input.shape[1:]` (captum-semantics.md §3.10), every element of
 * a group receiving the group's value.
 *
 * @category stages
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import type { Flow, RunContext } from '../flow.js'
import { referenceCoef } from '../perturbation/designs.js'
import { exampleOfRow, hostFloats, scatterFeatures } from '../perturbation/scatter.js'
import { firstProblem, wrongKind } from '../abstract.js'
import { addExact, exactSums } from '../exactSum.js'
import { addTensors, combineBySum, roundedSums, sumsTensor, type PartialResult } from '../partial.js'
import type { ChunkInfo, ExpansionInfo, ReduceStageDef, Reduced } from '../stage.js'
import { isPerturbChunk, isPerturbScope, PerturbParams, type PerturbChunk, type PerturbScope } from './perturb.js'

export const MarginalsParams = t.readonly(t.type({ design: PerturbParams.type.props.design }))
export type MarginalsParams = t.TypeOf<typeof MarginalsParams>

export const marginals: ReduceStageDef<'marginals', MarginalsParams, PerturbChunk, PerturbScope> = {
  tag: 'marginals',
  kind: 'reduce',
  axis: 'perturbation',
  params: MarginalsParams,
  meta: isPerturbChunk,
  scope: isPerturbScope,
  abstract: (_p, f) => firstProblem([wrongKind(f, ['outputs'], 'marginals averages the marginal contributions of model outputs: put forward before it')], () => ({ ...f, kind: 'values', slots: new Set() })),
  summary: () => 'Σ_S c_S · v(S)',
  lift: <T>(_p: MarginalsParams, chunk: Flow<T>, info: ChunkInfo<PerturbChunk, PerturbScope>, ctx: RunContext<T>): TE.TaskEither<AttributionError, PartialResult> => async () => {
    if (chunk.value.length !== 1) return E.left(err('BadPipeline', 'marginals closes the axis opened by perturb, after forward', ['stages']))
    const M = info.scope.layout.nFeatures
    const nOut = info.scope.reference.selected.length
    const phi = exactSums(nOut * M)
    const Y = await hostFloats(ctx, chunk.value[0]!)
    for (let k = 0; k < info.meta.items.length; k++) {
      const c = info.meta.items[k]!.coef
      if (c === undefined) return E.left(err('BadPipeline', 'marginals needs a Shapley design (coalitions with coefficients)', ['stages']))
      for (let o = 0; o < nOut; o++) {
        const v = Y[k * nOut + o]!
        for (let i = 0; i < M; i++) if (c[i] !== 0) addExact(phi, o * M + i, c[i]! * v)
      }
    }
    return E.right({ start: info.start, end: info.end, tensors: [sumsTensor([nOut, M], phi)] })
  },
  combine: (_p, a, b) => combineBySum(a, b),
  finalize: <T>(p: MarginalsParams, partial: PartialResult, info: ExpansionInfo<PerturbScope>, ctx: RunContext<T>): TE.TaskEither<AttributionError, Reduced<T>> => async () => {
    const { layout, reference } = info.scope
    if (layout.kind !== 'groups') return E.left(err('BadPipeline', 'marginals needs feature masks, not windows', ['stages']))
    const M = layout.nFeatures
    const y0 = reference.selected
    const nOut = y0.length
    const rc = referenceCoef(p.design, M, ctx.key)
    if (rc === undefined) return E.left(err('BadPipeline', `marginals needs a Shapley design, not ${p.design._tag}`, ['stages']))
    const ref = exactSums(nOut * M)
    for (let o = 0; o < nOut; o++) for (let i = 0; i < M; i++) addExact(ref, o * M + i, rc[i]! * y0[o]!)
    const all = partial.tensors.length === 1 ? addTensors(partial.tensors[0]!, sumsTensor([nOut, M], ref)) : E.left(err('BadPipeline', 'marginals: this partial result was not made by marginals', ['stages']))
    const phi = E.chain(roundedSums)(all)
    if (E.isLeft(phi)) return phi
    const inner = info.scope.shapes.map((s) => s.slice(1))
    const attrs = scatterFeatures(layout, phi.right.values, reference.selShape, inner, exampleOfRow(reference, ctx.nExamples))
    return E.right({ value: attrs.map((a) => ctx.track(ctx.backend.fromHost(a))) })
  },
}
