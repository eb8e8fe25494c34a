/**
 * `linearFit`: closes a `perturbation` axis of sampled coalitions by fitting an interpretable
 * linear model g(z) = b + β·z to (z_k, F(x̃_k)) with the similarity weights w_k (LimeBase,
 * Ribeiro et al. 2016; KernelShap, Lundberg & Lee 2017). The partial result is the sample table
 * itself (z, F, w rows; concatenation is a monoid); the fit runs once, in `finalize`. One model per
 * attribution row (per example, or one for an aggregate forward); its coefficients are the
 * attributions, spread over each group's elements (`returnInputShape`) or returned as an
 * `(nOut, M)` matrix.
 *
 * @category stages
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import type { Flow, RunContext } from '../flow.js'
import { fitLinear, InterpretableModel } from '../perturbation/linearModels.js'
import { exampleOfRow, f32, hostFloats, scatterFeatures } from '../perturbation/scatter.js'
import { firstProblem, wrongKind } from '../abstract.js'
import type { ChunkInfo, ReduceStageDef } from '../stage.js'
import type { PerturbMeta } from './perturb.js'

export const LinearFitParams = t.readonly(t.type({ model: InterpretableModel, returnInputShape: t.boolean }))
export type LinearFitParams = t.TypeOf<typeof LinearFitParams>

export const linearFit: ReduceStageDef<'linearFit', LinearFitParams> = {
  tag: 'linearFit',
  kind: 'reduce',
  axis: 'perturbation',
  params: LinearFitParams,
  abstract: (_p, f) => firstProblem([wrongKind(f, ['outputs'], 'linearFit fits a model to model outputs: put forward before it')], () => ({ ...f, kind: 'values', slots: new Set() })),
  summary: (p) => `fit ${p.model._tag}${'alpha' in p.model ? `(α=${p.model.alpha})` : ''} to (z, F(x̃), w)`,
  fold: <T>(_p: LinearFitParams, acc: readonly T[] | undefined, chunk: Flow<T>, info: ChunkInfo, ctx: RunContext<T>): TE.TaskEither<AttributionError, readonly T[]> => {
    const meta = info.meta as PerturbMeta | undefined
    if (meta === undefined || meta.weights === undefined || chunk.value.length !== 1) {
      return TE.left(err('BadPipeline', 'linearFit closes a coalition axis opened by perturb, after forward', ['stages']))
    }
    const M = meta.layout.nFeatures
    const K = meta.items.length
    const rowsW = meta.weights[0]?.length ?? 1
    const Z = new Float32Array(K * M)
    meta.items.forEach((it, k) => Z.set(it.present, k * M))
    const W = new Float32Array(K * rowsW)
    meta.weights.forEach((w, k) => W.set(w, k * rowsW))
    const b = ctx.backend
    const part = [ctx.track(b.fromHost(f32([K, M], Z))), chunk.value[0]!, ctx.track(b.fromHost(f32([K, rowsW], W)))]
    return TE.right(acc === undefined ? part : part.map((x, i) => ctx.track(b.concat([acc[i]!, x], 0))))
  },
  finalize: <T>(p: LinearFitParams, acc: readonly T[], info: ChunkInfo, ctx: RunContext<T>): TE.TaskEither<AttributionError, readonly T[]> => async () => {
    const meta = info.meta as PerturbMeta
    if (meta.layout.kind !== 'groups') return E.left(err('BadPipeline', 'linearFit needs feature masks, not windows', ['stages']))
    const b = ctx.backend
    const [n, M] = b.shapeOf(acc[0]!) as [number, number]
    const Z = Float64Array.from(await hostFloats(ctx, acc[0]!))
    const Y = await hostFloats(ctx, acc[1]!)
    const W = await hostFloats(ctx, acc[2]!)
    const nOut = meta.reference.selected.length
    const rowsW = b.shapeOf(acc[2]!)[1]!
    const exOf = exampleOfRow(meta.reference, ctx.nExamples)
    const phi = new Float64Array(nOut * M)
    for (let r = 0; r < rowsW; r++) {
      const rows = Array.from({ length: nOut }, (_, o) => o).filter((o) => (rowsW === 1 ? true : exOf(o) === r))
      if (rows.length === 0) continue
      const w = Float64Array.from({ length: n }, (_, k) => W[k * rowsW + r]!)
      const ys = rows.map((o) => Float64Array.from({ length: n }, (_, k) => Y[k * nOut + o]!))
      const beta = fitLinear(p.model, Z, n, M, ys, w, ctx.plugins)
      rows.forEach((o, c) => phi.set(beta.subarray(c * M, (c + 1) * M), o * M))
    }
    if (!p.returnInputShape) return E.right([ctx.track(b.fromHost(f32([nOut, M], Float32Array.from(phi))))])
    const inner = ctx.inputs.map((x) => b.shapeOf(x).slice(1))
    return E.right(scatterFeatures(meta.layout, phi, [nOut], inner, exOf).map((a) => ctx.track(b.fromHost(a))))
  },
}
