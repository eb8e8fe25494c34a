/**
 * `gradCam`: Grad-CAM's map from a layer's gradient and activation (Selvaraju et al. 2017). For a
 * layer tensor A of shape (N, C, d₂, …), the channel weights are the gradient averaged over the
 * dims after the channel, α_c = mean(∂F/∂A_c), and the map is Σ_c α_c A_c, shape (N, 1, d₂, …)
 * (`sumChannels: false` keeps α_c A_c per channel). For a 2-D layer (N, C) nothing is averaged: the
 * map is Σ_c ∂F/∂A_c · A_c, shape (N, 1). `relu: true` keeps the positive part, as the original
 * Grad-CAM does; by default signs are kept, as in Captum. The channel is dimension 1 (NCHW) by
 * default, which is how ONNX models lay layers out; `channelAxis` names another one (negative
 * counts from the end: −1 for channels-last NHWC layers, the tfjs default). The spatial dims are then
 * every dim but the batch and the channel, and the map keeps the channel dim with size 1 where it
 * was: (N, d₁, …, 1) for NHWC.
 *
 * @category stages
 * @since 0.2.0
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { Integer } from '../../core/codecs.js'
import { err, type AttributionError } from '../../core/errors.js'
import { firstProblem, missingSlot, wrongKind } from '../abstract.js'
import type { Flow, RunContext } from '../flow.js'
import type { MapStageDef } from '../stage.js'

export const GradCamParams = t.readonly(t.partial({ relu: t.boolean, sumChannels: t.boolean, channelAxis: Integer }))
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
  summary: (p) => `${p.sumChannels === false ? 'α_c A_c' : 'Σ_c α_c A_c'}, α = mean ∂F/∂A${p.relu === true ? ', ReLU' : ''}${p.channelAxis !== undefined && p.channelAxis !== 1 ? `, channels on dim ${p.channelAxis}` : ''}`,
  run: <T>(p: GradCamParams, flow: Flow<T>, ctx: RunContext<T>): TE.TaskEither<AttributionError, Flow<T>> => {
    const anchor = flow.anchor
    if (anchor === undefined || anchor.value.length !== flow.value.length) {
      return TE.left(err('BadPipeline', 'gradCam needs the layer activation: put grad({ layer }) right before it', ['stages']))
    }
    const b = ctx.backend
    const shapes = flow.value.map((g) => b.shapeOf(g))
    const axisOf = (rank: number): number => {
      const c = p.channelAxis ?? 1
      return c < 0 ? c + rank : c
    }
    const bad = shapes.findIndex((s) => s.length >= 2 && (axisOf(s.length) < 1 || axisOf(s.length) >= s.length))
    if (bad >= 0) {
      return TE.left(err('ShapeMismatch', `gradCam: channelAxis ${p.channelAxis ?? 1} is not a dim of the layer tensor of shape [${shapes[bad]!.join(', ')}] other than the batch dim: use 1 for NCHW layers or -1 for NHWC ones`, ['channelAxis']))
    }
    const value = flow.value.map((g, j) => {
      const a = anchor.value[j]!
      const shape = shapes[j]!
      const rank = shape.length
      const channel = axisOf(rank)
      const spatial = Array.from({ length: rank }, (_, i) => i).filter((d) => d !== 0 && d !== channel)
      const size = spatial.reduce((n, d) => n * shape[d]!, 1)
      const weights = rank > 2 ? ctx.track(b.scale(ctx.track(b.sum(g, spatial, true)), 1 / size)) : g
      const weighted = ctx.track(b.mul(weights, a))
      const map = p.sumChannels === false || rank < 2 ? weighted : ctx.track(b.sum(weighted, [channel], true))
      return p.relu === true ? ctx.track(b.maximum(map, ctx.track(b.fill([], 0, 'float32')))) : map
    })
    return TE.right({ ...flow, value })
  },
}
