/**
 * `marginals`: closes a `perturbation` axis of coalitions with Shapley coefficients:
 * φ_i = Σ_S c_S,i · v(S), where v(S) = F(x on S, x′ elsewhere), the coefficients come with each
 * coalition (exact: s!(M−s−1)!/M! with sign; sampled permutations: ±1/n per marginal step) and the
 * full coalition v(all) = F(x) is the reference. A weighted sum is a monoid; partials are carried
 * as float64 split exactly into three float32 tensors, so chunking changes no bit.
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
import { exampleOfRow, f32, hostFloats, scatterFeatures } from '../perturbation/scatter.js'
import { firstProblem, wrongKind } from '../abstract.js'
import type { ChunkInfo, ReduceStageDef } from '../stage.js'
import type { PerturbMeta } from './perturb.js'
import { PerturbParams } from './perturb.js'

export const MarginalsParams = t.readonly(t.type({ design: PerturbParams.type.props.design }))
export type MarginalsParams = t.TypeOf<typeof MarginalsParams>

/** A float64 array as three float32 arrays whose sum restores it exactly (24 + 24 + 24 ≥ 53 bits), so the partial survives any backend losslessly. */
const split = (v: Float64Array): [Float32Array, Float32Array, Float32Array] => {
  const hi = Float32Array.from(v)
  const mid = Float32Array.from(v, (x, i) => x - hi[i]!)
  const lo = Float32Array.from(v, (x, i) => x - hi[i]! - mid[i]!)
  return [hi, mid, lo]
}

const join = async <T>(ctx: RunContext<T>, acc: readonly T[]): Promise<Float64Array> => {
  const [hi, mid, lo] = [await hostFloats(ctx, acc[0]!), await hostFloats(ctx, acc[1]!), await hostFloats(ctx, acc[2]!)]
  return Float64Array.from(hi, (h, i) => h + mid[i]! + lo[i]!)
}

export const marginals: ReduceStageDef<'marginals', MarginalsParams> = {
  tag: 'marginals',
  kind: 'reduce',
  axis: 'perturbation',
  params: MarginalsParams,
  abstract: (_p, f) => firstProblem([wrongKind(f, ['outputs'], 'marginals averages the marginal contributions of model outputs: put forward before it')], () => ({ ...f, kind: 'values', slots: new Set() })),
  summary: () => 'Σ_S c_S · v(S)',
  fold: <T>(p: MarginalsParams, acc: readonly T[] | undefined, chunk: Flow<T>, info: ChunkInfo, ctx: RunContext<T>): TE.TaskEither<AttributionError, readonly T[]> => async () => {
    const meta = info.meta as PerturbMeta | undefined
    if (meta === undefined || chunk.value.length !== 1) return E.left(err('BadPipeline', 'marginals closes the axis opened by perturb, after forward', ['stages']))
    const { layout, reference, items } = meta
    const M = layout.nFeatures
    const y0 = reference.selected
    const nOut = y0.length
    const phi = acc ? await join(ctx, acc) : new Float64Array(nOut * M)
    if (info.start === 0) {
      const rc = referenceCoef(p.design, M, ctx.key)
      if (rc === undefined) return E.left(err('BadPipeline', `marginals needs a Shapley design, not ${p.design._tag}`, ['stages']))
      for (let o = 0; o < nOut; o++) for (let i = 0; i < M; i++) phi[o * M + i]! += rc[i]! * y0[o]!
    }
    const Y = await hostFloats(ctx, chunk.value[0]!)
    items.forEach((it, k) => {
      const c = it.coef!
      for (let o = 0; o < nOut; o++) {
        const v = Y[k * nOut + o]!
        for (let i = 0; i < M; i++) if (c[i] !== 0) phi[o * M + i]! += c[i]! * v
      }
    })
    return E.right(split(phi).map((h) => ctx.track(ctx.backend.fromHost(f32([nOut, M], h)))))
  },
  finalize: <T>(_p: MarginalsParams, acc: readonly T[], info: ChunkInfo, ctx: RunContext<T>): TE.TaskEither<AttributionError, readonly T[]> => async () => {
    const meta = info.meta as PerturbMeta
    if (meta.layout.kind !== 'groups') return E.left(err('BadPipeline', 'marginals needs feature masks, not windows', ['stages']))
    const phi = await join(ctx, acc)
    const inner = ctx.inputs.map((x) => ctx.backend.shapeOf(x).slice(1))
    const attrs = scatterFeatures(meta.layout, phi, meta.reference.selShape, inner, exampleOfRow(meta.reference, ctx.nExamples))
    return E.right(attrs.map((a) => ctx.track(ctx.backend.fromHost(a))))
  },
}
