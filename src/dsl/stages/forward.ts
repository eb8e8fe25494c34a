/**
 * `forward`: the model at every row of a perturbation chunk, target-selected without summing
 * (captum-semantics.md §3.10). The flow's value becomes one `[K, nOut]` matrix: for each of the
 * chunk's K perturbed copies, the nOut selected values (as many as in F(x)). Copies are packed
 * into one model call when the output grows with the batch, else evaluated one call each.
 *
 * - With `inject`, the flow holds perturbed values of a layer (after `layerPoints`): the model runs
 *   on the call's inputs with that layer replaced by them (Captum's LayerFeatureAblation hook).
 * - With `neuron`, the selected value per row is that neuron of an internal tensor instead of the
 *   call's target on the output (NeuronFeatureAblation); `reference` must name the same neuron.
 *
 * @category stages
 * @since 0.1.0
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import type { Flow, RunContext } from '../flow.js'
import { evaluatePerturbed } from '../perturbation/outputs.js'
import { firstProblem, missingSlot, wrongKind } from '../abstract.js'
import type { MapStageDef } from '../stage.js'
import { describeNeuron, NeuronRef, neuronNeeds } from '../neuron.js'

export const ForwardParams = t.readonly(t.partial({ inject: t.boolean, neuron: NeuronRef }))
export type ForwardParams = t.TypeOf<typeof ForwardParams>

export const forward: MapStageDef<'forward', ForwardParams> = {
  tag: 'forward',
  kind: 'map',
  modelCalls: 1,
  params: ForwardParams,
  // one call per copy when the caller asked for several per call and the output cannot hold them is an error
  needs: (p) => ['perturbationsPerEval', ...(p.neuron !== undefined ? neuronNeeds(p.neuron) : [])],
  abstract: (p, f) =>
    firstProblem([
      wrongKind(f, ['points'], 'forward evaluates the model'),
      missingSlot(f, ['reference'], 'put the reference stage before the expansion'),
      p.inject === true && f.space.kind !== 'layer' ? 'forward({ inject: true }) feeds layer values into the model: put layerPoints and perturb before it' : undefined,
      p.inject !== true && f.space.kind === 'layer' ? 'this flow holds layer values: use forward({ inject: true }) to feed them into the model' : undefined,
    ], () => ({ ...f, kind: 'outputs' })),
  summary: (p) =>
    `${p.neuron === undefined ? 'F(x̃)' : `${describeNeuron(p.neuron)} at x̃`} per copy${p.inject === true ? ' (layer injected)' : ''}`,
  run: <T>(p: ForwardParams, flow: Flow<T>, ctx: RunContext<T>): TE.TaskEither<AttributionError, Flow<T>> => {
    const ref = flow.reference
    if (ref === undefined) return TE.left(err('BadPipeline', 'forward compares with F(x): put the reference stage before the expansion', ['stages']))
    const injecting = p.inject === true
    if (injecting !== (flow.space.kind === 'layer')) {
      return TE.left(err('BadPipeline', injecting ? 'forward({ inject: true }) needs a flow in layer space: put layerPoints before it' : 'this flow holds layer values: use forward({ inject: true })', ['stages']))
    }
    const layer = flow.space.kind === 'layer' ? flow.space.name : undefined
    if (flow.space.kind === 'layer' && layer === undefined) {
      return TE.left(err('Unsupported', 'forward({ inject: true }) feeds the values of one layer into the model, not of a list of layers', ['stages']))
    }
    const K = flow.rowExample.length / ctx.nExamples
    const probe = {
      ...(layer !== undefined ? { inject: layer } : {}),
      ...(p.neuron !== undefined ? { neuron: p.neuron } : {}),
    }
    return pipe(
      evaluatePerturbed(ctx, ref, flow.value, flow.rowExample, probe),
      TE.map((values) => ({
        ...flow,
        value: [ctx.track(ctx.backend.fromHost({ dtype: 'float32', shape: [K, ref.selected.length], data: values }))],
      })),
    )
  },
}
