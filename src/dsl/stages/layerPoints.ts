/**
 * `layerPoints`: moves the flow into a layer's space for the layer perturbation methods. One
 * forward pass captures the internal tensor `layer` at the inputs; its value a(x) becomes the
 * flow's points, and with `baselines` the layer baselines a′ become the flow's baseline (call data
 * `layerBaselines`, Captum's `layer_baselines`: any tensor broadcastable to the layer's value, a
 * number for every neuron; default 0). F(x), recorded by `reference` before it, stays in the flow.
 *
 * A following `perturb` over `{ _tag: 'layerMask' }` makes perturbed copies of a(x), and
 * `forward({ inject: true })` feeds each copy into the model in place of the layer while the model
 * runs on the call's inputs: Captum's LayerFeatureAblation, which runs FeatureAblation on the layer
 * with the original inputs passed along and the layer substituted by a hook.
 *
 * @category stages
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import type { Flow, RunContext } from '../flow.js'
import { layerValue } from '../modelCall.js'
import { firstProblem, wrongKind, type Slot } from '../abstract.js'
import type { MapStageDef } from '../stage.js'

export const LayerPointsParams = t.readonly(t.type({ layer: t.string, baselines: t.boolean }))
export type LayerPointsParams = t.TypeOf<typeof LayerPointsParams>

/** NumPy broadcasting of shape `from` to exactly `to`. */
const broadcastable = (from: readonly number[], to: readonly number[]): boolean =>
  from.length <= to.length && from.every((d, k) => d === 1 || d === to[to.length - from.length + k])

/** The layer baselines laid out like the layer's value `a` (zeros when the call gives none). */
const layerBaselineOf = <T>(ctx: RunContext<T>, a: T, layer: string): E.Either<AttributionError, T> => {
  const b = ctx.backend
  const shape = b.shapeOf(a)
  const dtype = b.dtypeOf(a)
  const given = ctx.callData.layerBaselines
  if (given === undefined) return E.right(ctx.track(b.fill(shape, 0, dtype)))
  const gs = b.shapeOf(given)
  if (!broadcastable(gs, shape)) {
    return E.left(err('BadBaseline',
      `layerBaselines has shape [${gs.join(', ')}], which does not broadcast to layer ${JSON.stringify(layer)} of shape [${shape.join(', ')}]; ` +
      `give a number, one example's shape [${shape.slice(1).join(', ')}], [1, ${shape.slice(1).join(', ')}] or the layer's full shape`, ['layerBaselines']))
  }
  const cast = b.dtypeOf(given) === dtype ? given : ctx.track(b.cast(given, dtype))
  return E.right(ctx.track(b.add(ctx.track(b.fill(shape, 0, dtype)), cast)))
}

export const layerPoints: MapStageDef<'layerPoints', LayerPointsParams> = {
  tag: 'layerPoints',
  kind: 'map',
  modelCalls: 1,
  params: LayerPointsParams,
  needs: (p) => (p.baselines ? ['layerBaselines'] : []),
  abstract: (p, f) =>
    firstProblem([
      wrongKind(f, ['points'], 'layerPoints evaluates the model at its inputs'),
      f.space.kind === 'input' && f.depth === 0 ? undefined : 'layerPoints runs the model from the unexpanded inputs: put it before any expansion or layer stage',
    ], () => ({
      ...f,
      space: { kind: 'layer', name: p.layer },
      slots: new Set<Slot>([...(f.slots.has('reference') ? ['reference' as const] : []), ...(p.baselines ? ['baseline' as const] : [])]),
    })),
  summary: (p) => `a = layer ${JSON.stringify(p.layer)} at x${p.baselines ? ', a′ = layer baselines' : ''}`,
  run: <T>(p: LayerPointsParams, flow: Flow<T>, ctx: RunContext<T>): TE.TaskEither<AttributionError, Flow<T>> => {
    if (flow.space.kind !== 'input') return TE.left(err('BadPipeline', 'layerPoints needs a flow of model inputs', ['stages']))
    return pipe(
      layerValue(ctx, flow.value, flow.rowExample, p.layer),
      TE.chainEitherK((a) => {
        const baseline = p.baselines ? layerBaselineOf(ctx, a, p.layer) : E.right(undefined)
        return E.map((bl: T | undefined): Flow<T> => ({
          value: [a],
          ...(bl !== undefined ? { baseline: [bl] } : {}),
          rowExample: flow.rowExample,
          space: { kind: 'layer', name: p.layer },
          ...(flow.reference !== undefined ? { reference: flow.reference } : {}),
          ...(flow.rowKeys !== undefined ? { rowKeys: flow.rowKeys } : {}),
        }))(baseline)
      }),
    )
  },
}
