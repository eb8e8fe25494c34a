/**
 * `scaleByDelta`: multiplies by (x − x′), the anchor's input minus its baseline — Captum's
 * `multiply_by_inputs=True` for path and baseline methods (IntegratedGradients, LayerIG, …).
 *
 * @category stages
 * @since 0.1.0
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import type { Flow, RunContext } from '../flow.js'
import { firstProblem, missingSlot, wrongKind } from '../abstract.js'
import type { MapStageDef } from '../stage.js'

export const ScaleByDeltaParams = t.readonly(t.type({}))
export type ScaleByDeltaParams = t.TypeOf<typeof ScaleByDeltaParams>

export const scaleByDelta: MapStageDef<'scaleByDelta', ScaleByDeltaParams> = {
  tag: 'scaleByDelta',
  kind: 'map',
  params: ScaleByDeltaParams,
  needs: () => ['baselines'],
  abstract: (_p, f) =>
    firstProblem([
      wrongKind(f, ['values'], 'scaleByDelta multiplies computed values by (x − x′)'),
      missingSlot(f, ['anchor', 'anchorBaseline'], 'put it after grad on inputs with baselines, or after a quadrature that closes an interpolate'),
    ], () => f),
  summary: () => '⊙ (x − x′)',
  run: <T>(_p: ScaleByDeltaParams, flow: Flow<T>, ctx: RunContext<T>): TE.TaskEither<AttributionError, Flow<T>> => {
    const anchor = flow.anchor
    const x0 = anchor?.baseline
    if (anchor === undefined || x0 === undefined) {
      return TE.left(err('BadPipeline', 'scaleByDelta needs an input and a baseline to subtract: place it after a stage that closes an interpolation (quadrature)', ['stages']))
    }
    const b = ctx.backend
    const value = flow.value.map((v, j) => ctx.track(b.mul(v, ctx.track(b.sub(anchor.value[j]!, x0[j]!)))))
    return TE.right({ ...flow, value })
  },
}
