/**
 * `activation`: the value of an internal tensor (a layer) at the flow's inputs; one forward pass.
 * The flow moves to that layer's space. With a list of layers, the one forward pass captures them
 * all and the flow holds one tensor per layer (Captum's LayerActivation with a list of modules).
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
import { firstProblem, wrongKind } from '../abstract.js'
import type { MapStageDef } from '../stage.js'

export const ActivationParams = t.readonly(t.type({ layer: LayerSelection }))
export type ActivationParams = t.TypeOf<typeof ActivationParams>

export const activation: MapStageDef<'activation', ActivationParams> = {
  tag: 'activation',
  kind: 'map',
  modelCalls: 1,
  params: ActivationParams,
  abstract: (p, f) =>
    firstProblem([wrongKind(f, ['points'], 'activation evaluates the model'), f.space.kind === 'input' ? undefined : 'activation runs the model from its inputs: put it before any layer stage'],
      () => ({ kind: 'values', space: layerSpace(p.layer), slots: new Set(), depth: f.depth })),
  summary: (p) => `layer ${showLayers(p.layer)}`,
  run: <T>(p: ActivationParams, flow: Flow<T>, ctx: RunContext<T>): TE.TaskEither<AttributionError, Flow<T>> => {
    if (flow.space.kind !== 'input') return TE.left(err('BadPipeline', 'activation needs a flow of model inputs', ['stages']))
    const layer = p.layer
    const values = typeof layer === 'string'
      ? pipe(layerValue(ctx, flow.value, flow.rowExample, layer), TE.map((a) => [a]))
      : layerValues(ctx, flow.value, flow.rowExample, layerNames(layer))
    return pipe(values, TE.map((value) => ({ value, rowExample: flow.rowExample, space: layerSpace(layer) })))
  },
}
