/**
 * `completenessDelta`: Captum's convergence delta, per row:
 * δ = Σ attributions − (F(x) − F(x′)), with F the target-selected output (summed over any
 * remaining output dims). x and x′ are the anchor's input and baseline when the flow is in input
 * space; for layer attributions F is still evaluated on the call's model inputs and baselines, as
 * in Captum. Two forward passes. The attributions pass through unchanged.
 *
 * @category stages
 * @since 0.1.0
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import type { Flow, RunContext } from '../flow.js'
import { extraRows, rowsOf, selectedOutput, sumPerRow } from '../modelCall.js'
import { firstProblem, withSlots, wrongKind } from '../abstract.js'
import type { MapStageDef } from '../stage.js'

export const CompletenessDeltaParams = t.readonly(t.type({}))
export type CompletenessDeltaParams = t.TypeOf<typeof CompletenessDeltaParams>

export const completenessDelta: MapStageDef<'completenessDelta', CompletenessDeltaParams> = {
  tag: 'completenessDelta',
  kind: 'map',
  modelCalls: 2,
  params: CompletenessDeltaParams,
  needs: () => ['baselines'],
  abstract: (_p, f) => firstProblem([wrongKind(f, ['values'], 'completenessDelta compares the sum of attributions with F(x) − F(x′)')], () => ({ ...f, slots: withSlots(f, ['delta']) })),
  summary: () => 'δ = Σ attr − (F(x) − F(x′))',
  run: <T>(_p: CompletenessDeltaParams, flow: Flow<T>, ctx: RunContext<T>): TE.TaskEither<AttributionError, Flow<T>> => {
    const rows = flow.rowExample
    const b = ctx.backend
    const useAnchor = flow.space.kind === 'input' && flow.anchor?.baseline !== undefined
    const xs = useAnchor ? flow.anchor!.value : ctx.inputs.map((x) => rowsOf(ctx, x, rows))
    const x0s = useAnchor ? flow.anchor!.baseline! : ctx.callData.baselines?.map((x) => rowsOf(ctx, x, rows))
    if (x0s === undefined) return TE.left(err('BadPipeline', 'completenessDelta needs baselines', ['stages']))
    const extras = extraRows(ctx, rows)
    return pipe(
      TE.Do,
      TE.bind('fx', () => selectedOutput(ctx, [...xs, ...extras], rows)),
      TE.bind('fx0', () => selectedOutput(ctx, [...x0s, ...extras], rows)),
      TE.map(({ fx, fx0 }) => {
        const total = flow.value.map((v) => sumPerRow(ctx, v)).reduce((a, c) => ctx.track(b.add(a, c)))
        const delta = ctx.track(b.sub(total, ctx.track(b.sub(fx, fx0))))
        return { ...flow, delta }
      }),
    )
  },
}
