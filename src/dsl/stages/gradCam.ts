/**
 * `gradCam`: Grad-CAM's map from a layer's gradient and activation (Selvaraju et al. 2017). For a
 * layer tensor A of shape (N, C, d₂, …), the channel weights are the gradient averaged over the
 * dims after the channel, α_c = mean(∂F/∂A_c), and the map is Σ_c α_c A_c, shape (N, 1, d₂, …)
 * (`sumChannels: false` keeps α_c A_c per channel). For a 2-D layer (N, C) nothing is averaged: the
 * map is Σ_c ∂F/∂A_c · A_c, shape (N, 1). `relu: true` keeps the positive part, as the original
 * Grad-CAM does; by default signs are kept, as in Captum. The channel is dimension 1 (NCHW), which
 * is how ONNX models and clarus's tfjs taps of them lay layers out.
 *
 * @category stages
 * @since 0.2.0
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import { firstProblem, missingSlot, wrongKind } from '../abstract.js'
import type { Flow, RunContext } from '../flow.js'
import type { MapStageDef } from '../stage.js'

export const GradCamParams = t.readonly(t.partial({ relu: t.boolean, sumChannels: t.boolean }))
export type GradCamParams = t.TypeOf<typeof GradCamParams>

export const gradCam: MapStageDef<'gradCam', GradCamParams> = {
  tag: 'gradCam',
  kind: 'map',
  params: GradCamParams,
  abstract: (_p, f) =>
    firstProblem([
      wrongKind(f, ['values'], 'gradCam combines a layer gradient with the layer activation'),
      f.space.kind === 'layer' ? undefined : 'gradCam works on a layer: put grad({ layer }) before it',
      missingSlot(f, ['anchor'], 'put grad({ layer }) right before it'),
    ], () => f),
  summary: (p) => `${p.sumChannels === false ? 'α_c A_c' : 'Σ_c α_c A_c'}, α = mean ∂F/∂A${p.relu === true ? ', ReLU' : ''}`,
  run: <T>(p: GradCamParams, flow: Flow<T>, ctx: RunContext<T>): TE.TaskEither<AttributionError, Flow<T>> => {
    const anchor = flow.anchor
    if (anchor === undefined || anchor.value.length !== flow.value.length) {
      return TE.left(err('BadPipeline', 'gradCam needs the layer activation: put grad({ layer }) right before it', ['stages']))
    }
    const b = ctx.backend
    const value = flow.value.map((g, j) => {
      const a = anchor.value[j]!
      const shape = b.shapeOf(g)
      const rank = shape.length
      const spatial = Array.from({ length: Math.max(0, rank - 2) }, (_, i) => i + 2)
      const size = spatial.reduce((n, d) => n * shape[d]!, 1)
      const weights = rank > 2 ? ctx.track(b.scale(ctx.track(b.sum(g, spatial, true)), 1 / size)) : g
      const weighted = ctx.track(b.mul(weights, a))
      const map = p.sumChannels === false || rank < 2 ? weighted : ctx.track(b.sum(weighted, [1], true))
      return p.relu === true ? ctx.track(b.maximum(map, ctx.track(b.fill([], 0, 'float32')))) : map
    })
    return TE.right({ ...flow, value })
  },
}
