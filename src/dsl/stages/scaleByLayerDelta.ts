/**
 * `scaleByLayerDelta`: multiplies values in the space of layer a by a(x) − a(x′), the layer's
 * value at the call's inputs minus its value at their baselines (two forward passes). This is the
 * "multiply by inputs" of layer methods whose gradients are taken at *input-space* points, such
 * as LayerGradientShap (Captum's LayerInputBaselineXGradient), unlike LayerIntegratedGradients,
 * whose points are in the layer's space (`scaleByDelta` there).
 *
 * @category stages
 * @since 0.2.0
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import { firstProblem, wrongKind } from '../abstract.js'
import type { Flow, RunContext } from '../flow.js'
import { layerValue, rowsOf } from '../modelCall.js'
import type { MapStageDef } from '../stage.js'

export const ScaleByLayerDeltaParams = t.readonly(t.type({ layer: t.string }))
export type ScaleByLayerDeltaParams = t.TypeOf<typeof ScaleByLayerDeltaParams>

export const scaleByLayerDelta: MapStageDef<'scaleByLayerDelta', ScaleByLayerDeltaParams> = {
  tag: 'scaleByLayerDelta',
  kind: 'map',
  modelCalls: 2,
  params: ScaleByLayerDeltaParams,
  needs: () => ['baselines'],
  abstract: (p, f) =>
    firstProblem([
      wrongKind(f, ['values'], 'scaleByLayerDelta multiplies computed values by a(x) − a(x′)'),
      f.space.kind === 'layer' && f.space.name === p.layer ? undefined : `the values must be in the space of layer ${JSON.stringify(p.layer)}: put grad({ layer }) and its reducer before it`,
    ], () => f),
  summary: (p) => `⊙ (a(x) − a(x′)), a = layer ${JSON.stringify(p.layer)}`,
  run: <T>(p: ScaleByLayerDeltaParams, flow: Flow<T>, ctx: RunContext<T>): TE.TaskEither<AttributionError, Flow<T>> => {
    const baselines = ctx.callData.baselines
    if (baselines === undefined) return TE.left(err('BadBaseline', 'scaleByLayerDelta needs baselines', ['baselines']))
    const rows = flow.rowExample
    const b = ctx.backend
    return pipe(
      TE.Do,
      TE.bind('ax', () => layerValue(ctx, ctx.inputs.map((x) => rowsOf(ctx, x, rows)), rows, p.layer)),
      TE.bind('ab', () => layerValue(ctx, baselines.map((x) => rowsOf(ctx, x, rows)), rows, p.layer)),
      TE.map(({ ax, ab }) => ({ ...flow, value: flow.value.map((v) => ctx.track(b.mul(v, ctx.track(b.sub(ax, ab))))) })),
    )
  },
}
