/**
 * `linearFit`: closes a `perturbation` axis of sampled coalitions by fitting an interpretable
 * linear model g(z) = b + β·z to (z_k, F(x̃_k)) with the similarity weights w_k (LimeBase,
 * Ribeiro et al. 2016; KernelShap, Lundberg & Lee 2017). The partial result is the sample table
 * itself (z, F, w rows of its chunks, in order; concatenating adjacent tables is a monoid); the fit
 * runs once, in `finalize`. One model per
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
import { combineByConcat, type PartialResult } from '../partial.js'
import type { ChunkInfo, ExpansionInfo, ReduceStageDef, Reduced } from '../stage.js'
import { isPerturbChunk, isPerturbScope, type PerturbChunk, type PerturbScope } from './perturb.js'

export const LinearFitParams = t.readonly(t.type({ model: InterpretableModel, returnInputShape: t.boolean }))
export type LinearFitParams = t.TypeOf<typeof LinearFitParams>

export const linearFit: ReduceStageDef<'linearFit', LinearFitParams, PerturbChunk, PerturbScope> = {
  tag: 'linearFit',
  kind: 'reduce',
  axis: 'perturbation',
  params: LinearFitParams,
  meta: isPerturbChunk,
  scope: isPerturbScope,
  needs: (p) => (p.model._tag === 'custom' ? ['plugins'] : []),
  abstract: (_p, f) => firstProblem([wrongKind(f, ['outputs'], 'linearFit fits a model to model outputs: put forward before it')], () => ({ ...f, kind: 'values', slots: new Set() })),
  summary: (p) => `fit ${p.model._tag}${'alpha' in p.model ? `(α=${p.model.alpha})` : ''} to (z, F(x̃), w)`,
  lift: <T>(_p: LinearFitParams, chunk: Flow<T>, info: ChunkInfo<PerturbChunk, PerturbScope>, ctx: RunContext<T>): TE.TaskEither<AttributionError, PartialResult> => async () => {
    const { items, weights } = info.meta
    if (weights === undefined || chunk.value.length !== 1) {
      return E.left(err('BadPipeline', 'linearFit closes a coalition axis opened by perturb, after forward', ['stages']))
    }
    const M = info.scope.layout.nFeatures
    const nOut = info.scope.reference.selected.length
    const K = items.length
    const rowsW = weights[0]?.length ?? 1
    const Z = new Float32Array(K * M)
    items.forEach((it, k) => Z.set(it.present, k * M))
    // weights are rounded to float32, as the fit has always seen them
    const W = new Float32Array(K * rowsW)
    weights.forEach((w, k) => W.set(w, k * rowsW))
    const Y = Float32Array.from(await hostFloats(ctx, chunk.value[0]!))
    return E.right({ start: info.start, end: info.end, tensors: [f32([K, M], Z), f32([K, nOut], Y), f32([K, rowsW], W)] })
  },
  combine: (_p, a, b) => combineByConcat(a, b),
  finalize: <T>(p: LinearFitParams, partial: PartialResult, info: ExpansionInfo<PerturbScope>, ctx: RunContext<T>): TE.TaskEither<AttributionError, Reduced<T>> => async () => {
    const { layout, reference } = info.scope
    if (layout.kind !== 'groups') return E.left(err('BadPipeline', 'linearFit needs feature masks, not windows', ['stages']))
    const nOut = reference.selected.length
    const [zs, ys, ws] = partial.tensors.map((x) => (x.data instanceof Float32Array ? { shape: x.shape, data: x.data } : undefined))
    if (partial.tensors.length !== 3 || zs === undefined || ys === undefined || ws === undefined || ys.shape[1] !== nOut) {
      return E.left(err('BadPipeline', 'linearFit: this partial result was not made by linearFit for these outputs', ['stages']))
    }
    const b = ctx.backend
    const [n, M] = zs.shape as [number, number]
    const Z = Float64Array.from(zs.data)
    const Y = ys.data
    const W = ws.data
    const rowsW = ws.shape[1]!
    const exOf = exampleOfRow(reference, ctx.nExamples)
    const phi = new Float64Array(nOut * M)
    for (let r = 0; r < rowsW; r++) {
      const rows = Array.from({ length: nOut }, (_, o) => o).filter((o) => (rowsW === 1 ? true : exOf(o) === r))
      if (rows.length === 0) continue
      const w = Float64Array.from({ length: n }, (_, k) => W[k * rowsW + r]!)
      const y = rows.map((o) => Float64Array.from({ length: n }, (_, k) => Y[k * nOut + o]!))
      const beta = fitLinear(p.model, Z, n, M, y, w, ctx.callData.plugins)
      rows.forEach((o, c) => phi.set(beta.subarray(c * M, (c + 1) * M), o * M))
    }
    if (!p.returnInputShape) return E.right({ value: [ctx.track(b.fromHost(f32([nOut, M], Float32Array.from(phi))))] })
    const inner = info.scope.shapes.map((s) => s.slice(1))
    return E.right({ value: scatterFeatures(layout, phi, [nOut], inner, exOf).map((a) => ctx.track(b.fromHost(a))) })
  },
}
