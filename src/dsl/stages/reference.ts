/**
 * `reference`: evaluates the model once at the unperturbed inputs and records F(x) in the flow
 * (its raw shape and the target-selected values, captum-semantics.md §3.10). The flow's tensors are
 * unchanged, so a `perturb` expansion can follow; its reducer reads F(x) from the flow.
 *
 * With `neuron`, the recorded values are that neuron of an internal tensor, one per example
 * (NeuronFeatureAblation), instead of the call's target on the output; `forward` must name the same neuron.
 *
 * @category stages
 * @since 0.1.0
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import type { Flow, RunContext } from '../flow.js'
import { evaluateReference } from '../perturbation/outputs.js'
import { firstProblem, withSlots, wrongKind } from '../abstract.js'
import type { MapStageDef } from '../stage.js'
import { describeNeuron, NeuronRef, neuronNeeds } from '../neuron.js'

export const ReferenceParams = t.readonly(t.partial({ neuron: NeuronRef }))
export type ReferenceParams = t.TypeOf<typeof ReferenceParams>

export const reference: MapStageDef<'reference', ReferenceParams> = {
  tag: 'reference',
  kind: 'map',
  modelCalls: 1,
  params: ReferenceParams,
  abstract: (_p, f) =>
    firstProblem([
      wrongKind(f, ['points'], 'reference evaluates the model at its inputs'),
      f.space.kind === 'input' && f.depth === 0 ? undefined : 'reference evaluates the model at the unexpanded inputs: put it first, before any expansion or layer stage (to run a perturbation method inside an expansion, wrap it in an apply stage: stage.apply(featureAblation()))',
    ], () => ({ ...f, slots: withSlots(f, ['reference']) })),
  needs: (p) => (p.neuron !== undefined ? neuronNeeds(p.neuron) : []),
  summary: (p) => (p.neuron === undefined ? 'F(x)' : `${describeNeuron(p.neuron)} at x`),
  run: <T>(p: ReferenceParams, flow: Flow<T>, ctx: RunContext<T>): TE.TaskEither<AttributionError, Flow<T>> =>
    flow.space.kind !== 'input'
      ? TE.left(err('BadPipeline', 'reference evaluates the model at its inputs: put it before any layer stage', ['stages']))
      : pipe(evaluateReference(ctx, flow.value, flow.rowExample, p.neuron !== undefined ? { neuron: p.neuron } : {}), TE.map((reference) => ({ ...flow, reference }))),
}
