/**
 * `relevanceDelta`: LRP's convergence delta, per row, with Captum's sign: δ = F(x) − Σ attributions,
 * with F the target-selected model output (summed over any remaining output dims) at the call's
 * inputs. There is no baseline: LRP starts from relevance F(x) at the output, so δ is what the rules
 * lost (or gained) on the way, e.g. relevance absorbed by biases. For layer relevance F is still the
 * model output at the inputs, as in Captum's LayerLRP. One forward pass; the attributions pass
 * through unchanged.
 *
 * @category stages
 * @since 0.3.0
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import type { AttributionError } from '../../core/errors.js'
import type { Flow, RunContext } from '../flow.js'
import { extraRows, rowsOf, selectedOutput, sumPerRow } from '../modelCall.js'
import { firstProblem, withSlots, wrongKind } from '../abstract.js'
import type { MapStageDef } from '../stage.js'
import { pipe } from 'fp-ts/lib/function.js'

export const RelevanceDeltaParams = t.readonly(t.type({}))
export type RelevanceDeltaParams = t.TypeOf<typeof RelevanceDeltaParams>

export const relevanceDelta: MapStageDef<'relevanceDelta', RelevanceDeltaParams> = {
  tag: 'relevanceDelta',
  kind: 'map',
  modelCalls: 1,
  params: RelevanceDeltaParams,
  abstract: (_p, f) => firstProblem([wrongKind(f, ['values'], 'relevanceDelta compares the sum of relevance with F(x)')], () => ({ ...f, slots: withSlots(f, ['delta']) })),
  summary: () => 'δ = F(x) − Σ relevance',
  run: <T>(_p: RelevanceDeltaParams, flow: Flow<T>, ctx: RunContext<T>): TE.TaskEither<AttributionError, Flow<T>> => {
    const rows = flow.rowExample
    const b = ctx.backend
    const xs = ctx.inputs.map((x) => rowsOf(ctx, x, rows))
    return pipe(
      selectedOutput(ctx, [...xs, ...extraRows(ctx, rows)], rows),
      TE.map((fx) => {
        const total = flow.value.map((v) => sumPerRow(ctx, v)).reduce((a, c) => ctx.track(b.add(a, c)))
        return { ...flow, delta: ctx.track(b.sub(fx, total)) }
      }),
    )
  },
}
