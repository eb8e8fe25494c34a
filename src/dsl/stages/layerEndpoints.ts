/**
 * `layerEndpoints`: moves the flow into a layer's space. Two forward passes capture the internal
 * tensor `layer` at the inputs and at the baselines; they become the flow's value and baseline
 * (a_x and a_x′), so a following `interpolate` walks the straight line between them in the layer's
 * space (Captum's LayerIntegratedGradients). The baselines are given in *input* space, e.g. token
 * ids, which is what makes attribution to an embedding output possible.
 *
 * With a list of layers the same two forward passes capture every layer, and the flow holds one
 * value and one baseline per layer: each layer's own endpoints, so the path that follows moves
 * all layers at once, each from its a(x′) to its a(x) (Captum's LayerIntegratedGradients with a
 * list of layers).
 *
 * @category stages
 * @since 0.1.0
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import type { Flow, RunContext } from '../flow.js'
import { layerValue, layerValues } from '../modelCall.js'
import { LayerSelection, layerNames, layerSpace, showLayers } from '../layers.js'
import { firstProblem, missingSlot, wrongKind } from '../abstract.js'
import type { MapStageDef } from '../stage.js'

export const LayerEndpointsParams = t.readonly(t.type({ layer: LayerSelection }))
export type LayerEndpointsParams = t.TypeOf<typeof LayerEndpointsParams>

export const layerEndpoints: MapStageDef<'layerEndpoints', LayerEndpointsParams> = {
  tag: 'layerEndpoints',
  kind: 'map',
  modelCalls: 2,
  params: LayerEndpointsParams,
  needs: () => ['baselines'],
  abstract: (p, f) =>
    firstProblem([
      wrongKind(f, ['points'], 'layerEndpoints evaluates the model at x and x′'),
      f.space.kind === 'input' ? undefined : 'layerEndpoints runs the model from its inputs: put it before any layer stage',
      missingSlot(f, ['baseline'], 'layerEndpoints needs the baselines of the inputs'),
    ], () => ({ ...f, space: layerSpace(p.layer), slots: new Set(['baseline']) })),
  summary: (p) => `a = layer ${showLayers(p.layer)} at x and x′`,
  run: <T>(p: LayerEndpointsParams, flow: Flow<T>, ctx: RunContext<T>): TE.TaskEither<AttributionError, Flow<T>> => {
    if (flow.space.kind !== 'input' || flow.baseline === undefined) {
      return TE.left(err('BadPipeline', 'layerEndpoints needs a flow of inputs with baselines', ['stages']))
    }
    const rows = flow.rowExample
    const layer = p.layer
    const capture = (xs: readonly T[]): TE.TaskEither<AttributionError, readonly T[]> =>
      typeof layer === 'string' ? pipe(layerValue(ctx, xs, rows, layer), TE.map((a) => [a])) : layerValues(ctx, xs, rows, layerNames(layer))
    return pipe(
      TE.Do,
      TE.bind('ax', () => capture(flow.value)),
      TE.bind('ab', () => capture(flow.baseline!)),
      TE.map(({ ax, ab }) => ({
        value: ax,
        baseline: ab,
        rowExample: rows,
        space: layerSpace(layer),
      })),
    )
  },
}
